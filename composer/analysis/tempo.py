"""Tempo and beat-grid adherence of rendered audio (librosa beat tracker, mir_eval beat F-measure)."""

from __future__ import annotations

from dataclasses import dataclass

import librosa
import mir_eval
import numpy as np

#: hop of the onset envelope, seconds: tempo is read off autocorrelation lags, so a coarse hop
#: quantises it (512 samples at 22.05 kHz is +/-2 % at 120 bpm); 4 ms keeps that under 0.5 %
HOP_S = 0.004


def hop_samples(*, sample_rate_hz: int) -> int:
    return max(1, round(HOP_S * sample_rate_hz))


@dataclass(frozen=True)
class TempoWindow:
    """Tempo estimate of one analysis window."""

    # window start and end, seconds
    start_s: float
    end_s: float
    # estimated tempo, bpm
    bpm: float
    # relative error against the planned bpm (0.01 = 1 %)
    error: float
    # True when off by a factor 2 or 1/2 but otherwise within tolerance (half/double time)
    octave_error: bool


def onset_envelope(audio: np.ndarray, *, sample_rate_hz: int) -> np.ndarray:
    return librosa.onset.onset_strength(y=audio.astype(np.float32), sr=sample_rate_hz,
                                        hop_length=hop_samples(sample_rate_hz=sample_rate_hz))


def track_beats_s(audio: np.ndarray, *, sample_rate_hz: int, bpm_hint: float) -> tuple[float, np.ndarray]:
    """(global tempo, beat times in seconds) from librosa's dynamic-programming tracker.

    The global tempo is 60 / the median interval between tracked beats, which is
    finer than the tracker's own lag-quantised estimate.
    """
    envelope = onset_envelope(audio, sample_rate_hz=sample_rate_hz)
    tempo, beats = librosa.beat.beat_track(onset_envelope=envelope, sr=sample_rate_hz,
                                           hop_length=hop_samples(sample_rate_hz=sample_rate_hz), start_bpm=bpm_hint,
                                           units="time")
    beats = np.asarray(beats, dtype=np.float64)
    if beats.size >= 3:
        return 60.0 / float(np.median(np.diff(beats))), beats
    return float(np.atleast_1d(tempo)[0]), beats


def windowed_tempo(audio: np.ndarray, *, sample_rate_hz: int, planned_bpm: float, window_s: float = 10.0,
                   tolerance: float = 0.02) -> list[TempoWindow]:
    """Tempo of consecutive ``window_s`` windows (the last partial window is kept if >= half a window)."""
    envelope = onset_envelope(audio, sample_rate_hz=sample_rate_hz)
    hop = hop_samples(sample_rate_hz=sample_rate_hz)
    frames_per_window = int(round(window_s * sample_rate_hz / hop))
    windows = []
    for start in range(0, envelope.size, frames_per_window):
        chunk = envelope[start:start + frames_per_window]
        if chunk.size < frames_per_window // 2:
            break
        tempo = float(librosa.feature.tempo(onset_envelope=chunk, sr=sample_rate_hz, hop_length=hop,
                                            start_bpm=planned_bpm, max_tempo=480.0)[0])
        error = (tempo - planned_bpm) / planned_bpm
        octave = any(abs(tempo * f - planned_bpm) / planned_bpm <= tolerance for f in (0.5, 2.0))
        windows.append(TempoWindow(
            start_s=start * hop / sample_rate_hz,
            end_s=(start + chunk.size) * hop / sample_rate_hz,
            bpm=tempo, error=error, octave_error=octave and abs(error) > tolerance,
        ))
    return windows


def beat_f_measure(*, tracked_s: np.ndarray, planned_s: np.ndarray, window_s: float = 0.07) -> float:
    """mir_eval beat F-measure of tracked beats against the planned grid (first 5 s not skipped)."""
    if tracked_s.size == 0 or planned_s.size == 0:
        return 0.0
    return float(mir_eval.beat.f_measure(planned_s, tracked_s, f_measure_threshold=window_s))
