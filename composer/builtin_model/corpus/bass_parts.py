"""Bass-line generators and the ``BASS_PATTERNS`` table that names them.

Each pattern (driving roots, walking, boogie, bossa, house off-beats, reggae,
syncopated 16th motifs, ...) is a pure function of (harmony, instrument range,
rng) that returns ``BeatNote``s built on the chord roots in the instrument's
low register; the pattern names are the ones ``styles.py`` refers to.
"""

from __future__ import annotations

import numpy as np

from . import harmony as hm
from .harmony_grid import Harmony, PartFn, bar_starts, grid, strength
from .instruments import Instrument
from .notes import BeatNote


def _bass_range(inst: Instrument) -> tuple[int, int]:
    return max(inst.low_note, 28), min(inst.high_note, inst.low_note + 20)


def _root(h: Harmony, inst: Instrument, beat: float, *, near: float | None = None) -> int:
    low, high = _bass_range(inst)
    return hm.bass_note(h.chord_at(beat).root_pc, low_note=low, high_note=high, near=near)


def bass_roots(h: Harmony, inst: Instrument, rng: np.random.Generator, *, step_beats: float) -> list[BeatNote]:
    """Driving root notes (8ths or 16ths) with octave pops and approach notes."""
    notes = []
    low, high = _bass_range(inst)
    octave_every = int(rng.choice([0, 4, 8]))
    for i, beat in enumerate(grid(h, step_beats)):
        root = _root(h, inst, beat)
        pitch = root
        if octave_every and i % octave_every == octave_every - 1:
            pitch = root + 12
        if h.beats_to_change(beat) <= step_beats + 1e-9 and rng.random() < 0.5:
            nxt = hm.bass_note(h.next_chord(beat).root_pc, low_note=low, high_note=high)
            pitch = nxt + (1 if rng.random() < 0.5 else -1) if abs(nxt - root) > 2 else nxt + 7
        accent = 100 if strength(beat % h.beats_per_bar) <= 1 else 84
        notes.append(BeatNote(beat, step_beats * 0.85, pitch, accent))
    return notes


def bass_walking(h: Harmony, inst: Instrument, rng: np.random.Generator) -> list[BeatNote]:
    """Quarter-note walking line: root on the change, chord/scale tones, chromatic approach."""
    notes = []
    low, high = _bass_range(inst)
    pitch = hm.bass_note(h.spans[0][2].root_pc, low_note=low, high_note=high, near=low + 7)
    scale = hm.scale_pitches(tonic_pc=h.tonic_pc, scale=h.mode, low_note=low, high_note=high + 5)
    for beat in grid(h, 1.0):
        chord = h.chord_at(beat)
        to_change = h.beats_to_change(beat)
        on_change = any(abs(beat - start) < 1e-9 for start, _, _ in h.spans)
        if on_change:
            pitch = hm.bass_note(chord.root_pc, low_note=low, high_note=high, near=pitch)
        elif to_change <= 1.0 + 1e-9:
            target = hm.bass_note(h.next_chord(beat).root_pc, low_note=low, high_note=high, near=pitch)
            pitch = target + (1 if rng.random() < 0.5 else -1)
        else:
            tones = hm.chord_pitches_in_range(chord, low_note=low, high_note=high + 5) + scale
            step_options = [p for p in tones if 1 <= abs(p - pitch) <= 5]
            pitch = int(rng.choice(step_options)) if step_options else pitch
        notes.append(BeatNote(float(beat), 0.9, int(pitch), 92 if beat % h.beats_per_bar == 0 else 80))
    return notes


def bass_boogie(h: Harmony, inst: Instrument, rng: np.random.Generator) -> list[BeatNote]:
    """Blues boogie: root-third-fifth-sixth-seventh walk in eighths."""
    notes = []
    for beat in grid(h, 0.5):
        chord = h.chord_at(beat)
        third = 3 if 3 in chord.intervals else 4
        figure = (0, third, 7, 9, 10, 9, 7, third)
        root = _root(h, inst, beat)
        step = int(round((beat % h.beats_per_bar) * 2)) % len(figure)
        notes.append(BeatNote(float(beat), 0.45, root + figure[step], 96 if step % 2 == 0 else 80))
    return notes


