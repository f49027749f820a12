"""The tags of one clip: what a caption may say and what the metadata records."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .arrangement import Arrangement, ClipPlan
from .instruments import INSTRUMENTS
from .styles import style_named

# Order in which a clip's instruments are listed: the lead first.
_ROLE_ORDER = ("lead", "chords", "bass", "arp", "pad", "timpani")
_MODE_MOODS = {"major": ("bright", "uplifting", "warm", "happy"), "minor": ("dark", "moody", "melancholic", "brooding")}


@dataclass(frozen=True)
class ClipTags:
    """Everything known about a clip's content."""

    # style name
    style: str
    # tempo in BPM
    bpm: int
    # "4/4" or "3/4"
    time_signature: str
    # "F# minor"
    key: str
    # "major" or "minor"
    mode: str
    # instrument keys heard (no drums), lead first
    instrument_keys: tuple[str, ...]
    # (role, instrument key) for each pitched part heard, lead first
    roles: tuple[tuple[str, str], ...]
    # instrument key of the lead
    lead_key: str
    # True when the clip has drums
    has_drums: bool
    # bank-128 kit preset of the drums, or None
    drum_kit: int | None
    # "sparse" or "full"
    density: str
    # "slow", "medium" or "fast"
    tempo_word: str
    # one mood word
    mood: str


def tempo_word(bpm: float) -> str:
    """slow below 90 BPM, fast from 120, medium between."""
    if bpm < 90:
        return "slow"
    return "fast" if bpm >= 120 else "medium"


def clip_tags(arrangement: Arrangement, plan: ClipPlan, *, clip_seed: int) -> ClipTags:
    """Tags of a planned clip; the mood is drawn from ``clip_seed``."""
    style = style_named(arrangement.style)
    roles = tuple(
        (role, arrangement.part(role).instrument_key)
        for role in _ROLE_ORDER
        if role in plan.roles and arrangement.part(role) is not None
    )
    keys = tuple(dict.fromkeys(key for _, key in roles))
    rng = np.random.default_rng(clip_seed)
    moods = style.moods + _MODE_MOODS[arrangement.mode][:2]
    has_drums = "drums" in plan.roles and arrangement.part("drums") is not None
    return ClipTags(
        style=arrangement.style, bpm=arrangement.bpm, time_signature=arrangement.time_signature,
        key=arrangement.key, mode=arrangement.mode, instrument_keys=keys, roles=roles,
        lead_key=arrangement.part("lead").instrument_key, has_drums=has_drums,
        drum_kit=arrangement.drum_kit if has_drums else None, density=plan.density,
        tempo_word=tempo_word(arrangement.bpm), mood=str(moods[int(rng.integers(len(moods)))]),
    )


def gm_names(tags: ClipTags) -> list[str]:
    """General MIDI program names of the clip's instruments, lead first."""
    return [INSTRUMENTS[k].gm_name for k in tags.instrument_keys]


def families(tags: ClipTags) -> list[str]:
    """Distinct instrument families heard, in listing order."""
    return list(dict.fromkeys(INSTRUMENTS[k].family for k in tags.instrument_keys))
