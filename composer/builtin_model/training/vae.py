"""The VAE stage: trains the spectrogram VAE on random crops of the train split's unit images with an L1
reconstruction loss plus a small KL term, and reports the reconstruction error of a fixed validation batch."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from composer.builtin_model.config import BuiltinModelConfig, config_to_dict
from composer.builtin_model.dataset import UnitCache, build_unit_cache
from composer.builtin_model.model import build_vae
from composer.builtin_model.training.checkpoints import log_step, prepare_stage_dir, restore_stage, save_checkpoint
from composer.builtin_model.training.data import has_split
from composer.builtin_model.training.settings import TrainSettings, VaeLoss
from composer.builtin_model.training.steps import learning_rate_at, optimise, seeded_init, step_generator
from composer.codec.codec import SpectrogramCodec


def train_vae(
    corpus_dir: str | Path,
    run_dir: str | Path,
    *,
    config: BuiltinModelConfig,
    settings: TrainSettings,
    loss: VaeLoss = VaeLoss(),
    resume: bool = False,
    log: Callable[[str], None] = print,
) -> int:
    """Train the VAE on random crops of the train split; returns the step count reached."""
    run_dir, device = Path(run_dir), torch.device(settings.device)
    stage_dir = prepare_stage_dir(run_dir, "vae", resume=resume)
    codec = SpectrogramCodec(config.codec)
    train = build_unit_cache(corpus_dir, split="train", codec=codec, frames=config.train_frames,
                             cache_dir=run_dir / "cache", log=log)
    validation = _optional_units(corpus_dir, run_dir, codec=codec, config=config, log=log)
    with seeded_init(settings.seed, "vae"):
        vae = build_vae(config.vae).to(device)
    optimizer = torch.optim.AdamW(vae.parameters(), lr=settings.learning_rate, weight_decay=0.0)
    step = restore_stage(stage_dir, resume=resume, modules={"model": vae}, optimizer=optimizer, log=log)
    crop = min(loss.crop_frames, config.train_frames)
    val_batch = _vae_validation_batch(validation, crop=crop, seed=settings.seed) if validation is not None else None
    vae.train()
    while step < settings.steps:
        started = time.perf_counter()
        generator = step_generator(settings.seed, "vae", step)
        batch = _vae_batch(train.images, batch_size=settings.batch_size, crop=crop, generator=generator).to(device)
        rec, kl = _vae_losses(vae, batch, generator=generator)
        total = rec + loss.kl_weight * kl
        optimise(optimizer, total, vae.parameters(), lr=learning_rate_at(settings, step))
        step += 1
        record = {"step": step, "loss": total.item(), "rec_l1": rec.item(), "kl_per_pixel": kl.item(),
                  "lr": learning_rate_at(settings, step - 1), "step_s": time.perf_counter() - started}
        if val_batch is not None and settings.eval_every and step % settings.eval_every == 0:
            record["val_rec_l1"] = _vae_validation_loss(vae, val_batch.to(device))
        log_step(stage_dir, record, log=log)
        if step % settings.checkpoint_every == 0 or step == settings.steps:
            save_checkpoint(stage_dir, step=step, modules={"model": vae}, optimizer=optimizer,
                             extra={"config": config_to_dict(config)})
    return step


def _optional_units(corpus_dir: str | Path, run_dir: Path, *, codec: SpectrogramCodec, config: BuiltinModelConfig,
                    log: Callable[[str], None]) -> UnitCache | None:
    """The validation split's unit cache, or None when the corpus has no validation clips."""
    if not has_split(corpus_dir, "validation"):
        return None
    return build_unit_cache(corpus_dir, split="validation", codec=codec, frames=config.train_frames,
                            cache_dir=run_dir / "cache", log=log)


def _vae_batch(images: np.ndarray, *, batch_size: int, crop: int, generator: torch.Generator) -> torch.Tensor:
    rows = torch.randint(len(images), (batch_size,), generator=generator).tolist()
    starts = torch.randint(images.shape[-1] - crop + 1, (batch_size,), generator=generator).tolist()
    crops = [np.asarray(images[row, :, start : start + crop], dtype=np.float32) for row, start in zip(rows, starts)]
    return torch.from_numpy(np.stack(crops)).unsqueeze(1)


def _vae_losses(vae, batch: torch.Tensor, *, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean absolute reconstruction error, KL per pixel) of one batch."""
    posterior = vae.encode(batch).latent_dist
    noise = torch.randn(posterior.mean.shape, generator=generator).to(batch.device)
    latents = posterior.mean + posterior.std * noise
    reconstruction = vae.decode(latents).sample
    rec = (reconstruction - batch).abs().mean()
    kl = posterior.kl().mean() / batch[0].numel()
    return rec, kl


def _vae_validation_batch(units, *, crop: int, seed: int, size: int = 32) -> torch.Tensor:
    generator = step_generator(seed, "vae-validation", 0)
    return _vae_batch(units.images, batch_size=min(size, len(units.images)), crop=crop, generator=generator)


def _vae_validation_loss(vae, batch: torch.Tensor) -> float:
    vae.eval()
    with torch.inference_mode():
        posterior = vae.encode(batch).latent_dist
        rec = float((vae.decode(posterior.mean).sample - batch).abs().mean())
    vae.train()
    return rec
