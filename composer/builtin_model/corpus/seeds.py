"""Seed derivation with hashlib, so every seed is stable across runs and platforms."""

from __future__ import annotations

import hashlib


def derive_seed(*labels: object) -> int:
    """A 63-bit seed from any labels (ints, strings), via SHA-256 of their repr."""
    digest = hashlib.sha256("\x1f".join(repr(label) for label in labels).encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def unit_interval(*labels: object) -> float:
    """A number in [0, 1) fixed by the labels (for splits and other hashed choices)."""
    return derive_seed(*labels) / float(1 << 63)
