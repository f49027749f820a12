"""The song outline format: pydantic models, one per YAML mapping.

This module only describes the format (types, ranges, cross-field rules); reading
a file and turning validation failures into located messages is
``composer.outline``'s job.
"""

from __future__ import annotations

from typing import Literal, Optional, Union

from pydantic import (
    BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr, field_validator, model_validator,
)

from composer.timing import parse_duration_s, parse_time_signature

Number = Union[StrictInt, StrictFloat]
SECTION_NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_\-]{0,63}$"


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
        None, ge=0, lt=2**63, description="Noise seed; default derived from the song seed and the name."
    )
    denoising: Optional[Number] = Field(None, gt=0, le=1, description="Overrides render.denoising.")
    guidance: Optional[Number] = Field(None, gt=0, le=30, description="Overrides render.guidance.")
    groove: StrictStr = Field(
        "auto",
        description="Init audio: 'auto' (a drum groove at the song tempo), 'none' (text only) or a WAV path.",
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
        0.0, ge=0, le=1, description="How far a repeat drifts from the first occurrence (0 = identical)."
    )

    @model_validator(mode="after")
    def _interpolation_fits(self) -> "SectionSpec":
        if self.interpolate_bars is not None and self.transition != "interpolate":
            raise ValueError("interpolate_bars is only allowed with transition: interpolate")
        if self.transition == "interpolate" and (self.interpolate_bars or 1) > self.bars:
            raise ValueError(
                f"interpolate_bars ({self.interpolate_bars}) cannot exceed the section's bars ({self.bars})"
            )
        return self


class LearnedStructure(_Strict):
    """Parameters for ``form: learned``: the planner samples the form from the structure model."""

    genre: StrictStr = Field(description="Genre of the learned form model (see `composer structure sample --help`).")
    duration: Union[StrictStr, Number] = Field(description="Target length, 'm:ss' or seconds.")
    seed: Optional[StrictInt] = Field(None, ge=0, lt=2**63, description="Form seed; default the song seed.")

    @field_validator("duration")
    @classmethod
    def _duration(cls, value: Union[str, float]) -> Union[str, float]:
        parse_duration_s(value)
        return value


class Outline(_Strict):
    """A whole song: tempo, metre, named sections and their order."""

    title: StrictStr = Field(min_length=1, max_length=200)
    bpm: Number = Field(ge=40, le=240, description="Tempo in beats per minute (of the time signature's beat unit).")
    time_signature: StrictStr = Field("4/4", description="Metre such as 4/4, 3/4, 6/8.")
    key: Optional[StrictStr] = Field(None, description="Musical key, added to prompts (e.g. 'A minor').")
    seed: StrictInt = Field(0, ge=0, lt=2**63, description="Song seed; section seeds derive from it.")
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
    form: Union[Literal["learned"], list[StrictStr]] = Field(
        description="Order of section names (repeats allowed), or 'learned' to sample one."
    )
    structure: Optional[LearnedStructure] = Field(None, description="Required with form: learned.")

    @field_validator("time_signature")
    @classmethod
    def _time_signature(cls, value: str) -> str:
        parse_time_signature(value)
        return value

    @field_validator("sections")
    @classmethod
    def _section_names(cls, value: dict[str, SectionSpec]) -> dict[str, SectionSpec]:
        import re

        for name in value:
            if not re.match(SECTION_NAME_PATTERN, name):
                raise ValueError(
                    f"section name {name!r} must start with a letter and use only letters, digits, '_' or '-'"
                )
        return value

    @model_validator(mode="after")
    def _form_matches_sections(self) -> "Outline":
        if self.form == "learned":
            if self.structure is None:
                raise ValueError("form: learned needs a 'structure' mapping with genre and duration")
            return self
        if self.structure is not None:
            raise ValueError("'structure' is only used with form: learned")
        if not self.form:
            raise ValueError("form is empty: list the section names in playing order")
        if not self.sections:
            raise ValueError("sections is empty: define every section the form names")
        return self

    @property
    def time_signature_tuple(self) -> tuple[int, int]:
        return parse_time_signature(self.time_signature)
