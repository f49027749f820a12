"""The form model: count tables plus smoothing settings, loaded from JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from structure_models.form import FormScore, SampledSection
from structure_models.model_schema import check_model_fields

FORMAT = "structure_models.form_model/2"
# formats this version no longer reads, and why
OLD_FORMATS = {
    "structure_models.form_model/1": "it predates tempo-aware bar lengths (format 2 adds tempo bands)",
}
SHIPPED_MODEL = "form_model.json"


@dataclass(frozen=True, eq=False)
class FormModel:
    """Variable-order Markov model of section labels with bars and repeats.

    Sampling and scoring live in sampling.py and scoring.py; the methods here
    are the stable entry points the composer CLI and planner call.
    """

    # section labels the model knows, sorted (END is implicit)
    labels: tuple[str, ...]
    # how many previous labels the label model conditions on (variable order by backoff)
    order: int
    # Witten-Bell discount strength of the label model (higher: back off more)
    label_beta: float
    # Witten-Bell discount strength of the bar-length model
    bars_beta: float
    # pseudo-count that shrinks copy and new-material rates toward the parent domain
    rate_weight: float
    # longest section length in bars the model can produce
    max_bars: int
    # tempo band edges in 4/4-equivalent bpm (tempo.py); bar lengths and copy rates back off through
    # band domains in the order bars_chain / copy_chain names (tempo.CHAINS; 'none' ignores tempo)
    tempo_edges: tuple[float, ...]
    bars_chain: str
    copy_chain: str
    # count tables, see tables.py
    label_counts: dict = field(repr=False)
    bars_counts: dict = field(repr=False)
    copy_counts: dict = field(repr=False)
    new_material_counts: dict = field(repr=False)
    # genre -> quantiles of validation songs' bits per section, for flagging unusual forms (the validation
    # split also tuned the smoothing, so these are not held-out figures)
    reference: dict = field(repr=False)
    # provenance: data hash, split sizes, evaluation summary
    meta: dict = field(repr=False)
    # memoized distributions keyed by their arguments (filled lazily)
    cache: dict = field(default_factory=dict, repr=False)

    def sample_form(
        self,
        *,
        genre: str,
        duration_s: float,
        bpm: float,
        beats_per_bar: int,
        seed: int,
        fixed_bars: dict[str, int] | None = None,
    ) -> list[SampledSection]:
        """A form whose total length is within 5% of duration_s; same seed, same form.

        fixed_bars (label -> bars) pins the length of every section with that label.
        """
        from structure_models.sampling import sample_form

        return sample_form(
            self,
            genre=genre,
            duration_s=duration_s,
            bpm=bpm,
            beats_per_bar=beats_per_bar,
            seed=seed,
            fixed_bars=fixed_bars or {},
        )

    def score_form(
        self,
        labels: list[str],
        bars: list[int] | None,
        *,
        genre: str,
        bpm: float | None = None,
        beats_per_bar: int = 4,
    ) -> FormScore:
        """Per-section surprisal in bits and whether the form is unusual for the genre.

        With bpm (and the metre's beats_per_bar) the bar lengths are scored for that tempo's band;
        without it, tempo-free.
        """
        from structure_models.scoring import score_form

        return score_form(self, labels, bars, genre=genre, bpm=bpm, beats_per_bar=beats_per_bar)

    def tempo_band(self, *, bpm: float | None, beats_per_bar: int) -> str | None:
        """The model's tempo band of a tempo, None when unknown or when the model ignores tempo."""
        from structure_models.tempo import tempo_band

        if self.bars_chain == "none" and self.copy_chain == "none":
            return None
        return tempo_band(self.tempo_edges, bpm=bpm, beats_per_bar=beats_per_bar)


def model_to_json(model: FormModel) -> dict:
    """JSON-able dict of everything the model needs (the cache is dropped)."""
    return {
        "format": FORMAT,
        "labels": list(model.labels),
        "order": model.order,
        "label_beta": model.label_beta,
        "bars_beta": model.bars_beta,
        "rate_weight": model.rate_weight,
        "max_bars": model.max_bars,
        "tempo_edges": list(model.tempo_edges),
        "bars_chain": model.bars_chain,
        "copy_chain": model.copy_chain,
        "meta": model.meta,
        "reference": model.reference,
        "label_counts": model.label_counts,
        "bars_counts": model.bars_counts,
        "copy_counts": model.copy_counts,
        "new_material_counts": model.new_material_counts,
    }


def model_from_json(data: dict) -> FormModel:
    """FormModel from model_to_json's dict; ValueError on another format."""
    if isinstance(data, dict) and data.get("format") in OLD_FORMATS:
        raise ValueError(
            f"an older form model file: format {data['format']!r} is no longer read, {OLD_FORMATS[data['format']]}; "
            f"retrain it with `composer structure train` (format {FORMAT!r})"
        )
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        found = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise ValueError(f"not a form model file: format {found!r}, expected {FORMAT!r}")
    try:
        check_model_fields(data)
    except ValueError as exc:
        raise ValueError(f"damaged form model file: {exc}") from None
    return _model_from_fields(data)


def _model_from_fields(data: dict) -> FormModel:
    return FormModel(
        labels=tuple(data["labels"]),
        order=int(data["order"]),
        label_beta=float(data["label_beta"]),
        bars_beta=float(data["bars_beta"]),
        rate_weight=float(data["rate_weight"]),
        max_bars=int(data["max_bars"]),
        tempo_edges=tuple(float(edge) for edge in data["tempo_edges"]),
        bars_chain=data["bars_chain"],
        copy_chain=data["copy_chain"],
        label_counts=data["label_counts"],
        bars_counts=data["bars_counts"],
        copy_counts=data["copy_counts"],
        new_material_counts=data["new_material_counts"],
        reference=data["reference"],
        meta=data["meta"],
    )


def write_model(model: FormModel, path: Path) -> int:
    """Write the model as compact JSON atomically; returns its size in bytes."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(model_to_json(model), separators=(",", ":"), sort_keys=False)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text + "\n", encoding="utf-8")
    tmp.replace(path)
    return path.stat().st_size


def load_model(path: Path | None = None) -> FormModel:
    """The model shipped inside the package, or the one at `path`."""
    if path is None:
        text = resources.files("structure_models").joinpath("data", SHIPPED_MODEL).read_text("utf-8")
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"{path}: cannot read the form model: {exc}") from None
    where = path or SHIPPED_MODEL
    try:
        return model_from_json(json.loads(text))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{where}: not a form model file: not valid JSON ({exc.msg}, line {exc.lineno})") from None
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
