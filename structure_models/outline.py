"""Turn a sampled form into composer outline sections and a form list."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Mapping, Sequence

from structure_models.form import SampledSection
from structure_models.genres import check_genre
from structure_models.model import FormModel
from structure_models.naming import base_name, material_ordinals, section_names
from structure_models.palette import (
    DEFAULT_VARIATION,
    LABEL_GAIN_DB,
    LABEL_VARIATION,
    PALETTES,
    section_prompt,
)


def transition_fields(*, label: str, next_label: str | None, bars: int) -> dict:
    """How a section hands over to the next: rises melt into choruses, builds cut."""
    if next_label is None:
        return {}
    if label == "build" or next_label == "breakdown":
        return {"transition": "cut"}
    if label == "prechorus" and next_label == "chorus":
        return {"transition": "interpolate", "interpolate_bars": 2 if bars >= 8 else 1}
    return {"transition": "crossfade"}


def material_seed(*, seed: int, name: str) -> int:
    """Seed shared by a material and its length variants, from SHA-256."""
    digest = hashlib.sha256(f"structure_models/section:{int(seed)}:{name}".encode()).digest()
    return int.from_bytes(digest[:4], "big") >> 1


def palette_sections(
    form: Sequence[SampledSection], names: Sequence[str], *, genre: str, seed: int
) -> dict[str, dict]:
    """Outline section definitions for every name in a named form."""
    ordinals = material_ordinals(form)
    followers: dict[str, Counter] = {}
    for index, name in enumerate(names):
        following = form[index + 1].label if index + 1 < len(form) else None
        followers.setdefault(name, Counter())[following] += 1
    bases_with_variants = {base_name(n) for n in names if base_name(n) != n}
    occurrences = Counter(names)
    sections: dict[str, dict] = {}
    for index, name in enumerate(names):
        if name in sections:
            continue
        section = form[index]
        ends_only = set(followers[name]) == {None}
        next_label = None if ends_only else next(l for l, _ in followers[name].most_common() if l is not None)
        fields = {
            "bars": section.bars,
            "prompt": section_prompt(genre=genre, label=section.label, material=ordinals[index]),
            # the drum groove follows the function, whatever the name ('chorus_16bars')
            "role": section.label,
            "gain_db": LABEL_GAIN_DB.get(section.label, LABEL_GAIN_DB["other"]),
            **transition_fields(label=section.label, next_label=next_label, bars=section.bars),
        }
        if occurrences[name] > 1:
            fields["variation"] = LABEL_VARIATION.get(section.label, DEFAULT_VARIATION)
        if base_name(name) in bases_with_variants:
            # length variants play the same material: one noise seed for all of them
            fields["seed"] = material_seed(seed=seed, name=base_name(name))
        sections[name] = fields
    return sections


def plain_sections(sections: Mapping[str, object]) -> dict[str, dict]:
    """User sections as plain dicts; pydantic models keep only the fields the user set."""
    plain = {}
    for name, spec in sections.items():
        if hasattr(spec, "model_dump"):
            plain[name] = spec.model_dump(mode="json", exclude_unset=True)
        else:
            plain[name] = dict(spec or {})
    return plain


def user_fixed_bars(model: FormModel, sections: Mapping[str, Mapping]) -> dict[str, int]:
    """Bars the user pinned on sections named exactly like a label ('chorus': {bars: 8})."""
    fixed = {}
    for name, fields in sections.items():
        if name in model.labels and fields and "bars" in fields:
            bars = fields["bars"]
            if not isinstance(bars, int) or isinstance(bars, bool) or bars < 1:
                raise ValueError(f"sections.{name}.bars must be a positive integer, got {bars!r}")
            fixed[name] = bars
    return fixed


def expand_learned_form(
    *,
    genre: str,
    duration_s: float,
    bpm: float,
    beats_per_bar: int,
    seed: int,
    sections: Mapping[str, object],
    model: FormModel | None = None,
) -> tuple[list[str], dict[str, dict]]:
    """(form, sections) for `form: learned`, deterministic in its arguments.

    User sections named like a label keep every field they set; one that sets
    `bars` pins that label's length during sampling, so the duration still fits.
    Sections the form needs and the user did not define come from the genre's
    palette; user sections the sampled form does not use are returned unchanged.
    `sections` maps names to dicts or to pydantic section models.
    """
    from structure_models import shipped_model

    check_genre(genre)
    model = model or shipped_model()
    sections = plain_sections(sections)
    form = model.sample_form(
        genre=genre,
        duration_s=duration_s,
        bpm=bpm,
        beats_per_bar=beats_per_bar,
        seed=seed,
        fixed_bars=user_fixed_bars(model, sections),
    )
    names = section_names(form)
    generated = palette_sections(form, names, genre=genre, seed=seed)
    merged: dict[str, dict] = {}
    for name, fields in generated.items():
        user = sections.get(name)
        merged[name] = fields if user is None else {"bars": fields["bars"], "prompt": fields["prompt"], **user}
    for name, fields in sections.items():
        merged.setdefault(name, fields)
    return names, merged


def beats_per_bar_of(time_signature: str) -> int:
    """Numerator of an 'N/D' time signature; ValueError otherwise."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", str(time_signature))
    if not match or int(match.group(1)) < 1 or int(match.group(2)) not in (1, 2, 4, 8, 16, 32):
        raise ValueError(f"time_signature must look like '4/4' or '6/8', got {time_signature!r}")
    return int(match.group(1))


def sample_outline(
    *,
    genre: str,
    duration_s: float,
    bpm: float,
    seed: int,
    time_signature: str = "4/4",
    title: str | None = None,
    model: FormModel | None = None,
) -> dict:
    """A complete composer outline with a learned form and palette prompts."""
    check_genre(genre)
    form, sections = expand_learned_form(
        genre=genre,
        duration_s=duration_s,
        bpm=bpm,
        beats_per_bar=beats_per_bar_of(time_signature),
        seed=seed,
        sections={},
        model=model,
    )
    return {
        "title": title or f"Learned {genre} form",
        "bpm": int(bpm) if float(bpm).is_integer() else float(bpm),
        "time_signature": time_signature.strip(),
        "seed": int(seed),
        "style": PALETTES[genre].style,
        "groove_style": PALETTES[genre].groove_style,
        "sections": sections,
        "form": form,
    }


def outline_duration_s(outline: Mapping) -> float:
    """Seconds a named form lasts at the outline's tempo and metre."""
    beats = beats_per_bar_of(outline["time_signature"])
    bars = sum(outline["sections"][name]["bars"] for name in outline["form"])
    return bars * beats * 60.0 / float(outline["bpm"])
