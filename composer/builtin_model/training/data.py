"""Corpus data the stages share: whether the corpus has a split, and one split's VAE latents beside its
unit cache, both cached on disk under ``run_dir/cache``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from composer.builtin_model.dataset import build_latent_cache, build_unit_cache


def has_split(corpus_dir: str | Path, split: str) -> bool:
    path = Path(corpus_dir) / "metadata.jsonl"
    return any(json.loads(line).get("split") == split for line in path.read_text().splitlines() if line.strip())


def unit_latents(corpus_dir, run_dir: Path, split: str, *, codec, config, vae, vae_step: int,
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
