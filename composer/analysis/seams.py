"""How audible a joint is: spectral flux at the joint against the flux inside the sections around it."""

from __future__ import annotations

from dataclasses import dataclass

import librosa
import numpy as np

HOP_SAMPLES = 256
N_FFT = 2048


@dataclass(frozen=True)
class SeamScore:
    """One clip joint or section boundary."""

    # sample index of the joint on the song grid
    sample: int
    # flux at the joint / 95th percentile of flux at the beats of the neighbouring spans (<= 1: no seam)
    flux_ratio: float
    # largest absolute sample-to-sample step within +/- 5 ms of the joint
    max_step: float
    # the largest step found in the neighbouring spans (the local signal's own range of steps)
    local_max_step: float
    # True when either measure is above its threshold
    flagged: bool


def spectral_flux(audio: np.ndarray) -> np.ndarray:
    """Half-wave rectified flux of the log-magnitude STFT, one value per hop."""
    spectrum = np.log1p(np.abs(librosa.stft(audio.astype(np.float32), n_fft=N_FFT, hop_length=HOP_SAMPLES)))
    flux = np.maximum(np.diff(spectrum, axis=1), 0.0).sum(axis=0)
    return np.concatenate([[0.0], flux])


def seam_scores(audio: np.ndarray, *, joint_samples: list[int], neighbourhood: list[tuple[int, int]],
                beat_samples: np.ndarray, sample_rate_hz: int) -> list[SeamScore]:
    """Score every joint against the onsets at the beats of its neighbourhood.

    Joints sit on bar lines, where the music itself usually has its strongest
    onsets (kick, crash), so the reference is the flux at the other beats of the
    sections around the joint (``neighbourhood[i]``, a [start, end) span), not at
    arbitrary frames: a joint scores above 1 only if it is louder in spectral
    change than 95 % of the beats around it.
    """
    flux = spectral_flux(audio)
    guard = max(1, int(0.005 * sample_rate_hz))
    scores = []
    for joint, (lo, hi) in zip(joint_samples, neighbourhood):
        frame = int(round(joint / HOP_SAMPLES))
        near = flux[max(frame - 1, 0):frame + 2]
        beats = beat_samples[(beat_samples >= lo) & (beat_samples < hi) & (np.abs(beat_samples - joint) > guard)]
        reference_frames = np.array([flux[max(int(round(b / HOP_SAMPLES)) - 1, 0):int(round(b / HOP_SAMPLES)) + 2].max()
                                     for b in beats if int(round(b / HOP_SAMPLES)) < flux.size])
        reference = float(np.percentile(reference_frames, 95)) if reference_frames.size else float(near.max())
        steps = np.abs(np.diff(audio[max(joint - guard, 0):joint + guard].astype(np.float64)))
        local = np.abs(np.diff(np.r_[audio[lo:max(joint - guard, lo)], audio[joint + guard:hi]].astype(np.float64)))
        max_step = float(steps.max()) if steps.size else 0.0
        local_max = float(local.max()) if local.size else max_step
        ratio = float(near.max() / reference) if reference > 0 else 0.0
        scores.append(SeamScore(sample=joint, flux_ratio=ratio, max_step=max_step, local_max_step=local_max,
                                flagged=ratio > 1.0 or max_step > local_max))
    return scores
