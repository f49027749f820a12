"""Drum grooves at the song's tempo: the img2img init audio that locks clips to the grid.

A bar is built from the meter's pulses (the felt beats: quarters in 4/4, dotted
quarters in 6/8, 2+2+3 eighths in 7/8) and accent groups of two or three pulses
(kick on a group's first pulse, backbeat on its last). Styles decide which drums
play where; roles decide density (intro sparse, chorus full, build rising...).
Every hit's sample is computed from the song start with ``BarGrid``, so a clip's
groove lines up with the song grid and overlapping clips agree sample for sample.

Tempo convention (as in ``composer.timing``): ``bpm`` counts the time signature's
beat unit, so 6/8 at 120 bpm is 120 eighth notes per minute.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pretty_midi

from composer.drum_synth import (
    CLAP, CLAVES, CLOSED_HAT, CRASH, KICK, MAX_VOICE_S, OPEN_HAT, PEDAL_HAT, RIDE, SHAKER, SIDE_STICK,
    SNARE, TOM_FLOOR, TOM_HIGH, TOM_LOW, TOM_MID, mix_hits, render_drums, render_hits,
)
from composer.timing import BarGrid

__all__ = [
    "Hit", "Meter", "bar_hits", "drum_pattern", "groove_audio", "meter", "render_drums", "role_family",
    "section_gain", "style_family",
]

STYLE_FAMILIES = ("pop", "rock", "edm", "hiphop", "jazz", "blues", "ambient", "funk", "reggae", "latin")
ROLE_FAMILIES = ("intro", "verse", "prechorus", "chorus", "bridge", "breakdown", "outro", "solo", "instrumental")
#: a section's plain groove is scaled to this RMS ...
TARGET_RMS_DBFS = -20.0
#: ... or to this peak, whichever is quieter (sparse grooves hit the peak first)
TARGET_PEAK = 0.8

# first matching keyword wins, so specific words come before generic ones
_STYLE_KEYWORDS = (
    ("ambient", ("ambient", "drone", "soundscape", "cinematic", "new age", "meditation")),
    ("hiphop", ("hip hop", "hiphop", "hip-hop", "lofi", "lo-fi", "lo fi", "boom bap", "rap", "trap")),
    ("edm", ("edm", "house", "techno", "trance", "disco", "dance", "electro", "club", "rave")),
    ("jazz", ("jazz", "swing", "bebop", "big band")),
    ("blues", ("blues", "shuffle", "boogie")),
    ("funk", ("funk", "soul", "r&b", "rnb")),
    ("reggae", ("reggae", "dub", "ska", "rocksteady")),
    ("latin", ("latin", "bossa", "samba", "salsa", "cumbia", "tango")),
    ("rock", ("rock", "metal", "punk", "grunge", "indie")),
    ("pop", ("pop",)),
)
_ROLE_ALIASES = {
    "pre-chorus": "prechorus", "pre_chorus": "prechorus", "pre chorus": "prechorus", "build": "prechorus",
    "buildup": "prechorus", "riser": "prechorus", "hook": "chorus", "refrain": "chorus", "drop": "chorus",
    "postchorus": "chorus", "post-chorus": "chorus", "break": "breakdown", "interlude": "instrumental",
    "coda": "outro", "ending": "outro", "head": "verse", "other": "verse",
}


class Hit(NamedTuple):
    """One drum hit inside a bar."""

    # position from the bar start, in beats of the time signature's beat unit
    beat: float
    # General MIDI percussion key
    pitch: int
    # MIDI velocity 1-127
    velocity: int


@dataclass(frozen=True)
class Meter:
    """How a time signature is felt."""

    # time-signature numerator
    beats_per_bar: int
    # time-signature denominator
    beat_unit: int
    # length of each felt pulse in beats (1 in 4/4; 3 in 6/8; 2, 2, 3 in 7/8)
    pulse_beats: tuple[int, ...]
    # pulses per accent group (2, 2 in 4/4; 3 in 3/4)
    groups: tuple[int, ...]

    @property
    def pulse_starts(self) -> tuple[int, ...]:
        return tuple(int(x) for x in np.cumsum((0,) + self.pulse_beats[:-1]))

    @property
    def group_starts(self) -> tuple[int, ...]:
        """Index of the first pulse of every group."""
        return tuple(int(x) for x in np.cumsum((0,) + self.groups[:-1]))

    @property
    def backbeats(self) -> tuple[int, ...]:
        """Index of the last pulse of every group that has more than one pulse."""
        return tuple(s + n - 1 for s, n in zip(self.group_starts, self.groups) if n > 1)


@dataclass(frozen=True)
class _Feel:
    """What a role asks of one bar."""

    # density: 0 very sparse, 1 sparse, 2 groove, 3 full
    level: int
    # velocity multiplier
    dynamics: float
    # crash cymbal on beat 1
    crash: bool = False
    # snare roll over the bar: 0 none, 1 on the subdivision grid, 2 twice as dense
    roll: int = 0
    # backbeat only once per bar
    half_time: bool = False
    # tom fill over the last accent group
    fill: bool = False
    # ride cymbal instead of hi-hats
    ride: bool = False


def meter(*, beats_per_bar: int, beat_unit: int) -> Meter:
    """Pulses and accent groups of a time signature."""
    if beats_per_bar < 1:
        raise ValueError(f"beats_per_bar must be >= 1, got {beats_per_bar}")
    if beat_unit >= 8 and beats_per_bar % 3 == 0 and beats_per_bar > 3:
        pulses = (3,) * (beats_per_bar // 3)  # compound: 6/8, 9/8, 12/8
    elif beat_unit >= 8 and beats_per_bar > 3:
        pulses = (2,) * (beats_per_bar // 2 - 1) + ((3,) if beats_per_bar % 2 else (2,))  # 5/8 = 2+3, 7/8 = 2+2+3
    else:
        pulses = (1,) * beats_per_bar
    return Meter(beats_per_bar, beat_unit, pulses, _pair_up(len(pulses)))


def style_family(style: str) -> str:
    """'Lo-fi hip hop' -> 'hiphop'; unknown styles -> 'pop'."""
    text = " " + re.sub(r"[_/,]+", " ", style.lower()) + " "
    for family, words in _STYLE_KEYWORDS:
        if any(re.search(rf"(?<![a-z]){re.escape(word)}(?![a-z])", text) for word in words):
            return family
    return "pop"


def role_family(role: str) -> str:
    """'Pre-Chorus' -> 'prechorus', 'drop' -> 'chorus'; unknown roles -> 'verse'."""
    key = re.sub(r"\s*\d+$", "", role.strip().lower())  # 'chorus 2' -> 'chorus'
    key = _ROLE_ALIASES.get(key, key)
    return key if key in ROLE_FAMILIES else "verse"


def bar_hits(*, style: str, role: str, beats_per_bar: int, beat_unit: int, bar_in_section: int,
             section_bars: int) -> tuple[Hit, ...]:
    """The hits of one bar, sorted by position.

    Bars outside ``[0, section_bars)`` (pre-roll and post-roll of a clip) get the
    section's plain groove, without crash, fill or roll.
    """
    m = meter(beats_per_bar=beats_per_bar, beat_unit=beat_unit)
    family = style_family(style)
    feel = _feel(role_family(role), bar=bar_in_section, bars=max(1, section_bars))
    hits = _STYLES[family](m, feel, bar_in_section)
    if feel.roll:
        hits = _with_roll(m, feel, hits)
    if feel.fill and family != "ambient":
        hits = _with_fill(m, feel, hits, soft=family in ("jazz", "reggae", "latin"))
    if feel.crash:
        hits = [h for h in hits if not (h.beat == 0 and h.pitch in (CLOSED_HAT, OPEN_HAT, RIDE))]
        if family in ("jazz", "ambient"):  # a gentle cymbal, no kick accent
            hits.append(Hit(0.0, CRASH, 75 if family == "jazz" else 45))
        else:
            hits += [Hit(0.0, CRASH, 100), Hit(0.0, KICK, 110)]
    merged: dict[tuple[float, int], int] = {}
    for h in hits:  # one hit per drum and position, the loudest wins
        key = (round(h.beat, 6), h.pitch)
        merged[key] = max(merged.get(key, 0), h.velocity)
    return tuple(sorted(
        (Hit(beat, pitch, int(np.clip(round(vel * feel.dynamics), 1, 127))) for (beat, pitch), vel in merged.items()),
        key=lambda h: (h.beat, h.pitch),
    ))


def drum_pattern(*, style: str, role: str, bpm: float, beats_per_bar: int, beat_unit: int,
                 bars: int) -> pretty_midi.PrettyMIDI:
    """A section of ``bars`` bars as a one-track GM drum MIDI (tempo and meter set)."""
    grid = BarGrid(bpm=bpm, beats_per_bar=beats_per_bar, beat_unit=beat_unit, sample_rate_hz=1)
    midi = pretty_midi.PrettyMIDI(initial_tempo=bpm * 4.0 / beat_unit, resolution=960)
    midi.time_signature_changes.append(pretty_midi.TimeSignature(beats_per_bar, beat_unit, 0.0))
    drums = pretty_midi.Instrument(program=0, is_drum=True, name=f"drums {style_family(style)} {role_family(role)}")
    for bar in range(bars):
        for hit in bar_hits(style=style, role=role, beats_per_bar=beats_per_bar, beat_unit=beat_unit,
                            bar_in_section=bar, section_bars=bars):
            start_s = (bar * beats_per_bar + hit.beat) * grid.beat_s
            drums.notes.append(pretty_midi.Note(hit.velocity, hit.pitch, start_s, start_s + 0.1))
    midi.instruments.append(drums)
    return midi


def groove_audio(*, style: str, role: str, bpm: float, beats_per_bar: int, beat_unit: int, start_bar: int,
                 bars: int, sample_rate_hz: int, num_samples: int, pre_roll_samples: int = 0,
                 section_start_bar: int | None = None, section_bars: int | None = None) -> np.ndarray:
    """The groove heard in song samples ``[clip_start - pre_roll, clip_start - pre_roll + num_samples)``.

    ``clip_start`` is the first sample of bar ``start_bar`` on the song grid
    (``BarGrid.bar_start_sample``); every hit sits at its bar's start plus its
    rounded offset, so the result depends only on the song position: a window
    of a longer groove equals the groove of that window. Nothing plays before
    bar 0. The section (crash on its first bar, fill or roll on its last) is
    ``[section_start_bar, section_start_bar + section_bars)``, by default the
    clip's own bars. Level: ``section_gain`` (the section's plain groove at RMS
    -20 dBFS or peak 0.8, whichever is quieter), then a pointwise soft limiter
    (peak <= 0.95); never normalised per clip, which would break the slicing.
    """
    if num_samples <= 0 or pre_roll_samples < 0 or bars < 1:
        raise ValueError(f"need num_samples > 0, pre_roll_samples >= 0, bars >= 1; got {num_samples}, "
                         f"{pre_roll_samples}, {bars}")
    grid = BarGrid(bpm=bpm, beats_per_bar=beats_per_bar, beat_unit=beat_unit, sample_rate_hz=sample_rate_hz)
    first_section_bar = start_bar if section_start_bar is None else section_start_bar
    section_length = bars if section_bars is None else section_bars
    window_start = grid.bar_start_sample(start_bar) - pre_roll_samples
    window_end = window_start + num_samples
    bar_samples = float(grid.samples_per_bar)
    # earliest bar whose longest tail still reaches the window, last bar that starts inside it
    first_bar = max(0, math.floor((window_start - MAX_VOICE_S * sample_rate_hz) / bar_samples) - 1)
    last_bar = math.ceil(window_end / bar_samples)
    onsets, pitches, velocities = [], [], []
    for bar in range(first_bar, last_bar + 1):
        bar_start = grid.bar_start_sample(bar)
        for hit in bar_hits(style=style, role=role, beats_per_bar=beats_per_bar, beat_unit=beat_unit,
                            bar_in_section=bar - first_section_bar, section_bars=section_length):
            onsets.append(bar_start + grid.beats_to_samples(hit.beat) - window_start)
            pitches.append(hit.pitch)
            velocities.append(hit.velocity)
    gain = section_gain(style=style, role=role, bpm=bpm, beats_per_bar=beats_per_bar, beat_unit=beat_unit,
                        sample_rate_hz=sample_rate_hz, section_bars=section_length)
    return render_hits(onsets_samples=np.array(onsets, dtype=np.int64), pitches=np.array(pitches, dtype=np.int64),
                       velocities=np.array(velocities, dtype=np.int64), sample_rate_hz=sample_rate_hz,
                       num_samples=num_samples, gain=gain)


@functools.lru_cache(maxsize=256)
def section_gain(*, style: str, role: str, bpm: float, beats_per_bar: int, beat_unit: int, sample_rate_hz: int,
                 section_bars: int) -> float:
    """Gain that brings two bars of the section's plain groove to ``TARGET_RMS_DBFS`` or ``TARGET_PEAK``.

    It depends on the section only, never on a clip's window, so every clip of a
    section gets the same gain and overlapping clips still agree sample for sample.
    """
    grid = BarGrid(bpm=bpm, beats_per_bar=beats_per_bar, beat_unit=beat_unit, sample_rate_hz=sample_rate_hz)
    onsets, pitches, velocities = [], [], []
    for bar in (0, 1):  # bars just before the section: no crash, fill or roll
        for hit in bar_hits(style=style, role=role, beats_per_bar=beats_per_bar, beat_unit=beat_unit,
                            bar_in_section=bar - 2, section_bars=section_bars):
            onsets.append(grid.bar_start_sample(bar) + grid.beats_to_samples(hit.beat))
            pitches.append(hit.pitch)
            velocities.append(hit.velocity)
    mix = mix_hits(onsets_samples=np.array(onsets), pitches=np.array(pitches), velocities=np.array(velocities),
                   sample_rate_hz=sample_rate_hz, num_samples=grid.bar_start_sample(2))
    rms, peak = float(np.sqrt(np.mean(mix ** 2))), float(np.max(np.abs(mix)))
    if peak == 0.0:
        return 1.0
    return min(10.0 ** (TARGET_RMS_DBFS / 20.0) / rms, TARGET_PEAK / peak)


# --- meter helpers ---------------------------------------------------------------------------

def _pair_up(count: int) -> tuple[int, ...]:
    """Pulses into accent groups: pairs, with a final three when the count is odd (5 = 2+3)."""
    if count <= 3:
        return (count,)
    return (2,) * (count // 2 - 1) + ((3,) if count % 2 else (2,))


def _subdivisions(pulse_len: int, *, density: int = 1) -> int:
    """Grid steps per pulse: eighths for a quarter pulse, the pulse's own eighths otherwise."""
    return (2 if pulse_len == 1 else pulse_len) * density


