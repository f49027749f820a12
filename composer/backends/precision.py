"""Which float type the built-in model computes in: ``--precision auto|float32|bfloat16``.

bfloat16 halves the UNet's and the VAE's arithmetic where the hardware has matrix units for it. On a CPU
with AMX (Intel Sapphire Rapids and later) a template clip renders in 1.04 s instead of 1.45 s and its decoded
mel moves 0.30 dB on average, against 6.94 dB between two seeds (``benchmarks/precision_check.py``). bfloat16
on a CPU without AMX is not measured, so ``auto`` takes it only where AMX is there; on CUDA ``auto`` stays
float32 (not measured yet either).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from composer.errors import BackendError

if TYPE_CHECKING:
    import torch

#: what ``--precision`` accepts
PRECISIONS = ("auto", "float32", "bfloat16")


def cpu_has_bf16_matrix_units() -> bool:
    """True where this CPU multiplies bfloat16 matrices in hardware (AMX tiles with bf16 support)."""
    import torch

    # private in torch 2.x but stable since 2.2; a torch without them gets float32, never a crash
    amx = getattr(torch.cpu, "_is_amx_tile_supported", None)
    bf16 = getattr(torch.cpu, "_is_avx512_bf16_supported", None)
    return bool(amx and bf16 and amx() and bf16())


def resolve_precision(precision: str, *, device: "torch.device") -> "torch.dtype":
    """``precision`` (one of ``PRECISIONS``) on ``device`` -> the torch dtype the model's weights take."""
    import torch

    if precision not in PRECISIONS:
        raise BackendError(f"unknown precision {precision!r}; use one of {', '.join(PRECISIONS)}")
    if precision == "auto":
        return torch.bfloat16 if device.type == "cpu" and cpu_has_bf16_matrix_units() else torch.float32
    return getattr(torch, precision)
