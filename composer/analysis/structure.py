"""Does the audio show the planned form? Boundaries from self-similarity, and repeats that sound alike."""

from __future__ import annotations

import librosa
import mir_eval
import numpy as np

HOP_SAMPLES = 512
#: bar features (standardised) that spread less than this across the song are one texture
FLAT_FEATURES = 1e-3
#: random forms drawn to estimate chance boundary F
CHANCE_DRAWS = 500


def section_features(audio: np.ndarray, *, sample_rate_hz: int) -> np.ndarray:
    """Per-frame timbre + harmony features (standardised MFCC and chroma), shape (dims, frames)."""
    y = audio.astype(np.float32)
    mfcc = librosa.feature.mfcc(y=y, sr=sample_rate_hz, n_mfcc=20, hop_length=HOP_SAMPLES)
    chroma = librosa.feature.chroma_stft(y=y, sr=sample_rate_hz, hop_length=HOP_SAMPLES)
    features = np.vstack([mfcc, chroma])
    mean, std = features.mean(axis=1, keepdims=True), features.std(axis=1, keepdims=True) + 1e-8
    return (features - mean) / std


def estimated_boundaries_s(audio: np.ndarray, *, sample_rate_hz: int, count: int, bar_s: float) -> np.ndarray:
    """``count`` boundaries (including 0) from agglomerative clustering of bar-synchronous features.

    Bars start at ``k * bar_s`` exactly (a rounded frames-per-bar step drifts by a
    frame every few bars), and only whole bars count: a partial bar at the end
    (the last few frames of the final fade) would otherwise look like a segment
    of its own.
    """
    features = section_features(audio, sample_rate_hz=sample_rate_hz)
    frames_per_bar = bar_s * sample_rate_hz / HOP_SAMPLES
    # counted from the samples: the frame count (1 + samples // hop) falls just short of the last bar
    whole_bars = int(np.floor(len(audio) / (bar_s * sample_rate_hz) + 1e-6))
    if whole_bars < 2:  # one bar (or less) holds one segment, and clustering needs two samples
        return np.array([0.0])
    starts = np.round(np.arange(whole_bars + 1) * frames_per_bar).astype(int)
    bars = np.stack([features[:, a:max(b, a + 1)].mean(axis=1) for a, b in zip(starts[:-1], starts[1:])], axis=1)
    if float(np.ptp(bars, axis=1).max()) < FLAT_FEATURES:  # every bar alike (silence): no boundary to find;
        return np.array([0.0])  # clustering would split ties at arbitrary, often exactly the planned, bars
    k = max(1, min(count, bars.shape[1]))
    first_bars = librosa.segment.agglomerative(bars, k)
    return np.asarray(first_bars, dtype=np.float64) * bar_s


def boundary_f_measure(*, planned_s: np.ndarray, estimated_s: np.ndarray, duration_s: float,
                       window_s: float) -> float:
    """mir_eval boundary detection F-measure (interior boundaries only)."""
    reference = _intervals(planned_s, duration_s)
    estimate = _intervals(estimated_s, duration_s)
    _, _, f_measure = mir_eval.segment.detection(reference, estimate, window=window_s, trim=True)
    return float(f_measure)


def chance_boundary_f_measure(*, planned_s: np.ndarray, duration_s: float, bar_s: float, count: int,
                               window_s: float, seed: int = 0) -> float:
    """Mean boundary F of ``count - 1`` interior boundaries drawn at random bar lines: what the measure
    gives an estimate that knows the number of sections and the bar grid but not the music."""
    whole_bars = int(np.floor(duration_s / bar_s + 1e-6))
    interior = np.arange(1, whole_bars)
    if count < 2 or interior.size == 0:
        return 0.0
    rng = np.random.default_rng(seed)
    draws = [np.r_[0.0, np.sort(rng.choice(interior, size=min(count - 1, interior.size), replace=False)) * bar_s]
             for _ in range(CHANCE_DRAWS)]
    return float(np.mean([boundary_f_measure(planned_s=planned_s, estimated_s=d, duration_s=duration_s,
                                             window_s=window_s) for d in draws]))


def section_similarity(audio: np.ndarray, spans: list[tuple[str, int, int]], *,
                       sample_rate_hz: int) -> tuple[float, float]:
    """(mean cosine similarity of same-name sections, of different-name sections) of mean feature vectors."""
    features = section_features(audio, sample_rate_hz=sample_rate_hz)
    vectors = []
    for _, start, end in spans:
        lo, hi = start // HOP_SAMPLES, max(start // HOP_SAMPLES + 1, end // HOP_SAMPLES)
        segment = features[:, lo:hi]
        vectors.append(np.concatenate([segment.mean(axis=1), segment.std(axis=1)]))
    same, different = [], []
    for i in range(len(spans)):
        for j in range(i + 1, len(spans)):
            a, b = vectors[i], vectors[j]
            cosine = float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))
            (same if spans[i][0] == spans[j][0] else different).append(cosine)
    return (float(np.mean(same)) if same else float("nan"), float(np.mean(different)) if different else float("nan"))


def _intervals(boundaries_s: np.ndarray, duration_s: float) -> np.ndarray:
    points = np.unique(np.clip(np.r_[0.0, boundaries_s, duration_s], 0.0, duration_s))
    return np.stack([points[:-1], points[1:]], axis=1)
