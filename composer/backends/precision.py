"""Which float type the built-in model computes in: ``--precision auto|float32|bfloat16``.

bfloat16 halves the UNet's and the VAE's arithmetic where the hardware has matrix units for it. On a CPU
with AMX (Intel Sapphire Rapids and later) a template clip renders in 1.04 s instead of 1.45 s and its decoded
mel moves 0.30 dB on average, against 6.94 dB between two seeds (``benchmarks/precision_check.py``). Without
AMX bfloat16 is slower than float32 (oneDNN held to AVX512_CORE_BF16 on the same machine: 1.59 s against
1.34 s per clip), so ``auto`` takes it only where AMX is there. On CUDA ``auto`` stays float32 (bfloat16 is
not measured there yet).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

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


def slow_precision_warning(backend: Any) -> Optional[str]:
    """A warning when ``backend`` computes in bfloat16 on a CPU without bfloat16 matrix units (a song
    rendered on an AMX machine, regenerated on another, or ``--precision bfloat16`` asked for there); else
    None."""
    import torch

    device = getattr(backend, "device", None)
    if getattr(backend, "dtype", None) != torch.bfloat16 or getattr(device, "type", None) != "cpu":
        return None
    if cpu_has_bf16_matrix_units():
        return None
    return ("the model runs in bfloat16 on a CPU without bfloat16 matrix units (AMX), where it is slower than "
            "float32: 1.2x per clip with AVX-512 bfloat16 instructions, 2.5x without them, far more without "
            "AVX-512. A song regenerates in the precision it was rendered in; render it again with --precision "
            "float32 for one this machine regenerates at float32 speed")
