"""Latent diffusion sampling for the built-in model: text-to-image and img2img with CFG.

Pure functions over a loaded ``BuiltinModel``; the backend turns requests into
these tensors and the result back into audio.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from diffusers import DPMSolverMultistepScheduler

from composer.builtin_model.model import BuiltinModel, denormalize_latents, normalize_latents, vae_factor_of


def latent_shape(model: BuiltinModel, *, frames: int) -> tuple[int, int, int]:
    """(channels, height, width) of the smallest latent whose image covers ``frames`` columns."""
    multiple = model.latent_multiple
    factor = vae_factor_of(model.vae)
    width_px = math.ceil(frames / multiple) * multiple
    return model.vae.config.latent_channels, model.codec.n_mels // factor, width_px // factor


def initial_noise(*, seed: int, shape: tuple[int, ...]) -> torch.Tensor:
    """Standard normal noise from a CPU generator seeded with ``seed`` (device-independent)."""
    generator = torch.Generator(device="cpu").manual_seed(int(seed))
    return torch.randn(shape, generator=generator, dtype=torch.float32)


@torch.inference_mode()
def encode_unit_image(model: BuiltinModel, unit: torch.Tensor) -> torch.Tensor:
    """Unit images [b, 1, n_mels, width] in [-1, 1] -> normalised float32 latents (posterior mean,
    deterministic), whatever dtype the VAE computes in."""
    weight = next(model.vae.parameters())
    posterior = model.vae.encode(unit.to(weight.device, weight.dtype)).latent_dist
    return normalize_latents(posterior.mean.float(), model.latent_norm)


@torch.inference_mode()
def decode_latents(model: BuiltinModel, latents: torch.Tensor) -> torch.Tensor:
    """Normalised latents -> float32 unit images [b, 1, n_mels, width] clamped to [-1, 1]."""
    weight = next(model.vae.parameters())
    unit = model.vae.decode(denormalize_latents(latents.to(weight.device), model.latent_norm).to(weight.dtype)).sample
    return unit.float().clamp(-1.0, 1.0)


@torch.inference_mode()
def sample_latents(
    model: BuiltinModel,
    *,
    noise: torch.Tensor,
    context: torch.Tensor,
    pooled: torch.Tensor,
    uncond_context: torch.Tensor,
    uncond_pooled: torch.Tensor,
    guidance: float,
    steps: int,
    strength: float,
    init_latents: torch.Tensor | None = None,
    scheduler: Any = None,
    known_latents: torch.Tensor | None = None,
    known_mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """Denoise with DPM-Solver++ and classifier-free guidance; returns normalised latents.

    ``scheduler`` replaces the model's DPM-Solver++ with a fresh diffusers
    scheduler instance (the Riffusion reference loop passes PNDM).

    ``noise`` [b, c, h, w] is the initial noise. Without ``init_latents`` (or at
    strength 1) sampling starts from pure noise; otherwise the init is noised to
    the timestep ``strength`` of the way up and only the remaining
    ``int(steps * strength)`` steps run, at least one (Stable Diffusion img2img).

    ``known_latents`` with ``known_mask`` (broadcastable to the latents, 1 = known,
    0 = free, fractions blend) outpaint: after every step the known region is
    replaced by ``known_latents`` noised to the next step's level, and by
    ``known_latents`` itself after the last, so the free region is denoised in
    the context of the known one (the diffusers inpainting recipe for UNets
    without a mask input).
    """
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    weight = next(model.unet.parameters())
    device, dtype = weight.device, weight.dtype  # the UNet may compute in bfloat16; the latents stay float32
    if scheduler is None:
        scheduler = DPMSolverMultistepScheduler.from_config(model.scheduler_config)
    scheduler.set_timesteps(steps, device=device)
    noise = noise.to(device)
    if init_latents is None or strength >= 1.0:
        timesteps = scheduler.timesteps
        latents = noise * scheduler.init_noise_sigma
    else:
        run = max(1, min(int(steps * strength), steps))  # at least one step: else prompt and seed would not count
        start = (steps - run) * scheduler.order
        timesteps = scheduler.timesteps[start:]
        if hasattr(scheduler, "set_begin_index"):
            scheduler.set_begin_index(start)
        first = timesteps[:1].repeat(noise.shape[0])
        latents = scheduler.add_noise(init_latents.to(device), noise, first)
    if known_latents is not None:
        if known_mask is None:
            raise ValueError("known_latents needs known_mask")
        known_latents, known_mask = known_latents.to(device), known_mask.to(device)
        first = timesteps[:1].repeat(noise.shape[0])
        latents = _keep_known(latents, scheduler.add_noise(known_latents, noise, first), known_mask)
    both_context = torch.cat([uncond_context, context]).to(device, dtype)
    both_pooled = torch.cat([uncond_pooled, pooled]).to(device, dtype)
    for index, timestep in enumerate(timesteps):
        model_input = scheduler.scale_model_input(torch.cat([latents, latents]), timestep)
        prediction = model.unet(
            model_input.to(dtype), timestep, encoder_hidden_states=both_context, class_labels=both_pooled
        ).sample.float()
        uncond, cond = prediction.chunk(2)
        guided = uncond + guidance * (cond - uncond)
        latents = scheduler.step(guided, timestep, latents).prev_sample
        if known_latents is not None:
            if index + 1 < len(timesteps):
                upcoming = timesteps[index + 1:index + 2].repeat(noise.shape[0])
                latents = _keep_known(latents, scheduler.add_noise(known_latents, noise, upcoming), known_mask)
            else:
                latents = _keep_known(latents, known_latents, known_mask)
    return latents


def _keep_known(latents: torch.Tensor, known: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return mask * known + (1.0 - mask) * latents
