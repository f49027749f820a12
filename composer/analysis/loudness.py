"""Integrated loudness (ITU-R BS.1770 via pyloudnorm) per section."""

from __future__ import annotations

import numpy as np
import pyloudnorm

#: pyloudnorm's gating needs at least one 400 ms block
MIN_BLOCK_S = 0.4


def integrated_lufs(audio: np.ndarray, *, sample_rate_hz: int) -> float:
    """Integrated loudness in LUFS; -inf-safe (returns -70 for silence or very short audio)."""
    if audio.size < MIN_BLOCK_S * sample_rate_hz:
        return -70.0
    value = pyloudnorm.Meter(sample_rate_hz).integrated_loudness(audio.astype(np.float64))
    return float(value) if np.isfinite(value) else -70.0
