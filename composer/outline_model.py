"""The song outline format: pydantic models, one per YAML mapping.

This module only describes the format (types, ranges, cross-field rules); reading
a file and turning validation failures into located messages is
``composer.outline``'s job.
"""

from __future__ import annotations

import difflib
import math
import re
from collections import Counter
from typing import Any, Literal, Optional, Union

from pydantic import (
    BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr, ValidationInfo, field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from composer.seeds import SEED_LIMIT
from composer.timing import ALLOWED_BEAT_UNITS, format_mmss, parse_duration_s, parse_time_signature

Number = Union[StrictInt, StrictFloat]
SECTION_NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_\-]{0,63}$"
#: what parse_time_signature accepts, for the schema: numerator 1-32 and an allowed denominator, with
#: leading zeros and spaces around the parts (' 4 / 4', '04/4'); ASCII digits only
TIME_SIGNATURE_PATTERN = (r"^\s*0*([1-9]|[12][0-9]|3[0-2])\s*/\s*0*("
                          + "|".join(str(unit) for unit in ALLOWED_BEAT_UNITS) + r")\s*$")

#: tempo range in beats per minute of a quarter-note (or longer) beat unit; see bpm_limits for shorter ones
MIN_BPM, MAX_BPM = 40, 240
#: the fastest bpm of any metre (x/32 counts thirty-second notes: 240 quarter notes a minute)
FASTEST_BPM = MAX_BPM * max(ALLOWED_BEAT_UNITS) // 4
#: longest title
MAX_TITLE_CHARS = 200
#: longest song, and longest learned-form target: rendering holds the whole song's audio in memory
MAX_SONG_S = 60 * 60


class RuleError(ValueError):
    """A rule about one key broke inside a model validator: ``field`` (a key or key path, relative to the model
    being validated) says where, so the error points at that key's line rather than the mapping's first line."""

    def __init__(self, message: str, *, field: str | tuple[str, ...]) -> None:
        super().__init__(message)
        self.field = (field,) if isinstance(field, str) else tuple(field)


def song_duration_s(value: Union[str, float, int]) -> float:
    """Seconds of a target length, '3:30' or 210; ValueError saying what is allowed unless 0 < seconds <= 60:00."""
    try:
        seconds = parse_duration_s(value)
    except ValueError as exc:  # not a duration, or not positive
        raise ValueError(f"{exc}; a song lasts more than 0 and at most {format_mmss(MAX_SONG_S)}") from None
    if seconds > MAX_SONG_S:
        raise ValueError(
            f"duration {value!r} is {format_mmss(seconds)} (m:ss), longer than the {format_mmss(MAX_SONG_S)} "
            f"({MAX_SONG_S} seconds) a song may last"
        )
    return seconds


