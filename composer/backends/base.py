"""The one interface every spectrogram diffusion backend implements.

The planner and the renderer only ever talk to ``SpectrogramBackend``; the real
Riffusion checkpoint, the tiny random-weight pipeline and composer's built-in
model all sit behind it (audiocraft-style: one abstract model, many weights).
"""

from __future__ import annotations

import abc
import contextlib
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterator, Sequence

import numpy as np

from composer.errors import BackendError

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True, eq=False)
class ClipRequest:
    """Everything a backend needs to render one clip of audio."""

    # text prompt at alpha = 0 (the clip's own section)
    prompt_a: str
    # text prompt at alpha = 1 (the next section, for interpolation clips)
    prompt_b: str
    # interpolation position in [0, 1]: text embeddings lerped, noises slerped
    alpha: float
    # seed of the initial noise at alpha = 0
    seed_a: int
    # seed of the initial noise at alpha = 1
    seed_b: int
    # number of output samples at the backend's sample rate, exact
    num_samples: int
    # img2img strength in (0, 1]; 1.0 ignores the init audio entirely
    denoising: float = 0.75
    # classifier-free guidance scale
    guidance: float = 7.0
    # scheduler steps before strength is applied (riffusion default 50)
    steps: int = 50
    # negative prompt ('' for none)
    negative_prompt: str = ""
    # mono float32 init ("seed"/groove) audio at the backend's sample rate,
    # exactly num_samples long, or None for pure text-to-audio
    init_audio: np.ndarray | None = field(default=None, repr=False)
    # mono float32 audio the clip's first prefix_audio.size samples must reproduce and continue
    # (the tail of the previous clip of the same section), or None; only for backends whose
    # supports_continuation is True
    prefix_audio: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.num_samples <= 0:
            raise ValueError(f"num_samples must be positive, got {self.num_samples}")
        if not 0.0 <= self.alpha <= 1.0:
            raise ValueError(f"alpha must be in [0, 1], got {self.alpha}")
        if self.init_audio is not None and self.init_audio.shape != (self.num_samples,):
            raise ValueError(
                f"init_audio must have shape ({self.num_samples},), got {self.init_audio.shape}"
            )
        if self.prefix_audio is not None and (self.prefix_audio.ndim != 1
                                              or not 0 < self.prefix_audio.size < self.num_samples):
            raise ValueError(f"prefix_audio must be 1-D and shorter than the clip ({self.num_samples} samples), "
                             f"got shape {self.prefix_audio.shape}")


class SpectrogramBackend(abc.ABC):
    """A text-conditioned spectrogram diffusion model plus its codec."""

    #: short registry name ("riffusion", "builtin", "tiny-random")
    name: str = ""

    @property
    @abc.abstractmethod
    def sample_rate_hz(self) -> int:
        """Sample rate of the audio this backend returns."""

    @property
    def preferred_clip_s(self) -> float:
        """Longest clip the model renders well; the planner fits whole bars in it."""
        return 5.11

    @property
    def default_steps(self) -> int:
        """Scheduler steps used when the outline does not set render.steps (riffusion used 50)."""
        return 50

    @property
    def preferred_batch_size(self) -> int:
        """Clips the renderer hands over per ``render`` call when the user does not say: small
        batches on a CPU let stitching overlap rendering; a GPU backend asks for what it can batch."""
        return 4

    @property
    def makes_music(self) -> bool:
        """False for random-weight models: the CLI and manifest then say it is noise."""
        return True

    @property
    def supports_continuation(self) -> bool:
        """True if ``render`` honours ``ClipRequest.prefix_audio`` (outpaints after a known start)."""
        return False

    def unread_prompt_text(self, prompt: str) -> str:
        """The end of ``prompt`` this backend's text encoder cuts off ('' when it reads all of it), so the CLI
        can say which words a render ignores. Backends whose encoder reads any length keep this default."""
        return ""

    @property
    def prompt_token_limit(self) -> int | None:
        """Tokens of a prompt the text encoder reads (None: no limit)."""
        return None

    @abc.abstractmethod
    def describe(self) -> dict[str, Any]:
        """JSON-able identity for the manifest and the clip-cache key.

        Must contain everything about the model that changes its output: model id
        or weight hash, codec parameters, scheduler, dtype, device kind.
        """

    @property
    def stage_times_s(self) -> dict[str, float]:
        """Seconds spent per internal stage (text, denoise, vae_decode, inversion...) since creation."""
        if not hasattr(self, "_stage_times_s"):
            self._stage_times_s: dict[str, float] = {}
        return self._stage_times_s

    @contextlib.contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        """Add the wall time of the block to ``stage_times_s[stage]`` (for `composer bench`); inside a clip
        worker, to that worker's own record, which ``clip_workers.wall_stage_times`` turns into wall seconds."""
        from composer.backends.clip_workers import stage_sink

        started = time.perf_counter()
        try:
            yield
        finally:
            times = stage_sink()
            if times is None:
                times = self.stage_times_s
            times[stage] = times.get(stage, 0.0) + time.perf_counter() - started

    @abc.abstractmethod
    def render(self, requests: Sequence[ClipRequest]) -> list[np.ndarray]:
        """Render clips; returns float32 mono arrays of exactly ``num_samples`` each.

        Deterministic: the same request on the same device gives the same audio.
        Backends may batch requests of the same shape.
        """


def torch_device(device: str) -> "torch.device":
    """'auto' -> CUDA when usable, else CPU; an unknown name or CUDA without a GPU is a BackendError."""
    import torch

    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        resolved = torch.device(device)
    except RuntimeError:
        raise BackendError(f"unknown device {device!r}; use auto, cpu, cuda or cuda:N") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise BackendError(f"device {device!r} was asked for but this torch has no usable CUDA GPU; "
                           "use --device cpu (or auto)")
    return resolved
