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


def quiet_model_loading() -> None:
    """The CLI draws its own progress bars; transformers' per-weight bars would interleave with them."""
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()


def set_cpu_threads(threads: int) -> None:
    """Threads torch uses for CPU work in this process (bench --threads)."""
    import torch

    torch.set_num_threads(threads)


def load_backend(name: str, *, model: Optional[str] = None, device: str = "auto", compile: bool = False,
                 max_batch_size: Optional[int] = None, optimize: bool = True,
                 scheduler: str = "folder", codec_overrides: Optional[dict] = None,
                 precision: str = "auto") -> SpectrogramBackend:
    """Build a backend by registry name (weights are loaded here, not at import).

    ``max_batch_size`` (riffusion, tiny-random): clips of one shape per UNet call; by default
    ``CUDA_BATCH_SIZE`` on CUDA and 1 on a CPU (where a clip then never depends on which clips
    share its call). ``optimize``: CUDA layout/attention tweaks (off for the reference baseline).
    ``compile``: torch.compile the UNet. ``scheduler`` (riffusion, tiny-random): "folder" or "dpm++".
    ``codec_overrides`` (builtin): inversion settings to use instead of the model folder's (regenerate passes
    the ones a song was rendered with). ``precision`` (builtin): "auto", "float32" or "bfloat16", the dtype of
    its UNet and VAE (``composer.backends.precision``).
    """
    backend_info(name)  # clear error for unknown names
    if name != "builtin" and precision != "auto":
        raise BackendError(f"--precision {precision} applies to the builtin backend; the {name} backend runs "
                           "float16 on CUDA and float32 on a CPU")
    if name in ("riffusion", "tiny-random"):
        if max_batch_size is None:
            max_batch_size = CUDA_BATCH_SIZE if _on_cuda(device) else 1
        options = dict(device=device, max_batch_size=max_batch_size, optimize=optimize, compile=compile,
                       scheduler=scheduler)
    if name == "riffusion":
        if not model:
            raise BackendError("the riffusion backend needs --model PATH (a diffusers-format folder such as a "
                               "downloaded riffusion/riffusion-model-v1) or a hub id when online; "
                               f"'--model {SD15_RANDOM}' builds a random-weight Stable Diffusion 1.5-shaped "
                               "folder for timing")
        from composer.backends.riffusion import RiffusionBackend

        if model == SD15_RANDOM:
            from composer.backends.tiny_pipeline import ensure_tiny_pipeline_folder

            model = str(ensure_tiny_pipeline_folder(shape="sd15"))
        return RiffusionBackend(model, **options)
    if name == "tiny-random":
        if model:
            raise BackendError(f"the tiny-random backend builds its own model and takes no --model (got {model!r}); "
                               "use --backend riffusion --model PATH for a model folder")
        from composer.backends.riffusion import TinyRandomBackend

        return TinyRandomBackend(**options)
    if scheduler != "folder":
        raise BackendError(f"the {name} backend has one sampler; --scheduler {scheduler} applies to the riffusion "
                           "and tiny-random backends")
    from composer.backends.builtin import BuiltinBackend

    return BuiltinBackend(model or builtin_weights_dir(), device=device, compile=compile,
                          codec_overrides=codec_overrides, precision=precision)


#: clips per UNet call for the riffusion backends on CUDA (an SD 1.5 UNet at 64x64 latents, fp16)
CUDA_BATCH_SIZE = 32

#: ``--model`` value that builds (once, into the cache) a random-weight SD 1.5-shaped folder
SD15_RANDOM = "sd15-random"


def _on_cuda(device: str) -> bool:
    if device.startswith("cuda"):
        return True
    if device != "auto":
        return False
    import torch

    return torch.cuda.is_available()
