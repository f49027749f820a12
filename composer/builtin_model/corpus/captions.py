"""Natural, varied captions from clip tags, deterministic from the clip seed.

Every caption names the style (one of its aliases) and the BPM; the lead, other
instruments, drums, tempo word, mood, key, meter and density appear in varied
templates so that free-text prompts meet familiar phrasing.
"""

from __future__ import annotations

import numpy as np

from .instruments import DRUM_KITS, INSTRUMENTS
from .styles import style_named
from .tags import ClipTags

_TEMPO_PHRASES = {
    "slow": ("slow", "slow-paced", "downtempo", "unhurried"),
    "medium": ("mid-tempo", "medium-tempo", "moderate", "steady"),
    "fast": ("fast", "uptempo", "driving", "brisk"),
}
_DENSITY_PHRASES = {
    "sparse": ("sparse", "stripped-back", "bare"),
    "full": ("full", "full-band", "layered"),
}
_BPM_FORMS = ("{bpm} bpm", "{bpm} BPM", "at {bpm} bpm", "{bpm} beats per minute", "tempo {bpm} bpm")
_WALTZ_NAMES = {"jazz": "jazz waltz", "folk": "folk waltz", "orchestral": "orchestral waltz"}

# Templates see: style, lead, others (a phrase), instruments (a list phrase),
# tempo, mood, bpm (bpm_plain: always "<n> bpm"), key, extras (", in 3/4" style clauses), density.
_TEMPLATES = (
    "{style} groove with {lead} and {others}, {bpm}{extras}",
    "{a_mood} {style} track featuring {lead}, {tempo}, {bpm}{extras}",
    "{tempo} {style} beat: {instruments}, {bpm}{extras}",
    "{mood} {style} in {key}, {lead} over {others}, {bpm}",
    "{bpm_plain} {style} with {a_lead} melody{extras}",
    "instrumental {style}, {lead} lead, {others}, {mood} and {tempo}, {bpm}{extras}",
    "{a_density} {style} arrangement with {instruments}, {bpm}{extras}",
    "{lead} playing {a_mood} {style} tune, {tempo}, {bpm}{extras}",
    "{style}: {instruments}; {tempo} and {mood}, {bpm}{extras}",
    "{a_tempo} {mood} {style} piece with {instruments}, {bpm}{extras}",
    "{mood} {style}, {bpm}, {lead} and {others}{extras}",
    "{a_tempo} {style} jam with {instruments} ({bpm_plain})",
)


def _article(phrase: str) -> str:
    return f"{'an' if phrase[:1].lower() in 'aeiou' else 'a'} {phrase}"


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _nickname(key: str, rng: np.random.Generator) -> str:
    options = INSTRUMENTS[key].nicknames
    # the plain name half of the time, any nickname otherwise
    return options[0] if rng.random() < 0.5 else options[int(rng.integers(len(options)))]


def caption(tags: ClipTags, *, rng: np.random.Generator) -> str:
    """A one-line natural-language caption of the clip."""
    style = style_named(tags.style)
    style_phrase = style.aliases[int(rng.integers(len(style.aliases)))]
    if tags.time_signature == "3/4" and tags.style in _WALTZ_NAMES and rng.random() < 0.5:
        style_phrase = _WALTZ_NAMES[tags.style]
    lead = _nickname(tags.lead_key, rng)
    other_keys = [k for k in tags.instrument_keys if k != tags.lead_key]
    rng.shuffle(other_keys)
    others = [_nickname(k, rng) for k in other_keys[: int(rng.integers(1, 3))]]
    if tags.has_drums and (rng.random() < 0.6 or not others):
        drum_words = DRUM_KITS.get(tags.drum_kit, DRUM_KITS[0])[1]
        others.append(drum_words[int(rng.integers(len(drum_words)))])
    if not others:
        others = ["nothing else" if rng.random() < 0.3 else "soft accompaniment"]
    tempo = _TEMPO_PHRASES[tags.tempo_word][int(rng.integers(4))]
    density = _DENSITY_PHRASES[tags.density][int(rng.integers(3))]
    template = _TEMPLATES[int(rng.integers(len(_TEMPLATES)))]
    extras = []
    if tags.time_signature == "3/4" and rng.random() < 0.7:
        meters = ["in 3/4", "three-four time"] + ([] if "waltz" in style_phrase else ["in waltz time"])
        extras.append(meters[int(rng.integers(len(meters)))])
    if rng.random() < 0.25 and "{key}" not in template:
        extras.append(f"in {tags.key}")
    if rng.random() < 0.2 and "density}" not in template:
        extras.append(density)
    fields = {
        "style": style_phrase, "lead": lead, "a_lead": _article(lead), "others": _join(others),
        "instruments": _join([lead] + others), "tempo": tempo, "a_tempo": _article(tempo),
        "mood": tags.mood, "a_mood": _article(tags.mood), "density": density, "a_density": _article(density),
        "bpm": _BPM_FORMS[int(rng.integers(len(_BPM_FORMS)))].format(bpm=tags.bpm),
        "bpm_plain": f"{tags.bpm} bpm", "key": tags.key, "extras": "".join(f", {e}" for e in extras),
    }
    text = template.format(**fields)
    return text[0].upper() + text[1:] if rng.random() < 0.3 else text
