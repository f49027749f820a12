"""Tempo and beat-grid adherence of rendered audio (librosa beat tracker, mir_eval beat F-measure)."""

from __future__ import annotations

from dataclasses import dataclass

import librosa
import mir_eval
import numpy as np

#: hop of the onset envelope, seconds: tempo is read off autocorrelation lags, so a coarse hop
#: quantises it (512 samples at 22.05 kHz is +/-2 % at 120 bpm); 4 ms keeps that under 0.5 %
HOP_S = 0.004
#: a window's pulse strength (the onset envelope's autocorrelation at the tempo it reads, slow swells
#: removed) must reach this for its tempo to count: on noise, sustained chords and slow swells it stayed
#: at or below 0.12, where a tracker reads its prior (the planned tempo) back; rendered songs measured 0.24-0.98
MIN_PULSE_STRENGTH = 0.2


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
    # onset-envelope autocorrelation at this window's tempo (0 none, 1 a click track)
    pulse_strength: float
    # which level of the metre the tempo matched: "beat" (the time signature's beat unit), "pulse" (the felt
    # pulse of a compound metre: the dotted quarter of 6/8), or None (no match, or no pulse)
    level: str | None


def onset_envelope(audio: np.ndarray, *, sample_rate_hz: int) -> np.ndarray:
    return librosa.onset.onset_strength(y=audio.astype(np.float32), sr=sample_rate_hz,
                                        hop_length=hop_samples(sample_rate_hz=sample_rate_hz))


def fastest_readable_bpm(planned_bpm: float) -> float:
    """Upper bound of the tempo estimate: librosa's 320 bpm, or twice the planned tempo where that is faster
    (a 12/8 at 360 counts eighths at 360; capped at 320 the tracker could only follow every other one)."""
    return max(320.0, 2.0 * planned_bpm)


def track_beats_s(audio: np.ndarray, *, sample_rate_hz: int, bpm_hint: float) -> tuple[float, np.ndarray]:
    """(global tempo, beat times in seconds) from librosa's dynamic-programming tracker.

    The global tempo is 60 / the median interval between tracked beats, which is
    finer than the tracker's own lag-quantised estimate.
    """
    envelope = onset_envelope(audio, sample_rate_hz=sample_rate_hz)
    hop = hop_samples(sample_rate_hz=sample_rate_hz)
    # beat_track would estimate the tempo itself with max_tempo=320
    estimate = float(librosa.feature.tempo(onset_envelope=envelope, sr=sample_rate_hz, hop_length=hop,
                                           start_bpm=bpm_hint, max_tempo=fastest_readable_bpm(bpm_hint))[0])
    tempo, beats = librosa.beat.beat_track(onset_envelope=envelope, sr=sample_rate_hz, hop_length=hop,
                                           bpm=estimate, units="time")
    beats = np.asarray(beats, dtype=np.float64)
    if beats.size >= 3:
        return 60.0 / float(np.median(np.diff(beats))), beats
    return float(np.atleast_1d(tempo)[0]), beats


def pulse_strength(envelope: np.ndarray, *, bpm: float, sample_rate_hz: int) -> float:
    """Normalised autocorrelation of an onset envelope at one beat period (best of +/- 2 frames).

    A moving average over one period is taken off first: it keeps a pulse of that
    period whole and removes slow swells, which correlate at every short lag. An
    envelope that never moves (silence, a steady tone) has no pulse: 0.
    """
    hop = hop_samples(sample_rate_hz=sample_rate_hz)
    lag = int(round(60.0 / bpm * sample_rate_hz / hop)) if bpm > 0 else 0
    if lag < 1 or envelope.size < 2 * (lag + 2) or envelope.std() < 0.01:
        return 0.0
    detrended = envelope - np.convolve(envelope, np.ones(lag) / lag, mode="same")
    energy = float(detrended @ detrended)
    if energy <= 0.0:
        return 0.0
    n = detrended.size
    return max(float(detrended[:-k] @ detrended[k:]) / energy * n / (n - k) for k in range(max(lag - 2, 1), lag + 3))


