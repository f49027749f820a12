"""The chord timeline every pitched part follows, and the beat-grid helpers they share.

``Harmony`` is the arrangement's chord spans plus meter, key and melody scale;
``bar_starts``, ``grid`` and ``strength`` step through it in bars or fixed
subdivisions and rank a position's metric weight. ``PartFn`` is the signature
every generator in ``bass_parts``, ``chord_parts`` and ``lead_parts`` shares:
a pure function of (harmony, instrument range, rng) returning ``BeatNote``s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from . import harmony as hm
from .notes import BeatNote


@dataclass(frozen=True)
class Harmony:
    """The chord timeline every part of an arrangement follows."""

    # (start_beat, end_beat, chord) spans covering the arrangement in order
    spans: tuple[tuple[float, float, hm.Chord], ...]
    # beats per bar (4 or 3)
    beats_per_bar: int
    # number of bars
    n_bars: int
    # key tonic pitch class
    tonic_pc: int
    # "major" or "minor": the key's diatonic scale (walking lines use it)
    mode: str
    # scale the melody draws from
    scale: str

    @property
    def total_beats(self) -> float:
        return float(self.n_bars * self.beats_per_bar)

    def chord_at(self, beat: float) -> hm.Chord:
        """Chord sounding at ``beat``."""
        for start, end, chord in self.spans:
            if start <= beat + 1e-9 < end:
                return chord
        return self.spans[-1][2]

    def next_chord(self, beat: float) -> hm.Chord:
        """Chord after the one sounding at ``beat`` (wraps to the first)."""
        for i, (start, end, _) in enumerate(self.spans):
            if start <= beat + 1e-9 < end:
                return self.spans[(i + 1) % len(self.spans)][2]
        return self.spans[0][2]

    def beats_to_change(self, beat: float) -> float:
        """Beats from ``beat`` to the next chord change."""
        for start, end, _ in self.spans:
            if start <= beat + 1e-9 < end:
                return end - beat
        return self.total_beats - beat


PartFn = Callable[..., list[BeatNote]]


def bar_starts(h: Harmony) -> range:
    return range(0, h.n_bars * h.beats_per_bar, h.beats_per_bar)


def grid(h: Harmony, step_beats: float) -> np.ndarray:
    return np.arange(0.0, h.total_beats - 1e-9, step_beats)


def strength(position_in_bar: float) -> int:
    """0 downbeat, 1 other beat, 2 eighth off-beat, 3 sixteenth."""
    if abs(position_in_bar) < 1e-6:
        return 0
    if abs(position_in_bar - round(position_in_bar)) < 1e-6:
        return 1
    if abs(position_in_bar * 2 - round(position_in_bar * 2)) < 1e-6:
        return 2
    return 3