def _grid(m: Meter, *, density: int = 1, swing: float = 0.5) -> list[tuple[float, int, int]]:
    """Every grid step of the bar as (beat, pulse index, step in pulse); swing delays even-grid offbeats."""
    steps = []
    for p, (start, length) in enumerate(zip(m.pulse_starts, m.pulse_beats)):
        n = _subdivisions(length, density=density)
        for j in range(n):
            position = j / n
            if n % 2 == 0 and j % 2 == 1:  # swing: the offbeat of each pair moves to `swing` of the pair
                position = (j - 1 + 2 * swing) / n
            steps.append((start + length * position, p, j))
    return steps


def _at(m: Meter, pulse: int, fraction: float = 0.0) -> float:
    """Beat position of a fraction through a pulse."""
    return m.pulse_starts[pulse] + m.pulse_beats[pulse] * fraction


def _offbeat(m: Meter, pulse: int, *, swing: float = 0.5) -> float:
    """The 'and' of a pulse: halfway (swung) in simple pulses, the last third in compound ones."""
    return _at(m, pulse, swing if m.pulse_beats[pulse] != 3 else 2 / 3)


def _hats(m: Meter, feel: _Feel, *, pitch: int = CLOSED_HAT, swing: float = 0.5, density: int = 1,
          accent: int = 90, soft: int = 62) -> list[Hit]:
    """Time-keeping cymbal: pulses only when sparse, the subdivision grid otherwise."""
    pitch = RIDE if feel.ride and pitch == CLOSED_HAT else pitch
    if feel.level <= 0:
        return []
    if feel.level == 1:
        return [Hit(_at(m, p), pitch, soft + 8) for p in range(len(m.pulse_beats))]
    group_starts = set(m.group_starts)
    return [Hit(beat, pitch, accent + 8 if j == 0 and p in group_starts else accent if j == 0 else soft)
            for beat, p, j in _grid(m, density=density, swing=swing)]


