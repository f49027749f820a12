"""Style and role names: free text from an outline mapped onto the groove families.

``style_family`` maps a style description ('Lo-fi hip hop', 'deep house') onto
one of ``STYLE_FAMILIES`` by whole-word keywords, and ``role_family`` maps a
section role ('Pre-Chorus', 'drop', 'chorus 2') onto one of ``ROLE_FAMILIES``;
unknown names fall back to 'pop' and 'verse'.
"""

from __future__ import annotations

import functools
import re

STYLE_FAMILIES = ("pop", "rock", "edm", "hiphop", "jazz", "blues", "ambient", "funk", "reggae", "latin")
ROLE_FAMILIES = ("intro", "verse", "prechorus", "chorus", "bridge", "breakdown", "outro", "solo", "instrumental")

# first matching keyword wins, so specific words come before generic ones
_STYLE_KEYWORDS = (
    ("ambient", ("ambient", "drone", "soundscape", "cinematic", "new age", "meditation")),
    ("hiphop", ("hip hop", "hiphop", "hip-hop", "lofi", "lo-fi", "lo fi", "boom bap", "rap", "trap")),
    ("edm", ("edm", "house", "techno", "trance", "disco", "dance", "electro", "club", "rave")),
    ("jazz", ("jazz", "swing", "bebop", "big band")),
    ("blues", ("blues", "shuffle", "boogie")),
    ("funk", ("funk", "soul", "r&b", "rnb")),
    ("reggae", ("reggae", "dub", "ska", "rocksteady")),
    ("latin", ("latin", "bossa", "samba", "salsa", "cumbia", "tango")),
    ("rock", ("rock", "metal", "punk", "grunge", "indie")),
    ("pop", ("pop",)),
)
_ROLE_ALIASES = {
    "pre-chorus": "prechorus", "pre_chorus": "prechorus", "pre chorus": "prechorus", "build": "prechorus",
    "buildup": "prechorus", "riser": "prechorus", "hook": "chorus", "refrain": "chorus", "drop": "chorus",
    "postchorus": "chorus", "post-chorus": "chorus", "break": "breakdown", "interlude": "instrumental",
    "coda": "outro", "ending": "outro", "head": "verse", "other": "verse",
}


@functools.lru_cache(maxsize=256)  # asked once per bar of every clip's groove, for a handful of styles
def style_family(style: str) -> str:
    """'Lo-fi hip hop' -> 'hiphop'; unknown styles -> 'pop'."""
    text = " " + re.sub(r"[_/,]+", " ", style.lower()) + " "
    for family, words in _STYLE_KEYWORDS:
        if any(re.search(rf"(?<![a-z]){re.escape(word)}(?![a-z])", text) for word in words):
            return family
    return "pop"


def role_family(role: str) -> str:
    """'Pre-Chorus' -> 'prechorus', 'drop' -> 'chorus'; unknown roles -> 'verse'."""
    key = _role_key(role)
    return key if key in ROLE_FAMILIES else "verse"


def role_names() -> list[str]:
    """Every role an outline may name: the families and their aliases."""
    return sorted({*ROLE_FAMILIES, *_ROLE_ALIASES})


def is_known_role(role: str) -> bool:
    return _role_key(role) in ROLE_FAMILIES


def _role_key(role: str) -> str:
    key = re.sub(r"\s*\d+$", "", role.strip().lower())  # 'chorus 2' -> 'chorus'
    return _ROLE_ALIASES.get(key, key)
