"""Pure measures behind the model evaluation: clip features, Frechet distance, tempo outcomes, accuracy.

Numpy and scipy only; the classifier lives in ``eval_classifier`` and the command in ``evaluate``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import scipy.linalg

#: tempi (bpm) at which the onset autocorrelation is sampled: the rhythm part of the features
RHYTHM_BPMS = np.geomspace(40.0, 320.0, 48)
#: tempo outcomes, in report order
TEMPO_OUTCOMES = ("hit", "half_time", "double_time", "miss")


def mel_features(mel: np.ndarray, *, frames_per_minute: float) -> np.ndarray:
    """Summary features of one mel magnitude clip [n_mels, frames]: 3 * n_mels + 48 floats.

    Per band: mean and spread of the log mel (timbre, level-free: the clip's mean log is removed,
    since generated clips come out at other levels), mean positive flux (which bands carry the
    attacks); then the onset-envelope autocorrelation at ``RHYTHM_BPMS`` (tempo and metre).
    ``frames_per_minute`` is 60 * sample rate / hop.
    """
    mel = np.asarray(mel, dtype=np.float64)
    floor = 1e-4 * float(mel.max()) + 1e-12  # 80 dB below the clip's peak: ignore what is inaudible
    log_mel = np.log(mel + floor)
    log_mel -= log_mel.mean()
    flux = np.maximum(np.diff(log_mel, axis=1), 0.0)
    envelope = flux.mean(axis=0) - flux.mean()
    autocorrelation = np.correlate(envelope, envelope, mode="full")[envelope.size - 1:]
    autocorrelation = autocorrelation / (autocorrelation[0] + 1e-12)
    lags = frames_per_minute / RHYTHM_BPMS
    rhythm = np.interp(lags, np.arange(autocorrelation.size), autocorrelation, right=0.0)
    return np.concatenate([log_mel.mean(axis=1), log_mel.std(axis=1), flux.mean(axis=1), rhythm])


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Frechet distance between Gaussians fitted to two sets of embeddings [n, dim] (as in FID)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or min(len(a), len(b)) < 2:
        raise ValueError(f"need two [n >= 2, dim] arrays of the same dim, got {a.shape} and {b.shape}")
    mean_a, mean_b = a.mean(axis=0), b.mean(axis=0)
    cov_a, cov_b = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    root = scipy.linalg.sqrtm(cov_a @ cov_b)
    if not np.all(np.isfinite(root)):  # singular product: nudge both covariances (standard FID fix)
        eps = 1e-6 * np.eye(cov_a.shape[0])
        root = scipy.linalg.sqrtm((cov_a + eps) @ (cov_b + eps))
    trace = np.trace(cov_a) + np.trace(cov_b) - 2.0 * float(np.real(np.trace(root)))
    return float(np.sum((mean_a - mean_b) ** 2) + max(trace, 0.0))


def tempo_outcome(tracked_bpm: float, *, target_bpm: float, tolerance: float = 0.03) -> str:
    """'hit' within ``tolerance`` of the target, 'half_time' / 'double_time' within it of half / twice it, else 'miss'."""
    if not np.isfinite(tracked_bpm) or tracked_bpm <= 0:
        return "miss"
    for outcome, factor in (("hit", 1.0), ("half_time", 0.5), ("double_time", 2.0)):
        if abs(tracked_bpm - factor * target_bpm) <= tolerance * factor * target_bpm:
            return outcome
    return "miss"


@dataclass(frozen=True)
class TempoTally:
    """How many clips were tracked at their target tempo."""

    # clips tracked
    clips: int
    # clips tracked within the tolerance of the target bpm (the only ones that count)
    hits: int
    # clips tracked at half the target bpm (within the tolerance), not hits
    half_time: int
    # clips tracked at twice the target bpm (within the tolerance), not hits
    double_time: int
    # all other clips
    misses: int
    # hits / clips (0 when there are no clips)
    hit_rate: float


def tally_tempo(outcomes: Sequence[str]) -> TempoTally:
    counts = Counter(outcomes)
    unknown = set(counts) - set(TEMPO_OUTCOMES)
    if unknown:
        raise ValueError(f"unknown tempo outcome(s) {sorted(unknown)}")
    clips = len(outcomes)
    return TempoTally(clips=clips, hits=counts["hit"], half_time=counts["half_time"],
                      double_time=counts["double_time"], misses=counts["miss"],
                      hit_rate=counts["hit"] / clips if clips else 0.0)


def accuracy(predicted: Sequence[str], truth: Sequence[str]) -> float:
    if len(predicted) != len(truth) or not truth:
        raise ValueError(f"need equally long, non-empty label lists, got {len(predicted)} and {len(truth)}")
    return float(np.mean([p == t for p, t in zip(predicted, truth)]))


def majority_chance(train_labels: Sequence[str], test_labels: Sequence[str]) -> float:
    """Accuracy on ``test_labels`` of always answering the most common training label."""
    most_common = Counter(train_labels).most_common(1)[0][0]
    return accuracy([most_common] * len(test_labels), test_labels)
