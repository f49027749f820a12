"""Notes in beats, the swing/humanise pass, and conversion to pretty_midi."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pretty_midi


@dataclass(frozen=True)
class BeatNote:
    """A note placed on the musical grid, before swing and humanising."""

    # onset in beats from the start of the arrangement
    start_beat: float
    # length in beats
    duration_beats: float
    # MIDI note number
    pitch: int
    # MIDI velocity 1-127
    velocity: int


def swing_beat(beat: float, *, swing: float, unit_beats: float) -> float:
    """Delay off-beat subdivisions: ``swing`` 0 is straight, 1/6 is triplet swing.

    Each pair of ``unit_beats`` subdivisions is remapped piecewise linearly so the
    second one starts at (0.5 + swing) of the pair instead of halfway.
    """
    if swing == 0.0:
        return beat
    pair = 2.0 * unit_beats
    index = math.floor(beat / pair + 1e-9)
    frac = beat / pair - index
    if frac < 0.5:
        warped = frac * (0.5 + swing) / 0.5
    else:
        warped = 0.5 + swing + (frac - 0.5) * (0.5 - swing) / 0.5
    return (index + warped) * pair


def to_instrument(
    notes: list[BeatNote],
    *,
    program: int,
    is_drum: bool,
    name: str,
    bpm: float,
    swing: float,
    swing_unit_beats: float,
    timing_jitter_s: float,
    velocity_jitter: int,
    rng: np.random.Generator,
) -> pretty_midi.Instrument:
    """Swing, humanise and convert beat notes to a pretty_midi instrument.

    Same-pitch overlaps are cut so a note-off never silences a later note.
    """
    seconds_per_beat = 60.0 / bpm
    instrument = pretty_midi.Instrument(program=program, is_drum=is_drum, name=name)
    last_by_pitch: dict[int, pretty_midi.Note] = {}
    for note in sorted(notes, key=lambda n: (n.start_beat, n.pitch)):
        start_b = swing_beat(note.start_beat, swing=swing, unit_beats=swing_unit_beats)
        end_b = swing_beat(note.start_beat + note.duration_beats, swing=swing, unit_beats=swing_unit_beats)
        jitter = float(rng.uniform(-timing_jitter_s, timing_jitter_s))
        start_s = max(0.0, start_b * seconds_per_beat + jitter)
        end_s = max(start_s + 0.03, end_b * seconds_per_beat + jitter)
        velocity = int(np.clip(note.velocity + rng.integers(-velocity_jitter, velocity_jitter + 1), 1, 127))
        previous = last_by_pitch.get(note.pitch)
        if previous is not None and previous.end > start_s:
            if start_s - previous.start < 0.02:
                continue  # a double hit on one key: keep the first
            previous.end = start_s
        midi_note = pretty_midi.Note(velocity=velocity, pitch=note.pitch, start=start_s, end=end_s)
        instrument.notes.append(midi_note)
        last_by_pitch[note.pitch] = midi_note
    return instrument
