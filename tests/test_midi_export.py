"""MIDI tempo map: read back with mido and pretty_midi."""

from __future__ import annotations

import mido
import numpy as np
import pretty_midi
import pytest

from composer.midi_export import CHARSET, song_midi, write_song_midi
from composer.outline import parse_outline
from composer.planner import plan_song
from composer.render import RenderedSong
from composer.song import write_song_files

SECTIONS = [("intro", 0.0), ("verse", 8.0), ("chorus", 24.137), ("verse 2", 40.0), ("chorus 2", 56.5),
            ("副歌 outro", 173.25)]


def _markers_s(midi: mido.MidiFile) -> list[tuple[str, float]]:
    """(text, seconds) of every marker, converting ticks with the file's own tempo map."""
    out, now_s, tempo = [], 0.0, 500000
    for message in midi.tracks[0]:
        now_s += mido.tick2second(message.time, midi.ticks_per_beat, tempo)
        if message.type == "set_tempo":
            tempo = message.tempo
        if message.type == "marker":
            out.append((message.text, now_s))
    return out


@pytest.mark.parametrize("bpm, signature", [(120.0, (4, 4)), (97.3, (3, 4)), (132.0, (6, 8)), (71.0, (7, 8))])
def test_round_trip_through_mido_and_pretty_midi(tmp_path, bpm, signature):
    path = write_song_midi(tmp_path / "song.mid", bpm=bpm, time_signature=signature, sections=SECTIONS,
                           total_duration_s=180.0, title="Test song")
    back = mido.MidiFile(path, charset=CHARSET)
    markers = _markers_s(back)
    assert [name for name, _ in markers] == [name for name, _ in SECTIONS]
    assert np.max(np.abs(np.array([t for _, t in markers]) - [t for _, t in SECTIONS])) < 0.001
    assert abs(back.length - 180.0) < 0.001  # end of track at the song end

    pm = pretty_midi.PrettyMIDI(str(path))
    _, tempi = pm.get_tempo_changes()
    quarter_bpm = bpm * 4 / signature[1]
    assert len(tempi) == 1 and abs(tempi[0] - quarter_bpm) < 0.01
    ts = pm.time_signature_changes
    assert len(ts) == 1 and (ts[0].numerator, ts[0].denominator, ts[0].time) == (*signature, 0.0)
    # a bar in the file lasts what the song's grid says it does
    bar_s = signature[0] * 60.0 / bpm
    ticks_per_bar = signature[0] * pm.resolution * 4 // signature[1]
    assert abs(pm.tick_to_time(60 * ticks_per_bar) - 60 * bar_s) < 0.001


def test_markers_are_sorted_and_the_title_is_the_track_name():
    midi = song_midi(bpm=100.0, time_signature=(4, 4), sections=[("b", 10.0), ("a", 0.0)], total_duration_s=20.0,
                     title="My song")
    names = [m.name for m in midi.tracks[0] if m.type == "track_name"]
    assert names == ["My song"]
    assert [m.text for m in midi.tracks[0] if m.type == "marker"] == ["a", "b"]
    assert midi.tracks[0][-1].type == "end_of_track"


def test_write_replaces_the_file_atomically(tmp_path):
    path = tmp_path / "song.mid"
    path.write_bytes(b"old")
    write_song_midi(path, bpm=90.0, time_signature=(4, 4), sections=[("verse", 0.0)], total_duration_s=5.0)
    assert path.read_bytes()[:4] == b"MThd"
    assert [p.name for p in tmp_path.iterdir()] == ["song.mid"]


@pytest.mark.parametrize("kwargs", [
    dict(bpm=0.0), dict(bpm=float("nan")), dict(time_signature=(4, 3)), dict(time_signature=(0, 4)),
    dict(total_duration_s=-1.0), dict(sections=[("late", 31.0)]),
])
def test_bad_arguments_are_refused(kwargs):
    args = dict(bpm=120.0, time_signature=(4, 4), sections=[("verse", 0.0)], total_duration_s=30.0) | kwargs
    with pytest.raises(ValueError):
        song_midi(**args)


@pytest.mark.parametrize("signature, clocks", [
    ((4, 4), 24), ((3, 4), 24), ((2, 2), 24), ((3, 8), 24), ((7, 8), 24),
    ((6, 8), 36), ((9, 8), 36), ((12, 8), 36), ((6, 16), 18), ((12, 16), 18),
])
def test_compound_metres_click_once_per_dotted_pulse(tmp_path, signature, clocks):
    path = write_song_midi(tmp_path / "song.mid", bpm=120.0, time_signature=signature, sections=[("a", 0.0)],
                           total_duration_s=10.0)
    meters = [m for m in mido.MidiFile(path, charset=CHARSET).tracks[0] if m.type == "time_signature"]
    assert [(m.numerator, m.denominator, m.clocks_per_click) for m in meters] == [(*signature, clocks)]


def test_song_folder_midi_is_named_after_the_song(tmp_path):
    outline = parse_outline("title: Jig in the Rain\nbpm: 180\ntime_signature: '6/8'\n"
                            "sections:\n  intro: {bars: 1, prompt: x}\n  jig: {bars: 2, prompt: y}\n",
                            source="song.yaml")
    plan = plan_song(outline, sample_rate_hz=22050, max_clip_s=5.0)
    song = RenderedSong(audio=np.zeros(plan.total_samples, dtype=np.float32), clip_keys=("0" * 32,) * len(plan.clips),
                        clip_gains_db=(0.0,) * len(plan.clips), rendered=(), retried_seeds={})
    write_song_files(tmp_path, plan, song, {"backend": {"name": "test"}, "take": 1})
    track = mido.MidiFile(tmp_path / "song.mid", charset=CHARSET).tracks[0]
    assert [m.name for m in track if m.type == "track_name"] == ["Jig in the Rain"]
    assert [m.text for m in track if m.type == "marker"] == ["intro", "jig"]
    assert [m.clocks_per_click for m in track if m.type == "time_signature"] == [36]


@pytest.mark.parametrize("bpm, signature", [(240.0, (4, 4)), (480.0, (7, 8)), (1920.0, (7, 32)), (239.0, (5, 4))])
def test_an_hour_at_the_fastest_tempi_still_loads_in_pretty_midi(tmp_path, bpm, signature):
    """pretty_midi refuses files past 10**7 ticks; at 960 per quarter an hour at 240 qpm has 13.8 M."""
    sections = [("a", 0.0), ("b", 900.0), ("a", 1800.0), ("b", 2700.0)]
    path = write_song_midi(tmp_path / "song.mid", bpm=bpm, time_signature=signature, sections=sections,
                           total_duration_s=3600.0)
    pm = pretty_midi.PrettyMIDI(str(path))
    assert pm.resolution == 480
    back = mido.MidiFile(path, charset=CHARSET)
    assert np.max(np.abs(np.array([t for _, t in _markers_s(back)]) - [t for _, t in sections])) < 0.001
    assert abs(back.length - 3600.0) < 0.001


def test_a_three_minute_song_keeps_960_ticks_per_quarter():
    midi = song_midi(bpm=240.0, time_signature=(4, 4), sections=[("a", 0.0)], total_duration_s=180.0)
    assert midi.ticks_per_beat == 960
