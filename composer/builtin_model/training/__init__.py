"""Training loops of the built-in model: the spectrogram VAE, then the latent UNet.

Both resume exactly: each step draws its randomness from a generator seeded
with (seed, stage, step), so a run interrupted at step k and resumed gives the
same batches as one that never stopped. Checkpoints are written atomically.

One file a job: ``settings`` (stage and loss settings, the run config), ``checkpoints``
(stage folders, checkpoints, logs), ``steps`` (seeded randomness, learning rate, optimiser
step), ``data`` (splits and latent caches), one file per stage (``vae``, ``unet``,
``decoder``) and ``export`` (the shipped folder).
"""

from __future__ import annotations

from composer.builtin_model.training.checkpoints import CHECKPOINT_FILE, LOG_FILE, load_trained_vae
from composer.builtin_model.training.decoder import train_decoder
from composer.builtin_model.training.export import export_model
from composer.builtin_model.training.settings import (
    RUN_CONFIG_FILE,
    TrainSettings,
    UnetLoss,
    VaeLoss,
    load_run_config,
)
from composer.builtin_model.training.unet import latent_norm_of, train_unet
from composer.builtin_model.training.vae import train_vae

__all__ = [
    "CHECKPOINT_FILE",
    "LOG_FILE",
    "RUN_CONFIG_FILE",
    "TrainSettings",
    "UnetLoss",
    "VaeLoss",
    "export_model",
    "latent_norm_of",
    "load_run_config",
    "load_trained_vae",
    "train_decoder",
    "train_unet",
    "train_vae",
]
