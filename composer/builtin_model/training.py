"""Training loops of the built-in model: the spectrogram VAE, then the latent UNet.

Both resume exactly: each step draws its randomness from a generator seeded
with (seed, stage, step), so a run interrupted at step k and resumed gives the
same batches as one that never stopped. Checkpoints are written atomically.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import torch

from composer.builtin_model.config import BuiltinModelConfig, config_from_dict, config_to_dict, vae_factor
from composer.builtin_model.dataset import UnitCache, build_caption_cache, build_latent_cache, build_unit_cache
from composer.builtin_model.model import (
    LatentNorm,
    build_training_scheduler,
    build_unet,
    build_vae,
    normalize_latents,
    save_builtin_model,
)
from composer.builtin_model.text_encoder import encode_prompts, load_text_encoder
from composer.codec.codec import SpectrogramCodec
from composer.errors import ComposerError
from composer.files import write_text_atomic
from composer.seeds import derive_seed

CHECKPOINT_FILE = "checkpoint.pt"
LOG_FILE = "log.jsonl"
RUN_CONFIG_FILE = "config.json"


@dataclass(frozen=True)
class TrainSettings:
    """Optimisation settings of one stage."""

    # stop when this many optimiser steps are done (resume counts the earlier ones)
    steps: int
    # clips per step
    batch_size: int = 16
    # peak AdamW learning rate
    learning_rate: float = 2e-4
    # linear warm-up steps to the peak rate
    warmup_steps: int = 200
    # the last this many steps (up to ``steps``) cool the rate linearly down to ``final_lr_ratio`` of the
    # peak (0: constant after warm-up); a constant-rate run can be resumed into its cool-down
    decay_steps: int = 0
    # rate at the very last step, as a share of the peak
    final_lr_ratio: float = 0.05
    # write a checkpoint every this many steps (and at the end)
    checkpoint_every: int = 250
    # compute the validation loss every this many steps (0: never)
    eval_every: int = 250
    # root of all randomness of the run
    seed: int = 0
    # "cpu" or "cuda"
    device: str = "cpu"


@dataclass(frozen=True)
class VaeLoss:
    """Reconstruction objective of the spectrogram VAE."""

    # VAE training crops: image columns (a multiple of the VAE factor)
    crop_frames: int = 128
    # weight of the KL term, per pixel (Stable Diffusion's VAE used 1e-6)
    kl_weight: float = 1e-6


@dataclass(frozen=True)
class UnetLoss:
    """Denoising objective of the latent UNet."""

    # share of captions replaced by the empty prompt, for classifier-free guidance
    caption_dropout: float = 0.1
    # min-SNR loss weighting gamma (Hang et al. 2023); speeds up convergence
    min_snr_gamma: float = 5.0
    # EMA decay of the exported weights (ramped up from 0 at the start)
    ema_decay: float = 0.999


def load_run_config(run_dir: str | Path, *, default: BuiltinModelConfig | None = None) -> BuiltinModelConfig:
    """The run's model config; the first call writes ``default`` (or the stock config) to ``run_dir/config.json``."""
    path = Path(run_dir) / RUN_CONFIG_FILE
    if path.is_file():
        return config_from_dict(json.loads(path.read_text()))
    config = default if default is not None else BuiltinModelConfig()
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, json.dumps(config_to_dict(config), indent=2) + "\n")
    return config


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
    stage_dir = _stage_dir(run_dir, "vae", resume=resume)
    codec = SpectrogramCodec(config.codec)
    train = build_unit_cache(corpus_dir, split="train", codec=codec, frames=config.train_frames,
                             cache_dir=run_dir / "cache", log=log)
    validation = _optional_units(corpus_dir, run_dir, codec=codec, config=config, log=log)
    with _seeded_init(settings.seed, "vae"):
        vae = build_vae(config.vae).to(device)
    optimizer = torch.optim.AdamW(vae.parameters(), lr=settings.learning_rate, weight_decay=0.0)
    step = _restore(stage_dir, resume=resume, modules={"model": vae}, optimizer=optimizer, log=log)
    crop = min(loss.crop_frames, config.train_frames)
    val_batch = _vae_validation_batch(validation, crop=crop, seed=settings.seed) if validation is not None else None
    vae.train()
    while step < settings.steps:
        started = time.perf_counter()
        generator = _step_generator(settings.seed, "vae", step)
        batch = _vae_batch(train.images, batch_size=settings.batch_size, crop=crop, generator=generator).to(device)
        rec, kl = _vae_losses(vae, batch, generator=generator)
        total = rec + loss.kl_weight * kl
        _optimise(optimizer, total, vae.parameters(), lr=_learning_rate(settings, step))
        step += 1
        record = {"step": step, "loss": total.item(), "rec_l1": rec.item(), "kl_per_pixel": kl.item(),
                  "lr": _learning_rate(settings, step - 1), "step_s": time.perf_counter() - started}
        if val_batch is not None and settings.eval_every and step % settings.eval_every == 0:
            record["val_rec_l1"] = _vae_validation_loss(vae, val_batch.to(device))
        _log_step(stage_dir, record, log=log)
        if step % settings.checkpoint_every == 0 or step == settings.steps:
            _save_checkpoint(stage_dir, step=step, modules={"model": vae}, optimizer=optimizer,
                             extra={"config": config_to_dict(config)})
    return step


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
    stage_dir = _stage_dir(run_dir, "unet", resume=resume)
    vae, vae_step = load_trained_vae(run_dir, config=config, device=device)
    codec = SpectrogramCodec(config.codec)
    encoder = load_text_encoder(max_tokens=config.text.max_tokens, device=device)
    train = _latent_split(corpus_dir, run_dir, "train", codec=codec, config=config, vae=vae, vae_step=vae_step,
                          encoder=encoder, log=log)
    validation = None
    if _has_split(corpus_dir, "validation"):
        validation = _latent_split(corpus_dir, run_dir, "validation", codec=codec, config=config, vae=vae,
                                   vae_step=vae_step, encoder=encoder, log=log)
    empty_states, empty_pooled = (t.to(device) for t in encode_prompts(encoder, [""]))
    del encoder
    with _seeded_init(settings.seed, "unet"):
        unet = build_unet(config.unet, latent_channels=config.vae.latent_channels, text=config.text).to(device)
    ema = copy.deepcopy(unet).requires_grad_(False)
    optimizer = torch.optim.AdamW(unet.parameters(), lr=settings.learning_rate, weight_decay=1e-2)
    scheduler = build_training_scheduler(config.schedule)
    extra: dict[str, Any] = {}
    step = _restore(stage_dir, resume=resume, modules={"model": unet, "ema": ema}, optimizer=optimizer,
                    log=log, extra=extra)
    norm = LatentNorm(**extra["latent_norm"]) if "latent_norm" in extra else latent_norm_of(train["latents"])
    if extra.get("vae_step", vae_step) != vae_step:
        raise ComposerError(f"{stage_dir} was trained on the VAE of step {extra['vae_step']}, "
                            f"but {run_dir / 'vae'} now holds step {vae_step}")
    alphas = scheduler.alphas_cumprod.to(device)
    unet.train()
    while step < settings.steps:
        started = time.perf_counter()
        generator = _step_generator(settings.seed, "unet", step)
        batch = _unet_batch(train, batch_size=settings.batch_size, generator=generator, norm=norm,
                            empty=(empty_states.cpu(), empty_pooled.cpu()), dropout=loss.caption_dropout)
        value = _denoising_loss(unet, scheduler, alphas, {k: v.to(device) for k, v in batch.items()},
                                generator=generator, gamma=loss.min_snr_gamma,
                                prediction_type=config.schedule.prediction_type)
        _optimise(optimizer, value, unet.parameters(), lr=_learning_rate(settings, step))
        step += 1
        _update_ema(ema, unet, decay=min(loss.ema_decay, (1 + step) / (10 + step)))
        record = {"step": step, "loss": value.item(), "lr": _learning_rate(settings, step - 1),
                  "step_s": time.perf_counter() - started}
        if validation is not None and settings.eval_every and step % settings.eval_every == 0:
            record["val_loss_ema"] = _unet_validation_loss(ema, scheduler, alphas, validation, config=config,
                                                           norm=norm, seed=settings.seed,
                                                           device=device)
        _log_step(stage_dir, record, log=log)
        if step % settings.checkpoint_every == 0 or step == settings.steps:
            _save_checkpoint(stage_dir, step=step, modules={"model": unet, "ema": ema}, optimizer=optimizer,
                             extra={"config": config_to_dict(config), "latent_norm": asdict(norm),
                                    "vae_step": vae_step})
    return step


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
    stage_dir = _stage_dir(run_dir, "decoder", resume=resume)
    vae, vae_step = load_trained_vae(run_dir, config=config, device=device)
    codec = SpectrogramCodec(config.codec)
    train = _unit_latents(corpus_dir, run_dir, "train", codec=codec, config=config, vae=vae, vae_step=vae_step, log=log)
    validation = None
    if _has_split(corpus_dir, "validation"):
        validation = _unit_latents(corpus_dir, run_dir, "validation", codec=codec, config=config, vae=vae,
                                   vae_step=vae_step, log=log)
    parts = (vae.decoder, vae.post_quant_conv)
    for part in parts:
        part.requires_grad_(True)
    optimizer = torch.optim.AdamW([p for part in parts for p in part.parameters()], lr=settings.learning_rate,
                                  weight_decay=0.0)
    extra: dict[str, Any] = {}
    step = _restore(stage_dir, resume=resume, modules={"model": vae}, optimizer=optimizer, log=log, extra=extra)
    if extra.get("vae_step", vae_step) != vae_step:
        raise ComposerError(f"{stage_dir} fine-tunes the VAE of step {extra['vae_step']}, "
                            f"but {run_dir / 'vae'} now holds step {vae_step}")
    factor = vae_factor(config.vae)
    crop = min(loss.crop_frames, config.train_frames) // factor
    val_batch = None
    if validation is not None:
        val_batch = _decoder_batch(*validation, batch_size=32, crop=crop, factor=factor,
                                   generator=_step_generator(settings.seed, "decoder-validation", 0))
    while step < settings.steps:
        started = time.perf_counter()
        generator = _step_generator(settings.seed, "decoder", step)
        latents, units = _decoder_batch(*train, batch_size=settings.batch_size, crop=crop, factor=factor,
                                        generator=generator)
        rec = (vae.decode(latents.to(device)).sample - units.to(device)).abs().mean()
        _optimise(optimizer, rec, optimizer.param_groups[0]["params"], lr=_learning_rate(settings, step))
        step += 1
        record = {"step": step, "rec_l1": rec.item(), "lr": _learning_rate(settings, step - 1),
                  "step_s": time.perf_counter() - started}
        if val_batch is not None and settings.eval_every and step % settings.eval_every == 0:
            with torch.inference_mode():
                record["val_rec_l1"] = float((vae.decode(val_batch[0].to(device)).sample
                                              - val_batch[1].to(device)).abs().mean())
        _log_step(stage_dir, record, log=log)
        if step % settings.checkpoint_every == 0 or step == settings.steps:
            _save_checkpoint(stage_dir, step=step, modules={"model": vae}, optimizer=optimizer,
                             extra={"config": config_to_dict(config), "vae_step": vae_step})
    return step


