"""`composer evaluate` at the edges an audit of session 10 found: tempi above 320, steady tones, readings of a
compound metre, short sections between loud ones, boundaries one bar off, and a silent first beat."""

from __future__ import annotations

import numpy as np
import pytest

from composer.backends.base import ClipRequest, SpectrogramBackend
from composer.evaluation import evaluate_song
from composer.song import render_outline

RATE = 22050


def clicks(times_s: np.ndarray, duration_s: float, *, accents_s: np.ndarray = np.array([])) -> np.ndarray:
    audio = np.zeros(int(round(duration_s * RATE)))
    click = np.exp(-np.arange(220) / 40.0) * np.sin(2 * np.pi * 1000 * np.arange(220) / RATE)
    for t, level in [*((t, 0.15) for t in times_s), *((t, 0.5) for t in accents_s)]:
        start = int(round(t * RATE))
        audio[start:start + 220] += level * click[:max(0, audio.size - start)]
    return audio.astype(np.float32)


@pytest.mark.parametrize("bpm, pulse_every", [(360, 3), (480, 3), (400, 1)])
def test_beats_faster_than_320_a_minute_are_tracked(bpm, pulse_every):
    from composer.analysis.tempo import beat_f_measure, track_beats_s, windowed_tempo

    beats = np.arange(0, 30, 60 / bpm)
    audio = clicks(beats, 30.0, accents_s=beats[::pulse_every])
    tempo, tracked = track_beats_s(audio, sample_rate_hz=RATE, bpm_hint=bpm)
    assert abs(tempo - bpm) / bpm < 0.02  # librosa's own estimate stops at 320: it followed every other beat
    assert beat_f_measure(tracked_s=tracked, planned_s=beats) > 0.9
    windows = windowed_tempo(audio, sample_rate_hz=RATE, planned_bpm=bpm,
                             pulse_bpm=bpm / pulse_every if pulse_every > 1 else None)
    assert all(w.level is not None for w in windows)


def test_a_reading_on_a_level_wins_over_a_clearer_one_off_it():
    """6/8 at 180, even eighths: the window started at the felt pulse reads 90 with a clearer pulse than the
    correct 180; it matches neither level, so the 180 reading counts."""
    from composer.analysis.tempo import windowed_tempo

    audio = clicks(np.arange(0, 30, 1 / 3), 30.0)
    windows = windowed_tempo(audio, sample_rate_hz=RATE, planned_bpm=180.0, pulse_bpm=60.0)
    assert [w.level for w in windows] == ["beat"] * 3


def test_boundaries_one_bar_off_count_either_way():
    from composer.analysis.structure import boundary_f_measure

    bar_s = 60 / 112 * 4  # not a round number of seconds: the window's edge falls between float values
    planned = np.array([0, 8, 16]) * bar_s
    for which in (1, 2):
        for shift in (-1, 1):
            estimated = planned.copy()
            estimated[which] += shift * bar_s
            assert boundary_f_measure(planned_s=planned, estimated_s=estimated, duration_s=24 * bar_s,
                                      window_s=bar_s) == 1.0
            estimated[which] += shift * 0.01 * bar_s  # just outside
            assert boundary_f_measure(planned_s=planned, estimated_s=estimated, duration_s=24 * bar_s,
                                      window_s=bar_s) == 0.5


def test_a_steady_tone_has_no_boundaries():
    from composer.analysis.structure import estimate_form

    t = np.arange(32 * RATE) / RATE
    for audio in (0.3 * np.sin(2 * np.pi * 440 * t), 0.1 * sum(np.sin(2 * np.pi * f * t) for f in (262, 330, 392))):
        found = estimate_form(audio.astype(np.float32), sample_rate_hz=RATE, count=3, bar_s=2.0)
        np.testing.assert_array_equal(found.boundaries_s, [0.0])  # was [0, 2, 30]: the edge bars, whatever the form
    step = np.where(t < 8, 1.0, 0.5) * np.sin(2 * np.pi * 440 * t)  # a 6-dB step is a boundary
    found = estimate_form(step.astype(np.float32), sample_rate_hz=RATE, count=2, bar_s=2.0)
    assert found.boundaries_s.tolist() == [0.0, 8.0] and found.p_value < 0.05