def bass_root_fifth(h: Harmony, inst: Instrument, rng: np.random.Generator) -> list[BeatNote]:
    """Root on the downbeat, fifth on the middle beat (two-feel / waltz bass)."""
    notes = []
    low, high = _bass_range(inst)
    second_beat = 2.0  # beat 3 in both 4/4 and 3/4
    for bar_start in bar_starts(h):
        chord = h.chord_at(bar_start)
        root = _root(h, inst, bar_start)
        fifth = hm.bass_note(chord.fifth_pc, low_note=low, high_note=high + 7, near=root + 5)
        notes.append(BeatNote(float(bar_start), second_beat * 0.95, root, 96))
        mid_chord = h.chord_at(bar_start + second_beat)
        mid = fifth if mid_chord == chord else _root(h, inst, bar_start + second_beat)
        notes.append(BeatNote(float(bar_start + second_beat), (h.beats_per_bar - second_beat) * 0.95, mid, 84))
    return notes


def bass_bossa(h: Harmony, inst: Instrument, rng: np.random.Generator) -> list[BeatNote]:
    """Bossa bass: root (dotted quarter), fifth, fifth, root pickup."""
    notes = []
    low, high = _bass_range(inst)
    for bar_start in bar_starts(h):
        for offset, length, degree in ((0.0, 1.4, "root"), (1.5, 0.45, "fifth"), (2.0, 1.4, "fifth"), (3.5, 0.45, "root")):
            beat = bar_start + offset
            chord = h.chord_at(beat)
            root = _root(h, inst, beat)
            pitch = root if degree == "root" else hm.bass_note(chord.fifth_pc, low_note=low, high_note=high + 7, near=root + 4)
            notes.append(BeatNote(float(beat), length, pitch, 90 if offset in (0.0, 2.0) else 72))
    return notes


def bass_offbeat(h: Harmony, inst: Instrument, rng: np.random.Generator) -> list[BeatNote]:
    """House bass on every off-beat eighth, sometimes the octave."""
    notes = []
    for beat in grid(h, 1.0):
        root = _root(h, inst, beat + 0.5)
        pitch = root + 12 if rng.random() < 0.2 else root
        notes.append(BeatNote(float(beat + 0.5), 0.4, pitch, 100))
    return notes


def bass_rolling16(h: Harmony, inst: Instrument, rng: np.random.Generator) -> list[BeatNote]:
    """Techno rolling bass: the three sixteenths after each kick."""
    notes = []
    accents = rng.integers(0, 2, size=3)
    for beat in grid(h, 1.0):
        root = _root(h, inst, beat)
        for k in range(1, 4):
            pitch = root + (12 if accents[k - 1] and k == 3 else 0)
            notes.append(BeatNote(float(beat + k * 0.25), 0.2, pitch, 104 if k == 2 else 86))
    return notes


def bass_sustained(h: Harmony, inst: Instrument, rng: np.random.Generator) -> list[BeatNote]:
    """Long root notes, one per chord (re-struck each bar when the chord is long)."""
    notes = []
    for start, end, chord in h.spans:
        beat = start
        while beat < end - 1e-9:
            length = min(end - beat, float(h.beats_per_bar) * 2)
            notes.append(BeatNote(beat, length * 0.97, _root(h, inst, beat), 84))
            beat += length
    return notes


def bass_octaves8(h: Harmony, inst: Instrument, rng: np.random.Generator) -> list[BeatNote]:
    """Disco octave bass: low root on the beat, high root on the off-beat."""
    notes = []
    for i, beat in enumerate(grid(h, 0.5)):
        root = _root(h, inst, beat)
        notes.append(BeatNote(float(beat), 0.4, root + (12 if i % 2 else 0), 96 if i % 2 == 0 else 88))
    return notes


