"""The UNet stage: trains the latent UNet to denoise normalised VAE latents of the train split under
caption conditioning (with caption dropout for classifier-free guidance and min-SNR loss weights), keeps
an EMA copy of its weights, and reports the EMA's loss on a fixed validation batch."""

from __future__ import annotations

import copy
import math
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from composer.builtin_model.config import BuiltinModelConfig, config_to_dict
from composer.builtin_model.dataset import build_caption_cache
from composer.builtin_model.model import LatentNorm, build_training_scheduler, build_unet, normalize_latents
from composer.builtin_model.text_encoder import encode_prompts, load_text_encoder
from composer.builtin_model.training.checkpoints import (
    load_trained_vae,
    log_step,
    prepare_stage_dir,
    restore_stage,
    save_checkpoint,
)
from composer.builtin_model.training.data import has_split, unit_latents
from composer.builtin_model.training.settings import TrainSettings, UnetLoss
from composer.builtin_model.training.steps import learning_rate_at, optimise, seeded_init, step_generator
from composer.codec.codec import SpectrogramCodec
from composer.errors import ComposerError


def train_unet(
    corpus_dir: str | Path,
    run_dir: str | Path,
    *,
    config: BuiltinModelConfig,
    settings: TrainSettings,
    loss: UnetLoss = UnetLoss(),
    resume: bool = False,
    log: Callable[[str], None] = print,
) -> int:
    """Train the UNet on cached latents of the train split (needs the VAE stage); returns the step reached."""
    run_dir, device = Path(run_dir), torch.device(settings.device)
    stage_dir = prepare_stage_dir(run_dir, "unet", resume=resume)
    vae, vae_step = load_trained_vae(run_dir, config=config, device=device)
    codec = SpectrogramCodec(config.codec)
    encoder = load_text_encoder(max_tokens=config.text.max_tokens, device=device)
    train = _latent_split(corpus_dir, run_dir, "train", codec=codec, config=config, vae=vae, vae_step=vae_step,
                          encoder=encoder, log=log)
    validation = None
    if has_split(corpus_dir, "validation"):
        validation = _latent_split(corpus_dir, run_dir, "validation", codec=codec, config=config, vae=vae,
                                   vae_step=vae_step, encoder=encoder, log=log)
    empty_states, empty_pooled = (t.to(device) for t in encode_prompts(encoder, [""]))
    del encoder
    with seeded_init(settings.seed, "unet"):
        unet = build_unet(config.unet, latent_channels=config.vae.latent_channels, text=config.text).to(device)
    ema = copy.deepcopy(unet).requires_grad_(False)
    optimizer = torch.optim.AdamW(unet.parameters(), lr=settings.learning_rate, weight_decay=1e-2)
    scheduler = build_training_scheduler(config.schedule)
    extra: dict[str, Any] = {}
    step = restore_stage(stage_dir, resume=resume, modules={"model": unet, "ema": ema}, optimizer=optimizer,
                    log=log, extra=extra)
    norm = LatentNorm(**extra["latent_norm"]) if "latent_norm" in extra else latent_norm_of(train["latents"])
    if extra.get("vae_step", vae_step) != vae_step:
        raise ComposerError(f"{stage_dir} was trained on the VAE of step {extra['vae_step']}, "
                            f"but {run_dir / 'vae'} now holds step {vae_step}")
    alphas = scheduler.alphas_cumprod.to(device)
    unet.train()
    while step < settings.steps:
        started = time.perf_counter()
        generator = step_generator(settings.seed, "unet", step)
        batch = _unet_batch(train, batch_size=settings.batch_size, generator=generator, norm=norm,
                            empty=(empty_states.cpu(), empty_pooled.cpu()), dropout=loss.caption_dropout)
        value = _denoising_loss(unet, scheduler, alphas, {k: v.to(device) for k, v in batch.items()},
                                generator=generator, gamma=loss.min_snr_gamma,
                                prediction_type=config.schedule.prediction_type)
        optimise(optimizer, value, unet.parameters(), lr=learning_rate_at(settings, step))
        step += 1
        _update_ema(ema, unet, decay=min(loss.ema_decay, (1 + step) / (10 + step)))
        record = {"step": step, "loss": value.item(), "lr": learning_rate_at(settings, step - 1),
                  "step_s": time.perf_counter() - started}
        if validation is not None and settings.eval_every and step % settings.eval_every == 0:
            record["val_loss_ema"] = _unet_validation_loss(ema, scheduler, alphas, validation, config=config,
                                                           norm=norm, seed=settings.seed,
                                                           device=device)
        log_step(stage_dir, record, log=log)
        if step % settings.checkpoint_every == 0 or step == settings.steps:
            save_checkpoint(stage_dir, step=step, modules={"model": unet, "ema": ema}, optimizer=optimizer,
                             extra={"config": config_to_dict(config), "latent_norm": asdict(norm),
                                    "vae_step": vae_step})
    return step


