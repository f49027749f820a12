"""Riffusion's interpolation: lerp for text embeddings, slerp for initial noises."""

from __future__ import annotations

import torch


def lerp(t: float, v0: torch.Tensor, v1: torch.Tensor) -> torch.Tensor:
    """(1 - t) * v0 + t * v1; exactly v0 at t = 0."""
    return (1.0 - t) * v0 + t * v1


def slerp(t: float, v0: torch.Tensor, v1: torch.Tensor, *, dot_threshold: float = 0.9995) -> torch.Tensor:
    """Spherical interpolation of two tensors treated as flat vectors.

    Keeps the norm of Gaussian noise (a lerp halfway would shrink it by ~0.7
    and wash out the image); falls back to lerp when the two are nearly
    parallel, like Riffusion. Exactly v0 at t = 0.
    """
    a = v0.double()
    b = v1.double()
    dot = float((a * b).sum() / (a.norm() * b.norm()))
    if abs(dot) > dot_threshold:
        return lerp(t, v0, v1)
    theta = torch.tensor(dot, dtype=torch.float64).acos()
    scale0 = float(torch.sin(theta * (1.0 - t)) / torch.sin(theta))
    scale1 = float(torch.sin(theta * t) / torch.sin(theta))
    return (scale0 * v0 + scale1 * v1).to(v0.dtype)
