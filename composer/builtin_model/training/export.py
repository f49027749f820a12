"""Export: writes the shipped model folder from a run's checkpoints, the VAE (with the fine-tuned decoder
when one fits it) and the EMA weights of the UNet, with the run's training record."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import torch

from composer.builtin_model.model import LatentNorm, build_unet, save_builtin_model
from composer.builtin_model.training.checkpoints import CHECKPOINT_FILE, load_trained_vae, read_checkpoint
from composer.builtin_model.training.settings import load_run_config


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
        decoder_checkpoint = read_checkpoint(decoder_path)
        if decoder_checkpoint["extra"]["vae_step"] == vae_step:
            vae.load_state_dict(decoder_checkpoint["modules"]["model"])
            decoder_steps = int(decoder_checkpoint["step"])
        else:
            log(f"ignoring {decoder_path}: it fine-tunes the VAE of step {decoder_checkpoint['extra']['vae_step']}")
    unet_checkpoint = read_checkpoint(run_dir / "unet" / CHECKPOINT_FILE)
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
