"""The decoder stage: fine-tunes the trained VAE's decoder on aligned crops of cached latents and their
unit images, the encoder frozen so the UNet's latents stay valid."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from composer.builtin_model.config import BuiltinModelConfig, config_to_dict, vae_factor
from composer.builtin_model.training.checkpoints import (
    load_trained_vae,
    log_step,
    prepare_stage_dir,
    restore_stage,
    save_checkpoint,
)
from composer.builtin_model.training.data import has_split, unit_latents
from composer.builtin_model.training.settings import TrainSettings, VaeLoss
from composer.builtin_model.training.steps import learning_rate_at, optimise, step_generator
from composer.codec.codec import SpectrogramCodec
from composer.errors import ComposerError


def train_decoder(
    corpus_dir: str | Path,
    run_dir: str | Path,
    *,
    config: BuiltinModelConfig,
    settings: TrainSettings,
    loss: VaeLoss = VaeLoss(),
    resume: bool = False,
    log: Callable[[str], None] = print,
) -> int:
    """Fine-tune the VAE decoder on cached latents, encoder frozen: the UNet's latents stay valid.

    Runs after (or beside) the UNet stage; ``export_model`` ships this decoder
    when its checkpoint exists. Returns the step count reached.
    """
    run_dir, device = Path(run_dir), torch.device(settings.device)
    stage_dir = prepare_stage_dir(run_dir, "decoder", resume=resume)
    vae, vae_step = load_trained_vae(run_dir, config=config, device=device)
    codec = SpectrogramCodec(config.codec)
    train = unit_latents(corpus_dir, run_dir, "train", codec=codec, config=config, vae=vae, vae_step=vae_step, log=log)
    validation = None
    if has_split(corpus_dir, "validation"):
        validation = unit_latents(corpus_dir, run_dir, "validation", codec=codec, config=config, vae=vae,
                                   vae_step=vae_step, log=log)
    parts = (vae.decoder, vae.post_quant_conv)
    for part in parts:
        part.requires_grad_(True)
    optimizer = torch.optim.AdamW([p for part in parts for p in part.parameters()], lr=settings.learning_rate,
                                  weight_decay=0.0)
    extra: dict[str, Any] = {}
    step = restore_stage(stage_dir, resume=resume, modules={"model": vae}, optimizer=optimizer, log=log, extra=extra)
    if extra.get("vae_step", vae_step) != vae_step:
        raise ComposerError(f"{stage_dir} fine-tunes the VAE of step {extra['vae_step']}, "
                            f"but {run_dir / 'vae'} now holds step {vae_step}")
    factor = vae_factor(config.vae)
    crop = min(loss.crop_frames, config.train_frames) // factor
    val_batch = None
    if validation is not None:
        val_batch = _decoder_batch(*validation, batch_size=32, crop=crop, factor=factor,
                                   generator=step_generator(settings.seed, "decoder-validation", 0))
    while step < settings.steps:
        started = time.perf_counter()
        generator = step_generator(settings.seed, "decoder", step)
        latents, units = _decoder_batch(*train, batch_size=settings.batch_size, crop=crop, factor=factor,
                                        generator=generator)
        rec = (vae.decode(latents.to(device)).sample - units.to(device)).abs().mean()
        optimise(optimizer, rec, optimizer.param_groups[0]["params"], lr=learning_rate_at(settings, step))
        step += 1
        record = {"step": step, "rec_l1": rec.item(), "lr": learning_rate_at(settings, step - 1),
                  "step_s": time.perf_counter() - started}
        if val_batch is not None and settings.eval_every and step % settings.eval_every == 0:
            with torch.inference_mode():
                record["val_rec_l1"] = float((vae.decode(val_batch[0].to(device)).sample
                                              - val_batch[1].to(device)).abs().mean())
        log_step(stage_dir, record, log=log)
        if step % settings.checkpoint_every == 0 or step == settings.steps:
            save_checkpoint(stage_dir, step=step, modules={"model": vae}, optimizer=optimizer,
                             extra={"config": config_to_dict(config), "vae_step": vae_step})
    return step


def _decoder_batch(latents: np.ndarray, units, *, batch_size: int, crop: int, factor: int,
                   generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Aligned random crops: latents [b, c, h, crop] and their unit images [b, 1, n_mels, crop * factor]."""
    rows = torch.randint(len(latents), (batch_size,), generator=generator).tolist()
    starts = torch.randint(latents.shape[-1] - crop + 1, (batch_size,), generator=generator).tolist()
    latent_crops = [np.asarray(latents[r, :, :, s : s + crop], dtype=np.float32) for r, s in zip(rows, starts)]
    unit_crops = [np.asarray(units.images[r, :, s * factor : (s + crop) * factor], dtype=np.float32)
                  for r, s in zip(rows, starts)]
    return torch.from_numpy(np.stack(latent_crops)), torch.from_numpy(np.stack(unit_crops)).unsqueeze(1)