def export_model(run_dir: str | Path, weights_dir: str | Path, *, makes_music: bool = True,
                 log: Callable[[str], None] = print) -> Path:
    """Write the shipped folder (fp16 safetensors + configs) from the run's VAE and EMA UNet checkpoints.

    ``makes_music`` is what the folder declares to users (False makes render print that the output is
    not music); whether a trained model earns it is measured by ``composer.builtin_model.evaluate``.
    """
    run_dir = Path(run_dir)
    config = load_run_config(run_dir)
    vae, vae_step = load_trained_vae(run_dir, config=config, device=torch.device("cpu"))
    decoder_steps = 0
    decoder_path = run_dir / "decoder" / CHECKPOINT_FILE
    if decoder_path.is_file():
        decoder_checkpoint = _read_checkpoint(decoder_path)
        if decoder_checkpoint["extra"]["vae_step"] == vae_step:
            vae.load_state_dict(decoder_checkpoint["modules"]["model"])
            decoder_steps = int(decoder_checkpoint["step"])
        else:
            log(f"ignoring {decoder_path}: it fine-tunes the VAE of step {decoder_checkpoint['extra']['vae_step']}")
    unet_checkpoint = _read_checkpoint(run_dir / "unet" / CHECKPOINT_FILE)
    unet = build_unet(config.unet, latent_channels=config.vae.latent_channels, text=config.text)
    unet.load_state_dict(unet_checkpoint["modules"]["ema"])
    training = {
        "vae_steps": vae_step,
        "decoder_finetune_steps": decoder_steps,
        "unet_steps": unet_checkpoint["step"],
        "unet_weights": "EMA",
        "corpus_clips": len(json.loads((run_dir / "cache" / "units_train.json").read_text())["ids"]),
    }
    folder = save_builtin_model(weights_dir, config=config, vae=vae, unet=unet,
                                latent_norm=LatentNorm(**unet_checkpoint["extra"]["latent_norm"]),
                                makes_music=makes_music, training=training)
    log(f"exported {folder}: VAE step {vae_step} (+{decoder_steps} decoder steps), "
        f"UNet step {unet_checkpoint['step']} (EMA)")
    return folder


