"""Riffusion-style spectrogram codec: audio <-> mel image <-> audio.

``SpectrogramParams`` and the frame arithmetic import without torch (the
planner uses them); the torch/PIL parts load on first access.
"""

from __future__ import annotations

from typing import Any

from composer.codec.params import SpectrogramParams, frames_for_samples, samples_for_frames

_LAZY = {
    "SpectrogramCodec": "composer.codec.codec",
    "image_params": "composer.codec.image",
    "save_image": "composer.codec.image",
}

__all__ = ["SpectrogramParams", "frames_for_samples", "samples_for_frames", *_LAZY]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'composer.codec' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_LAZY[name]), name)
