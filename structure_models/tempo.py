"""Tempo bands: extra count domains that make section lengths in bars depend on tempo.

Fast songs have longer sections in bars, while the number of sections stays near 10. In the
train split (1,134 songs in 4/4) verse and chorus sections average 8.7 bars below 90 bpm, 10.0 at
90-110, 10.9 at 110-130, 12.0 at 130-150 and 14.5 at 150 bpm and up, and the median song grows from
69 to 136 bars. Those five bands (217, 233, 392, 190 and 102 train songs) split the train songs
where the means keep rising and each band keeps about 100 songs or more, so the backoff
(genre x band -> ...) has counts to back off to.

The band is read from the bar rate, not the raw beat rate: ``4 * bpm / beats_per_bar`` is the
tempo of a 4/4 bar of the same length, so it equals bpm for 4/4 (96% of the corpus). A 12/8 song
annotated at 200 eighth-note beats per minute has 3.6-s bars, like 4/4 at 67 bpm, and the 17 train
songs in 12/8 (173-378 eighth notes a minute) average 9.6 bars per verse or chorus, near the slow
bands' 8.7-10.0 and far from the 14.5 of the 150+ band that their raw bpm would put them in.

A band domain is the key of a tempo-free domain with ``@<band>`` appended (``genre:pop@bpm110-130``).
Songs without a tempo count only in the tempo-free domains, and a song scored or sampled without one
is read with the tempo-free chain.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

# edges of the tempo bands in 4/4-equivalent bpm (see the module docstring for why these)
TEMPO_EDGES: tuple[float, ...] = (90.0, 110.0, 130.0, 150.0)

# how a bar-length (or copy-rate) estimate backs off when the tempo band is known, for a genre whose
# tempo-free chain is (genre, source, all):
#   band-first:  genre@band, source@band, all@band, genre, source, all (tempo matters more than genre)
#   genre-first: genre@band, genre, source@band, source, all@band, all (genre matters more than tempo)
#   none:        genre, source, all (tempo ignored, as before tempo bands)
CHAINS = ("band-first", "genre-first", "none")


def bar_tempo(bpm: float | None, beats_per_bar: int) -> float | None:
    """Tempo of a 4/4 bar as long as this metre's bar, in bpm; None when the tempo is unknown."""
    if bpm is None or beats_per_bar is None or beats_per_bar < 1:
        return None
    bpm = float(bpm)
    if not (math.isfinite(bpm) and bpm > 0):
        return None
    return 4.0 * bpm / beats_per_bar


def band_names(edges: Sequence[float]) -> tuple[str, ...]:
    """Names of the bands the edges cut tempo into, slowest first ('bpm<90', 'bpm90-110', 'bpm>=150')."""
    edges = [f"{float(edge):g}" for edge in edges]
    if not edges:
        return ("bpm-any",)
    middle = [f"bpm{low}-{high}" for low, high in zip(edges, edges[1:])]
    return (f"bpm<{edges[0]}", *middle, f"bpm>={edges[-1]}")


def tempo_band(edges: Sequence[float], *, bpm: float | None, beats_per_bar: int) -> str | None:
    """Name of the band a tempo falls in, None when the tempo is unknown (or there are no edges)."""
    tempo = bar_tempo(bpm, beats_per_bar)
    if tempo is None or not edges:
        return None
    index = sum(tempo >= edge for edge in edges)
    return band_names(edges)[index]


def band_domain(domain: str, band: str) -> str:
    """Key of the domain restricted to songs of one tempo band."""
    return f"{domain}@{band}"


def with_band(chain: Sequence[str], band: str | None, *, how: str) -> tuple[str, ...]:
    """The backoff chain with tempo-band domains put in `how` (one of CHAINS); unchanged without a band."""
    if how not in CHAINS:
        raise ValueError(f"unknown tempo backoff {how!r}; expected one of {', '.join(CHAINS)}")
    chain = tuple(chain)
    if band is None or how == "none":
        return chain
    banded = tuple(band_domain(domain, band) for domain in chain)
    if how == "band-first":
        return banded + chain
    return tuple(domain for pair in zip(banded, chain) for domain in pair)