def strongest_pulse(audio: np.ndarray, *, bpms: list[float], sample_rate_hz: int) -> float | None:
    """The clearest pulse (``pulse_strength``) of ``audio`` at any of ``bpms``; None when the audio is too short
    to hold two periods of the slowest, so its pulse cannot be told."""
    envelope = onset_envelope(audio, sample_rate_hz=sample_rate_hz)
    hop = hop_samples(sample_rate_hz=sample_rate_hz)
    usable = [bpm for bpm in bpms if bpm > 0]
    if not usable or envelope.size < 2 * (round(60.0 / min(usable) * sample_rate_hz / hop) + 2):
        return None
    return max(pulse_strength(envelope, bpm=bpm, sample_rate_hz=sample_rate_hz) for bpm in usable)


def windowed_tempo(audio: np.ndarray, *, sample_rate_hz: int, planned_bpm: float, pulse_bpm: float | None = None,
                   window_s: float = 10.0, tolerance: float = 0.02) -> list[TempoWindow]:
    """Tempo of consecutive ``window_s`` windows (the last partial window is kept if >= half a window).

    ``pulse_bpm`` is a second accepted level (the felt pulse of a compound metre).
    A window's ``error`` is against the level it matched, or against the planned
    tempo when it matched none.
    """
    envelope = onset_envelope(audio, sample_rate_hz=sample_rate_hz)
    hop = hop_samples(sample_rate_hz=sample_rate_hz)
    frames_per_window = int(round(window_s * sample_rate_hz / hop))
    levels = {"beat": planned_bpm, **({"pulse": pulse_bpm} if pulse_bpm else {})}
    windows = []
    for start in range(0, envelope.size, frames_per_window):
        chunk = envelope[start:start + frames_per_window]
        if chunk.size < frames_per_window // 2:
            break
        # the tracker leans towards the tempo it starts from, so each level gets its own start. A reading that
        # matches a level with a pulse wins; among equals the clearer pulse does (a periodic envelope correlates
        # at least as well at twice its period, so strength alone would prefer a slower, wrong reading)
        readings = [float(librosa.feature.tempo(onset_envelope=chunk, sr=sample_rate_hz, hop_length=hop,
                                                start_bpm=start_bpm, max_tempo=fastest_readable_bpm(planned_bpm))[0])
                    for start_bpm in levels.values()]

        def reading_rank(bpm: float) -> tuple[bool, float]:
            strength = pulse_strength(chunk, bpm=bpm, sample_rate_hz=sample_rate_hz)
            fits = any(abs(bpm - target) / target <= tolerance for target in levels.values())
            return fits and strength >= MIN_PULSE_STRENGTH, strength

        tempo = max(readings, key=reading_rank)
        strength = reading_rank(tempo)[1]
        errors = {name: (tempo - target) / target for name, target in levels.items()}
        level = min(errors, key=lambda name: abs(errors[name]))
        matched = abs(errors[level]) <= tolerance and strength >= MIN_PULSE_STRENGTH
        error = errors[level] if matched else errors["beat"]
        octave = any(abs(tempo * f - planned_bpm) / planned_bpm <= tolerance for f in (0.5, 2.0))
        windows.append(TempoWindow(
            start_s=start * hop / sample_rate_hz,
            end_s=(start + chunk.size) * hop / sample_rate_hz,
            bpm=tempo, error=error, octave_error=octave and not matched, pulse_strength=strength,
            level=level if matched else None,
        ))
    return windows


def beat_f_measure(*, tracked_s: np.ndarray, planned_s: np.ndarray, window_s: float = 0.07) -> float:
    """mir_eval beat F-measure of tracked beats against the planned grid (first 5 s not skipped)."""
    if tracked_s.size == 0 or planned_s.size == 0:
        return 0.0
    return float(mir_eval.beat.f_measure(planned_s, tracked_s, f_measure_threshold=window_s))
