"""Chord-instrument generators: comping patterns, arpeggios, pads and timpani.

The comping patterns (sustained, block, power chords, strums, stabs, jazz and
bossa comping, skank, shuffle, oom-pah) and arpeggios are named in the
``CHORD_PATTERNS`` table ``styles.py`` refers to; ``pad_part`` and
``timpani_part`` serve the pad and timpani roles. Each is a pure function of
(harmony, instrument range, rng) that returns ``BeatNote``s, mostly built from
voice-led voicings struck at (beat, length, velocity) hits.
"""

from __future__ import annotations

import numpy as np

from . import harmony as hm
from .harmony_grid import Harmony, PartFn, bar_starts, grid, strength
from .instruments import Instrument
from .notes import BeatNote


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
    return _chord_hits(h, voicing_of, [(b, 0.4, 90 if i % 2 == 0 else 70) for i, b in enumerate(grid(h, 0.5))])


def chords_power(h: Harmony, inst: Instrument, rng: np.random.Generator, *, step_beats: float) -> list[BeatNote]:
    """Palm-muted power chords on an 8th or 16th grid (rock, metal)."""
    notes = []
    low = max(inst.low_note, 40)
    rests = set(rng.choice(np.arange(1, 16), size=int(rng.integers(0, 4)), replace=False).tolist()) if step_beats < 0.5 else set()
    for i, beat in enumerate(grid(h, step_beats)):
        if i % 16 in rests:
            continue
        voicing = hm.power_voicing(h.chord_at(beat), low_note=low)
        velocity = 104 if strength(beat % h.beats_per_bar) <= 1 else 86
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
    for bar_start in bar_starts(h):
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
    for i, beat in enumerate(grid(h, step_beats)):
        chord = h.chord_at(beat)
        tones = hm.chord_pitches_in_range(chord, low_note=centre - 7, high_note=centre + 12)
        pitch = tones[contour[i % len(contour)] % len(tones)]
        velocity = 84 if strength(beat % h.beats_per_bar) <= 1 else 70
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
    return [(bar + s / 4, length_beats, accents[s]) for bar in bar_starts(h) for s in chosen]


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
    for bar_start in bar_starts(h):
        picks = rng.choice(positions, size=int(rng.integers(1, 4)), replace=False)
        for pos in sorted(picks.tolist()):
            beat = bar_start + pos
            voicing = hm.shell_voicing(h.chord_at(beat), low_note=max(inst.low_note, 48))
            notes.extend(BeatNote(beat, float(rng.choice([0.4, 0.9, 1.4])), p, 76) for p in voicing)
    return notes


def chords_comp_quarters(h: Harmony, inst: Instrument, rng: np.random.Generator) -> list[BeatNote]:
    """Four-to-the-bar guitar comping with short shell voicings."""
    notes = []
    for beat in grid(h, 1.0):
        voicing = hm.shell_voicing(h.chord_at(beat), low_note=max(inst.low_note, 45))
        notes.extend(BeatNote(float(beat), 0.45, p, 78 if beat % 2 == 0 else 68) for p in voicing)
    return notes


def chords_bossa(h: Harmony, inst: Instrument, rng: np.random.Generator) -> list[BeatNote]:
    """Bossa nova comping: the syncopated partido-alto chord rhythm."""
    voicing_of = _voicings(h, inst, low_note=53, span=16)
    rhythms = ([0.0, 0.75, 1.5, 2.5, 3.25], [0.0, 1.0, 1.75, 2.5, 3.5], [0.5, 1.5, 2.0, 3.0])
    rhythm = rhythms[int(rng.integers(len(rhythms)))]
    hits = [(bar + pos, 0.45, 72) for bar in bar_starts(h) for pos in rhythm]
    return _chord_hits(h, voicing_of, hits)


def chords_push(h: Harmony, inst: Instrument, rng: np.random.Generator) -> list[BeatNote]:
    """Lofi keys: a held chord per bar, often anticipated by an eighth, plus a soft re-hit."""
    voicing_of = _voicings(h, inst, low_note=50, span=20, max_notes=5)
    hits = []
    for bar_start in bar_starts(h):
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
    hits = [(bar + pos, 0.22, 84) for bar in bar_starts(h) for pos in positions]
    return _chord_hits(h, voicing_of, hits)


def chords_shuffle(h: Harmony, inst: Instrument, rng: np.random.Generator) -> list[BeatNote]:
    """Blues rhythm-guitar shuffle: root-fifth / root-sixth dyads in eighths."""
    notes = []
    for i, beat in enumerate(grid(h, 0.5)):
        chord = h.chord_at(beat)
        root = hm.bass_note(chord.root_pc, low_note=max(inst.low_note, 40), high_note=max(inst.low_note, 40) + 11)
        upper = root + (7 if (i // 2) % 2 == 0 else 9)
        notes.extend(BeatNote(float(beat), 0.42, p, 88 if i % 2 == 0 else 70) for p in (root, upper))
    return notes


def chords_oompah(h: Harmony, inst: Instrument, rng: np.random.Generator) -> list[BeatNote]:
    """Waltz / two-step "pah": chords on the weak beats."""
    voicing_of = _voicings(h, inst, low_note=55, span=15, max_notes=3)
    weak = [1.0, 2.0] if h.beats_per_bar == 3 else [1.0, 3.0]
    hits = [(bar + pos, 0.5, 74) for bar in bar_starts(h) for pos in weak]
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
    for bar_index, bar_start in enumerate(bar_starts(h)):
        root = hm.bass_note(h.chord_at(bar_start).root_pc, low_note=inst.low_note, high_note=inst.high_note - 6)
        notes.append(BeatNote(float(bar_start), 1.0, root, 96 if bar_index % 2 == 0 else 78))
        if bar_index % 4 == 3:
            last = bar_start + h.beats_per_bar - 1
            notes.extend(BeatNote(last + k * 0.125, 0.12, root, 60 + 6 * k) for k in range(8))
    return notes