def _backbeat_pulses(m: Meter, feel: _Feel) -> tuple[int, ...]:
    if feel.half_time and len(m.groups) > 1:
        return (m.group_starts[len(m.groups) // 2],)  # beat 3 of 4/4
    if feel.half_time:
        return m.backbeats[-1:]
    return m.backbeats


# --- roles ----------------------------------------------------------------------------------

def _feel(role: str, *, bar: int, bars: int) -> _Feel:
    inside = 0 <= bar < bars
    progress = min(max(bar, 0), bars - 1) / max(bars - 1, 1)  # 0 on the first bar, 1 on the last
    first, last = inside and bar == 0, inside and bar == bars - 1
    if role == "intro":
        return _Feel(level=1, dynamics=0.75, fill=last and bars >= 2)
    if role == "prechorus":  # rising: groove, then a snare roll that doubles on the last bar
        roll = 0 if not inside or progress < 0.5 else (2 if last else 1)
        return _Feel(level=2 if progress < 0.5 else 3, dynamics=0.75 + 0.25 * progress, roll=roll)
    if role == "chorus":
        return _Feel(level=3, dynamics=1.0, crash=first, fill=last and bars >= 4)
    if role == "bridge":
        return _Feel(level=2, dynamics=0.85, crash=first, half_time=True, ride=True, fill=last and bars >= 4)
    if role == "breakdown":
        return _Feel(level=0, dynamics=0.6)
    if role == "outro":  # thinning: groove, sparse, then almost nothing
        level = 2 if progress < 1 / 3 else 1 if progress < 2 / 3 else 0
        return _Feel(level=level, dynamics=0.9 - 0.3 * progress, crash=first)
    if role == "solo":
        return _Feel(level=3, dynamics=0.95, crash=first, ride=True, fill=last and bars >= 4)
    if role == "instrumental":
        return _Feel(level=3, dynamics=0.95, crash=first, fill=last and bars >= 4)
    return _Feel(level=2, dynamics=0.85, fill=last and bars >= 4)  # verse


def _with_roll(m: Meter, feel: _Feel, hits: list[Hit]) -> list[Hit]:
    """Replace the snare with a crescendo roll over the whole bar."""
    steps = _grid(m, density=feel.roll)
    roll = [Hit(beat, SNARE, round(50 + 65 * k / max(len(steps) - 1, 1))) for k, (beat, _, _) in enumerate(steps)]
    return [h for h in hits if h.pitch not in (SNARE, CLAP, SIDE_STICK)] + roll


def _with_fill(m: Meter, feel: _Feel, hits: list[Hit], *, soft: bool) -> list[Hit]:
    """A descending tom fill over the last accent group, or the last pulse in one-group meters."""
    fill_start = _at(m, m.group_starts[-1] if len(m.groups) > 1 else len(m.pulse_beats) - 1)
    steps = [(beat, p, j) for beat, p, j in _grid(m, density=1 if soft else 2) if beat >= fill_start]
    toms = (SNARE, TOM_HIGH, TOM_MID, TOM_LOW, TOM_FLOOR)
    fill = [Hit(beat, toms[min(k * len(toms) // len(steps), len(toms) - 1)], 62 if soft else 100 + 4 * (j == 0))
            for k, (beat, _, j) in enumerate(steps)]
    kept = [h for h in hits if h.beat < fill_start or h.pitch == KICK]
    return kept + fill


# --- styles: (meter, feel, bar in section) -> hits ------------------------------------------

def _pop(m: Meter, feel: _Feel, bar: int, *, hard: bool = False) -> list[Hit]:
    kick_vel, snare_vel = (120, 118) if hard else (108, 105)
    hits = [Hit(_at(m, g), KICK, kick_vel) for g in (m.group_starts if feel.level >= 1 else (0,))]
    if feel.level >= 3:
        hits.append(Hit(_offbeat(m, m.group_starts[-1]), KICK, kick_vel - 15))  # the "and" of 3
        if hard:
            hits.append(Hit(_offbeat(m, 0), KICK, kick_vel - 20))
    if feel.level >= 2:
        hits += [Hit(_at(m, p), SNARE, snare_vel) for p in _backbeat_pulses(m, feel)]
    elif feel.level == 1:
        hits += [Hit(_at(m, p), SIDE_STICK, 70) for p in _backbeat_pulses(m, feel)]
    else:
        hits += [Hit(_at(m, p), PEDAL_HAT, 50) for p in m.backbeats]
    hits += _hats(m, feel, accent=100 if hard else 88)
    if feel.level >= 3 and not feel.ride:  # open hat into the next bar
        last_step = _grid(m)[-1][0]
        hits = [h for h in hits if not (h.beat == last_step and h.pitch == CLOSED_HAT)]
        hits.append(Hit(last_step, OPEN_HAT, 80))
    return hits


def _rock(m: Meter, feel: _Feel, bar: int) -> list[Hit]:
    return _pop(m, feel, bar, hard=True)


def _edm(m: Meter, feel: _Feel, bar: int) -> list[Hit]:
    pulses = range(len(m.pulse_beats))
    if feel.level <= 0:
        return [Hit(0.0, KICK, 90)] + [Hit(_offbeat(m, p), OPEN_HAT, 45) for p in pulses]
    hits = [Hit(_at(m, p), KICK, 115) for p in pulses]  # four on the floor
    hits += [Hit(_offbeat(m, p), OPEN_HAT, 80) for p in pulses]
    if feel.level >= 2:
        hits += [Hit(_at(m, p), pitch, 105) for p in _backbeat_pulses(m, feel) for pitch in (CLAP, SNARE)]
    if feel.level >= 3:
        offbeats = {round(_offbeat(m, p), 6) for p in pulses}
        hits += [Hit(beat, CLOSED_HAT, 70 if j == 0 else 50) for beat, p, j in _grid(m, density=2)
                 if round(beat, 6) not in offbeats]
    return hits


def _hiphop(m: Meter, feel: _Feel, bar: int) -> list[Hit]:
    swing = 0.6  # lazy, MPC-style swing
    hits = [Hit(_at(m, g), KICK, 112) for g in (m.group_starts if feel.level >= 1 else (0,))]
    if feel.level >= 2:  # boom-bap: a pickup kick on the "and" before every new group
        hits += [Hit(_offbeat(m, s + n - 1, swing=swing), KICK, 95)
                 for s, n in zip(m.group_starts[:-1], m.groups[:-1])]
        hits += [Hit(_at(m, p), SNARE, 110) for p in _backbeat_pulses(m, feel)]
    if feel.level >= 3:
        hits.append(Hit(_offbeat(m, m.group_starts[-1], swing=swing), KICK, 90))
    if feel.level == 1:
        hits += [Hit(_at(m, p), SIDE_STICK, 75) for p in _backbeat_pulses(m, feel)]
    return hits + _hats(m, feel, swing=swing, accent=80, soft=55)


def _funk(m: Meter, feel: _Feel, bar: int) -> list[Hit]:
    hits = [Hit(_at(m, g), KICK, 112) for g in (m.group_starts if feel.level >= 1 else (0,))]
    if feel.level >= 2:
        hits.append(Hit(_at(m, 0, 0.75), KICK, 95))  # the "a" of 1
        hits.append(Hit(_offbeat(m, m.group_starts[-1]), KICK, 100))
        for p in _backbeat_pulses(m, feel):
            hits.append(Hit(_at(m, p), SNARE, 112))
            hits.append(Hit(_at(m, p, 0.75), SNARE, 38))  # ghost notes around the backbeat
            if p + 1 < len(m.pulse_beats):
                hits.append(Hit(_at(m, p + 1, 0.25), SNARE, 34))
    hits += _hats(m, feel, density=2 if feel.level >= 2 else 1, accent=85, soft=55)
    if feel.level >= 3:
        hits.append(Hit(_offbeat(m, len(m.pulse_beats) - 1), OPEN_HAT, 85))
    return hits


def _jazz(m: Meter, feel: _Feel, bar: int) -> list[Hit]:
    swing = 2 / 3  # triplet swing: "ding, ding-da"
    pulses = range(len(m.pulse_beats))
    if feel.level <= 0:
        return [Hit(0.0, RIDE, 70)] + [Hit(_at(m, p), PEDAL_HAT, 55) for p in m.backbeats]
    hits = [Hit(_at(m, p), RIDE, 88 if p in m.backbeats else 78) for p in pulses]
    hits += [Hit(_at(m, p), PEDAL_HAT, 65) for p in m.backbeats]
    if feel.level >= 2:
        hits += [Hit(_offbeat(m, p, swing=swing), RIDE, 62) for p in m.backbeats]  # the skip note
        hits += [Hit(_at(m, p), KICK, 42) for p in pulses]  # feathered bass drum
    if feel.level >= 3:  # comping on the snare, alternating bar to bar
        comp_pulse = 1 if bar % 2 == 0 else len(m.pulse_beats) - 1
        hits.append(Hit(_offbeat(m, comp_pulse, swing=swing), SNARE, 60))
        hits.append(Hit(_offbeat(m, m.group_starts[-1], swing=swing), KICK, 75))
    return hits


def _blues(m: Meter, feel: _Feel, bar: int) -> list[Hit]:
    swing = 2 / 3  # shuffle: long-short triplet pairs
    hits = [Hit(_at(m, g), KICK, 110) for g in (m.group_starts if feel.level >= 1 else (0,))]
    if feel.level >= 3:
        hits += [Hit(_at(m, p), KICK, 95) for p in range(len(m.pulse_beats))]
    if feel.level >= 2:
        hits += [Hit(_at(m, p), SNARE, 105) for p in _backbeat_pulses(m, feel)]
    elif feel.level == 1:
        hits += [Hit(_at(m, p), SIDE_STICK, 70) for p in _backbeat_pulses(m, feel)]
    if feel.level >= 2:  # shuffle on the first and last third of every pulse
        pitch = RIDE if feel.ride or feel.level >= 3 else CLOSED_HAT
        hits += [Hit(_at(m, p), pitch, 92) for p in range(len(m.pulse_beats))]
        hits += [Hit(_offbeat(m, p, swing=swing), pitch, 65) for p in range(len(m.pulse_beats))]
    else:
        hits += _hats(m, feel)
    return hits


def _ambient(m: Meter, feel: _Feel, bar: int) -> list[Hit]:
    # an even, soft pulse on every beat at every level, never half time: with kicks on 1 and 3 the
    # model's slow pads were tracked at half tempo (35 bpm in a 70-bpm song), and a downbeat kick
    # came back as a broadband thump on every bar line
    hits = [Hit(_at(m, p), SHAKER, 45 if feel.level <= 0 else 65) for p in range(len(m.pulse_beats))]
    if feel.level >= 2:
        hits += [Hit(_at(m, p), SIDE_STICK, 45) for p in m.backbeats]
    if feel.level >= 3:
        hits += [Hit(0.0, KICK, 50)]
        hits += [Hit(_offbeat(m, p), SHAKER, 35) for p in range(len(m.pulse_beats))]
    return hits


def _reggae(m: Meter, feel: _Feel, bar: int) -> list[Hit]:
    drop = len(m.pulse_beats) // 2  # one drop: kick and rim together on beat 3, nothing on 1
    hits = [Hit(_at(m, drop), SIDE_STICK if feel.level < 3 else SNARE, 100)]
    if feel.level >= 1:
        hits.append(Hit(_at(m, drop), KICK, 110))
    if feel.level >= 2:
        hits += _hats(m, feel, swing=0.58, accent=60, soft=80)  # offbeats louder: the skank
    elif feel.level == 1:
        hits += [Hit(_offbeat(m, p), CLOSED_HAT, 70) for p in range(len(m.pulse_beats))]
    if feel.level >= 3:
        hits.append(Hit(_offbeat(m, len(m.pulse_beats) - 1, swing=0.58), OPEN_HAT, 75))
    return hits


def _latin(m: Meter, feel: _Feel, bar: int) -> list[Hit]:
    # bossa bass drum: dotted quarter + eighth per accent group
    hits = [Hit(_at(m, g), KICK, 100) for g in (m.group_starts if feel.level >= 1 else (0,))]
    if feel.level >= 1:
        hits += [Hit(_offbeat(m, s + n - 1), KICK, 78) for s, n in zip(m.group_starts, m.groups) if n > 1]
    if feel.level >= 2:  # a Euclidean clave on the rim, spread over two bars (5 in 16 = bossa clave)
        steps = _grid(m)
        span = 2 * len(steps)
        onsets = _euclid(max(2, round(5 * span / 16)), span)
        hits += [Hit(steps[k - len(steps) * (bar % 2)][0], SIDE_STICK, 88) for k in onsets
                 if 0 <= k - len(steps) * (bar % 2) < len(steps)]
    hits += _hats(m, feel, pitch=SHAKER, density=2 if feel.level >= 3 else 1, accent=70, soft=48)
    if feel.level >= 3:
        hits += [Hit(_at(m, p), CLAVES, 55) for p in m.backbeats]
    return hits


def _euclid(pulses: int, steps: int) -> list[int]:
    """Evenly spread onsets, rotated so the long gap falls mid-pattern (5 in 16 -> 0 3 6 10 13)."""
    base = [math.floor(i * steps / pulses) for i in range(pulses)]
    shift = base[pulses // 2]
    return sorted((b - shift) % steps for b in base)


_STYLES = {
    "pop": _pop, "rock": _rock, "edm": _edm, "hiphop": _hiphop, "jazz": _jazz, "blues": _blues,
    "ambient": _ambient, "funk": _funk, "reggae": _reggae, "latin": _latin,
}
