"""Drum patterns: which drums a style plays where in a bar, and how a section role shapes each bar.

A role's feel (``_feel``: density, dynamics, crash, roll, fill, half time, ride)
is asked of every bar; a per-style writer (``_pop`` ... ``_latin``, looked up in
``_STYLES``) places kick, snare and cymbals on the meter's pulses and accent
groups; ``bar_hits`` adds rolls, fills and crashes and merges the result into
one bar's ``Hit`` list, and ``drum_pattern`` writes a section of them as MIDI.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pretty_midi

from composer.drum_synth import (
    CLAP, CLAVES, CLOSED_HAT, CRASH, KICK, OPEN_HAT, PEDAL_HAT, RIDE, SHAKER, SIDE_STICK, SNARE, TOM_FLOOR,
    TOM_HIGH, TOM_LOW, TOM_MID,
)
from composer.groove.grid import Meter, euclid_steps, meter, offbeat_at, pulse_at, pulse_grid, step_at
from composer.groove.names import role_family, style_family
from composer.timing import BarGrid


class Hit(NamedTuple):
    """One drum hit inside a bar."""

    # position from the bar start, in beats of the time signature's beat unit
    beat: float
    # General MIDI percussion key
    pitch: int
    # MIDI velocity 1-127
    velocity: int


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


def _hats(m: Meter, feel: _Feel, *, pitch: int = CLOSED_HAT, swing: float = 0.5, density: int = 1,
          accent: int = 90, soft: int = 62) -> list[Hit]:
    """Time-keeping cymbal: pulses only when sparse, the subdivision grid otherwise."""
    pitch = RIDE if feel.ride and pitch == CLOSED_HAT else pitch
    if feel.level <= 0:
        return []
    if feel.level == 1:
        return [Hit(pulse_at(m, p), pitch, soft + 8) for p in range(len(m.pulse_beats))]
    group_starts = set(m.group_starts)
    return [Hit(beat, pitch, accent + 8 if j == 0 and p in group_starts else accent if j == 0 else soft)
            for beat, p, j in pulse_grid(m, density=density, swing=swing)]


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
    steps = pulse_grid(m, density=feel.roll)
    roll = [Hit(beat, SNARE, round(50 + 65 * k / max(len(steps) - 1, 1))) for k, (beat, _, _) in enumerate(steps)]
    return [h for h in hits if h.pitch not in (SNARE, CLAP, SIDE_STICK)] + roll


def _with_fill(m: Meter, feel: _Feel, hits: list[Hit], *, soft: bool) -> list[Hit]:
    """A descending tom fill over the last accent group, or the last pulse in one-group meters."""
    fill_start = pulse_at(m, m.group_starts[-1] if len(m.groups) > 1 else len(m.pulse_beats) - 1)
    steps = [(beat, p, j) for beat, p, j in pulse_grid(m, density=1 if soft else 2) if beat >= fill_start]
    toms = (SNARE, TOM_HIGH, TOM_MID, TOM_LOW, TOM_FLOOR)
    fill = [Hit(beat, toms[min(k * len(toms) // len(steps), len(toms) - 1)], 62 if soft else 100 + 4 * (j == 0))
            for k, (beat, _, j) in enumerate(steps)]
    kept = [h for h in hits if h.beat < fill_start or h.pitch == KICK]
    return kept + fill


# --- styles: (meter, feel, bar in section) -> hits ------------------------------------------

def _pop(m: Meter, feel: _Feel, bar: int, *, hard: bool = False) -> list[Hit]:
    kick_vel, snare_vel = (120, 118) if hard else (108, 105)
    hits = [Hit(pulse_at(m, g), KICK, kick_vel) for g in (m.group_starts if feel.level >= 1 else (0,))]
    if feel.level >= 3:
        hits.append(Hit(offbeat_at(m, m.group_starts[-1]), KICK, kick_vel - 15))  # the "and" of 3
        if hard:
            hits.append(Hit(offbeat_at(m, 0), KICK, kick_vel - 20))
    if feel.level >= 2:
        hits += [Hit(pulse_at(m, p), SNARE, snare_vel) for p in _backbeat_pulses(m, feel)]
    elif feel.level == 1:
        hits += [Hit(pulse_at(m, p), SIDE_STICK, 70) for p in _backbeat_pulses(m, feel)]
    else:
        hits += [Hit(pulse_at(m, p), PEDAL_HAT, 50) for p in m.backbeats]
    hits += _hats(m, feel, accent=100 if hard else 88)
    if feel.level >= 3 and not feel.ride:  # open hat into the next bar
        last_step = pulse_grid(m)[-1][0]
        hits = [h for h in hits if not (h.beat == last_step and h.pitch == CLOSED_HAT)]
        hits.append(Hit(last_step, OPEN_HAT, 80))
    return hits


def _rock(m: Meter, feel: _Feel, bar: int) -> list[Hit]:
    return _pop(m, feel, bar, hard=True)


def _edm(m: Meter, feel: _Feel, bar: int) -> list[Hit]:
    pulses = range(len(m.pulse_beats))
    if feel.level <= 0:
        return [Hit(0.0, KICK, 90)] + [Hit(offbeat_at(m, p), OPEN_HAT, 45) for p in pulses]
    hits = [Hit(pulse_at(m, p), KICK, 115) for p in pulses]  # four on the floor
    hits += [Hit(offbeat_at(m, p), OPEN_HAT, 80) for p in pulses]
    if feel.level >= 2:
        hits += [Hit(pulse_at(m, p), pitch, 105) for p in _backbeat_pulses(m, feel) for pitch in (CLAP, SNARE)]
    if feel.level >= 3:
        offbeats = {round(offbeat_at(m, p), 6) for p in pulses}
        hits += [Hit(beat, CLOSED_HAT, 70 if j == 0 else 50) for beat, p, j in pulse_grid(m, density=2)
                 if round(beat, 6) not in offbeats]
    return hits


def _hiphop(m: Meter, feel: _Feel, bar: int) -> list[Hit]:
    swing = 0.6  # lazy, MPC-style swing
    hits = [Hit(pulse_at(m, g), KICK, 112) for g in (m.group_starts if feel.level >= 1 else (0,))]
    if feel.level >= 2:  # boom-bap: a pickup kick on the "and" before every new group
        hits += [Hit(offbeat_at(m, s + n - 1, swing=swing), KICK, 95)
                 for s, n in zip(m.group_starts[:-1], m.groups[:-1])]
        hits += [Hit(pulse_at(m, p), SNARE, 110) for p in _backbeat_pulses(m, feel)]
    if feel.level >= 3:
        hits.append(Hit(offbeat_at(m, m.group_starts[-1], swing=swing), KICK, 90))
    if feel.level == 1:
        hits += [Hit(pulse_at(m, p), SIDE_STICK, 75) for p in _backbeat_pulses(m, feel)]
    return hits + _hats(m, feel, swing=swing, accent=80, soft=55)


def _funk(m: Meter, feel: _Feel, bar: int) -> list[Hit]:
    hits = [Hit(pulse_at(m, g), KICK, 112) for g in (m.group_starts if feel.level >= 1 else (0,))]
    if feel.level >= 2:
        # sixteenth steps, not pulse fractions: 0.75 of a dotted quarter is a 32nd between the hats
        hits.append(Hit(step_at(m, 0, -1, density=2), KICK, 95))  # the "a" of 1
        hits.append(Hit(offbeat_at(m, m.group_starts[-1]), KICK, 100))
        for p in _backbeat_pulses(m, feel):
            hits.append(Hit(pulse_at(m, p), SNARE, 112))
            hits.append(Hit(step_at(m, p, -1, density=2), SNARE, 38))  # ghost notes around the backbeat
            if p + 1 < len(m.pulse_beats):
                hits.append(Hit(step_at(m, p + 1, 1, density=2), SNARE, 34))
    hits += _hats(m, feel, density=2 if feel.level >= 2 else 1, accent=85, soft=55)
    if feel.level >= 3:
        hits.append(Hit(offbeat_at(m, len(m.pulse_beats) - 1), OPEN_HAT, 85))
    return hits


def _jazz(m: Meter, feel: _Feel, bar: int) -> list[Hit]:
    swing = 2 / 3  # triplet swing: "ding, ding-da"
    pulses = range(len(m.pulse_beats))
    if feel.level <= 0:
        return [Hit(0.0, RIDE, 70)] + [Hit(pulse_at(m, p), PEDAL_HAT, 55) for p in m.backbeats]
    hits = [Hit(pulse_at(m, p), RIDE, 88 if p in m.backbeats else 78) for p in pulses]
    hits += [Hit(pulse_at(m, p), PEDAL_HAT, 65) for p in m.backbeats]
    if feel.level >= 2:
        hits += [Hit(offbeat_at(m, p, swing=swing), RIDE, 62) for p in m.backbeats]  # the skip note
        hits += [Hit(pulse_at(m, p), KICK, 42) for p in pulses]  # feathered bass drum
    if feel.level >= 3:  # comping on the snare, alternating bar to bar
        comp_pulse = min(1, len(m.pulse_beats) - 1) if bar % 2 == 0 else len(m.pulse_beats) - 1  # 1/4: pulse 0
        hits.append(Hit(offbeat_at(m, comp_pulse, swing=swing), SNARE, 60))
        hits.append(Hit(offbeat_at(m, m.group_starts[-1], swing=swing), KICK, 75))
    return hits


def _blues(m: Meter, feel: _Feel, bar: int) -> list[Hit]:
    swing = 2 / 3  # shuffle: long-short triplet pairs
    hits = [Hit(pulse_at(m, g), KICK, 110) for g in (m.group_starts if feel.level >= 1 else (0,))]
    if feel.level >= 3:
        hits += [Hit(pulse_at(m, p), KICK, 95) for p in range(len(m.pulse_beats))]
    if feel.level >= 2:
        hits += [Hit(pulse_at(m, p), SNARE, 105) for p in _backbeat_pulses(m, feel)]
    elif feel.level == 1:
        hits += [Hit(pulse_at(m, p), SIDE_STICK, 70) for p in _backbeat_pulses(m, feel)]
    if feel.level >= 2:  # shuffle on the first and last third of every pulse
        pitch = RIDE if feel.ride or feel.level >= 3 else CLOSED_HAT
        hits += [Hit(pulse_at(m, p), pitch, 92) for p in range(len(m.pulse_beats))]
        hits += [Hit(offbeat_at(m, p, swing=swing), pitch, 65) for p in range(len(m.pulse_beats))]
    else:
        hits += _hats(m, feel)
    return hits


def _ambient(m: Meter, feel: _Feel, bar: int) -> list[Hit]:
    # an even, soft pulse on every beat at every level, never half time: with kicks on 1 and 3 the
    # model's slow pads were tracked at half tempo (35 bpm in a 70-bpm song), and a downbeat kick
    # came back as a broadband thump on every bar line
    hits = [Hit(pulse_at(m, p), SHAKER, 45 if feel.level <= 0 else 65) for p in range(len(m.pulse_beats))]
    if feel.level >= 2:
        hits += [Hit(pulse_at(m, p), SIDE_STICK, 45) for p in m.backbeats]
    if feel.level >= 3:
        hits += [Hit(0.0, KICK, 50)]
        hits += [Hit(offbeat_at(m, p), SHAKER, 35) for p in range(len(m.pulse_beats))]
    return hits


def _reggae(m: Meter, feel: _Feel, bar: int) -> list[Hit]:
    drop = len(m.pulse_beats) // 2  # one drop: kick and rim together on beat 3, nothing on 1
    hits = [Hit(pulse_at(m, drop), SIDE_STICK if feel.level < 3 else SNARE, 100)]
    if feel.level >= 1:
        hits.append(Hit(pulse_at(m, drop), KICK, 110))
    if feel.level >= 2:
        hits += _hats(m, feel, swing=0.58, accent=60, soft=80)  # offbeats louder: the skank
    elif feel.level == 1:
        hits += [Hit(offbeat_at(m, p), CLOSED_HAT, 70) for p in range(len(m.pulse_beats))]
    if feel.level >= 3:
        hits.append(Hit(offbeat_at(m, len(m.pulse_beats) - 1, swing=0.58), OPEN_HAT, 75))
    return hits


def _latin(m: Meter, feel: _Feel, bar: int) -> list[Hit]:
    # bossa bass drum: dotted quarter + eighth per accent group
    hits = [Hit(pulse_at(m, g), KICK, 100) for g in (m.group_starts if feel.level >= 1 else (0,))]
    if feel.level >= 1:
        hits += [Hit(offbeat_at(m, s + n - 1), KICK, 78) for s, n in zip(m.group_starts, m.groups) if n > 1]
    if feel.level >= 2:  # a Euclidean clave on the rim, spread over two bars (5 in 16 = bossa clave)
        steps = pulse_grid(m)
        span = 2 * len(steps)
        onsets = euclid_steps(max(2, round(5 * span / 16)), span)
        hits += [Hit(steps[k - len(steps) * (bar % 2)][0], SIDE_STICK, 88) for k in onsets
                 if 0 <= k - len(steps) * (bar % 2) < len(steps)]
    hits += _hats(m, feel, pitch=SHAKER, density=2 if feel.level >= 3 else 1, accent=70, soft=48)
    if feel.level >= 3:
        hits += [Hit(pulse_at(m, p), CLAVES, 55) for p in m.backbeats]
    return hits


_STYLES = {
    "pop": _pop, "rock": _rock, "edm": _edm, "hiphop": _hiphop, "jazz": _jazz, "blues": _blues,
    "ambient": _ambient, "funk": _funk, "reggae": _reggae, "latin": _latin,
}
