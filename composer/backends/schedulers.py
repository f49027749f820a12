"""Noise schedulers built from a model's own beta schedule (diffusers lives here, not in the planner)."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any


def pndm_scheduler(noise_schedule: Mapping[str, Any], *, overrides: Mapping[str, Any]) -> Any:
    """A fresh PNDM scheduler on ``noise_schedule`` (keys PNDM does not take are dropped), then ``overrides``."""
    from diffusers import PNDMScheduler

    accepted = set(inspect.signature(PNDMScheduler.__init__).parameters) - {"self"}
    config = {k: v for k, v in noise_schedule.items() if k in accepted}
    return PNDMScheduler(**{**config, **overrides})