def bpm_limits(time_signature: str) -> tuple[int, int]:
    """Slowest and fastest bpm a metre allows. bpm counts the beat unit, and a short unit may count as fast as
    240 quarter notes a minute: 40-240 in x/4 (and x/2), 40-480 in x/8, so a jig whose dotted quarter is 110
    (bpm 330 in 6/8) fits; 40-960 in x/16. The slowest stays 40 beat units, as slow 6/8 and 12/8 ballads count."""
    _, beat_unit = parse_time_signature(time_signature)
    return MIN_BPM, MAX_BPM * max(1, beat_unit // 4)


def song_length_s(*, bars: int, time_signature: str, bpm: float) -> float:
    """Seconds that ``bars`` bars last; bpm counts the time signature's beat unit (6/8 at 120 = 120 eighths/min)."""
    beats_per_bar, _ = parse_time_signature(time_signature)
    return bars * beats_per_bar * 60.0 / float(bpm)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class RenderSettings(_Strict):
    """Song-wide render settings; sections may override denoising and guidance."""

    steps: Optional[StrictInt] = Field(
        None, ge=1, le=1000, description="Scheduler steps per clip (before strength); default: the backend's own."
    )
    guidance: Number = Field(7.0, gt=0, le=30, description="Classifier-free guidance scale.")
    denoising: Number = Field(
        0.75, gt=0, le=1, description="img2img strength: 0.75 keeps the groove, 1.0 ignores it."
    )
    crossfade_beats: Number = Field(
        1.0, ge=0, le=16, description="Length of crossfades at clip joints and crossfade transitions, in beats."
    )
    loudness_db: Number = Field(
        -18.0, ge=-40, le=-6, description="Target RMS level of every section (all its clips together), dBFS."
    )
    continuation: StrictBool = Field(
        False,
        description="Each clip after a section's first continues the previous one (latent outpainting over "
                    "their shared window) where the backend supports it; off: every clip is rendered on its own.",
    )


class SectionSpec(_Strict):
    """One named section; repeats in the form reuse it."""

    bars: StrictInt = Field(gt=0, le=1024, description="Length in whole bars.")
    prompt: StrictStr = Field(min_length=1, max_length=1000, description="What this section sounds like.")
    seed: Optional[StrictInt] = Field(
        None, ge=0, lt=SEED_LIMIT, description="Noise seed; default derived from the song seed and the name."
    )
    denoising: Optional[Number] = Field(None, gt=0, le=1, description="Overrides render.denoising.")
    guidance: Optional[Number] = Field(None, gt=0, le=30, description="Overrides render.guidance.")
    groove: StrictStr = Field(
        "auto",
        description="Init audio: 'auto' (a drum groove at the song tempo), 'none' (text only) or the path of a "
                    "WAV, FLAC or OGG file (relative to the outline file).",
    )
    role: Optional[StrictStr] = Field(
        None, description="Musical role for the groove (intro, verse, chorus, ...); default from the name."
    )
    gain_db: Number = Field(0.0, ge=-24, le=12, description="Level relative to the song target, dB.")
    transition: Literal["crossfade", "cut", "interpolate"] = Field(
        "crossfade", description="How this section flows into the next one."
    )
    interpolate_bars: Optional[StrictInt] = Field(
        None, ge=1, description="Bars at the end of this section that morph into the next (transition: interpolate)."
    )
    variation: Number = Field(
        0.0, ge=0, le=1, description="How far a repeat drifts from the first occurrence (0 = identical); bars "
                                     "that morph into the next section (interpolate_bars) are not varied."
    )

    @field_validator("groove")
    @classmethod
    def _groove_word_or_path(cls, value: str) -> str:
        # 'AUTO' or '' would otherwise be looked up as a file beside the outline
        if not value.strip():
            raise ValueError("is empty: use 'auto', 'none' or the path of a WAV, FLAC or OGG file")
        if value.strip().lower() in ("auto", "none") and value not in ("auto", "none"):
            raise ValueError(f"{value!r} is not a file; did you mean {value.strip().lower()!r}?")
        return value

    @field_validator("role")
    @classmethod
    def _known_role(cls, value: Optional[str]) -> Optional[str]:
        from composer.groove.names import is_known_role, role_names

        if value is not None and not is_known_role(value):
            guess = difflib.get_close_matches(value.strip().lower(), role_names(), n=1)
            raise ValueError(f"unknown role {value!r}" + (f"; did you mean {guess[0]!r}?" if guess else "")
                             + f" (roles: {', '.join(role_names())})")
        return value

    @model_validator(mode="after")
    def _interpolation_fits(self) -> "SectionSpec":
        if self.interpolate_bars is not None and self.transition != "interpolate":
            raise RuleError("interpolate_bars is only allowed with transition: interpolate", field="interpolate_bars")
        if self.transition == "interpolate" and (self.interpolate_bars or 1) > self.bars:
            raise RuleError(
                f"interpolate_bars ({self.interpolate_bars}) cannot exceed the section's bars ({self.bars})",
                field="interpolate_bars",
            )
        return self


class LearnedStructure(_Strict):
    """Parameters for ``form: learned``: the planner samples the form from the structure model."""

    genre: StrictStr = Field(description="Genre of the learned form model (see `composer structure sample --help`).")
    duration: Union[StrictStr, Number] = Field(
        description=f"Target length, 'm:ss' or seconds, at most {format_mmss(MAX_SONG_S)}; the form lands within 5%."
    )
    seed: Optional[StrictInt] = Field(None, ge=0, lt=SEED_LIMIT, description="Form seed; default the song seed.")

    @field_validator("genre")
    @classmethod
    def _genre(cls, value: str) -> str:
        from structure_models.genres import check_genre

        return check_genre(value)

    @field_validator("duration")
    @classmethod
    def _duration(cls, value: Union[str, float]) -> Union[str, float]:
        song_duration_s(value)
        return value


def _outline_schema(schema: dict[str, Any]) -> None:
    """What the validators check beyond the field types, so an editor flags it too: sections are required
    unless the form is learned, their names follow the name rule, and the time signature is one we play."""
    schema["if"] = {"properties": {"form": {"const": "learned"}}, "required": ["form"]}
    schema["else"] = {"required": ["sections"], "properties": {"sections": {"minProperties": 1}}}
    schema["properties"]["sections"]["propertyNames"] = {"pattern": SECTION_NAME_PATTERN}
    schema["properties"]["time_signature"]["pattern"] = TIME_SIGNATURE_PATTERN
    schema["properties"]["bpm"].update(minimum=MIN_BPM, maximum=FASTEST_BPM)
    schema["allOf"] = [_bpm_limit_schema(units) for units in _units_by_fastest_bpm()]


def _units_by_fastest_bpm() -> list[tuple[int, ...]]:
    """Beat units grouped by the fastest bpm they allow: [(1, 2, 4), (8,), (16,), (32,)]."""
    groups: dict[int, list[int]] = {}
    for unit in ALLOWED_BEAT_UNITS:
        groups.setdefault(bpm_limits(f"1/{unit}")[1], []).append(unit)
    return [tuple(units) for units in groups.values()]


def _bpm_limit_schema(units: tuple[int, ...]) -> dict[str, Any]:
    """The fastest bpm where the time signature's denominator is one of ``units`` (4/4, the default, when absent)."""
    denominator = {"pattern": r"/\s*0*(" + "|".join(str(unit) for unit in units) + r")\s*$"}
    limit = {"properties": {"bpm": {"maximum": bpm_limits(f"1/{units[0]}")[1]}}}
    if 4 in units:  # without "required", also where the time signature is left out
        return {"if": {"properties": {"time_signature": denominator}}, "then": limit}
    return {"if": {"properties": {"time_signature": denominator}, "required": ["time_signature"]}, "then": limit}


class Outline(_Strict):
    """A whole song: tempo, metre, named sections and their order."""

    model_config = ConfigDict(**_Strict.model_config, json_schema_extra=_outline_schema)

    title: StrictStr = Field(
        "Untitled", min_length=1, max_length=MAX_TITLE_CHARS,
        description="Song title; default: the outline file's name.",
    )
    # before bpm, whose range depends on it (validators see the fields declared before theirs)
    time_signature: StrictStr = Field("4/4", description="Metre such as 4/4, 3/4, 6/8.")
    bpm: Number = Field(
        description=f"Tempo in beats per minute of the time signature's beat unit: {MIN_BPM}-{MAX_BPM} in x/4 and "
                    f"x/2, up to {MAX_BPM * 2} in x/8 (6/8 at 330 is a dotted quarter at 110), "
                    f"{MAX_BPM * 4} in x/16, {FASTEST_BPM} in x/32."
    )
    key: Optional[StrictStr] = Field(None, description="Musical key, added to prompts (e.g. 'A minor').")
    seed: StrictInt = Field(0, ge=0, lt=SEED_LIMIT, description="Song seed; section seeds derive from it.")
    style: StrictStr = Field("", max_length=500, description="Text appended to every section prompt.")
    tempo_in_prompt: StrictBool = Field(
        True, description="Append the tempo ('112 bpm') to every prompt that does not name one already."
    )
    groove_style: StrictStr = Field(
        "pop", description="Drum groove family for groove: auto (pop, rock, edm, hiphop, jazz, blues, ...)."
    )
    negative_prompt: StrictStr = Field("", max_length=1000)
    render: RenderSettings = Field(default_factory=RenderSettings)
    sections: dict[StrictStr, SectionSpec] = Field(default_factory=dict)
    form: Optional[Union[Literal["learned"], list[StrictStr]]] = Field(
        None,
        description=f"Order of section names (repeats allowed), at most {format_mmss(MAX_SONG_S)} in all, "
                    "or 'learned' to sample one; default: every section once, in the order written.",
    )
    structure: Optional[LearnedStructure] = Field(None, description="Required with form: learned.")

    @field_validator("time_signature")
    @classmethod
    def _time_signature(cls, value: str) -> str:
        parse_time_signature(value)
        return value

    @field_validator("bpm")
    @classmethod
    def _bpm_in_metre_range(cls, value: float, info: ValidationInfo) -> float:
        # a time signature that failed its own check is reported there; the range is then 4/4's
        time_signature = info.data.get("time_signature", "4/4")
        low, high = bpm_limits(time_signature)
        # range errors of pydantic's own types, so messages read like every other field's
        if math.isnan(value) or value < low:
            raise PydanticCustomError("greater_than_equal", "Input should be greater than or equal to {ge}",
                                      {"ge": low})
        if value > high:
            raise PydanticCustomError("less_than_equal", "Input should be less than or equal to {le}", {"le": high})
        return value

    @field_validator("sections")
    @classmethod
    def _section_names(cls, value: dict[str, SectionSpec]) -> dict[str, SectionSpec]:
        for name in value:
            if not re.match(SECTION_NAME_PATTERN, name):
                raise RuleError(
                    f"section name {name!r} must start with an ASCII letter and use only ASCII letters (A-Z, a-z), "
                    "digits, '_' or '-' (at most 64 characters)",
                    field=name,
                )
        return value

    @model_validator(mode="before")
    @classmethod
    def _form_defaults_to_sections(cls, data: Any) -> Any:
        # filled in before validation, so the manifest records the form that was played
        if isinstance(data, dict) and data.get("form") is None and isinstance(data.get("sections"), dict) \
                and data["sections"]:
            return {**data, "form": list(data["sections"])}
        return data

    @model_validator(mode="after")
    def _form_matches_sections(self) -> "Outline":
        if self.form is None:
            raise RuleError(("is empty" if "sections" in self.model_fields_set else "is missing")
                            + ": define the song's sections (bars and prompt each), played in the order "
                            "written unless a 'form' lists them", field="sections")
        if self.form == "learned":
            if self.structure is None:
                raise RuleError(
                    "'learned' needs a 'structure' mapping with genre and duration, e.g. "
                    "structure: {genre: pop, duration: '3:30'}",
                    field="form",
                )
            self._check_learned_duration()
            return self
        if self.structure is not None:
            raise RuleError("'structure' is only used with form: learned", field="structure")
        if not self.form:
            raise RuleError("is empty: list the section names in playing order", field="form")
        if not self.sections:
            if "sections" in self.model_fields_set:
                raise RuleError("is empty: define every section the form names", field="sections")
            raise RuleError("names sections but the outline has no 'sections' mapping defining them", field="form")
        self._check_song_length()
        return self

    def _check_song_length(self) -> None:
        # names the form uses but sections lacks are reported after validation, with a guess
        plays = Counter(name for name in self.form if name in self.sections)
        bars = sum(self.sections[name].bars * count for name, count in plays.items())
        length_s = song_length_s(bars=bars, time_signature=self.time_signature, bpm=self.bpm)
        if length_s <= MAX_SONG_S + 1e-6:
            return
        longest = max(plays, key=lambda name: plays[name] * self.sections[name].bars)
        raise RuleError(
            f"the song lasts {format_mmss(length_s)} ({bars} bars of {self.time_signature} at {self.bpm:g} bpm), "
            f"longer than the {format_mmss(MAX_SONG_S)} allowed; most of it is {longest!r} "
            f"({plays[longest]} x {self.sections[longest].bars} bars): play fewer or shorter sections, or faster",
            field="form",
        )

    def _check_learned_duration(self) -> None:
        # the same window the sampler uses, so a target too short for one bar fails here with its line
        from structure_models.sampling import bar_window

        assert self.structure is not None
        beats_per_bar, _ = parse_time_signature(self.time_signature)
        try:
            bar_window(duration_s=song_duration_s(self.structure.duration), bpm=float(self.bpm),
                       beats_per_bar=beats_per_bar)
        except ValueError as exc:
            raise RuleError(str(exc), field=("structure", "duration")) from None

    @property
    def time_signature_tuple(self) -> tuple[int, int]:
        return parse_time_signature(self.time_signature)
