"""Per-step machinery every stage shares: seeded weight initialisation, the generator each step draws its
randomness from (seeded with seed, stage and step, which is what makes resuming exact), the learning-rate
schedule and the clipped optimiser step."""

from __future__ import annotations

import contextlib
from typing import Iterator

import torch

from composer.builtin_model.training.settings import TrainSettings
from composer.seeds import derive_seed


@contextlib.contextmanager
def seeded_init(seed: int, stage: str) -> Iterator[None]:
    """Seed weight initialisation (diffusers draws it from torch's global RNG) without leaking the seed."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(derive_seed(seed, "builtin-init", stage))
        yield


def step_generator(seed: int, stage: str, step: int) -> torch.Generator:
    return torch.Generator(device="cpu").manual_seed(derive_seed(seed, "builtin-train", stage, step))


def learning_rate_at(settings: TrainSettings, step: int) -> float:
    """Warm-up, constant peak, then (``decay_steps``) a linear cool-down ending at ``steps``."""
    rate = settings.learning_rate * min(1.0, (step + 1) / max(1, settings.warmup_steps))
    if settings.decay_steps > 0:
        into_decay = step + 1 - (settings.steps - settings.decay_steps)
        if into_decay > 0:
            share = min(1.0, into_decay / settings.decay_steps)
            rate *= 1.0 - (1.0 - settings.final_lr_ratio) * share
    return rate


def optimise(optimizer: torch.optim.Optimizer, value: torch.Tensor, parameters, *, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr
    optimizer.zero_grad(set_to_none=True)
    value.backward()
    torch.nn.utils.clip_grad_norm_(list(parameters), max_norm=1.0)
    optimizer.step()
