"""Compose one multi-track arrangement of a style, and plan the clips cut from it."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pretty_midi

from . import harmony as hm
from .bass_parts import BASS_PATTERNS
from .chord_parts import CHORD_PATTERNS, pad_part, timpani_part
from .drums import GROOVES, drum_part
from .harmony_grid import Harmony
from .instruments import INSTRUMENTS, instrument
from .lead_parts import LEAD_RHYTHMS, lead_melody
from .notes import BeatNote, to_instrument
from .seeds import derive_seed
from .styles import Style, split_option

# Roles in mixing order; "lead" is always present.
ROLES = ("drums", "bass", "chords", "pad", "arp", "timpani", "lead")


@dataclass(frozen=True)
class Part:
    """One track of an arrangement."""

    # musical role ("drums", "bass", "chords", "pad", "arp", "timpani", "lead")
    role: str
    # key in instruments.INSTRUMENTS, or "drums"
    instrument_key: str
    # pattern or groove name that wrote it
    pattern: str
    # the notes, in seconds, with GM program / drum kit
    midi: pretty_midi.Instrument


@dataclass(frozen=True)
class ClipPlan:
    """Where a clip sits in its arrangement and which parts it hears."""

    # 0-based clip number within the arrangement
    index: int
    # bar the clip starts on (bar 0 is a lead-in so tails ring into clip 0)
    start_bar: int
    # roles mixed into the clip
    roles: tuple[str, ...]

    @property
    def density(self) -> str:
        """"sparse" for three parts or fewer, else "full"."""
        return "sparse" if len(self.roles) <= 3 else "full"


@dataclass(frozen=True)
class Arrangement:
    """A composed arrangement: its tags, its parts and its clip plan."""

    # stable id ("a000123-bossa-nova"), also the split key
    arrangement_id: str
    # seed everything in it derives from
    seed: int
    # style name (styles.Style.name)
    style: str
    # tempo in beats per minute
    bpm: int
    # beats per bar (4 -> 4/4, 3 -> 3/4)
    beats_per_bar: int
    # key tonic pitch class
    tonic_pc: int
    # "major" or "minor"
    mode: str
    # roman-numeral progression it cycles through
    progression: tuple[str, ...]
    # bars composed
    n_bars: int
    # groove name, or None without drums
    groove: str | None
    # bank-128 kit preset, or None without drums
    drum_kit: int | None
    # tracks, in ROLES order
    parts: tuple[Part, ...]
    # clips cut from it
    clips: tuple[ClipPlan, ...]
    # reverb send level of melodic parts
    reverb_wet: float
    # reverb decay time in seconds
    reverb_decay_s: float

    @property
    def bar_s(self) -> float:
        return self.beats_per_bar * 60.0 / self.bpm

    @property
    def time_signature(self) -> str:
        return f"{self.beats_per_bar}/4"

    @property
    def key(self) -> str:
        return hm.key_name(tonic_pc=self.tonic_pc, mode=self.mode)

    def part(self, role: str) -> Part | None:
        """The part playing ``role``, or None."""
        return next((p for p in self.parts if p.role == role), None)


def _pick(options, rng: np.random.Generator):
    return options[int(rng.integers(len(options)))]


def _pick_option(options: tuple[str, ...], used_programs: set[int], rng: np.random.Generator) -> tuple[str, str]:
    """An "instrument:pattern" option, preferring instruments not yet in the arrangement."""
    fresh = [o for o in options if INSTRUMENTS[split_option(o)[0]].program not in used_programs]
    return split_option(_pick(fresh or list(options), rng))


def _harmony(style: Style, *, beats_per_bar: int, n_bars: int, tonic_pc: int, mode: str, rng: np.random.Generator) -> tuple[Harmony, tuple[str, ...]]:
    progressions = style.major_progressions if mode == "major" else style.minor_progressions
    progression = _pick(progressions, rng)
    bars_per_chord = float(_pick(style.bars_per_chord, rng))
    if beats_per_bar == 3 and bars_per_chord < 1:
        bars_per_chord = 1.0
    chord_beats = bars_per_chord * beats_per_bar
    # start so that bar 1 (the first clip's downbeat) falls on a progression start,
    # except the 12-bar blues, which may be entered anywhere
    offset = int(rng.integers(len(progression))) if len(progression) >= 12 else -1
    spans = []
    beat, index = 0.0, offset
    while beat < n_bars * beats_per_bar - 1e-9:
        chord = hm.parse_chord(progression[index % len(progression)], tonic_pc=tonic_pc)
        spans.append((beat, beat + chord_beats, chord))
        beat += chord_beats
        index += 1
    scale = style.lead_scale(mode)
    harmony = Harmony(spans=tuple(spans), beats_per_bar=beats_per_bar, n_bars=n_bars, tonic_pc=tonic_pc, mode=mode, scale=scale)
    return harmony, tuple(progression)


def _clip_plans(style: Style, *, roles: tuple[str, ...], bars_per_clip: int, n_clips: int, rng: np.random.Generator) -> tuple[ClipPlan, ...]:
    """Clip 0 hears everything; later clips are stripped back half the time."""
    plans = []
    for index in range(n_clips):
        clip_roles = roles
        if index > 0 and rng.random() < 0.5:
            keep = [r for r in style.sparse_roles if r in roles][:2]
            clip_roles = tuple(r for r in roles if r in keep or r == "lead")
        plans.append(ClipPlan(index=index, start_bar=1 + index * bars_per_clip, roles=clip_roles))
    return tuple(plans)


def compose_arrangement(*, arrangement_id: str, style: Style, seed: int, clip_s: float, n_clips: int) -> Arrangement:
    """Compose an arrangement long enough for ``n_clips`` back-to-back clips of ``clip_s``."""
    rng = np.random.default_rng(derive_seed(seed, "globals"))
    beats_per_bar = int(_pick(style.meters, rng))
    bpm = int(rng.integers(style.bpm_range[0], style.bpm_range[1] + 1))
    mode = str(_pick(style.modes, rng))
    tonic_pc = int(rng.integers(12))
    bar_s = beats_per_bar * 60.0 / bpm
    bars_per_clip = math.ceil(clip_s / bar_s - 1e-9)
    n_bars = 1 + n_clips * bars_per_clip
    harmony, progression = _harmony(style, beats_per_bar=beats_per_bar, n_bars=n_bars, tonic_pc=tonic_pc, mode=mode, rng=rng)

    def role_rng(role: str, what: str) -> np.random.Generator:
        return np.random.default_rng(derive_seed(seed, role, what))

    choices: dict[str, tuple[str, str]] = {}
    used: set[int] = set()
    lead_key, lead_pattern = split_option(_pick(style.leads, role_rng("lead", "choice")))
    choices["lead"] = (lead_key, lead_pattern)
    used.add(INSTRUMENTS[lead_key].program)
    for role, options, probability in (
        ("chords", style.chords, style.chords_probability),
        ("bass", style.bass, style.bass_probability),
        ("arp", style.arps, style.arp_probability),
        ("pad", tuple(f"{k}:sustain" for k in style.pads), style.pad_probability),
        ("timpani", ("timpani:timpani",), style.timpani_probability),
    ):
        r = role_rng(role, "choice")
        if options and r.random() < probability:
            choices[role] = _pick_option(options, used, r)
            used.add(INSTRUMENTS[choices[role][0]].program)

    groove_name, drum_kit = None, None
    r = role_rng("drums", "choice")
    grooves = [g for g in style.grooves if GROOVES[g].beats_per_bar == beats_per_bar]
    if grooves and r.random() < style.drum_probability:
        groove_name, drum_kit = str(_pick(grooves, r)), int(_pick(style.drum_kits, r))

    parts = []
    for role in ROLES:
        notes_rng = role_rng(role, "notes")
        if role == "drums":
            if groove_name is None:
                continue
            notes = drum_part(GROOVES[groove_name], n_bars=n_bars, fill_probability=0.6, rng=notes_rng)
            key, pattern, program, is_drum = "drums", groove_name, drum_kit, True
        elif role in choices:
            key, pattern = choices[role]
            inst = instrument(key)
            notes = _part_notes(role, pattern, harmony, inst, notes_rng)
            program, is_drum = inst.program, False
        else:
            continue
        midi = to_instrument(
            [n for n in notes if n.start_beat < harmony.total_beats],
            program=program, is_drum=is_drum, name=f"{role}:{key}", bpm=bpm,
            swing=style.swing, swing_unit_beats=style.swing_unit_beats,
            timing_jitter_s=0.004 if is_drum else 0.007, velocity_jitter=6, rng=role_rng(role, "humanise"),
        )
        parts.append(Part(role=role, instrument_key=key, pattern=pattern, midi=midi))

    roles = tuple(p.role for p in parts)
    clips = _clip_plans(style, roles=roles, bars_per_clip=bars_per_clip, n_clips=n_clips, rng=role_rng("clips", "plan"))
    return Arrangement(
        arrangement_id=arrangement_id, seed=seed, style=style.name, bpm=bpm, beats_per_bar=beats_per_bar,
        tonic_pc=tonic_pc, mode=mode, progression=progression, n_bars=n_bars, groove=groove_name,
        drum_kit=drum_kit, parts=tuple(parts), clips=clips,
        reverb_wet=style.reverb_wet, reverb_decay_s=style.reverb_decay_s,
    )


def _part_notes(role: str, pattern: str, harmony: Harmony, inst, rng: np.random.Generator) -> list[BeatNote]:
    if role == "bass":
        return BASS_PATTERNS[pattern](harmony, inst, rng)
    if role == "pad":
        return pad_part(harmony, inst, rng)
    if role == "timpani":
        return timpani_part(harmony, inst, rng)
    if role == "lead":
        if pattern not in LEAD_RHYTHMS:
            raise KeyError(f"lead pattern {pattern!r} unknown; known: {sorted(LEAD_RHYTHMS)}")
        return lead_melody(harmony, inst, rng, rhythm_name=pattern)
    return CHORD_PATTERNS[pattern](harmony, inst, rng)
