"""Pitched part generators: bass lines, comping, pads, arpeggios and lead melodies.

Every generator is a pure function of (harmony, instrument range, rng) that
returns ``BeatNote``s; the patterns are named in ``styles.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from . import harmony as hm
from .instruments import Instrument
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


def _bar_starts(h: Harmony) -> range:
    return range(0, h.n_bars * h.beats_per_bar, h.beats_per_bar)


def _grid(h: Harmony, step_beats: float) -> np.ndarray:
    return np.arange(0.0, h.total_beats - 1e-9, step_beats)


def _strength(position_in_bar: float) -> int:
    """0 downbeat, 1 other beat, 2 eighth off-beat, 3 sixteenth."""
    if abs(position_in_bar) < 1e-6:
        return 0
    if abs(position_in_bar - round(position_in_bar)) < 1e-6:
        return 1
    if abs(position_in_bar * 2 - round(position_in_bar * 2)) < 1e-6:
        return 2
    return 3


def _bass_range(inst: Instrument) -> tuple[int, int]:
    return max(inst.low_note, 28), min(inst.high_note, inst.low_note + 20)


def _root(h: Harmony, inst: Instrument, beat: float, *, near: float | None = None) -> int:
    low, high = _bass_range(inst)
    return hm.bass_note(h.chord_at(beat).root_pc, low_note=low, high_note=high, near=near)


# --------------------------------------------------------------------------- bass


def bass_roots(h: Harmony, inst: Instrument, rng: np.random.Generator, *, step_beats: float) -> list[BeatNote]:
    """Driving root notes (8ths or 16ths) with octave pops and approach notes."""
    notes = []
    low, high = _bass_range(inst)
    octave_every = int(rng.choice([0, 4, 8]))
    for i, beat in enumerate(_grid(h, step_beats)):
        root = _root(h, inst, beat)
        pitch = root
        if octave_every and i % octave_every == octave_every - 1:
            pitch = root + 12
        if h.beats_to_change(beat) <= step_beats + 1e-9 and rng.random() < 0.5:
            nxt = hm.bass_note(h.next_chord(beat).root_pc, low_note=low, high_note=high)
            pitch = nxt + (1 if rng.random() < 0.5 else -1) if abs(nxt - root) > 2 else nxt + 7
        accent = 100 if _strength(beat % h.beats_per_bar) <= 1 else 84
        notes.append(BeatNote(beat, step_beats * 0.85, pitch, accent))
    return notes


def bass_walking(h: Harmony, inst: Instrument, rng: np.random.Generator) -> list[BeatNote]:
    """Quarter-note walking line: root on the change, chord/scale tones, chromatic approach."""
    notes = []
    low, high = _bass_range(inst)
    pitch = hm.bass_note(h.spans[0][2].root_pc, low_note=low, high_note=high, near=low + 7)
    scale = hm.scale_pitches(tonic_pc=h.tonic_pc, scale=h.mode, low_note=low, high_note=high + 5)
    for beat in _grid(h, 1.0):
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
    for beat in _grid(h, 0.5):
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
    for bar_start in _bar_starts(h):
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
    for bar_start in _bar_starts(h):
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
    for beat in _grid(h, 1.0):
        root = _root(h, inst, beat + 0.5)
        pitch = root + 12 if rng.random() < 0.2 else root
        notes.append(BeatNote(float(beat + 0.5), 0.4, pitch, 100))
    return notes


def bass_rolling16(h: Harmony, inst: Instrument, rng: np.random.Generator) -> list[BeatNote]:
    """Techno rolling bass: the three sixteenths after each kick."""
    notes = []
    accents = rng.integers(0, 2, size=3)
    for beat in _grid(h, 1.0):
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
    for i, beat in enumerate(_grid(h, 0.5)):
        root = _root(h, inst, beat)
        notes.append(BeatNote(float(beat), 0.4, root + (12 if i % 2 else 0), 96 if i % 2 == 0 else 88))
    return notes


def bass_pulse8(h: Harmony, inst: Instrument, rng: np.random.Generator) -> list[BeatNote]:
    """Synthwave straight eighth-note root pulse."""
    return [
        BeatNote(float(beat), 0.42, _root(h, inst, beat), 100 if i % 2 == 0 else 82)
        for i, beat in enumerate(_grid(h, 0.5))
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
    for bar_start in _bar_starts(h):
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
    for bar_start in _bar_starts(h):
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


# ------------------------------------------------------------------------ chords


def _voicings(h: Harmony, inst: Instrument, *, low_note: int, span: int, max_notes: int = 4) -> dict[str, tuple[int, ...]]:
    """A voice-led close voicing per chord symbol, in [low_note, low_note + span]."""
    low = max(inst.low_note, low_note)
    high = min(inst.high_note, low + span)
    voicings: dict[str, tuple[int, ...]] = {}
    previous = None
    for _, _, chord in h.spans:
        v = hm.lead_voicing(chord, previous=previous, low_note=low, high_note=high, max_notes=max_notes)
        voicings.setdefault(chord.symbol, v)
        previous = v
    return voicings


def _chord_hits(h: Harmony, voicing_of: dict[str, tuple[int, ...]], hits: list[tuple[float, float, int]]) -> list[BeatNote]:
    """One BeatNote per voice for each (beat, length, velocity) hit."""
    notes = []
    for beat, length, velocity in hits:
        if beat >= h.total_beats - 1e-9:
            continue
        for pitch in voicing_of[h.chord_at(beat).symbol]:
            notes.append(BeatNote(float(beat), length, pitch, velocity))
    return notes


def chords_sustain(h: Harmony, inst: Instrument, rng: np.random.Generator) -> list[BeatNote]:
    """Held voice-led chords, re-struck each bar for decaying instruments."""
    voicing_of = _voicings(h, inst, low_note=52, span=22)
    hits = []
    for start, end, _ in h.spans:
        step = float(h.beats_per_bar) if not inst.sustained else end - start
        beat = start
        while beat < end - 1e-9:
            length = min(step, end - beat)
            hits.append((beat, length * 0.98, 72))
            beat += length
    return _chord_hits(h, voicing_of, hits)


def chords_block8(h: Harmony, inst: Instrument, rng: np.random.Generator) -> list[BeatNote]:
    """Repeated eighth-note chords, accented on the beat."""
    voicing_of = _voicings(h, inst, low_note=50, span=20, max_notes=3)
    return _chord_hits(h, voicing_of, [(b, 0.4, 90 if i % 2 == 0 else 70) for i, b in enumerate(_grid(h, 0.5))])


def chords_power(h: Harmony, inst: Instrument, rng: np.random.Generator, *, step_beats: float) -> list[BeatNote]:
    """Palm-muted power chords on an 8th or 16th grid (rock, metal)."""
    notes = []
    low = max(inst.low_note, 40)
    rests = set(rng.choice(np.arange(1, 16), size=int(rng.integers(0, 4)), replace=False).tolist()) if step_beats < 0.5 else set()
    for i, beat in enumerate(_grid(h, step_beats)):
        if i % 16 in rests:
            continue
        voicing = hm.power_voicing(h.chord_at(beat), low_note=low)
        velocity = 104 if _strength(beat % h.beats_per_bar) <= 1 else 86
        notes.extend(BeatNote(float(beat), step_beats * 0.7, p, velocity) for p in voicing)
    return notes


def chords_strum(h: Harmony, inst: Instrument, rng: np.random.Generator) -> list[BeatNote]:
    """Strummed guitar: down/up strokes with a few ms between strings."""
    patterns = {
        4: ([0, 1, 1.5, 2.5, 3, 3.5], [0, 1, 2, 2.5, 3, 3.5], [0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5]),
        3: ([0, 1, 1.5, 2, 2.5], [0, 1, 2], [0, 0.5, 1, 2, 2.5]),
    }[h.beats_per_bar]
    pattern = patterns[int(rng.integers(len(patterns)))]
    voicing_of = _voicings(h, inst, low_note=52, span=17)
    spread = 0.025
    notes = []
    for bar_start in _bar_starts(h):
        for pos in pattern:
            beat = bar_start + pos
            chord = h.chord_at(beat)
            voicing = list(voicing_of[chord.symbol])
            root = hm.bass_note(chord.root_pc, low_note=40, high_note=51)
            strings = [root] + voicing
            down = abs(pos - round(pos)) < 1e-6
            order = strings if down else strings[::-1][:4]
            velocity = 92 if down else 70
            for k, pitch in enumerate(order):
                notes.append(BeatNote(beat + k * spread, 0.9 if down else 0.45, pitch, velocity - 3 * k))
    return notes


def _arpeggio(h: Harmony, inst: Instrument, rng: np.random.Generator, *, step_beats: float) -> list[BeatNote]:
    """Arpeggiated chord tones in a fixed per-arrangement contour."""
    centre = (max(inst.low_note, 48) + min(inst.high_note, 84)) // 2
    contour = [(0, 1, 2, 3), (0, 1, 2, 3, 2, 1), (0, 2, 1, 3), (0, 1, 2, 3, 4, 3, 2, 1)][int(rng.integers(4))]
    legato = float(rng.choice([0.5, 0.95, 1.6]))
    notes = []
    for i, beat in enumerate(_grid(h, step_beats)):
        chord = h.chord_at(beat)
        tones = hm.chord_pitches_in_range(chord, low_note=centre - 7, high_note=centre + 12)
        pitch = tones[contour[i % len(contour)] % len(tones)]
        velocity = 84 if _strength(beat % h.beats_per_bar) <= 1 else 70
        notes.append(BeatNote(float(beat), step_beats * legato, pitch, velocity))
    return notes


def _rhythm_motif_hits(
    h: Harmony, rng: np.random.Generator, *, candidates: list[int], n_hits: tuple[int, int], length_beats: float, velocity: int
) -> list[tuple[float, float, int]]:
    """A one-bar rhythm (16th steps) repeated every bar as (beat, length, velocity) hits."""
    steps = h.beats_per_bar * 4
    options = [c for c in candidates if c < steps]
    chosen = sorted(rng.choice(options, size=min(int(rng.integers(*n_hits)), len(options)), replace=False).tolist())
    accents = {s: velocity + (10 if s % 4 == 0 else 0) for s in chosen}
    return [(bar + s / 4, length_beats, accents[s]) for bar in _bar_starts(h) for s in chosen]


def chords_stabs(h: Harmony, inst: Instrument, rng: np.random.Generator) -> list[BeatNote]:
    """Short syncopated chord stabs (house piano, funk keys, disco strings)."""
    voicing_of = _voicings(h, inst, low_note=55, span=17)
    hits = _rhythm_motif_hits(h, rng, candidates=[0, 2, 3, 6, 7, 10, 11, 14], n_hits=(2, 5), length_beats=0.3, velocity=90)
    return _chord_hits(h, voicing_of, hits)


def chords_chops16(h: Harmony, inst: Instrument, rng: np.random.Generator) -> list[BeatNote]:
    """Funk 16th chops: very short upper-structure triads on a busy motif."""
    voicing_of = _voicings(h, inst, low_note=60, span=14, max_notes=3)
    hits = _rhythm_motif_hits(h, rng, candidates=list(range(16)), n_hits=(5, 10), length_beats=0.12, velocity=84)
    return _chord_hits(h, voicing_of, hits)


def chords_comp_swing(h: Harmony, inst: Instrument, rng: np.random.Generator) -> list[BeatNote]:
    """Jazz comping: shell voicings on a few swung positions, different every bar."""
    positions = {4: [0.0, 1.5, 2.5, 3.0, 3.5, 1.0], 3: [0.0, 1.5, 2.0, 2.5]}[h.beats_per_bar]
    notes = []
    for bar_start in _bar_starts(h):
        picks = rng.choice(positions, size=int(rng.integers(1, 4)), replace=False)
        for pos in sorted(picks.tolist()):
            beat = bar_start + pos
            voicing = hm.shell_voicing(h.chord_at(beat), low_note=max(inst.low_note, 48))
            notes.extend(BeatNote(beat, float(rng.choice([0.4, 0.9, 1.4])), p, 76) for p in voicing)
    return notes


def chords_comp_quarters(h: Harmony, inst: Instrument, rng: np.random.Generator) -> list[BeatNote]:
    """Four-to-the-bar guitar comping with short shell voicings."""
    notes = []
    for beat in _grid(h, 1.0):
        voicing = hm.shell_voicing(h.chord_at(beat), low_note=max(inst.low_note, 45))
        notes.extend(BeatNote(float(beat), 0.45, p, 78 if beat % 2 == 0 else 68) for p in voicing)
    return notes


def chords_bossa(h: Harmony, inst: Instrument, rng: np.random.Generator) -> list[BeatNote]:
    """Bossa nova comping: the syncopated partido-alto chord rhythm."""
    voicing_of = _voicings(h, inst, low_note=53, span=16)
    rhythms = ([0.0, 0.75, 1.5, 2.5, 3.25], [0.0, 1.0, 1.75, 2.5, 3.5], [0.5, 1.5, 2.0, 3.0])
    rhythm = rhythms[int(rng.integers(len(rhythms)))]
    hits = [(bar + pos, 0.45, 72) for bar in _bar_starts(h) for pos in rhythm]
    return _chord_hits(h, voicing_of, hits)


def chords_push(h: Harmony, inst: Instrument, rng: np.random.Generator) -> list[BeatNote]:
    """Lofi keys: a held chord per bar, often anticipated by an eighth, plus a soft re-hit."""
    voicing_of = _voicings(h, inst, low_note=50, span=20, max_notes=5)
    hits = []
    for bar_start in _bar_starts(h):
        push = 0.5 if bar_start > 0 and rng.random() < 0.5 else 0.0
        symbol = h.chord_at(bar_start).symbol
        hits.append((bar_start - push, symbol, h.beats_per_bar * 0.6 + push, 70))
        if rng.random() < 0.5:
            hits.append((bar_start + 2.5, h.chord_at(bar_start + 2.5).symbol, 1.2, 56))
    notes = []
    for beat, symbol, length, velocity in hits:
        if beat < h.total_beats:
            notes.extend(BeatNote(beat, length, p, velocity) for p in voicing_of[symbol])
    return notes


def chords_skank(h: Harmony, inst: Instrument, rng: np.random.Generator) -> list[BeatNote]:
    """Reggae skank: short chords on the off-beats (or on 2 and 4)."""
    voicing_of = _voicings(h, inst, low_note=57, span=14, max_notes=3)
    positions = [0.5, 1.5, 2.5, 3.5] if rng.random() < 0.6 else [1.0, 3.0]
    hits = [(bar + pos, 0.22, 84) for bar in _bar_starts(h) for pos in positions]
    return _chord_hits(h, voicing_of, hits)


def chords_shuffle(h: Harmony, inst: Instrument, rng: np.random.Generator) -> list[BeatNote]:
    """Blues rhythm-guitar shuffle: root-fifth / root-sixth dyads in eighths."""
    notes = []
    for i, beat in enumerate(_grid(h, 0.5)):
        chord = h.chord_at(beat)
        root = hm.bass_note(chord.root_pc, low_note=max(inst.low_note, 40), high_note=max(inst.low_note, 40) + 11)
        upper = root + (7 if (i // 2) % 2 == 0 else 9)
        notes.extend(BeatNote(float(beat), 0.42, p, 88 if i % 2 == 0 else 70) for p in (root, upper))
    return notes


def chords_oompah(h: Harmony, inst: Instrument, rng: np.random.Generator) -> list[BeatNote]:
    """Waltz / two-step "pah": chords on the weak beats."""
    voicing_of = _voicings(h, inst, low_note=55, span=15, max_notes=3)
    weak = [1.0, 2.0] if h.beats_per_bar == 3 else [1.0, 3.0]
    hits = [(bar + pos, 0.5, 74) for bar in _bar_starts(h) for pos in weak]
    return _chord_hits(h, voicing_of, hits)


CHORD_PATTERNS: dict[str, PartFn] = {
    "sustain": chords_sustain,
    "block8": chords_block8,
    "power8": lambda h, inst, rng: chords_power(h, inst, rng, step_beats=0.5),
    "chug16": lambda h, inst, rng: chords_power(h, inst, rng, step_beats=0.25),
    "strum": chords_strum,
    "arpeggio8": lambda h, inst, rng: _arpeggio(h, inst, rng, step_beats=0.5),
    "arpeggio16": lambda h, inst, rng: _arpeggio(h, inst, rng, step_beats=0.25),
    "stabs": chords_stabs,
    "chops16": chords_chops16,
    "comp_swing": chords_comp_swing,
    "comp_quarters": chords_comp_quarters,
    "bossa_comp": chords_bossa,
    "push": chords_push,
    "skank": chords_skank,
    "shuffle": chords_shuffle,
    "oompah": chords_oompah,
}


def pad_part(h: Harmony, inst: Instrument, rng: np.random.Generator) -> list[BeatNote]:
    """Sustained pad: wide voice-led chords held through each chord."""
    voicing_of = _voicings(h, inst, low_note=48, span=24, max_notes=4)
    hits = [(start, (end - start) * 0.99, 64) for start, end, _ in h.spans]
    return _chord_hits(h, voicing_of, hits)


def timpani_part(h: Harmony, inst: Instrument, rng: np.random.Generator) -> list[BeatNote]:
    """Timpani on chord roots at phrase points, with a roll into every 4th bar."""
    notes = []
    for bar_index, bar_start in enumerate(_bar_starts(h)):
        root = hm.bass_note(h.chord_at(bar_start).root_pc, low_note=inst.low_note, high_note=inst.high_note - 6)
        notes.append(BeatNote(float(bar_start), 1.0, root, 96 if bar_index % 2 == 0 else 78))
        if bar_index % 4 == 3:
            last = bar_start + h.beats_per_bar - 1
            notes.extend(BeatNote(last + k * 0.125, 0.12, root, 60 + 6 * k) for k in range(8))
    return notes


# -------------------------------------------------------------------------- lead


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
        if rng.random() < rhythm.onset_probability[_strength(pos % h.beats_per_bar)]:
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
                if _strength(pos % h.beats_per_bar) <= 1:
                    pitch = hm.nearest_pitch(pitch, hm.chord_pitches_in_range(chord, low_note=low, high_note=high))
            gap = (these_onsets[k + 1] if k + 1 < len(these_onsets) else motif_beats) - pos
            length = min(gap * rhythm.articulation, h.total_beats - beat)
            velocity = 100 if _strength(pos % h.beats_per_bar) == 0 else 88
            notes.append(BeatNote(float(beat), float(length), int(pitch), velocity))
    return notes
