"""Keys, scales, roman-numeral chords and voice-led voicings (pure numpy-free logic)."""

from __future__ import annotations

import re
from dataclasses import dataclass

PITCH_NAMES = ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")

SCALES: dict[str, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "phrygian": (0, 1, 3, 5, 7, 8, 10),
    "harmonic_minor": (0, 2, 3, 5, 7, 8, 11),
    "major_pentatonic": (0, 2, 4, 7, 9),
    "minor_pentatonic": (0, 3, 5, 7, 10),
    "blues": (0, 3, 5, 6, 7, 10),
}

_NUMERALS = {"i": 0, "ii": 2, "iii": 4, "iv": 5, "v": 7, "vi": 9, "vii": 11}

# (suffix, uppercase numeral intervals, lowercase numeral intervals)
_QUALITIES: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {
    "": ((0, 4, 7), (0, 3, 7)),
    "7": ((0, 4, 7, 10), (0, 3, 7, 10)),
    "maj7": ((0, 4, 7, 11), (0, 3, 7, 11)),
    "9": ((0, 4, 7, 10, 14), (0, 3, 7, 10, 14)),
    "maj9": ((0, 4, 7, 11, 14), (0, 3, 7, 11, 14)),
    "6": ((0, 4, 7, 9), (0, 3, 7, 9)),
    "add9": ((0, 4, 7, 14), (0, 3, 7, 14)),
    "sus2": ((0, 2, 7), (0, 2, 7)),
    "sus4": ((0, 5, 7), (0, 5, 7)),
    "dim": ((0, 3, 6), (0, 3, 6)),
    "m7b5": ((0, 3, 6, 10), (0, 3, 6, 10)),
}

_SYMBOL = re.compile(r"^(?P<acc>[b#]?)(?P<numeral>vii|iii|ii|iv|vi|v|i)(?P<suffix>.*)$", re.IGNORECASE)


@dataclass(frozen=True)
class Chord:
    """A chord as a root pitch class plus intervals above it."""

    # roman-numeral symbol it was parsed from ("ii7", "bVImaj7")
    symbol: str
    # pitch class of the root, 0 = C
    root_pc: int
    # semitones above the root, starting with 0 (may exceed 12 for extensions)
    intervals: tuple[int, ...]

    @property
    def pitch_classes(self) -> tuple[int, ...]:
        """Distinct pitch classes of the chord, root first."""
        seen: list[int] = []
        for interval in self.intervals:
            pc = (self.root_pc + interval) % 12
            if pc not in seen:
                seen.append(pc)
        return tuple(seen)

    @property
    def fifth_pc(self) -> int:
        """Pitch class of the fifth (or of the nearest stable tone above the root)."""
        for interval in (7, 6, 8):
            if interval in self.intervals:
                return (self.root_pc + interval) % 12
        return (self.root_pc + 7) % 12


def key_name(*, tonic_pc: int, mode: str) -> str:
    """Human key name ("F# minor")."""
    return f"{PITCH_NAMES[tonic_pc % 12]} {mode}"


def parse_chord(symbol: str, *, tonic_pc: int) -> Chord:
    """Parse a roman numeral ("bVII", "ii7", "IVmaj7", "iim7b5") relative to ``tonic_pc``."""
    match = _SYMBOL.match(symbol)
    if match is None or match["suffix"] not in _QUALITIES:
        raise ValueError(f"chord symbol {symbol!r} is not a roman numeral with a suffix in {sorted(_QUALITIES)}")
    numeral = match["numeral"]
    offset = {"b": -1, "#": 1, "": 0}[match["acc"]]
    root_pc = (tonic_pc + _NUMERALS[numeral.lower()] + offset) % 12
    upper, lower = _QUALITIES[match["suffix"]]
    return Chord(symbol=symbol, root_pc=root_pc, intervals=upper if numeral.isupper() else lower)


def scale_pitches(*, tonic_pc: int, scale: str, low_note: int, high_note: int) -> list[int]:
    """All MIDI notes of the scale within [low_note, high_note], ascending."""
    steps = set(SCALES[scale])
    return [n for n in range(low_note, high_note + 1) if (n - tonic_pc) % 12 in steps]


def nearest_pitch(target: float, candidates: list[int]) -> int:
    """The candidate closest to ``target`` (lower one on ties)."""
    return min(candidates, key=lambda n: (abs(n - target), n))


def chord_pitches_in_range(chord: Chord, *, low_note: int, high_note: int) -> list[int]:
    """All MIDI notes of the chord's pitch classes within the range, ascending."""
    pcs = set(chord.pitch_classes)
    return [n for n in range(low_note, high_note + 1) if n % 12 in pcs]


def bass_note(pitch_class: int, *, low_note: int, high_note: int, near: float | None = None) -> int:
    """A MIDI note of ``pitch_class`` in range, closest to ``near`` (default: lowest octave)."""
    options = [n for n in range(low_note, high_note + 1) if n % 12 == pitch_class % 12]
    if near is None:
        return options[0]
    return nearest_pitch(near, options)


def close_voicings(chord: Chord, *, low_note: int, high_note: int, max_notes: int = 4) -> list[tuple[int, ...]]:
    """Every inversion of the chord, stacked within an octave, at every octave in the range."""
    pcs = list(chord.pitch_classes)[:max_notes]
    voicings = []
    for bottom_pc in pcs:
        above = sorted(((pc - bottom_pc) % 12 for pc in pcs))
        for base in range(low_note, high_note + 1):
            if base % 12 == bottom_pc and base + above[-1] <= high_note:
                voicings.append(tuple(base + step for step in above))
    return voicings


def lead_voicing(
    chord: Chord, *, previous: tuple[int, ...] | None, low_note: int, high_note: int, max_notes: int = 4
) -> tuple[int, ...]:
    """The close voicing that moves least from ``previous`` (or sits mid-range)."""
    options = close_voicings(chord, low_note=low_note, high_note=high_note, max_notes=max_notes)
    if not options:
        raise ValueError(f"no voicing of {chord.symbol} fits MIDI notes {low_note}-{high_note}")
    if previous is None:
        centre = (low_note + high_note) / 2
        return min(options, key=lambda v: (abs(sum(v) / len(v) - centre), v))

    def movement(v: tuple[int, ...]) -> float:
        return sum(min(abs(n - p) for p in previous) for n in v) + abs(len(v) - len(previous))

    return min(options, key=lambda v: (movement(v), v))


def shell_voicing(chord: Chord, *, low_note: int) -> tuple[int, ...]:
    """Jazz shell: root, third and seventh (or sixth), spread from ``low_note`` up."""
    root = bass_note(chord.root_pc, low_note=low_note, high_note=low_note + 11)
    third = next((i for i in chord.intervals if i in (3, 4, 2, 5)), 4)
    seventh = next((i for i in chord.intervals if i in (10, 11, 9)), 7)
    return (root, root + seventh, root + third + 12)


def power_voicing(chord: Chord, *, low_note: int) -> tuple[int, ...]:
    """Guitar power chord: root, fifth, octave."""
    root = bass_note(chord.root_pc, low_note=low_note, high_note=low_note + 11)
    return (root, root + 7, root + 12)
