"""Meter and grid primitives: how a time signature is felt and where its steps fall in a bar.

``meter`` turns a time signature into felt pulses (quarters in 4/4, dotted
quarters in 6/8, 2+2+3 eighths in 7/8) and accent groups of two or three
pulses; the helpers give beat positions inside a bar (pulse starts,
swung offbeats, the subdivision grid, Euclidean spreads) for the pattern
writers in ``composer.groove.patterns``. Positions are in beats of the time
signature's beat unit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


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
    def compound(self) -> bool:
        """Felt in dotted pulses of three beat units (6/8, 9/8, 12/8)."""
        return set(self.pulse_beats) == {3}

    @property
    def group_starts(self) -> tuple[int, ...]:
        """Index of the first pulse of every group."""
        return tuple(int(x) for x in np.cumsum((0,) + self.groups[:-1]))

    @property
    def backbeats(self) -> tuple[int, ...]:
        """Index of the last pulse of every group that has more than one pulse."""
        return tuple(s + n - 1 for s, n in zip(self.group_starts, self.groups) if n > 1)


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


# --- meter helpers ---------------------------------------------------------------------------

def _pair_up(count: int) -> tuple[int, ...]:
    """Pulses into accent groups: pairs, with a final three when the count is odd (5 = 2+3)."""
    if count <= 3:
        return (count,)
    return (2,) * (count // 2 - 1) + ((3,) if count % 2 else (2,))


def _subdivisions(pulse_len: int, *, density: int = 1) -> int:
    """Grid steps per pulse: eighths for a quarter pulse, the pulse's own eighths otherwise."""
    return (2 if pulse_len == 1 else pulse_len) * density


def pulse_grid(m: Meter, *, density: int = 1, swing: float = 0.5) -> list[tuple[float, int, int]]:
    """Every grid step of the bar as (beat, pulse index, step in pulse); swing delays offbeats inside a beat unit."""
    steps = []
    for p, (start, length) in enumerate(zip(m.pulse_starts, m.pulse_beats)):
        n = _subdivisions(length, density=density)
        for j in range(n):
            position = j / n
            # swing: the offbeat of each pair moves to `swing` of the pair, only where a pair lies inside one
            # beat unit (eighths of a quarter pulse, sixteenths of an eighth); the eighths of a 2-eighth
            # pulse are beat units and stay straight like those of a 3-eighth one
            if n % 2 == 0 and j % 2 == 1 and n > length:
                position = (j - 1 + 2 * swing) / n
            steps.append((start + length * position, p, j))
    return steps


def pulse_at(m: Meter, pulse: int, fraction: float = 0.0) -> float:
    """Beat position of a fraction through a pulse."""
    return m.pulse_starts[pulse] + m.pulse_beats[pulse] * fraction


def offbeat_at(m: Meter, pulse: int, *, swing: float = 0.5) -> float:
    """The 'and' of a pulse: halfway (swung) in a quarter pulse, its last beat unit in a 2- or 3-eighth one.

    Swing never moves a beat unit, so an eighth-note pulse's 'and' is straight.
    """
    length = m.pulse_beats[pulse]
    return pulse_at(m, pulse, swing) if length == 1 else float(m.pulse_starts[pulse] + length - 1)


def step_at(m: Meter, pulse: int, step: int, *, density: int = 1) -> float:
    """Beat position of a pulse's straight grid step (negative counts back from the pulse's end).

    Fractions of a pulse fall off the grid of 3-eighth pulses (0.75 of one is a 32nd), grid steps do not.
    """
    return [beat for beat, p, _ in pulse_grid(m, density=density) if p == pulse][step]


def euclid_steps(pulses: int, steps: int) -> list[int]:
    """Evenly spread onsets, rotated so the long gap falls mid-pattern (5 in 16 -> 0 3 6 10 13)."""
    base = [math.floor(i * steps / pulses) for i in range(pulses)]
    shift = base[pulses // 2]
    return sorted((b - shift) % steps for b in base)
