"""Plan data: the timeline of sections and clips a song renders from.

Plain frozen dataclasses so a plan is hashable, comparable and JSON-able; the
planner (``composer.planner``) builds them, the renderer consumes them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Optional


@dataclass(frozen=True)
class SectionOverride:
    """What a regeneration changes for one occurrence of a section."""

    # new noise seed for this occurrence (None keeps the planned one)
    seed: Optional[int] = None
    # new prompt for this occurrence (None keeps the outline's)
    prompt: Optional[str] = None
    # new img2img strength (None keeps the outline's)
    denoising: Optional[float] = None


@dataclass(frozen=True)
class PlannedClip:
    """One clip of whole bars: everything the backend needs, plus where it goes."""

    # position in the song's clip list
    index: int
    # index of the section (in song order) this clip lies in
    section_index: int
    # first bar of the clip, counted from the song start (0-based)
    start_bar: int
    # length in whole bars
    bars: int
    # first sample of the clip's nominal span on the song grid
    start_sample: int
    # one past the last sample of the nominal span (= next clip's start_sample)
    end_sample: int
    # prompt at alpha 0 (own section) and alpha 1 (next section or a variation)
    prompt_a: str
    prompt_b: str
    # interpolation position between the two endpoints
    alpha: float
    # noise seeds of the two endpoints
    seed_a: int
    seed_b: int
    # img2img strength, guidance scale and scheduler steps
    denoising: float
    guidance: float
    steps: int
    # the outline's negative prompt: what classifier-free guidance steers away from ("" = unconditional)
    negative_prompt: str
    # init audio: 'auto' (drum groove), 'none', or a groove file's path (WAV, FLAC or OGG)
    groove: str
    # drum groove family and the section's musical role, for groove: auto
    groove_style: str
    role: str
    # level of this clip relative to the song target, dB
    gain_db: float
    # 'interpolation' for clips morphing into the next section, else 'section'
    kind: str = "section"


@dataclass(frozen=True)
class PlannedSection:
    """One occurrence of a named section on the timeline."""

    # position in song order
    index: int
    # section name from the outline
    name: str
    # 1 for the first occurrence of this name, 2 for the second...
    occurrence: int
    # musical role (intro, verse, chorus...) for grooves and pictures
    role: str
    # first bar (0-based, from the song start) and length in whole bars
    start_bar: int
    bars: int
    # span on the song grid in samples (end is one past the last) and in seconds
    start_sample: int
    end_sample: int
    start_s: float
    end_s: float
    # full prompt (section prompt + style + key) and seed used for this occurrence
    prompt: str
    seed: int
    # transition into the next section and its length in samples (the song's joint fade, or a declick for a cut)
    transition: str
    fade_samples: int
    # clip indices of this section, in order
    clip_indices: tuple[int, ...]

    @property
    def label(self) -> str:
        """'chorus' or 'chorus 2' for humans; 'chorus:2' addresses it on the CLI."""
        return self.name if self.occurrence == 1 else f"{self.name} {self.occurrence}"


@dataclass(frozen=True)
class Plan:
    """The complete, sample-exact timeline of a song."""

    # the outline's title
    title: str
    # tempo in beats per minute, counted in beat_unit notes
    bpm: float
    # time signature as beats per bar over beat unit (6/8 -> 6, 8)
    beats_per_bar: int
    beat_unit: int
    # the backend's output rate; every sample position below is at this rate
    sample_rate_hz: int
    # samples of silence-free audio from the first downbeat to the end of the last bar
    total_samples: int
    # samples each clip is rendered beyond its nominal span on both sides (half the joint fade, plus one)
    pad_samples: int
    # crossfade at every clip joint that is not a cut, samples: the outline's, capped at the shortest clip such
    # a joint joins (no fade can outlast a clip)
    joint_fade_samples: int
    # every section occurrence and every clip, in song order
    sections: tuple[PlannedSection, ...]
    clips: tuple[PlannedClip, ...]
    # the form actually used (differs from the outline with form: learned)
    form: tuple[str, ...]
    # what the structure model chose, for form: learned (else None)
    learned_form: Optional[dict[str, Any]] = field(default=None, compare=False)
    # what the user should know before rendering (say, a bar longer than the backend's clips), one line each
    warnings: tuple[str, ...] = ()

    @property
    def duration_s(self) -> float:
        return self.total_samples / self.sample_rate_hz

    def section_for(self, selector: str) -> PlannedSection:
        """Find a section by 'name' (its first occurrence), 'name:occurrence' or its 0-based index."""
        from composer.errors import PlanError

        text = selector.strip()
        if text.isdigit():
            index = int(text)
            if index >= len(self.sections):
                raise PlanError(f"section index {index} is out of range: the song has {len(self.sections)} sections (0-{len(self.sections) - 1})")
            return self.sections[index]
        name, colon, occ = text.partition(":")
        name = name.strip()  # ' chorus : 2' is chorus:2
        occurrence = int(occ) if occ.strip().isdigit() else (-1 if colon else 1)
        if occurrence < 1:
            raise PlanError(f"section selector {selector!r}: write NAME, NAME:OCCURRENCE (e.g. chorus:2) or an index")
        for section in self.sections:
            if section.name == name and section.occurrence == occurrence:
                return section
        choices = ", ".join(f"{s.name}:{s.occurrence}" for s in self.sections)
        raise PlanError(f"no section {selector!r} in this song; choose one of: {choices}")

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        if not self.warnings:  # listed only when there are some, so a plain plan's JSON stays as it was
            del data["warnings"]
        data["duration_s"] = self.duration_s
        return data
