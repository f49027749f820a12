"""Integrated loudness (ITU-R BS.1770 via pyloudnorm) per section."""

from __future__ import annotations

import numpy as np
import pyloudnorm

#: pyloudnorm's gating needs at least one 400 ms block
MIN_BLOCK_S = 0.4


def integrated_lufs(audio: np.ndarray, *, sample_rate_hz: int) -> float | None:
    """Integrated loudness in LUFS: -70 for silence, None for audio shorter than one gating block
    (it has no integrated loudness; a made-up figure would count as a jump beside its neighbours)."""
    if audio.size < MIN_BLOCK_S * sample_rate_hz:
        return None
    value = pyloudnorm.Meter(sample_rate_hz).integrated_loudness(audio.astype(np.float64))
    return float(value) if np.isfinite(value) else -70.0
