"""Composer's genre names, the corpus strings behind them, and their backoff chains.

A genre is a *domain* of songs. Harmonix songs carry a genre column; Billboard
songs carry only a chart year, so their eras act as genres. Every domain backs
off to its source (the two corpora were annotated differently) and then to all
songs, which is also what ``any`` samples from.
"""

from __future__ import annotations

import difflib
from types import MappingProxyType

ALL_DOMAIN = "all"
HARMONIX_SOURCE = "harmonix"
BILLBOARD_SOURCE = "mcgill_billboard"

# composer genre -> the corpus genre strings (Harmonix `genre`, or Billboard
# era names built by `billboard_era`) whose songs train it
GENRES: MappingProxyType[str, tuple[str, ...]] = MappingProxyType(
    {
        "any": (),
        "pop": ("Pop", "Pop-Rock"),
        "hip-hop": ("Hip-Hop",),
        "electronic": ("Dance/Electronic",),
        "rock": ("Rock", "Classic Rock", "Alternative", "Grunge", "Prog", "Indie Rock", "Punk", "Blues"),
        "metal": ("Metal",),
        "country": ("Country",),
        "rnb": ("R&B", "Funk/Disco"),
        "latin": ("Reggaeton", "World"),
        "sixties": ("billboard 1958-1969",),
        "seventies": ("billboard 1970-1979",),
        "eighties": ("billboard 1980-1991",),
    }
)

_SOURCE_OF_ERA_GENRES = frozenset({"sixties", "seventies", "eighties"})


def billboard_era(*, year: int) -> str:
    """Era name of a Billboard chart year, as listed in GENRES."""
    if year < 1970:
        return "billboard 1958-1969"
    if year < 1980:
        return "billboard 1970-1979"
    return "billboard 1980-1991"


def check_genre(genre: str) -> str:
    """Return genre unchanged, or raise ValueError naming the allowed genres."""
    if genre not in GENRES:
        allowed = ", ".join(GENRES)
        hint = difflib.get_close_matches(str(genre).lower(), GENRES, n=1)
        guess = f" (did you mean {hint[0]!r}?)" if hint else ""
        raise ValueError(f"unknown genre {genre!r}{guess}; allowed genres: {allowed}")
    return genre


def genre_of_corpus_genre(corpus_genre: str | None) -> str:
    """Composer genre for a corpus genre string ('any' when it maps to none)."""
    for genre, corpus_genres in GENRES.items():
        if corpus_genre in corpus_genres:
            return genre
    return "any"


def source_domain(source: str) -> str:
    """Domain key of a whole corpus."""
    return f"source:{source}"


def genre_domain(genre: str) -> str:
    """Domain key of a composer genre."""
    return ALL_DOMAIN if genre == "any" else f"genre:{genre}"


def domain_chain(genre: str) -> tuple[str, ...]:
    """Domains from most specific to all songs, the order estimates back off in."""
    check_genre(genre)
    if genre == "any":
        return (ALL_DOMAIN,)
    source = BILLBOARD_SOURCE if genre in _SOURCE_OF_ERA_GENRES else HARMONIX_SOURCE
    return (genre_domain(genre), source_domain(source), ALL_DOMAIN)
