"""Style drum grooves on a 16th-note grid (General MIDI percussion, channel 10)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .notes import BeatNote

KICK, RIM, SNARE, CLAP, E_SNARE = 36, 37, 38, 39, 40
LOW_FLOOR_TOM, CLOSED_HAT, HIGH_FLOOR_TOM, PEDAL_HAT = 41, 42, 43, 44
LOW_TOM, OPEN_HAT, LOW_MID_TOM, HIGH_MID_TOM, CRASH, HIGH_TOM, RIDE = 45, 46, 47, 48, 49, 50, 51
TAMBOURINE, COWBELL, ACOUSTIC_KICK = 54, 56, 35
MUTE_CONGA, OPEN_CONGA, LOW_CONGA, CABASA, MARACAS, CLAVES = 62, 63, 64, 69, 70, 75

# Pattern letters: accent, normal, soft, ghost; '.' is a rest.
_VELOCITY = {"X": 118, "x": 96, "o": 66, "g": 42}

STEPS_PER_BEAT = 4


@dataclass(frozen=True)
class Groove:
    """One bar of a drum pattern per drum sound, on the 16th grid."""

    # name recorded in metadata ("rock_eighths")
    name: str
    # beats per bar the pattern fits (pattern length = 4 * beats)
    beats_per_bar: int
    # (GM percussion note, pattern string) per drum sound
    lanes: tuple[tuple[int, str], ...]
    # fill at the end of a 4-bar phrase: "toms", "snare" or "none"
    fill: str = "toms"

    def __post_init__(self) -> None:
        for note, pattern in self.lanes:
            if len(pattern) != self.beats_per_bar * STEPS_PER_BEAT or set(pattern) - set(_VELOCITY) - {"."}:
                raise ValueError(f"groove {self.name}: lane {note} pattern {pattern!r} is malformed")


def _groove(name, beats, lanes, fill="toms"):
    return Groove(name, beats, tuple(lanes.items()), fill)


GROOVES: dict[str, Groove] = {g.name: g for g in [
    _groove("rock_eighths", 4, {KICK: "X.......X.x.....", SNARE: "....X.......X...", CLOSED_HAT: "x.o.x.o.x.o.x.o."}),
    _groove("rock_drive", 4, {KICK: "X.....x.X.x.....", SNARE: "....X.......X...", CLOSED_HAT: "x.x.x.x.x.x.x.x.", OPEN_HAT: "..............o."}),
    _groove("rock_ride", 4, {KICK: "X..x....X.x.....", SNARE: "....X.......X...", RIDE: "x.o.x.o.x.o.x.o."}),
    _groove("metal_double", 4, {KICK: "xxxxxxxxxxxxxxxx", SNARE: "....X.......X...", RIDE: "x.x.x.x.x.x.x.x."}),
    _groove("metal_half", 4, {KICK: "X.x.X.x.X.x.X.x.", SNARE: "........X.......", CRASH: "x...x...x...x..."}),
    _groove("funk_sixteenths", 4, {KICK: "X.....x...x..x..", SNARE: "....X..g.g..X..g", CLOSED_HAT: "xoxoxoxoxoxoxo.o", OPEN_HAT: "..............x."}, "snare"),
    _groove("funk_syncopated", 4, {KICK: "X..x..x...X.....", SNARE: "....X..g.g.gX...", CLOSED_HAT: "xoxoxoxoxoxoxoxo"}, "snare"),
    _groove("jazz_swing", 4, {RIDE: "x...X.o.x...X.o.", PEDAL_HAT: "....x.......x...", KICK: "g...g...g...g...", SNARE: ".......g......g."}, "snare"),
    _groove("jazz_waltz", 3, {RIDE: "x...X.o.x.o.", PEDAL_HAT: "....x...x...", KICK: "g...........", SNARE: "......g....."}, "snare"),
    # the clave rim stays soft: louder, it makes the 3-3-2 pulse read as 4/3 the tempo
    _groove("bossa", 4, {RIM: "o..o..o...o..o..", KICK: "X...o..oX...o..o", CLOSED_HAT: "x.o.x.o.x.o.x.o.", CABASA: "gogogogogogogogo"}, "none"),
    _groove("house_four", 4, {KICK: "X...X...X...X...", CLAP: "....x.......x...", OPEN_HAT: "..x...x...x...x.", CLOSED_HAT: "o.g.o.g.o.g.o.g."}, "snare"),
    _groove("house_shaker", 4, {KICK: "X...X...X...X...", CLAP: "....x.......x...", OPEN_HAT: "..x...x...x...x.", MARACAS: "ogoxogoxogoxogox"}, "none"),
    _groove("techno_drive", 4, {KICK: "X...X...X...X...", CLOSED_HAT: "xoxoxoxoxoxoxoxo", OPEN_HAT: "..x...x...x...x.", RIM: "......x.......x."}, "none"),
    _groove("techno_rolling", 4, {KICK: "X...X...X...X...", CLAP: "....x.......x...", RIDE: "..x...x...x...x.", CLOSED_HAT: "o.oxo.oxo.oxo.ox"}, "snare"),
    _groove("boom_bap", 4, {KICK: "X......x..X.....", SNARE: "....X.......X..g", CLOSED_HAT: "x.o.x.o.x.o.x.o."}, "none"),
    _groove("lofi_lazy", 4, {KICK: "X.........x.x...", SNARE: "....x.......x...", CLOSED_HAT: "o.g.o.g.o.g.o.go", RIM: ".......g........"}, "none"),
    _groove("one_drop", 4, {KICK: "........X.......", RIM: "........x.......", CLOSED_HAT: "x.o.x.o.x.o.x.o.", OPEN_HAT: "..............o."}, "snare"),
    _groove("steppers", 4, {KICK: "X...X...X...X...", RIM: "........x.......", CLOSED_HAT: "x.o.x.o.x.o.x.o."}, "snare"),
    _groove("blues_shuffle", 4, {KICK: "X.......X.......", SNARE: "....X.......X...", CLOSED_HAT: "x.o.x.o.x.o.x.o."}),
    _groove("blues_ride", 4, {KICK: "X.....o.X.......", SNARE: "....X.......X...", RIDE: "x.o.x.o.x.o.x.o.", PEDAL_HAT: "....o.......o..."}),
    _groove("ambient_pulse", 4, {KICK: "o.......o.......", MARACAS: "g.g.g.g.g.g.g.g."}, "none"),
    _groove("ambient_waltz", 3, {KICK: "o...........", MARACAS: "g.g.g.g.g.g."}, "none"),
    _groove("orchestral_march", 4, {ACOUSTIC_KICK: "x.......o.......", SNARE: "....o.g.....o.g."}, "snare"),
    _groove("orchestral_waltz", 3, {ACOUSTIC_KICK: "x...........", SNARE: "....g...g..."}, "none"),
    _groove("afrobeat", 4, {KICK: "X.....x...x.....", SNARE: "....g.x..g..X.g.", CLOSED_HAT: "xoxoxxxoxoxoxxxo", COWBELL: "x.x.xx.x.x.x.xx.", OPEN_CONGA: "..x.x...x..x.x.x", LOW_CONGA: ".....x.....x...."}, "none"),
    _groove("afrobeat_shaker", 4, {KICK: "X..x..x...x.....", SNARE: "....X..g....X..g", MARACAS: "xoooxoooxoooxooo", MUTE_CONGA: "x..x..x.x..x..x.", CLAVES: "x..x...x..x.x..."}, "none"),
    _groove("disco", 4, {KICK: "X...X...X...X...", SNARE: "....X.......X...", CLOSED_HAT: "x...x...x...x...", OPEN_HAT: "..x...x...x...x.", TAMBOURINE: "gogogogogogogogo"}, "snare"),
    _groove("synthwave", 4, {KICK: "X.......X.......", E_SNARE: "....X.......X...", CLOSED_HAT: "x.x.x.x.x.x.x.x."}),
    _groove("synthwave_drive", 4, {KICK: "X...X...X...X...", E_SNARE: "....X.......X...", CLOSED_HAT: "oxoxoxoxoxoxoxox"}),
    _groove("folk_train", 4, {KICK: "X.......X.......", RIM: "....x.......x...", TAMBOURINE: "o.x.o.x.o.x.o.x."}, "none"),
    _groove("folk_waltz", 3, {KICK: "X...........", RIM: "....x...x...", TAMBOURINE: "x.o.x.o.x.o."}, "none"),
]}

_TOM_RUN = (HIGH_TOM, HIGH_MID_TOM, LOW_MID_TOM, LOW_TOM, HIGH_FLOOR_TOM, LOW_FLOOR_TOM)


def _fill_notes(groove: Groove, *, bar_start_beat: float, rng: np.random.Generator) -> list[BeatNote]:
    """A one-beat fill (16ths) on the bar's last beat, ending the phrase."""
    notes = []
    steps = groove.beats_per_bar * STEPS_PER_BEAT
    for i, step in enumerate(range(steps - STEPS_PER_BEAT, steps)):
        if groove.fill == "toms":
            pitch = _TOM_RUN[min(i + int(rng.integers(0, 2)), len(_TOM_RUN) - 1)]
        else:
            pitch = SNARE
        notes.append(BeatNote(bar_start_beat + step / STEPS_PER_BEAT, 0.2, pitch, 70 + 12 * i))
    return notes


def drum_part(
    groove: Groove, *, n_bars: int, fill_probability: float, rng: np.random.Generator
) -> list[BeatNote]:
    """Repeat the groove for ``n_bars``: crash on phrase starts, fills on phrase ends."""
    notes: list[BeatNote] = []
    steps = groove.beats_per_bar * STEPS_PER_BEAT
    for bar in range(n_bars):
        bar_start = float(bar * groove.beats_per_bar)
        phrase_end = bar % 4 == 3 and groove.fill != "none" and rng.random() < fill_probability
        fill_from = steps - STEPS_PER_BEAT if phrase_end else steps
        for pitch, pattern in groove.lanes:
            for step, letter in enumerate(pattern):
                if letter == "." or (step >= fill_from and pitch != KICK):
                    continue
                notes.append(BeatNote(bar_start + step / STEPS_PER_BEAT, 0.2, pitch, _VELOCITY[letter]))
        if phrase_end:
            notes.extend(_fill_notes(groove, bar_start_beat=bar_start, rng=rng))
        if bar % 4 == 0 and bar > 0 and groove.fill != "none":
            notes.append(BeatNote(bar_start, 1.0, CRASH, 100))
    return notes
