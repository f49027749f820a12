"""Does the audio show the planned form? Boundaries from self-similarity, and repeats that sound alike."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Optional

import librosa
import mir_eval
import numpy as np

HOP_SAMPLES = 512
#: a song whose inner bars spread less than this in every MFCC (about dB) and chroma (0-1) dimension is one
#: texture: silence or a steady tone measure 0, a chord 0.2 and 0.0, a 3-dB level step 5.7, the rendered
#: templates 166-274 and 0.5-0.9
FLAT_MFCC = 0.5
FLAT_CHROMA = 0.01
N_MFCC = 20
#: added to the boundary window so that its edge is inside it whatever the rounding (mir_eval's is 10 us)
EDGE_SLACK_S = 1e-4
#: random forms drawn to estimate chance boundary F
CHANCE_DRAWS = 500
#: shuffled bar orders the form's permutation test draws; with 199 the smallest p-value is 0.005
PERMUTATIONS = 199
#: the form target needs a permutation p-value below this
MAX_FORM_P_VALUE = 0.05


def raw_section_features(audio: np.ndarray, *, sample_rate_hz: int) -> np.ndarray:
    """Per-frame timbre + harmony features (MFCC, then chroma), shape (N_MFCC + 12, frames)."""
    y = audio.astype(np.float32)
    mfcc = librosa.feature.mfcc(y=y, sr=sample_rate_hz, n_mfcc=N_MFCC, hop_length=HOP_SAMPLES)
    with warnings.catch_warnings():  # silence has no pitch to estimate the tuning from; chroma is 0 then
        warnings.simplefilter("ignore", UserWarning)
        chroma = librosa.feature.chroma_stft(y=y, sr=sample_rate_hz, hop_length=HOP_SAMPLES)
    return np.vstack([mfcc, chroma])


def section_features(audio: np.ndarray, *, sample_rate_hz: int) -> np.ndarray:
    """``raw_section_features`` standardised per dimension, so timbre and harmony weigh alike."""
    return _standardised(raw_section_features(audio, sample_rate_hz=sample_rate_hz))


def _standardised(features: np.ndarray) -> np.ndarray:
    mean, std = features.mean(axis=1, keepdims=True), features.std(axis=1, keepdims=True) + 1e-8
    return (features - mean) / std


@dataclass(frozen=True)
class FormEstimate:
    """Where the audio changes, and how sure that it has a form at all."""

    # ``count`` segment starts in seconds, 0.0 first, on bar lines (only 0.0 when there is nothing to segment)
    boundaries_s: np.ndarray
    # share of the bar features' variance that the segments' means explain (R^2, 0-1); None without segments
    strength: Optional[float]
    # permutation test: share of shuffled bar orders (the song itself counted) whose segmentation explains as
    # much; small means the bars change in contiguous blocks, which noise or a texture without sections does
    # not. None without segments
    p_value: Optional[float]


def estimate_form(audio: np.ndarray, *, sample_rate_hz: int, count: int, bar_s: float,
                  seed: int = 0) -> FormEstimate:
    """``count`` segments from agglomerative clustering of bar-synchronous features, and their permutation test.

    Bars start at ``k * bar_s`` exactly (a rounded frames-per-bar step drifts by a
    frame every few bars), and only whole bars count: a partial bar at the end
    (the last few frames of the final fade) would otherwise look like a segment
    of its own.

    With two or three sections boundary F takes few values and a lucky split of
    noise scores 1.0, so F alone cannot tell a form from chance. The test asks
    whether the song's own bar order segments better than shuffled orders of the
    same bars (``PERMUTATIONS`` of them, drawn from ``seed``): a form does, noise
    does not.
    """
    nothing = FormEstimate(boundaries_s=np.array([0.0]), strength=None, p_value=None)
    raw = raw_section_features(audio, sample_rate_hz=sample_rate_hz)
    frames_per_bar = bar_s * sample_rate_hz / HOP_SAMPLES
    # counted from the samples: the frame count (1 + samples // hop) falls just short of the last bar
    whole_bars = int(np.floor(len(audio) / (bar_s * sample_rate_hz) + 1e-6))
    if whole_bars < 2 or count < 2:  # one bar (or less) holds one segment, and clustering needs two samples
        return nothing
    starts = np.round(np.arange(whole_bars + 1) * frames_per_bar).astype(int)

    def bar_means(features: np.ndarray) -> np.ndarray:
        return np.stack([features[:, a:max(b, a + 1)].mean(axis=1) for a, b in zip(starts[:-1], starts[1:])], axis=1)

    # the first and last bar always differ a little (their frames reach into the STFT's padding), so the
    # bars between them tell whether the song changes at all
    inner = bar_means(raw)[:, 1:-1] if whole_bars >= 4 else bar_means(raw)
    spread = np.ptp(inner, axis=1)
    if spread[:N_MFCC].max() < FLAT_MFCC and spread[N_MFCC:].max() < FLAT_CHROMA:
        # every bar alike (silence, a steady tone, a click track): no boundary to find. Judged in the features'
        # own units: standardising would blow rounding noise up to unit spread, and clustering would then pick
        # the edge bars or split anywhere
        return nothing
    bars = bar_means(_standardised(raw))
    k = min(count, bars.shape[1])
    first_bars = librosa.segment.agglomerative(bars, k)
    strength = _explained_variance(bars, first_bars)
    rng = np.random.default_rng(seed)
    shuffled = [bars[:, rng.permutation(bars.shape[1])] for _ in range(PERMUTATIONS)]
    as_strong = sum(_explained_variance(b, librosa.segment.agglomerative(b, k)) >= strength for b in shuffled)
    return FormEstimate(boundaries_s=np.asarray(first_bars, dtype=np.float64) * bar_s, strength=strength,
                        p_value=(1 + as_strong) / (1 + PERMUTATIONS))


def _explained_variance(bars: np.ndarray, first_bars: np.ndarray) -> float:
    """R^2 of contiguous segments starting at ``first_bars``: 1 - within-segment / total sum of squares."""
    edges = [*first_bars.tolist(), bars.shape[1]]
    within = sum(float(np.sum((bars[:, a:b] - bars[:, a:b].mean(axis=1, keepdims=True)) ** 2))
                 for a, b in zip(edges[:-1], edges[1:]))
    total = float(np.sum((bars - bars.mean(axis=1, keepdims=True)) ** 2))
    return 1.0 - within / total if total > 0 else 0.0


def boundary_f_measure(*, planned_s: np.ndarray, estimated_s: np.ndarray, duration_s: float,
                       window_s: float) -> float:
    """mir_eval boundary detection F-measure (interior boundaries only) within +/- ``window_s``, both ends
    included: estimates and plan lie on bar lines, so one a whole window off sits exactly on the edge, where
    rounding (mir_eval rounds boundaries to 10 us) would otherwise decide."""
    reference = _intervals(planned_s, duration_s)
    estimate = _intervals(estimated_s, duration_s)
    _, _, f_measure = mir_eval.segment.detection(reference, estimate, window=window_s + EDGE_SLACK_S, trim=True)
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
