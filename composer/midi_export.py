"""The song's tempo map as a MIDI file: tempo, time signature and one marker per section.

Dropped into a DAW it lines the grid and the section names up with the rendered
audio. Tempo convention (as in ``composer.timing``): ``bpm`` counts the time
signature's beat unit, so 6/8 at 120 bpm is written as 60 quarter notes a minute.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

import mido

from composer.files import write_atomic

#: ticks per quarter note: 960 keeps every marker within 0.3 ms at any tempo above 60 qpm
TICKS_PER_QUARTER = 960
#: pretty_midi refuses a file whose last tick + 1 exceeds 10**7 (it takes it for corrupt): a 60:00 song at 240
#: quarter notes a minute has 14,400 quarters, 13.8 M ticks at 960, so long fast songs get fewer ticks per quarter
MAX_TICKS = 10_000_000
#: text encoding of names and markers (mido's default latin-1 cannot write every section name)
CHARSET = "utf-8"
#: MIDI clocks per quarter note (fixed by the MIDI standard; the time signature's click is counted in them)
CLOCKS_PER_QUARTER = 24


def song_midi(*, bpm: float, time_signature: tuple[int, int], sections: Sequence[tuple[str, float]],
              total_duration_s: float, title: str = "") -> mido.MidiFile:
    """A one-track (type 0) MIDI file: title, tempo, meter, section markers, end of track at the song end.

    ``sections`` are ``(name, start_s)`` pairs; markers are placed at the tick
    nearest their time under the file's (integer microsecond) tempo, so a reader
    converting back gets each time within half a tick.
    """
    beats_per_bar, beat_unit = time_signature
    if not (bpm > 0 and math.isfinite(bpm)):
        raise ValueError(f"bpm must be a positive number, got {bpm}")
    if beats_per_bar < 1 or beat_unit < 1 or beat_unit & (beat_unit - 1):
        raise ValueError(f"time_signature must be (beats >= 1, a power-of-two unit), got {time_signature}")
    if not (total_duration_s > 0 and math.isfinite(total_duration_s)):
        raise ValueError(f"total_duration_s must be positive, got {total_duration_s}")
    for name, start_s in sections:
        if not 0 <= start_s <= total_duration_s:
            raise ValueError(f"section {name!r} starts at {start_s} s, outside the song [0, {total_duration_s}] s")

    tempo_us = mido.bpm2tempo(bpm * 4.0 / beat_unit)  # microseconds per quarter note, rounded
    ticks_per_quarter = TICKS_PER_QUARTER
    while (total_duration_s * 1e6 / tempo_us) * ticks_per_quarter + 2 > MAX_TICKS and ticks_per_quarter > 1:
        ticks_per_quarter //= 2  # 480 at most 60:00 at 240 qpm; half a tick is still under 0.3 ms there

    def to_tick(seconds: float) -> int:
        return round(seconds * 1e6 / tempo_us * ticks_per_quarter)

    events: list[tuple[int, mido.MetaMessage]] = []
    if title:
        events.append((0, mido.MetaMessage("track_name", name=title)))
    events.append((0, mido.MetaMessage("set_tempo", tempo=tempo_us)))
    events.append((0, mido.MetaMessage("time_signature", numerator=beats_per_bar, denominator=beat_unit,
                                       clocks_per_click=clocks_per_click(beats_per_bar=beats_per_bar,
                                                                         beat_unit=beat_unit))))
    events += [(to_tick(start_s), mido.MetaMessage("marker", text=name))
               for name, start_s in sorted(sections, key=lambda s: s[1])]
    end_tick = max(to_tick(total_duration_s), events[-1][0])

    track = mido.MidiTrack()
    previous = 0
    for tick, message in events:
        track.append(message.copy(time=tick - previous))
        previous = tick
    track.append(mido.MetaMessage("end_of_track", time=end_tick - previous))
    midi = mido.MidiFile(type=0, ticks_per_beat=ticks_per_quarter, charset=CHARSET)
    midi.tracks.append(track)
    return midi


def clocks_per_click(*, beats_per_bar: int, beat_unit: int) -> int:
    """MIDI clocks per metronome click: the felt pulse in compound metres, as the groove plays it (a dotted
    quarter, 36, in 6/8; a dotted eighth, 18, in 6/16), else a quarter note (24)."""
    from composer.groove.grid import meter

    if meter(beats_per_bar=beats_per_bar, beat_unit=beat_unit).compound:
        return 3 * CLOCKS_PER_QUARTER * 4 // beat_unit
    return CLOCKS_PER_QUARTER


def write_song_midi(path: Path, *, bpm: float, time_signature: tuple[int, int], sections: Sequence[tuple[str, float]],
                    total_duration_s: float, title: str = "") -> Path:
    """Write ``song_midi(...)`` to ``path`` atomically; returns the path."""
    midi = song_midi(bpm=bpm, time_signature=time_signature, sections=sections,
                     total_duration_s=total_duration_s, title=title)
    path = Path(path)
    write_atomic(path, lambda tmp: midi.save(filename=str(tmp)))
    return path
