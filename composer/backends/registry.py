"""Which backends exist, what each needs, and how to load one by name.

Static facts (sample rate, clip length) are known without loading weights, so
``composer plan`` stays instant.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from composer.backends.base import SpectrogramBackend
from composer.errors import BackendError


@dataclass(frozen=True)
class BackendInfo:
    """What a user needs to know to pick a backend."""

    # registry name used by --backend
    name: str
    # one line on what it is
    description: str
    # what it needs to run (weights, hardware)
    needs: str
    # sample rate of its audio
    sample_rate_hz: int
    # longest clip it renders well, seconds
    preferred_clip_s: float
    # False when it is random weights that make noise, not music
    makes_music: bool
    # scheduler steps when the outline does not say
    default_steps: int = 50


def builtin_weights_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "builtin_model" / "weights"


def builtin_available() -> bool:
    return (builtin_weights_dir() / "model_index.json").is_file()


def backend_infos() -> list[BackendInfo]:
    infos = [
        BackendInfo("riffusion", "Riffusion (Stable Diffusion 1.5 fine-tune) through diffusers img2img",
                    "--model PATH to a diffusers-format riffusion-model-v1 folder (about 2 GB) or a hub id "
                    "when online; a CUDA GPU (CPU works but takes minutes per clip)", 44100, 5.11, True),
        BackendInfo("tiny-random", "tiny random-weight pipeline of the Stable Diffusion classes; exercises "
                    "the whole path in seconds. It makes noise, not music", "nothing (built in code)",
                    44100, 5.11, False, default_steps=20),
    ]
    if builtin_available():
        from composer.backends.builtin import builtin_info

        infos.insert(0, builtin_info())
    return infos


def default_backend_name() -> str:
    return "builtin" if builtin_available() else "tiny-random"


def backend_info(name: str) -> BackendInfo:
    for info in backend_infos():
        if info.name == name:
            return info
    allowed = ", ".join(i.name for i in backend_infos())
    raise BackendError(f"unknown backend {name!r}; available: {allowed}")


def load_backend(name: str, *, model: Optional[str] = None, device: str = "auto") -> SpectrogramBackend:
    """Build a backend by registry name (weights are loaded here, not at import)."""
    backend_info(name)  # clear error for unknown names
    if name == "riffusion":
        if not model:
            raise BackendError("the riffusion backend needs --model PATH (a diffusers-format folder such as a "
                               "downloaded riffusion/riffusion-model-v1) or a hub id when online")
        from composer.backends.riffusion import RiffusionBackend

        return RiffusionBackend(model, device=device)
    if name == "tiny-random":
        from composer.backends.riffusion import TinyRandomBackend

        return TinyRandomBackend(device=device)
    from composer.backends.builtin import BuiltinBackend

    return BuiltinBackend(model or builtin_weights_dir(), device=device)
