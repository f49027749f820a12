"""Settings of a training run: the optimiser settings of one stage, the loss settings of the VAE and
UNet objectives, and the run's model config kept in ``run_dir/config.json``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from composer.builtin_model.config import BuiltinModelConfig, config_from_dict, config_to_dict
from composer.files import write_text_atomic

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