def load_trained_vae(run_dir: Path, *, config: BuiltinModelConfig, device: torch.device) -> tuple[Any, int]:
    """The VAE of the run's latest VAE checkpoint (eval mode) and its step."""
    checkpoint = _read_checkpoint(run_dir / "vae" / CHECKPOINT_FILE)
    vae = build_vae(config.vae)
    vae.load_state_dict(checkpoint["modules"]["model"])
    return vae.to(device).eval().requires_grad_(False), int(checkpoint["step"])


def latent_norm_of(latents: np.ndarray, *, max_clips: int = 4096) -> LatentNorm:
    """Per-channel mean and std of the cached latents (at most ``max_clips`` evenly spaced clips)."""
    stride = max(1, len(latents) // max_clips)
    sample = np.asarray(latents[::stride], dtype=np.float64)
    mean = sample.mean(axis=(0, 2, 3))
    std = np.maximum(sample.std(axis=(0, 2, 3)), 1e-6)
    return LatentNorm(mean=tuple(float(v) for v in mean), std=tuple(float(v) for v in std))


def _stage_dir(run_dir: Path, stage: str, *, resume: bool) -> Path:
    stage_dir = run_dir / stage
    if (stage_dir / CHECKPOINT_FILE).exists() and not resume:
        raise ComposerError(f"{stage_dir / CHECKPOINT_FILE} exists: pass --resume to continue it, "
                            "or choose another --out")
    stage_dir.mkdir(parents=True, exist_ok=True)
    return stage_dir


def _has_split(corpus_dir: str | Path, split: str) -> bool:
    path = Path(corpus_dir) / "metadata.jsonl"
    return any(json.loads(line).get("split") == split for line in path.read_text().splitlines() if line.strip())


def _optional_units(corpus_dir: str | Path, run_dir: Path, *, codec: SpectrogramCodec, config: BuiltinModelConfig,
                    log: Callable[[str], None]) -> UnitCache | None:
    """The validation split's unit cache, or None when the corpus has no validation clips."""
    if not _has_split(corpus_dir, "validation"):
        return None
    return build_unit_cache(corpus_dir, split="validation", codec=codec, frames=config.train_frames,
                            cache_dir=run_dir / "cache", log=log)


def _unit_latents(corpus_dir, run_dir: Path, split: str, *, codec, config, vae, vae_step: int,
                  log) -> tuple[np.ndarray, Any]:
    """(VAE posterior means [n, c, h, w], unit cache) of one split (both cached on disk)."""
    units = build_unit_cache(corpus_dir, split=split, codec=codec, frames=config.train_frames,
                             cache_dir=run_dir / "cache", log=log)
    device = next(vae.parameters()).device

    def encode(batch: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            return vae.encode(batch.to(device)).latent_dist.mean

    latents = build_latent_cache(units.images, encode=encode, cache_path=run_dir / "cache" / f"latents_{split}.npy",
                                 key=f"vae-step-{vae_step}", log=log)
    return np.asarray(latents), units


def _latent_split(corpus_dir, run_dir: Path, split: str, *, codec, config, vae, vae_step: int, encoder,
                  log) -> dict[str, np.ndarray]:
    """Latents, caption token states and pooled vectors of one split (all cached on disk)."""
    latents, units = _unit_latents(corpus_dir, run_dir, split, codec=codec, config=config, vae=vae,
                                   vae_step=vae_step, log=log)
    states, pooled = build_caption_cache(units.captions, encode=lambda texts: encode_prompts(encoder, texts),
                                         cache_path=run_dir / "cache" / f"captions_{split}.npz", log=log)
    return {"latents": latents, "states": states, "pooled": pooled}


def _decoder_batch(latents: np.ndarray, units, *, batch_size: int, crop: int, factor: int,
                   generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Aligned random crops: latents [b, c, h, crop] and their unit images [b, 1, n_mels, crop * factor]."""
    rows = torch.randint(len(latents), (batch_size,), generator=generator).tolist()
    starts = torch.randint(latents.shape[-1] - crop + 1, (batch_size,), generator=generator).tolist()
    latent_crops = [np.asarray(latents[r, :, :, s : s + crop], dtype=np.float32) for r, s in zip(rows, starts)]
    unit_crops = [np.asarray(units.images[r, :, s * factor : (s + crop) * factor], dtype=np.float32)
                  for r, s in zip(rows, starts)]
    return torch.from_numpy(np.stack(latent_crops)), torch.from_numpy(np.stack(unit_crops)).unsqueeze(1)


@contextlib.contextmanager
def _seeded_init(seed: int, stage: str) -> Iterator[None]:
    """Seed weight initialisation (diffusers draws it from torch's global RNG) without leaking the seed."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(derive_seed(seed, "builtin-init", stage))
        yield


def _step_generator(seed: int, stage: str, step: int) -> torch.Generator:
    return torch.Generator(device="cpu").manual_seed(derive_seed(seed, "builtin-train", stage, step))


def _learning_rate(settings: TrainSettings, step: int) -> float:
    """Warm-up, constant peak, then (``decay_steps``) a linear cool-down ending at ``steps``."""
    rate = settings.learning_rate * min(1.0, (step + 1) / max(1, settings.warmup_steps))
    if settings.decay_steps > 0:
        into_decay = step + 1 - (settings.steps - settings.decay_steps)
        if into_decay > 0:
            share = min(1.0, into_decay / settings.decay_steps)
            rate *= 1.0 - (1.0 - settings.final_lr_ratio) * share
    return rate


def _optimise(optimizer: torch.optim.Optimizer, value: torch.Tensor, parameters, *, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr
    optimizer.zero_grad(set_to_none=True)
    value.backward()
    torch.nn.utils.clip_grad_norm_(list(parameters), max_norm=1.0)
    optimizer.step()


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
    generator = _step_generator(seed, "vae-validation", 0)
    return _vae_batch(units.images, batch_size=min(size, len(units.images)), crop=crop, generator=generator)


def _vae_validation_loss(vae, batch: torch.Tensor) -> float:
    vae.eval()
    with torch.inference_mode():
        posterior = vae.encode(batch).latent_dist
        rec = float((vae.decode(posterior.mean).sample - batch).abs().mean())
    vae.train()
    return rec


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
    generator = _step_generator(seed, "unet-validation", 0)
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


def _restore(stage_dir: Path, *, resume: bool, modules: dict[str, torch.nn.Module], optimizer, log,
             extra: dict[str, Any] | None = None) -> int:
    path = stage_dir / CHECKPOINT_FILE
    if not (resume and path.exists()):
        return 0
    checkpoint = _read_checkpoint(path)
    for name, module in modules.items():
        module.load_state_dict(checkpoint["modules"][name])
    optimizer.load_state_dict(checkpoint["optimizer"])
    if extra is not None:
        extra.update(checkpoint.get("extra", {}))
    step = int(checkpoint["step"])
    _truncate_log(stage_dir / LOG_FILE, after_step=step)
    log(f"resumed {path} at step {step}")
    return step


def _truncate_log(path: Path, *, after_step: int) -> None:
    """Drop log lines of steps past the checkpoint: they are about to be trained again."""
    if path.is_file():
        lines = [line for line in path.read_text().splitlines() if json.loads(line)["step"] <= after_step]
        write_text_atomic(path, "".join(line + "\n" for line in lines))


def _read_checkpoint(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ComposerError(f"missing checkpoint {path}: train that stage first")
    return torch.load(path, map_location="cpu", weights_only=False)


def _save_checkpoint(stage_dir: Path, *, step: int, modules: dict[str, torch.nn.Module], optimizer,
                     extra: dict[str, Any]) -> None:
    state = {
        "step": step,
        "modules": {name: module.state_dict() for name, module in modules.items()},
        "optimizer": optimizer.state_dict(),
        "extra": extra,
    }
    partial = stage_dir / f".{CHECKPOINT_FILE}.partial"
    torch.save(state, partial)
    os.replace(partial, stage_dir / CHECKPOINT_FILE)


def _log_step(stage_dir: Path, record: dict[str, Any], *, log: Callable[[str], None]) -> None:
    with (stage_dir / LOG_FILE).open("a") as handle:
        handle.write(json.dumps(record) + "\n")
    if record["step"] % 10 == 0 or any(key.startswith("val") for key in record):
        log(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in record.items()))
