"""Section names in a composer outline <-> the model's section labels.

A composer section name has one prompt and one bar count, so a sampled form is
named by material and length: the first verse material is `verse`, a second
distinct verse tune `verse_b`, a third `verse_c`; a repeat of `chorus` that the
model made 16 bars long instead of 8 is `chorus_16bars` (same material, same
seed, its own bar count), which keeps the sampled durations exact.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence

from structure_models.form import SampledSection

# words users write for a section, squeezed to lower-case letters -> model label;
# a name maps by its longest alias prefix ('prechorus2' -> prechorus)
ALIASES = {
    "intro": "intro",
    "verse": "verse",
    "prechorus": "prechorus",
    "pre": "prechorus",
    "lift": "prechorus",
    "chorus": "chorus",
    "postchorus": "chorus",
    "refrain": "chorus",
    "hook": "chorus",
    "bridge": "bridge",
    "middle": "bridge",
    "solo": "solo",
    "instrumental": "instrumental",
    "inst": "instrumental",
    "interlude": "instrumental",
    "riff": "instrumental",
    "breakdown": "breakdown",
    "break": "breakdown",
    "build": "build",
    "buildup": "build",
    "riser": "build",
    "drop": "chorus",
    "outro": "outro",
    "coda": "outro",
    "ending": "outro",
    "fadeout": "outro",
}


def material_suffix(ordinal: int) -> str:
    """'' for a label's first material, '_b' for its second, '_c' ... then '_m27'."""
    if ordinal == 0:
        return ""
    return f"_{string.ascii_lowercase[ordinal]}" if ordinal < 26 else f"_m{ordinal + 1}"


def material_ordinals(form: Sequence[SampledSection]) -> list[int]:
    """Per section: which distinct material of its label it plays (0 = the first)."""
    ordinals: list[int] = []
    seen: dict[str, int] = {}
    for section in form:
        if section.repeat_of is None:
            ordinals.append(seen.get(section.label, 0))
            seen[section.label] = ordinals[-1] + 1
        else:
            ordinals.append(ordinals[section.repeat_of])
    return ordinals


def section_names(form: Sequence[SampledSection]) -> list[str]:
    """Outline name of every section: material first, then length variant."""
    first_bars: dict[str, int] = {}
    names = []
    for section, ordinal in zip(form, material_ordinals(form)):
        base = section.label + material_suffix(ordinal)
        first_bars.setdefault(base, section.bars)
        names.append(base if section.bars == first_bars[base] else f"{base}_{section.bars}bars")
    return names


def base_name(name: str) -> str:
    """The material name behind a length variant ('chorus_16bars' -> 'chorus')."""
    return re.sub(r"_\d+bars$", "", name)


def label_of_name(name: str) -> str:
    """Model label for an outline section name; 'other' when nothing matches."""
    squeezed = re.sub(r"[^a-z]", "", base_name(name.lower()))
    matches = [alias for alias in ALIASES if squeezed.startswith(alias)]
    return ALIASES[max(matches, key=len)] if matches else "other"
