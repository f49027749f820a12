"""Stable seed derivation: the same names always give the same seeds.

Python's ``hash()`` is salted per process, so seeds are derived with SHA-256
of the song seed and the names that identify a section or clip.
"""

from __future__ import annotations

import hashlib

#: 32-bit seeds: readable in tables and accepted by torch, numpy and riffusion's API alike
SEED_BITS = 32

#: seeds a user may give (outline, regenerate, manifest): what fits a signed 64-bit integer
SEED_LIMIT = 2**63


def derive_seed(song_seed: int, *parts: object) -> int:
    """Derive a seed from ``song_seed`` and any number of name parts.

    >>> derive_seed(7, "chorus") == derive_seed(7, "chorus")
    True
    """
    text = "\x1f".join([str(int(song_seed)), *(str(p) for p in parts)])
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") >> (64 - SEED_BITS)
