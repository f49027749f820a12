"""The "riffusion" backend: a diffusers Stable Diffusion folder driven by our own img2img loop.

Works with riffusion/riffusion-model-v1 (or any SD 1.x folder of the same
layout) and with the tiny random-weight folder from ``tiny_pipeline``; the
registry builds both as ``RiffusionBackend``. The loop is written here instead of
calling a pipeline so that prompts can be interpolated (text embeddings lerped,
initial noises slerped, as Riffusion did) and clips of one width batched.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import inspect
import math
from pathlib import Path
from typing import Any, Callable, Hashable, Iterator, Sequence

import numpy as np
import torch

from composer.backends.base import ClipRequest, SpectrogramBackend, torch_device
from composer.backends.interpolation import lerp, slerp
from composer.backends.prompt_length import unread_tail
from composer.backends.prompt_weights import has_weights, parse_weighted_prompt
from composer.backends.model_folder import (
    DiffusionComponents,
    folder_codec_params,
    load_components,
    resolve_model_folder,
    weights_fingerprint,
)
from composer.backends.tiny_pipeline import ensure_tiny_pipeline_folder
from composer.codec.codec import SpectrogramCodec
from composer.errors import BackendError, ModelFolderError, RenderError
from composer.seeds import derive_seed


def load_backend_from_folder(path: str | Path, *, device: str = "auto") -> "RiffusionBackend":
    """A riffusion backend for a model folder or hub id (the tiny folder loads through here too)."""
    return RiffusionBackend(path, device=device)


def resolve_device(device: str) -> tuple[torch.device, torch.dtype]:
    """'auto' -> CUDA in fp16 when available, else CPU in fp32."""
    resolved = torch_device(device)
    return resolved, torch.float16 if resolved.type == "cuda" else torch.float32


class RiffusionBackend(SpectrogramBackend):
    """Riffusion-style img2img with prompt/seed interpolation over a diffusers SD folder."""

    name = "riffusion"

    def __init__(
        self, model: str | Path, *, device: str = "auto", max_batch_size: int = 1, optimize: bool = True,
        compile: bool = False, scheduler: str = "folder",
    ) -> None:
        """``max_batch_size`` > 1 batches clips of one width and schedule (worth it on a GPU);
        a batched clip can differ from the same clip rendered alone by float rounding.
        ``optimize`` (CUDA only) puts the UNet and VAE in channels_last with PyTorch SDPA attention;
        ``compile`` wraps the UNet in torch.compile (the first batches pay the compile time).
        ``scheduler``: "folder" (the folder's own, PNDM for Riffusion, 50 steps by default) or
        "dpm++" (DPM-Solver++ on the folder's noise schedule, ``DPM_STEPS`` steps by default)."""
        self.folder = resolve_model_folder(model)
        # a hub id names itself; a local folder by its name, so moving it keeps cache keys
        self.model_name = self.folder.name if Path(model).expanduser().is_dir() else str(model)
        self.device, self.dtype = resolve_device(device)
        self.components = load_components(self.folder, device=self.device, dtype=self.dtype)
        if scheduler not in SCHEDULERS:
            raise BackendError(f"unknown scheduler {scheduler!r}; use one of {', '.join(SCHEDULERS)}")
        self.scheduler_choice = scheduler
        if scheduler == "dpm++":
            self.components = dataclasses.replace(self.components, scheduler=dpm_solver_scheduler(self.components.scheduler))
        self.codec = SpectrogramCodec(folder_codec_params(self.folder), device=self.device)
        self.vae_scale_factor = 2 ** (len(self.components.vae.config.block_out_channels) - 1)
        if self.codec.params.n_mels % self.vae_scale_factor:
            raise ModelFolderError(
                f"model folder {self.folder}: n_mels={self.codec.params.n_mels} is not a multiple of the "
                f"VAE's {self.vae_scale_factor}x downsampling"
            )
        self.max_batch_size = max(1, max_batch_size)
        self._weights_hash = weights_fingerprint(self.folder)
        self._embeddings: dict[str, torch.Tensor] = {}
        # init (groove) latents by (audio digest, width): a section's groove repeats clip after clip
        self._init_latents: dict[tuple[str, int], torch.Tensor] = {}
        self._unet = self.components.unet
        if optimize and self.device.type == "cuda":
            optimize_for_cuda(self.components)
        if compile:
            self._unet = torch.compile(self.components.unet)

    @property
    def preferred_batch_size(self) -> int:
        # all it batches in one UNet call (32 on CUDA by default), never fewer than the CPU's 4
        return max(super().preferred_batch_size, self.max_batch_size)

    @property
    def sample_rate_hz(self) -> int:
        return self.codec.params.sample_rate_hz

    @property
    def preferred_clip_s(self) -> float:
        return 5.11

    @property
    def default_steps(self) -> int:
        return DPM_STEPS if self.scheduler_choice == "dpm++" else super().default_steps

    @property
    def noise_schedule(self) -> dict[str, Any]:
        """The folder's scheduler config (betas, prediction type); the reference loop builds PNDM on it."""
        return dict(self.components.scheduler.config)

    @property
    def prompt_token_limit(self) -> int:
        return self.components.tokenizer.model_max_length - 2  # 75 for CLIP: BOS and EOS take two of 77

    def unread_prompt_text(self, prompt: str) -> str:
        """Counted as ``_embed`` encodes: emphasis brackets are not tokens, each fragment is tokenized alone."""
        tokenizer = self.components.tokenizer

        def count_tokens(text: str) -> int:
            return sum(len(tokenizer(part, add_special_tokens=False, verbose=False).input_ids)
                       for part, _ in parse_weighted_prompt(text))

        return unread_tail(prompt, count_tokens=count_tokens, max_tokens=self.prompt_token_limit)

    def describe(self) -> dict[str, Any]:
        scheduler = self.components.scheduler
        return {
            "backend": self.name,
            "model": self.model_name,
            "weights": self._weights_hash,
            "codec": self.codec.params.to_dict(),
            "scheduler": type(scheduler).__name__,
            # --scheduler: the folder's own or dpm++ (regenerate loads the backend with the same)
            "sampler": self.scheduler_choice,
            "dtype": str(self.dtype).removeprefix("torch."),
            "device": self.device.type,
            "vae_scale_factor": self.vae_scale_factor,
            # where img2img starts in the schedule: Riffusion's count (strength 1.0 keeps some of the seed image)
            "img2img_start": "riffusion",
        }

    @contextlib.contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        """Stage timing that waits for the GPU, so asynchronous CUDA work is counted where it runs."""
        with super().timed(stage):
            yield
            if self.device.type == "cuda":
                torch.cuda.synchronize(self.device)

    @property
    def trained_width_px(self) -> int:
        """Image width the UNet was trained at (its config's latent ``sample_size`` times the VAE factor):
        512 px for Riffusion, whose fine-tune saw only 512x512 spectrograms (5.11 s); 0 if unstated."""
        size = getattr(self.components.unet.config, "sample_size", None)
        size = size[-1] if isinstance(size, (list, tuple)) else size
        return int(size) * self.vae_scale_factor if isinstance(size, int) else 0

    def width_for_samples(self, num_samples: int) -> int:
        """Image width in px for a clip: never narrower than the trained width (a shorter clip is rendered at it
        from its tiled init and trimmed), else its frames rounded up to the VAE's spatial factor."""
        frames = max(self.codec.frames_for_samples(num_samples), self.codec.min_frames)
        return max(self._frames_to_width(frames), self.trained_width_px)

    def _frames_to_width(self, frames: int) -> int:
        return math.ceil(frames / self.vae_scale_factor) * self.vae_scale_factor

    def _frames_for_audio(self, num_samples: int) -> int:
        """Mel columns Griffin-Lim needs for ``num_samples`` (plus one past the end); the rest is not inverted."""
        return max(self.codec.frames_for_samples(num_samples) + 1, self.codec.min_frames)

    def render(self, requests: Sequence[ClipRequest]) -> list[np.ndarray]:
        outputs: dict[int, np.ndarray] = {}
        for batch in batch_requests(requests, key=self._schedule_key, max_batch_size=self.max_batch_size):
            for index, audio in zip(batch, self._render_batch([requests[i] for i in batch])):
                outputs[index] = audio
        return [outputs[i] for i in range(len(requests))]

    def _schedule_key(self, request: ClipRequest) -> tuple[int, int, float | None]:
        return self.width_for_samples(request.num_samples), request.steps, effective_strength(request)

    def render_reference_clip(self, request: ClipRequest, *, scheduler: Any) -> np.ndarray:
        """One clip the way the Riffusion reference loop did it (``composer.baseline``): alone, with the
        given scheduler, prompts encoded now and init latents computed now (no caches)."""
        return self._render_batch([request], scheduler=scheduler, cached=False)[0]

    @torch.inference_mode()
    def _render_batch(self, requests: list[ClipRequest], *, scheduler: Any = None,
                      cached: bool = True) -> list[np.ndarray]:
        """Requests sharing one (width, steps, strength): noise -> latents -> mel -> audio."""
        width, steps, strength = self._schedule_key(requests[0])
        parts = self.components
        if scheduler is None:
            scheduler = type(parts.scheduler).from_config(parts.scheduler.config)  # fresh state per batch
        scheduler.set_timesteps(steps, device=self.device)
        start = 0 if strength is None else min(
            img2img_start(steps, strength, steps_offset=int(scheduler.config.get("steps_offset", 0))) * scheduler.order,
            len(scheduler.timesteps) - 1)  # at least one step runs
        timesteps = scheduler.timesteps[start:]
        if hasattr(scheduler, "set_begin_index"):  # multistep schedulers (DPM-Solver++); PNDM has none
            scheduler.set_begin_index(start)

        latent_shape = (parts.unet.config.in_channels, self.codec.params.n_mels // self.vae_scale_factor,
                        width // self.vae_scale_factor)
        noise = torch.stack([interpolated_noise(r, shape=latent_shape) for r in requests]).to(self.device, self.dtype)
        if strength is None:
            latents = noise * scheduler.init_noise_sigma
        else:
            with self.timed("vae_encode"):
                init = torch.cat([self._init_latent(r.init_audio, width=width, cached=cached) for r in requests])
            latents = scheduler.add_noise(init, noise, timesteps[:1].repeat(len(requests)))

        # classifier-free guidance only above 1, as Riffusion (and diffusers) do: at or below it a clip
        # follows its prompt alone, and a batch of such clips skips the unconditional half
        guided = any(r.guidance > 1.0 for r in requests)
        with self.timed("text"):
            embed = functools.partial(self._embed, cached=cached)
            context = torch.cat([lerp(r.alpha, embed(r.prompt_a), embed(r.prompt_b)) for r in requests])
            if guided:
                context = torch.cat([torch.cat([embed(r.negative_prompt) for r in requests]), context])
        guidance = torch.tensor([max(r.guidance, 1.0) for r in requests], device=self.device, dtype=self.dtype)
        with self.timed("denoise"):
            latents = self._denoise(latents, scheduler=scheduler, timesteps=timesteps, context=context,
                                    guidance=guidance if guided else None, requests=requests)

        with self.timed("vae_decode"):
            images = parts.vae.decode(latents / parts.vae.config.scaling_factor).sample.float()
            # the VAE returns RGB of a grey picture; the channel mean is its least noisy reading
            mels = self.codec.unit_to_mel(images.mean(dim=1).clamp(-1.0, 1.0))
        with self.timed("inversion"):
            if self.device.type == "cuda" and len(requests) > 1:  # CUDA only: one batched Griffin-Lim
                return self._decode_audio_batch(mels, requests)
            return [self._decode_audio(mel, request) for mel, request in zip(mels, requests)]

    def _denoise(
        self, latents: torch.Tensor, *, scheduler: Any, timesteps: torch.Tensor, context: torch.Tensor,
        guidance: torch.Tensor | None, requests: list[ClipRequest],
    ) -> torch.Tensor:
        """Classifier-free guided sampling, ``context`` being [unconditional; conditional]; without
        ``guidance``, the conditional prediction alone on ``context``."""
        step_kwargs = {}
        if "generator" in inspect.signature(scheduler.step).parameters:
            # stochastic schedulers: one stream per batch, seeded from its requests
            step_kwargs["generator"] = torch.Generator().manual_seed(
                derive_seed(0, "riffusion-scheduler", *[(r.seed_a, r.seed_b, r.alpha) for r in requests])
            )
        for t in timesteps:
            if guidance is None:
                model_input = scheduler.scale_model_input(latents, t)
                noise_pred = self._unet(model_input, t, encoder_hidden_states=context).sample
            else:
                model_input = scheduler.scale_model_input(torch.cat([latents, latents]), t)
                uncond, cond = self._unet(model_input, t, encoder_hidden_states=context).sample.chunk(2)
                noise_pred = uncond + guidance[:, None, None, None] * (cond - uncond)
            latents = scheduler.step(noise_pred, t, latents, **step_kwargs).prev_sample
        return latents

    def _decode_audio(self, mel: torch.Tensor, request: ClipRequest) -> np.ndarray:
        mel = mel[..., :self._frames_for_audio(request.num_samples)]
        audio = self.codec.mel_to_audio(mel, generator=_phase_generator(request), num_samples=request.num_samples)
        return self._checked_audio(audio, request)

    def _decode_audio_batch(self, mels: torch.Tensor, requests: list[ClipRequest]) -> list[np.ndarray]:
        """Griffin-Lim over the batch at once (each clip's phase from its own seed), per clip length;
        equals ``_decode_audio`` clip by clip up to FFT rounding."""
        outputs: dict[int, np.ndarray] = {}
        lengths: dict[int, list[int]] = {}
        for index, request in enumerate(requests):
            lengths.setdefault(request.num_samples, []).append(index)
        for num_samples, indices in lengths.items():
            audio = self.codec.mel_to_audio(mels[indices][..., :self._frames_for_audio(num_samples)],
                                            generator=[_phase_generator(requests[i]) for i in indices],
                                            num_samples=num_samples)
            for row, index in zip(audio, indices):
                outputs[index] = self._checked_audio(row, requests[index])
        return [outputs[i] for i in range(len(requests))]

    def _checked_audio(self, audio: np.ndarray, request: ClipRequest) -> np.ndarray:
        if not np.all(np.isfinite(audio)):
            raise RenderError(
                f"{self.name} produced non-finite audio for prompt {request.prompt_a!r} (seed {request.seed_a})"
            )
        return audio

    def _init_latent(self, audio: np.ndarray, *, width: int, cached: bool) -> torch.Tensor:
        """``_encode_init``, cached by the audio's content and the width unless told not to."""
        key = (hashlib.sha256(np.ascontiguousarray(audio, dtype=np.float32).tobytes()).hexdigest(), width)
        if cached and key in self._init_latents:
            return self._init_latents[key]
        latent = self._encode_init(audio, width=width)
        if cached:
            self._init_latents[key] = latent
        return latent

    def _encode_init(self, audio: np.ndarray, *, width: int) -> torch.Tensor:
        """Init audio -> scaled VAE latent [1, C, h, w]; the clip is whole bars, so it is
        tiled (not padded with silence) up to the image width."""
        total = self.codec.samples_for_frames(width)
        tiled = np.tile(audio, math.ceil(total / audio.shape[0]))[:total].astype(np.float32)
        unit = self.codec.mel_to_unit(self.codec.audio_to_mel(tiled))
        image = unit[None, None].expand(1, 3, -1, -1).to(self.dtype)
        posterior = self.components.vae.encode(image).latent_dist
        # the posterior mean: SD's VAE posterior is nearly deterministic, sampling only adds noise
        return posterior.mean * self.components.vae.config.scaling_factor

    def _embed(self, prompt: str, *, cached: bool = True) -> torch.Tensor:
        """CLIP last hidden state [1, 77, dim] of a prompt, cached unless told not to. Emphasis such as
        ``(piano:1.4)`` scales its tokens' embeddings as Riffusion did; a prompt without it is encoded as is."""
        if cached and prompt in self._embeddings:
            return self._embeddings[prompt]
        fragments = parse_weighted_prompt(prompt)
        with torch.inference_mode():
            if has_weights(fragments):
                hidden = self._encode_weighted(fragments)
            else:
                tokenizer = self.components.tokenizer
                tokens = tokenizer(
                    ["".join(text for text, _ in fragments)], padding="max_length",
                    max_length=tokenizer.model_max_length, truncation=True, return_tensors="pt",
                )
                hidden = self.components.text_encoder(tokens.input_ids.to(self.device))[0]
        if cached:
            self._embeddings[prompt] = hidden
        return hidden

    def _encode_weighted(self, fragments: list[tuple[str, float]]) -> torch.Tensor:
        """Each fragment's tokens (the first 75 in all, as an unweighted prompt keeps) encoded together, their
        hidden states multiplied by the fragment's weight, then rescaled to the unweighted mean: emphasis moves
        the embedding towards some words without making the whole prompt louder."""
        tokenizer = self.components.tokenizer
        ids: list[int] = []
        weights: list[float] = []
        for text, weight in fragments:
            pieces = tokenizer(text, add_special_tokens=False).input_ids
            ids += pieces
            weights += [weight] * len(pieces)
        length = tokenizer.model_max_length
        ids, weights = ids[:length - 2], weights[:length - 2]
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        ids = [tokenizer.bos_token_id, *ids, tokenizer.eos_token_id] + [pad] * (length - len(ids) - 2)
        scale = torch.tensor([1.0, *weights] + [1.0] * (length - len(weights) - 1), device=self.device)
        hidden = self.components.text_encoder(torch.tensor([ids], device=self.device))[0]
        return weighted_to_mean(hidden, scale[None, :, None]).to(hidden.dtype)


#: scheduler steps of the tiny-random backend when the outline does not set render.steps
TINY_DEFAULT_STEPS = 20


class TinyRandomBackend(RiffusionBackend):
    """The tiny random-weight folder (built once into the cache), loaded like a real checkpoint."""

    name = "tiny-random"

    def __init__(
        self, *, seed: int = 0, cache_dir: str | Path | None = None, device: str = "auto", max_batch_size: int = 1,
        optimize: bool = True, compile: bool = False, scheduler: str = "folder",
    ) -> None:
        folder = ensure_tiny_pipeline_folder(seed=seed, cache_dir=cache_dir)
        super().__init__(folder, device=device, max_batch_size=max_batch_size, optimize=optimize, compile=compile,
                         scheduler=scheduler)

    @property
    def makes_music(self) -> bool:
        return False

    @property
    def default_steps(self) -> int:
        """Random weights gain nothing from 50 steps; 20 still runs every part of the loop."""
        return TINY_DEFAULT_STEPS


#: scheduler choices of the riffusion backend
SCHEDULERS = ("folder", "dpm++")

#: default steps with DPM-Solver++ (it needs 15-25 where PNDM needs 50)
DPM_STEPS = 20


def dpm_solver_scheduler(folder_scheduler: Any) -> Any:
    """DPM-Solver++ (2nd order, multistep) on a folder scheduler's betas, offsets and spacing."""
    from diffusers import DPMSolverMultistepScheduler

    return DPMSolverMultistepScheduler.from_config(folder_scheduler.config, algorithm_type="dpmsolver++",
                                                   solver_order=2)


def optimize_for_cuda(parts: DiffusionComponents) -> None:
    """CUDA only: channels_last convolutions and PyTorch's fused SDPA attention for UNet and VAE.
    Neither changes the maths, only kernels and memory layout (fp16 results may differ by rounding)."""
    from diffusers.models.attention_processor import AttnProcessor2_0

    for model in (parts.unet, parts.vae):
        model.to(memory_format=torch.channels_last)
        model.set_attn_processor(AttnProcessor2_0())


def weighted_to_mean(hidden: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """``hidden * weights`` rescaled to the unweighted mean, as Riffusion's prompt weighting did. CLIP's hidden
    states have a clear mean; a near-zero or sign-flipped one (a random test encoder) would blow the rescale
    up, so the weighted states are then kept as they are."""
    mean = hidden.float().mean()
    weighted = hidden.float() * weights
    new_mean = weighted.mean()
    if mean * new_mean > 0 and new_mean.abs() > 1e-3 * weighted.abs().mean():
        return weighted * (mean / new_mean)
    return weighted


def _phase_generator(request: ClipRequest) -> torch.Generator:
    """Griffin-Lim's initial phase: a CPU generator seeded from the clip's seed (device-independent)."""
    return torch.Generator().manual_seed(derive_seed(request.seed_a, "riffusion-griffin-lim"))


def effective_strength(request: ClipRequest) -> float | None:
    """img2img strength; None (text to audio, from pure noise through the whole schedule) without init audio."""
    return None if request.init_audio is None else float(request.denoising)


def img2img_start(steps: int, strength: float, *, steps_offset: int) -> int:
    """The scheduler step an img2img clip starts at, counted as Riffusion's pipeline did: int(steps x strength)
    plus the scheduler's ``steps_offset`` steps are run, at most ``steps``. At strength 1.0 with
    riffusion-model-v1's PNDM (offset 1) the first of PNDM's 51 timesteps is skipped, so the seed image is
    noised at t=961 and keeps 8.5% of its amplitude; a strength below 1/steps runs PNDM's last step alone."""
    run = min(int(steps * strength) + steps_offset, steps)
    return max(steps - run + steps_offset, 0)


def interpolated_noise(request: ClipRequest, *, shape: tuple[int, ...]) -> torch.Tensor:
    """Initial latent noise: seed_a's and seed_b's Gaussians slerped by alpha (CPU, float32)."""
    noise_a = torch.randn(shape, generator=torch.Generator().manual_seed(request.seed_a))
    if request.alpha == 0.0:
        return noise_a
    noise_b = torch.randn(shape, generator=torch.Generator().manual_seed(request.seed_b))
    return slerp(request.alpha, noise_a, noise_b)


def batch_requests(
    requests: Sequence[ClipRequest], *, key: Callable[[ClipRequest], Hashable], max_batch_size: int
) -> list[list[int]]:
    """Indices grouped by ``key(request)`` in first-seen order, at most ``max_batch_size`` each."""
    groups: dict[Any, list[int]] = {}
    for index, request in enumerate(requests):
        groups.setdefault(key(request), []).append(index)
    return [
        indices[start:start + max_batch_size]
        for indices in groups.values()
        for start in range(0, len(indices), max_batch_size)
    ]
