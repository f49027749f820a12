"""Checkpoints and logs of a stage folder: refusing to overwrite a stage without ``--resume``, the atomic
``checkpoint.pt`` write, restoring modules and optimiser from it (and dropping log lines past it), the
``log.jsonl`` step records, and reading a trained stage back (the run's VAE for the later stages)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable

import torch

from composer.builtin_model.config import BuiltinModelConfig
from composer.builtin_model.model import build_vae
from composer.errors import ComposerError
from composer.files import write_text_atomic

CHECKPOINT_FILE = "checkpoint.pt"
LOG_FILE = "log.jsonl"


def load_trained_vae(run_dir: Path, *, config: BuiltinModelConfig, device: torch.device) -> tuple[Any, int]:
    """The VAE of the run's latest VAE checkpoint (eval mode) and its step."""
    checkpoint = read_checkpoint(run_dir / "vae" / CHECKPOINT_FILE)
    vae = build_vae(config.vae)
    vae.load_state_dict(checkpoint["modules"]["model"])
    return vae.to(device).eval().requires_grad_(False), int(checkpoint["step"])


def prepare_stage_dir(run_dir: Path, stage: str, *, resume: bool) -> Path:
    stage_dir = run_dir / stage
    if (stage_dir / CHECKPOINT_FILE).exists() and not resume:
        raise ComposerError(f"{stage_dir / CHECKPOINT_FILE} exists: pass --resume to continue it, "
                            "or choose another --out")
    stage_dir.mkdir(parents=True, exist_ok=True)
    return stage_dir


def restore_stage(stage_dir: Path, *, resume: bool, modules: dict[str, torch.nn.Module], optimizer, log,
             extra: dict[str, Any] | None = None) -> int:
    path = stage_dir / CHECKPOINT_FILE
    if not (resume and path.exists()):
        return 0
    checkpoint = read_checkpoint(path)
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


def read_checkpoint(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ComposerError(f"missing checkpoint {path}: train that stage first")
    return torch.load(path, map_location="cpu", weights_only=False)


def save_checkpoint(stage_dir: Path, *, step: int, modules: dict[str, torch.nn.Module], optimizer,
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


def log_step(stage_dir: Path, record: dict[str, Any], *, log: Callable[[str], None]) -> None:
    with (stage_dir / LOG_FILE).open("a") as handle:
        handle.write(json.dumps(record) + "\n")
    if record["step"] % 10 == 0 or any(key.startswith("val") for key in record):
        log(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in record.items()))
