"""What a form model JSON file may hold, checked before the model is built.

A hand-edited or truncated file must fail here with the field it got wrong, not
later inside sampling: an order of 10**6 would pad every history with a million
START tokens, a negative count would make probabilities negative.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError, field_validator, model_validator

from structure_models.genres import ALL_DOMAIN
from structure_models.tempo import CHAINS

# highest Markov order a file may ask for (training searches 1-4)
MAX_ORDER = 12
# longest section a file may allow, in bars
MAX_BARS_LIMIT = 1024
# largest smoothing strength or pseudo-count (training searches up to 300)
MAX_SMOOTHING = 1e6

Count = Annotated[StrictInt, Field(ge=0)]
Smoothing = Annotated[float, Field(gt=0, le=MAX_SMOOTHING, allow_inf_nan=False)]
Label = Annotated[str, Field(min_length=1, max_length=64)]
# most tempo band edges a file may hold, and the range of an edge in 4/4-equivalent bpm
MAX_TEMPO_EDGES = 32
TempoEdge = Annotated[float, Field(gt=0, le=10_000, allow_inf_nan=False)]
Chain = Literal[CHAINS]


class _Reference(BaseModel):
    model_config = ConfigDict(extra="allow")

    labels: list[Annotated[float, Field(allow_inf_nan=False)]] = Field(min_length=2)
    labels_bars: list[Annotated[float, Field(allow_inf_nan=False)]] = Field(min_length=2)
    n_songs: Annotated[StrictInt, Field(ge=1)]


def _check_pair(pair: tuple[int, int], where: str) -> None:
    successes, trials = pair
    if successes > trials:
        raise ValueError(f"{where}: {successes} successes out of {trials} trials")


class FormModelFile(BaseModel):
    """The fields of structure_models.form_model/2 and their allowed ranges."""

    model_config = ConfigDict(extra="forbid")

    format: str
    labels: list[Label] = Field(min_length=1, max_length=256)
    order: Annotated[StrictInt, Field(ge=0, le=MAX_ORDER)]
    label_beta: Smoothing
    bars_beta: Smoothing
    rate_weight: Annotated[float, Field(ge=0, le=MAX_SMOOTHING, allow_inf_nan=False)]
    max_bars: Annotated[StrictInt, Field(ge=1, le=MAX_BARS_LIMIT)]
    tempo_edges: list[TempoEdge] = Field(max_length=MAX_TEMPO_EDGES)
    bars_chain: Chain
    copy_chain: Chain
    meta: dict[str, Any]
    reference: dict[str, _Reference]
    label_counts: dict[str, dict[str, dict[str, Count]]]
    bars_counts: dict[str, dict[str, dict[str, Count]]]
    copy_counts: dict[str, dict[str, tuple[Count, Count]]]
    new_material_counts: dict[str, dict[str, dict[str, tuple[Count, Count]]]]

    @field_validator("labels")
    @classmethod
    def _unique_labels(cls, labels: list[str]) -> list[str]:
        repeated = sorted({label for label in labels if labels.count(label) > 1})
        if repeated:
            raise ValueError(f"labels repeat: {', '.join(repeated)}")
        return labels

    @field_validator("tempo_edges")
    @classmethod
    def _increasing_edges(cls, edges: list[float]) -> list[float]:
        if any(low >= high for low, high in zip(edges, edges[1:])):
            raise ValueError(f"tempo band edges must increase, got {edges}")
        return edges

    @model_validator(mode="after")
    def _consistent(self) -> "FormModelFile":
        for table in ("label_counts", "bars_counts", "copy_counts", "new_material_counts"):
            if ALL_DOMAIN not in getattr(self, table):
                raise ValueError(f"{table} has no {ALL_DOMAIN!r} domain, which every backoff chain ends in")
        if "any" not in self.reference:
            raise ValueError("reference has no 'any' genre")
        for domain, by_label in self.bars_counts.items():
            for label, histogram in by_label.items():
                for bars in histogram:
                    if not (bars.isdigit() and 1 <= int(bars) <= self.max_bars):
                        raise ValueError(
                            f"bars_counts.{domain}.{label}: length {bars!r} is not a whole number of bars "
                            f"in 1..max_bars ({self.max_bars})"
                        )
        for domain, by_label in self.copy_counts.items():
            for label, pair in by_label.items():
                _check_pair(pair, f"copy_counts.{domain}.{label}")
        for domain, by_label in self.new_material_counts.items():
            for label, buckets in by_label.items():
                for bucket, pair in buckets.items():
                    _check_pair(pair, f"new_material_counts.{domain}.{label}.{bucket}")
        return self


def check_model_fields(data: dict) -> None:
    """ValueError naming the first wrong field (dotted path) and what it may hold."""
    try:
        FormModelFile.model_validate(data)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        where = ".".join(repr(part) if part == "" else str(part) for part in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        raise ValueError(f"{where}: {message}" if where else message) from None
