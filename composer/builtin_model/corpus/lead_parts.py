"""Lead melodies: the ``LEAD_RHYTHMS`` note-placement styles and ``lead_melody``.

A lead repeats a one- or two-bar motif of scale steps, pulled to chord tones
on strong beats and varied every fourth motif (the "sequence" style cycles
chord tones instead); the rhythm style (legato, riff, syncopated, swing,
sparse, sequence) sets the grid, onset probabilities and articulation. Like
the other parts it is a pure function of (harmony, instrument range, rng) that
returns ``BeatNote``s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import harmony as hm
from .harmony_grid import Harmony, strength
from .instruments import Instrument
from .notes import BeatNote


@dataclass(frozen=True)
class LeadRhythm:
    """How a lead style places notes."""

    # grid step in beats
    step_beats: float
    # onset probability at (downbeat, beat, eighth off-beat, 16th) positions
    onset_probability: tuple[float, float, float, float]
    # sounding fraction of the gap to the next onset
    articulation: float
    # bars in the repeated motif
    motif_bars: int


LEAD_RHYTHMS: dict[str, LeadRhythm] = {
    "legato": LeadRhythm(0.5, (0.95, 0.6, 0.3, 0.0), 0.95, 2),
    "riff": LeadRhythm(0.25, (0.95, 0.6, 0.55, 0.3), 0.6, 1),
    "syncopated": LeadRhythm(0.25, (0.7, 0.35, 0.6, 0.45), 0.7, 1),
    "swing": LeadRhythm(0.5, (0.6, 0.6, 0.65, 0.0), 0.85, 2),
    "sparse": LeadRhythm(1.0, (0.95, 0.4, 0.0, 0.0), 1.8, 2),
    "sequence": LeadRhythm(0.25, (1.0, 0.9, 0.85, 0.75), 0.5, 1),
}


def _lead_onsets(h: Harmony, rhythm: LeadRhythm, rng: np.random.Generator) -> list[float]:
    """Onsets (beats inside the motif) drawn from the rhythm's position probabilities."""
    motif_beats = rhythm.motif_bars * h.beats_per_bar
    onsets = []
    for pos in np.arange(0.0, motif_beats - 1e-9, rhythm.step_beats):
        if rng.random() < rhythm.onset_probability[strength(pos % h.beats_per_bar)]:
            onsets.append(float(pos))
    if len(onsets) < 2:
        onsets = [0.0, float(h.beats_per_bar) / 2]
    return onsets


def lead_melody(h: Harmony, inst: Instrument, rng: np.random.Generator, *, rhythm_name: str) -> list[BeatNote]:
    """A motif-based melody: scale-step contour, chord tones on strong beats, varied every 4th bar."""
    rhythm = LEAD_RHYTHMS[rhythm_name]
    centre = (inst.low_note + inst.high_note) // 2
    low, high = max(inst.low_note, centre - 10), min(inst.high_note, centre + 12)
    scale = hm.scale_pitches(tonic_pc=h.tonic_pc, scale=h.scale, low_note=low, high_note=high)
    motif_beats = rhythm.motif_bars * h.beats_per_bar
    onsets = _lead_onsets(h, rhythm, rng)
    steps = rng.choice([-2, -1, -1, 0, 1, 1, 2, 3, -3], size=len(onsets))
    variation = _lead_onsets(h, rhythm, rng)
    variation_steps = rng.choice([-2, -1, 1, 2, -3, 3], size=len(variation))
    pitch = hm.nearest_pitch(centre, scale)
    notes = []
    n_motifs = math.ceil(h.total_beats / motif_beats)
    for m in range(n_motifs):
        base = m * motif_beats
        is_variation = m % 4 == 3 and rhythm_name != "sequence"
        these_onsets, these_steps = (variation, variation_steps) if is_variation else (onsets, steps)
        for k, pos in enumerate(these_onsets):
            beat = base + pos
            if beat >= h.total_beats - 1e-9:
                break
            chord = h.chord_at(beat)
            if rhythm_name == "sequence":
                tones = hm.chord_pitches_in_range(chord, low_note=low, high_note=high)
                pitch = tones[(k * int(1 + abs(these_steps[0]))) % len(tones)]
            else:
                index = scale.index(hm.nearest_pitch(pitch, scale)) + int(these_steps[k])
                if index < 2 or index > len(scale) - 3:
                    index -= 2 * int(these_steps[k])
                pitch = scale[int(np.clip(index, 0, len(scale) - 1))]
                if strength(pos % h.beats_per_bar) <= 1:
                    pitch = hm.nearest_pitch(pitch, hm.chord_pitches_in_range(chord, low_note=low, high_note=high))
            gap = (these_onsets[k + 1] if k + 1 < len(these_onsets) else motif_beats) - pos
            length = min(gap * rhythm.articulation, h.total_beats - beat)
            velocity = 100 if strength(pos % h.beats_per_bar) == 0 else 88
            notes.append(BeatNote(float(beat), float(length), int(pitch), velocity))
    return notes
