"""Loudness of clips, so a song keeps one level instead of peak-normalising clip by clip."""

from __future__ import annotations

import numpy as np

#: below this level a clip is treated as silent and not boosted
SILENCE_DB = -70.0


def rms_db(audio: np.ndarray) -> float:
    """RMS level in dBFS (a full-scale sine is -3 dB); -inf-safe."""
    if audio.size == 0:
        return SILENCE_DB
    power = float(np.mean(np.square(audio, dtype=np.float64)))
    return 10.0 * np.log10(max(power, 1e-14))


def gain_to_target_db(audio: np.ndarray, *, target_db: float, max_boost_db: float = 24.0) -> float:
    """Gain (dB) that brings ``audio`` to ``target_db`` RMS; silence is left alone."""
    level = rms_db(audio)
    if level <= SILENCE_DB:
        return 0.0
    return float(np.clip(target_db - level, -60.0, max_boost_db))


def soft_limit(audio: np.ndarray, *, threshold: float = 0.9) -> np.ndarray:
    """Pointwise soft clipper: identity below ``threshold``, smooth approach to 1.0 above.

    Pointwise on purpose: a song-wide limiter would let one regenerated section
    change samples everywhere.
    """
    over = np.flatnonzero(np.abs(audio) > threshold)
    if over.size == 0:
        return audio
    headroom = 1.0 - threshold
    # computed on the peaks only: a whole-song temporary per step cost gigabytes on an hour-long song
    peaks = audio[over]
    out = audio.copy()
    out[over] = np.sign(peaks) * (threshold + headroom * np.tanh((np.abs(peaks) - threshold) / headroom))
    return out


def trend_corrections_db(levels_db: np.ndarray, *, positions: np.ndarray, weights: np.ndarray,
                         fitted: np.ndarray | None = None, max_correction_db: float = 6.0) -> np.ndarray:
    """Per-clip gains (dB) that move each level onto the weighted straight-line trend of the ``fitted`` ones.

    Clips of one section rendered from different seeds come out several dB
    apart; a straight line through their levels keeps what the arrangement
    meant (a steady fade-out, a rising build) and removes the seed-to-seed
    scatter around it, so joints inside a section do not step in level.
    ``fitted`` (default: all) marks the clips that define the line; the others
    are moved onto it without moving it, so re-rendering them never changes
    another clip's gain. Fewer than three fitted clips define no trend beyond
    their own levels: nothing moves. Silent clips (``SILENCE_DB`` or below)
    neither count nor move. Corrections are clipped to +/- ``max_correction_db``.
    """
    levels = np.asarray(levels_db, dtype=np.float64)
    corrections = np.zeros_like(levels)
    voiced = levels > SILENCE_DB
    fit = voiced if fitted is None else voiced & np.asarray(fitted, dtype=bool)
    if fit.sum() < 3:
        return corrections
    x = np.asarray(positions, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    slope, intercept = np.polyfit(x[fit], levels[fit], deg=1, w=np.sqrt(w[fit]))  # polyfit squares its weights
    corrections[voiced] = np.clip(slope * x[voiced] + intercept - levels[voiced], -max_correction_db,
                                  max_correction_db)
    return corrections