def bass_pulse8(h: Harmony, inst: Instrument, rng: np.random.Generator) -> list[BeatNote]:
    """Synthwave straight eighth-note root pulse."""
    return [
        BeatNote(float(beat), 0.42, _root(h, inst, beat), 100 if i % 2 == 0 else 82)
        for i, beat in enumerate(grid(h, 0.5))
    ]


def _one_bar_motif(
    rng: np.random.Generator, *, steps: int, candidates: list[int], n_extra: int
) -> list[int]:
    """Sorted 16th-step onsets: step 0 plus ``n_extra`` drawn from ``candidates``."""
    extra = rng.choice(candidates, size=min(n_extra, len(candidates)), replace=False)
    return sorted({0, *[int(s) for s in extra if s < steps]})


def bass_syncopated(h: Harmony, inst: Instrument, rng: np.random.Generator) -> list[BeatNote]:
    """A one-bar syncopated 16th motif (funk, afrobeat, house, lofi) following the roots."""
    steps = h.beats_per_bar * 4
    onsets = _one_bar_motif(rng, steps=steps, candidates=[3, 6, 7, 8, 10, 11, 13, 14, 15], n_extra=int(rng.integers(3, 7)))
    degrees = [0] + [int(rng.choice([0, 0, 12, 7, 10, 5])) for _ in onsets[1:]]
    staccato = float(rng.uniform(0.45, 0.85))
    low, high = _bass_range(inst)
    notes = []
    for bar_start in bar_starts(h):
        for k, step in enumerate(onsets):
            beat = bar_start + step / 4
            nxt = onsets[k + 1] if k + 1 < len(onsets) else steps
            chord = h.chord_at(beat)
            root = _root(h, inst, beat)
            degree = degrees[k]
            if degree == 10 and 10 not in chord.intervals:
                degree = 7
            if degree == 5 and h.beats_to_change(beat) > 0.5:
                degree = 0
            pitch = root + degree if degree != 7 else hm.bass_note(chord.fifth_pc, low_note=low, high_note=high + 7, near=root + 7)
            notes.append(BeatNote(float(beat), (nxt - step) / 4 * staccato, pitch, 104 if step % 4 == 0 else 88))
    return notes


def bass_reggae(h: Harmony, inst: Instrument, rng: np.random.Generator) -> list[BeatNote]:
    """Reggae bass: a melodic root-third-fifth figure that leaves a hole on beat one."""
    low, high = _bass_range(inst)
    figures = ([1.0, 1.5, 2.5, 3.0], [0.5, 1.0, 2.0, 2.75, 3.0], [1.0, 1.75, 2.0, 3.0, 3.5])
    positions = figures[int(rng.integers(len(figures)))]
    degrees = [0] + [int(rng.choice([0, 7, 12, 3, 4])) for _ in positions[1:]]
    notes = []
    for bar_start in bar_starts(h):
        for k, pos in enumerate(positions):
            beat = bar_start + pos
            chord = h.chord_at(beat)
            root = _root(h, inst, beat)
            degree = degrees[k]
            if degree in (3, 4):
                degree = next(i for i in chord.intervals if i in (3, 4, 2, 5))
            nxt = positions[k + 1] if k + 1 < len(positions) else h.beats_per_bar
            notes.append(BeatNote(float(beat), (nxt - pos) * 0.9, root + degree if degree != 7 else hm.bass_note(chord.fifth_pc, low_note=low, high_note=high + 7, near=root + 7), 98))
    return notes


BASS_PATTERNS: dict[str, PartFn] = {
    "roots8": lambda h, inst, rng: bass_roots(h, inst, rng, step_beats=0.5),
    "roots16": lambda h, inst, rng: bass_roots(h, inst, rng, step_beats=0.25),
    "walking": bass_walking,
    "boogie": bass_boogie,
    "root_fifth": bass_root_fifth,
    "bossa": bass_bossa,
    "offbeat": bass_offbeat,
    "rolling16": bass_rolling16,
    "sustained": bass_sustained,
    "octaves8": bass_octaves8,
    "pulse8": bass_pulse8,
    "syncopated": bass_syncopated,
    "reggae": bass_reggae,
}
