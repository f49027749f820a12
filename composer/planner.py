"""Outline -> Plan: lay sections and clips of whole bars on a sample-exact grid.

Pure functions: no audio, no models. The planner decides every seed, prompt and
interpolation position, so the renderer and the clip cache only follow it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import Any, Mapping, Optional

from composer.errors import PlanError
from composer.outline_model import Outline, SectionSpec, bpm_limits
from composer.plan import Plan, PlannedClip, PlannedSection, SectionOverride
from composer.seeds import derive_seed
from composer.timing import BarGrid, parse_duration_s

#: musical roles the grooves and pictures know; a section name maps onto one
ROLES = (
    "intro", "verse", "prechorus", "chorus", "postchorus", "bridge", "solo", "instrumental",
    "breakdown", "build", "drop", "outro",
)
_ROLE_ALIASES = {"pre-chorus": "prechorus", "pre_chorus": "prechorus", "hook": "chorus", "refrain": "chorus",
                 "interlude": "instrumental", "break": "breakdown", "coda": "outro", "ending": "outro",
                 "head": "verse", "a": "verse", "b": "bridge", "riser": "build", "buildup": "build"}
#: a cut still fades over this long so the joint never clicks
DECLICK_S = 0.005

Overrides = Mapping[tuple[str, int], SectionOverride]


@dataclass(frozen=True)
class _Occurrence:
    """Section-level decisions for one occurrence, before it is cut into clips."""

    name: str
    occurrence: int
    spec: SectionSpec
    role: str
    prompt: str
    seed: int
    denoising: float
    guidance: float


def plan_song(
    outline: Outline,
    *,
    sample_rate_hz: int,
    max_clip_s: float,
    default_steps: int = 50,
    overrides: Optional[Overrides] = None,
) -> Plan:
    """Expand an outline into the full timeline of clips.

    ``max_clip_s`` is the longest clip the backend renders well; each section is
    cut into the fewest near-equal clips of whole bars that fit in it.
    ``default_steps`` applies when the outline leaves ``render.steps`` unset.
    """
    overrides = dict(overrides or {})
    beats_per_bar, beat_unit = outline.time_signature_tuple
    grid = BarGrid(bpm=float(outline.bpm), beats_per_bar=beats_per_bar, beat_unit=beat_unit,
                   sample_rate_hz=sample_rate_hz)
    form, sections, learned = resolve_form(outline)
    _check_overrides(overrides, form)
    occurrences = _occurrences(outline, form, sections, overrides)

    requested_fade = max(grid.beats_to_samples(outline.render.crossfade_beats),
                         declick_samples(sample_rate_hz=sample_rate_hz))
    max_clip_bars = max(1, math.floor(max_clip_s / grid.bar_s + 1e-9))

    planned_sections: list[PlannedSection] = []
    clips: list[PlannedClip] = []
    bar = 0
    for index, occ in enumerate(occurrences):
        following = occurrences[index + 1] if index + 1 < len(occurrences) else None
        clip_bars, interp_count = _split_section(occ.spec, max_clip_bars, has_next=following is not None)
        first_clip = len(clips)
        clip_start_bar = bar
        for position, bars in enumerate(clip_bars):
            is_interp = position >= len(clip_bars) - interp_count
            clips.append(_clip(outline, grid, occ, following, steps=outline.render.steps or default_steps,
                               index=len(clips), section_index=index,
                               position=position, start_bar=clip_start_bar, bars=bars,
                               interp_step=(position - (len(clip_bars) - interp_count) + 1) if is_interp else 0,
                               interp_count=interp_count))
            clip_start_bar += bars
        transition = occ.spec.transition if following is not None else "end"
        start, end = grid.bar_start_sample(bar), grid.bar_start_sample(bar + occ.spec.bars)
        planned_sections.append(PlannedSection(
            index=index, name=occ.name, occurrence=occ.occurrence, role=occ.role,
            start_bar=bar, bars=occ.spec.bars, start_sample=start, end_sample=end,
            start_s=start / sample_rate_hz, end_s=end / sample_rate_hz,
            prompt=occ.prompt, seed=occ.seed, transition=transition,
            fade_samples=declick_samples(sample_rate_hz=sample_rate_hz) if transition == "cut" else requested_fade,
            clip_indices=tuple(range(first_clip, len(clips))),
        ))
        bar += occ.spec.bars

    joint_fade = _capped_fade(planned_sections, clips, requested_samples=requested_fade)
    planned_sections = [s if s.transition == "cut" else replace(s, fade_samples=joint_fade) for s in planned_sections]
    pad = max(joint_fade, declick_samples(sample_rate_hz=sample_rate_hz)) // 2 + 1
    warnings = [_long_bar_warning(grid, max_clip_s=max_clip_s), _unplayed_sections_warning(outline, form)]
    return Plan(
        title=outline.title, bpm=float(outline.bpm), beats_per_bar=beats_per_bar, beat_unit=beat_unit,
        sample_rate_hz=sample_rate_hz, total_samples=grid.bar_start_sample(bar), pad_samples=pad,
        joint_fade_samples=joint_fade, sections=tuple(planned_sections), clips=tuple(clips),
        form=tuple(form), learned_form=learned, warnings=tuple(warning for warning in warnings if warning),
    )


def _unplayed_sections_warning(outline: Outline, form: list[str]) -> Optional[str]:
    """What to tell a user whose own sections a learned form left out (None when it plays them all): a
    section's ``bars`` pins its label's length while sampling, and a length that fits the target badly makes
    forms with that label rare."""
    unplayed = {name: spec.bars for name, spec in outline.sections.items() if name not in form}
    if outline.form != "learned" or not unplayed:
        return None
    pins = ", ".join(f"{name!r} ({bars} bars)" for name, bars in unplayed.items())
    return (f"the learned form ({' '.join(form)}) leaves out the outline's section{'s' if len(unplayed) > 1 else ''} "
            f"{pins}: the sampler holds a section to its bars, so forms with it may not fit the target; "
            "give it fewer bars, or try another structure seed")


def _capped_fade(sections: list[PlannedSection], clips: list[PlannedClip], *, requested_samples: int) -> int:
    """The crossfade asked for, but no longer than the shorter clip at any joint that crossfades.

    The renderer cannot fade longer than a clip, so capping here lets the plan state the fade every joint gets
    and pads clips for that fade only. It is one length for the whole song, as every crossfading joint uses it.
    """
    crossfading = [min(before.end_sample - before.start_sample, after.end_sample - after.start_sample)
                   for before, after in zip(clips, clips[1:])
                   if before.section_index == after.section_index or sections[before.section_index].transition != "cut"]
    return min([requested_samples, *crossfading])


def _long_bar_warning(grid: BarGrid, *, max_clip_s: float) -> Optional[str]:
    """What to tell a user whose bar alone outlasts the backend's longest clip (None when a bar fits): every
    clip is then one bar, longer than the model renders well, and the tempo drifts more."""
    if max_clip_s / grid.bar_s + 1e-9 >= 1:  # the planner's test for one bar per clip
        return None
    metre = f"{grid.beats_per_bar}/{grid.beat_unit}"
    # rounded up to 0.1 bpm, so the stated tempo does fit
    slowest_bpm = math.ceil(grid.beats_per_bar * 60 / max_clip_s * 10) / 10
    _, fastest_bpm = bpm_limits(metre)
    fits = (f"one bar of {metre} fits at {slowest_bpm:g} bpm or faster" if slowest_bpm <= fastest_bpm else
            f"one bar of {metre} fits only above {fastest_bpm} bpm ({slowest_bpm:g}), so use fewer beats per bar")
    return (f"one bar of {metre} at {grid.bpm:g} bpm lasts {grid.bar_s:.2f} s, longer than the backend's longest "
            f"clip ({max_clip_s:.2f} s): each clip is one bar, {grid.bar_s / max_clip_s:.1f}x that length, and may "
            f"keep time less well; {fits}")


def resolve_form(outline: Outline) -> tuple[list[str], dict[str, SectionSpec], Optional[dict[str, Any]]]:
    """The form and section definitions to play; samples them for ``form: learned``."""
    if outline.form != "learned":
        return list(outline.form), dict(outline.sections), None
    from structure_models import expand_learned_form

    assert outline.structure is not None  # guaranteed by Outline validation
    beats_per_bar, _ = outline.time_signature_tuple
    seed = outline.structure.seed if outline.structure.seed is not None else outline.seed
    user_sections = {name: spec.model_dump(mode="json", exclude_unset=True)
                     for name, spec in outline.sections.items()}
    try:
        form, section_dicts = expand_learned_form(
            genre=outline.structure.genre, duration_s=parse_duration_s(outline.structure.duration),
            bpm=float(outline.bpm), beats_per_bar=beats_per_bar, seed=seed, sections=user_sections,
        )
    except ValueError as exc:
        raise PlanError(f"structure: {exc}") from None
    sections = {name: SectionSpec.model_validate(spec) for name, spec in section_dicts.items()}
    learned = {"genre": outline.structure.genre, "duration": outline.structure.duration, "seed": seed,
               "form": list(form), "sections": section_dicts}
    return list(form), sections, learned


def infer_role(name: str) -> str:
    """'chorus_2' -> 'chorus', 'Pre-Chorus' -> 'prechorus', 'verse_b' -> 'verse', 'xyz' -> 'other'."""
    lowered = name.lower()
    candidates = [
        lowered,
        re.sub(r"[\s_\-]*\d+$", "", lowered),  # numbered: verse2, chorus_3
        re.sub(r"[\s_\-]+[a-z]$", "", lowered),  # lettered: verse_b, intro-a
    ]
    for candidate in candidates:
        role = _ROLE_ALIASES.get(candidate, candidate)
        if role in ROLES:
            return role
    return next((role for role in ROLES if lowered.startswith(role)), "other")


#: a prompt that already states a tempo ("90 bpm", "120 BPM") keeps its own
_TEMPO_IN_TEXT = re.compile(r"\b\d+(\.\d+)?\s*(bpm|beats per minute)\b", re.IGNORECASE)


def compose_prompt(section_prompt: str, *, style: str, key: Optional[str], bpm: Optional[float] = None) -> str:
    """Section prompt, then the song style, the key and the tempo: the text the model sees.

    The tempo goes in because the built-in model's captions state it, so the
    text agrees with the groove init instead of pulling towards another tempo.
    """
    parts = [section_prompt.strip()]
    if style.strip():
        parts.append(style.strip())
    if key and key.strip():
        parts.append(f"in {key.strip()}")
    if bpm is not None and not any(_TEMPO_IN_TEXT.search(part) for part in parts):
        parts.append(f"{float(bpm):g} bpm")
    return ", ".join(parts)


def _occurrences(outline: Outline, form: list[str], sections: dict[str, SectionSpec],
                 overrides: dict[tuple[str, int], SectionOverride]) -> list[_Occurrence]:
    counts: dict[str, int] = {}
    out = []
    for name in form:
        counts[name] = counts.get(name, 0) + 1
        spec = sections[name]
        override = overrides.get((name, counts[name]), SectionOverride())
        base_seed = spec.seed if spec.seed is not None else derive_seed(outline.seed, "section", name)
        out.append(_Occurrence(
            name=name, occurrence=counts[name], spec=spec, role=spec.role or infer_role(name),
            prompt=compose_prompt(spec.prompt if override.prompt is None else override.prompt,
                                  style=outline.style, key=outline.key,
                                  bpm=float(outline.bpm) if outline.tempo_in_prompt else None),
            seed=override.seed if override.seed is not None else base_seed,
            denoising=float(override.denoising if override.denoising is not None
                            else spec.denoising if spec.denoising is not None else outline.render.denoising),
            guidance=float(spec.guidance if spec.guidance is not None else outline.render.guidance),
        ))
    return out


def _split_section(spec: SectionSpec, max_clip_bars: int, *, has_next: bool) -> tuple[list[int], int]:
    """Bars per clip for one section, and how many trailing clips interpolate."""
    interp_bars = (spec.interpolate_bars or 1) if (spec.transition == "interpolate" and has_next) else 0
    main = _even_chunks(spec.bars - interp_bars, max_clip_bars)
    interp = _even_chunks(interp_bars, max_clip_bars)
    return main + interp, len(interp)


def _even_chunks(total: int, largest: int) -> list[int]:
    """Split ``total`` bars into the fewest near-equal chunks of at most ``largest`` (longer first)."""
    if total <= 0:
        return []
    count = math.ceil(total / largest)
    base, extra = divmod(total, count)
    return [base + 1] * extra + [base] * (count - extra)


def _clip(outline: Outline, grid: BarGrid, occ: _Occurrence, following: Optional[_Occurrence], *, steps: int, index: int,
          section_index: int, position: int, start_bar: int, bars: int, interp_step: int,
          interp_count: int) -> PlannedClip:
    seed_a = derive_seed(occ.seed, "clip", position)
    prompt_b, seed_b, alpha = occ.prompt, seed_a, 0.0
    denoising, guidance, kind = occ.denoising, occ.guidance, "section"
    if interp_step and following is not None:
        alpha = interp_step / (interp_count + 1)
        prompt_b, seed_b = following.prompt, derive_seed(following.seed, "clip", 0)
        denoising = (1 - alpha) * occ.denoising + alpha * following.denoising
        guidance = (1 - alpha) * occ.guidance + alpha * following.guidance
        kind = "interpolation"
    elif occ.occurrence > 1 and occ.spec.variation > 0:
        seed_b, alpha = derive_seed(occ.seed, "clip", position, "occurrence", occ.occurrence), float(occ.spec.variation)
    return PlannedClip(
        index=index, section_index=section_index, start_bar=start_bar, bars=bars,
        start_sample=grid.bar_start_sample(start_bar), end_sample=grid.bar_start_sample(start_bar + bars),
        prompt_a=occ.prompt, prompt_b=prompt_b, alpha=round(alpha, 6), seed_a=seed_a, seed_b=seed_b,
        denoising=round(denoising, 6), guidance=round(guidance, 6), steps=steps,
        negative_prompt=outline.negative_prompt, groove=occ.spec.groove, groove_style=outline.groove_style,
        role=occ.role, gain_db=float(occ.spec.gain_db), kind=kind,
    )


def _check_overrides(overrides: dict[tuple[str, int], SectionOverride], form: list[str]) -> None:
    for name, occurrence in overrides:
        if form.count(name) < occurrence:
            raise PlanError(f"override for {name}:{occurrence} does not match the form (it has "
                            f"{form.count(name)} occurrence(s) of {name!r})")


def declick_samples(*, sample_rate_hz: int) -> int:
    """Length of the tiny fade that keeps a cut from clicking."""
    return max(2, round(DECLICK_S * sample_rate_hz))