def latent_norm_of(latents: np.ndarray, *, max_clips: int = 4096) -> LatentNorm:
    """Per-channel mean and std of the cached latents (at most ``max_clips`` evenly spaced clips)."""
    stride = max(1, len(latents) // max_clips)
    sample = np.asarray(latents[::stride], dtype=np.float64)
    mean = sample.mean(axis=(0, 2, 3))
    std = np.maximum(sample.std(axis=(0, 2, 3)), 1e-6)
    return LatentNorm(mean=tuple(float(v) for v in mean), std=tuple(float(v) for v in std))


def _latent_split(corpus_dir, run_dir: Path, split: str, *, codec, config, vae, vae_step: int, encoder,
                  log) -> dict[str, np.ndarray]:
    """Latents, caption token states and pooled vectors of one split (all cached on disk)."""
    latents, units = unit_latents(corpus_dir, run_dir, split, codec=codec, config=config, vae=vae,
                                   vae_step=vae_step, log=log)
    states, pooled = build_caption_cache(units.captions, encode=lambda texts: encode_prompts(encoder, texts),
                                         cache_path=run_dir / "cache" / f"captions_{split}.npz", log=log)
    return {"latents": latents, "states": states, "pooled": pooled}


def _unet_batch(split: dict[str, np.ndarray], *, batch_size: int, generator: torch.Generator, norm: LatentNorm,
                empty: tuple[torch.Tensor, torch.Tensor], dropout: float) -> dict[str, torch.Tensor]:
    rows = np.sort(torch.randint(len(split["latents"]), (batch_size,), generator=generator).numpy())
    latents = normalize_latents(torch.from_numpy(np.asarray(split["latents"][rows], dtype=np.float32)), norm)
    states = torch.from_numpy(np.asarray(split["states"][rows], dtype=np.float32))
    pooled = torch.from_numpy(np.asarray(split["pooled"][rows], dtype=np.float32))
    drop = torch.rand(batch_size, generator=generator) < dropout
    states = torch.where(drop[:, None, None], empty[0], states)
    pooled = torch.where(drop[:, None], empty[1], pooled)
    return {"latents": latents, "states": states, "pooled": pooled}


def _denoising_loss(unet, scheduler, alphas: torch.Tensor, batch: dict[str, torch.Tensor], *,
                    generator: torch.Generator, gamma: float, prediction_type: str) -> torch.Tensor:
    """Min-SNR-weighted MSE of the UNet's prediction at random timesteps."""
    latents = batch["latents"]
    size = latents.shape[0]
    noise = torch.randn(latents.shape, generator=generator).to(latents.device)
    timesteps = torch.randint(scheduler.config.num_train_timesteps, (size,), generator=generator).to(latents.device)
    noisy = scheduler.add_noise(latents, noise, timesteps)
    prediction = unet(noisy, timesteps, encoder_hidden_states=batch["states"], class_labels=batch["pooled"]).sample
    snr = alphas[timesteps] / (1 - alphas[timesteps])
    if prediction_type == "v_prediction":
        target, weight = scheduler.get_velocity(latents, noise, timesteps), snr.clamp(max=gamma) / (snr + 1)
    else:
        target, weight = noise, snr.clamp(max=gamma) / snr
    errors = (prediction.float() - target).pow(2).mean(dim=(1, 2, 3))
    return (errors * weight).mean()


def _unet_validation_loss(unet, scheduler, alphas, split: dict[str, np.ndarray], *, config: BuiltinModelConfig,
                          norm: LatentNorm, seed: int, device: torch.device, size: int = 64) -> float:
    """Denoising loss on a fixed validation batch (fixed noise and timesteps), no caption dropout."""
    generator = step_generator(seed, "unet-validation", 0)
    count = min(size, len(split["latents"]))
    rows = np.linspace(0, len(split["latents"]) - 1, count).round().astype(int)
    batch = {
        "latents": normalize_latents(torch.from_numpy(np.asarray(split["latents"][rows], dtype=np.float32)), norm),
        "states": torch.from_numpy(np.asarray(split["states"][rows], dtype=np.float32)),
        "pooled": torch.from_numpy(np.asarray(split["pooled"][rows], dtype=np.float32)),
    }
    with torch.inference_mode():
        value = _denoising_loss(unet, scheduler, alphas, {k: v.to(device) for k, v in batch.items()},
                                generator=generator, gamma=math.inf, prediction_type=config.schedule.prediction_type)
    return float(value)


def _update_ema(ema, model, *, decay: float) -> None:
    with torch.no_grad():
        for target, source in zip(ema.parameters(), model.parameters()):
            target.lerp_(source.detach(), 1.0 - decay)