def test_a_silent_first_beat_does_not_hide_a_dropout():
    from composer.analysis.seams import seam_scores

    beat = int(0.5 * RATE)
    n = 32 * beat
    t = np.arange(n) / RATE
    pad = 0.1 * np.sin(2 * np.pi * 220 * t) * (np.arange(n) >= beat)  # the pad enters on beat 2
    audio = pad + clicks(np.arange(32) * 0.5, n / RATE)
    joint = 8 * beat
    audio[joint - 110:joint + 110] = 0.0  # a 10-ms dropout
    beats = np.arange(32) * beat
    (score,) = seam_scores(audio, joint_samples=[joint], neighbourhood=[(0, n)], within_section=[True],
                           bar_samples=beats[::4], beat_samples=beats, sample_rate_hz=RATE)
    assert score.flagged and score.gap_db < -40.0


class ToneBackend(SpectrogramBackend):
    """Test double: a steady tone (a prompt 'quiet' is 30 dB down), whatever the groove."""

    name = "tone"

    @property
    def sample_rate_hz(self) -> int:
        return RATE

    def describe(self):
        return {"name": self.name}

    def render(self, requests: list[ClipRequest]) -> list[np.ndarray]:
        return [(0.3 * np.sin(2 * np.pi * 440 * np.arange(r.num_samples) / RATE)).astype(np.float32)
                for r in requests]


def test_a_steady_tone_scores_no_beats(tmp_path):
    """Seeded with the planned tempo, librosa lays beats on the grid over a steady tone (beat F 0.98)."""
    (tmp_path / "song.yaml").write_text("bpm: 120\nseed: 1\ngroove_style: rock\nsections:\n"
                                        "  a: {bars: 4, prompt: a, groove: none}\n  b: {bars: 4, prompt: b, groove: none}\n")
    render_outline(tmp_path / "song.yaml", tmp_path / "song", ToneBackend(), model=None, device="cpu")
    report = evaluate_song(tmp_path / "song")
    assert report["beats"]["f_measure"] == 0.0 and report["beats"]["level"] is None
    assert report["beats"]["pulse_strength"] < 0.2
    assert [s["beat_f_measure"] for s in report["sections"]] == [0.0, 0.0]
    assert report["structure"]["estimated_boundaries_s"] == [0.0] and report["structure"]["form_p_value"] is None


def test_a_loudness_step_across_a_short_section_is_measured(tmp_path):
    """A 0.25-s section has no loudness; the sections on either side are compared across it, with the gain_db
    they ask for. Before, both pairs were dropped and the report said 0.0 dB."""
    (tmp_path / "song.yaml").write_text(
        "bpm: 240\ntime_signature: 1/4\nseed: 1\nrender: {crossfade_beats: 0.25}\nsections:\n"
        "  a: {bars: 16, prompt: a, groove: none}\n  p: {bars: 1, prompt: p, groove: none}\n"
        "  b: {bars: 16, prompt: b, groove: none, gain_db: -20}\n")
    render_outline(tmp_path / "song.yaml", tmp_path / "song", ToneBackend(), model=None, device="cpu")
    loudness = evaluate_song(tmp_path / "song")["loudness"]
    assert loudness["asked_jumps_db"] == [-20.0]
    assert loudness["max_jump_db"] == pytest.approx(20.0, abs=1.0)
    assert loudness["max_unasked_jump_db"] < 1.0

    (tmp_path / "one.yaml").write_text("bpm: 120\nsections:\n  a: {bars: 4, prompt: a, groove: none}\n")
    render_outline(tmp_path / "one.yaml", tmp_path / "one", ToneBackend(), model=None, device="cpu")
    one = evaluate_song(tmp_path / "one")["loudness"]
    assert one["max_jump_db"] is None and one["max_unasked_jump_db"] is None  # nothing to compare, not 0.0
