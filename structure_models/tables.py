"""Count tables of song form, the sufficient statistics the form model ships.

All tables are plain JSON-able dicts keyed by domain (see genres.py) first:

* labels[domain][context][label]: how often `label` (or END) followed the
  `context`, the previous k labels joined by '|' (START-padded, k = 0..order).
* bars[domain][label][bars]: section lengths in bars ('*' pools all labels).
* copies[domain][label]: [sections whose bars equal the previous section of the
  same label, sections that have such a previous section].

bars and copies also have a tempo-band domain per domain of a song with a known
tempo (``genre:pop@bpm110-130``, see tempo.py); labels and new_material do not.
* new_material[domain][label][k]: [new material, sections] for sections whose
  label already has k (1, or 2 meaning 2+) distinct materials in the song.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from structure_models.corpus import Song
from structure_models.genres import ALL_DOMAIN, genre_domain, source_domain
from structure_models.tempo import band_domain, tempo_band

START = "<s>"
END = "</s>"
POOLED_LABEL = "*"


def song_domains(song: Song) -> tuple[str, ...]:
    """Every domain a song's counts go into."""
    domains = [source_domain(song.source), ALL_DOMAIN]
    if song.genre != "any":
        domains.insert(0, genre_domain(song.genre))
    return tuple(domains)


def song_tempo_domains(song: Song, *, tempo_edges: Sequence[float]) -> tuple[str, ...]:
    """The song's domains plus their tempo-band versions (none when its tempo is unknown)."""
    domains = song_domains(song)
    band = tempo_band(tempo_edges, bpm=song.bpm, beats_per_bar=song.beats_per_bar)
    if band is None:
        return domains
    return domains + tuple(band_domain(domain, band) for domain in domains)


def context_key(history: tuple[str, ...], *, length: int) -> str:
    """Key of the last `length` labels of a START-padded history."""
    return "|".join(history[len(history) - length :]) if length else ""


def padded_history(labels: Iterable[str], *, order: int) -> tuple[str, ...]:
    """The last `order` labels, START-padded on the left."""
    history = (START,) * order + tuple(labels)
    return history[len(history) - order :] if order else ()


def count_labels(songs: Iterable[Song], *, order: int) -> dict:
    """labels[domain][context][label] for contexts of 0..order previous labels."""
    table: dict = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
    for song in songs:
        domains = song_domains(song)
        sequence = song.labels + (END,)
        for index, label in enumerate(sequence):
            history = padded_history(sequence[:index], order=order)
            for length in range(order + 1):
                key = context_key(history, length=length)
                for domain in domains:
                    table[domain][key][label] += 1
    return _plain(table)


def previous_same_label_bars(
    labels: Sequence[str], bars: Sequence[int | None], *, index: int
) -> int | None:
    """Bars of the latest earlier section with the same label (None if none/unknown)."""
    for earlier in range(index - 1, -1, -1):
        if labels[earlier] == labels[index]:
            return bars[earlier]
    return None


def count_bars(songs: Iterable[Song], *, max_bars: int, tempo_edges: Sequence[float] = ()) -> dict:
    """bars[domain][label][bars], lengths above max_bars clipped to it; tempo-band domains too."""
    table: dict = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
    for song in songs:
        domains = song_tempo_domains(song, tempo_edges=tempo_edges)
        for label, bars in zip(song.labels, song.bars):
            if bars is None:
                continue
            key = str(min(bars, max_bars))
            for domain in domains:
                table[domain][label][key] += 1
                table[domain][POOLED_LABEL][key] += 1
    return _plain(table)


def count_copies(songs: Iterable[Song], *, tempo_edges: Sequence[float] = ()) -> dict:
    """copies[domain][label] = [same bars as the previous same label, trials]; tempo-band domains too."""
    table: dict = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for song in songs:
        domains = song_tempo_domains(song, tempo_edges=tempo_edges)
        for index, (label, bars) in enumerate(zip(song.labels, song.bars)):
            previous = previous_same_label_bars(song.labels, song.bars, index=index)
            if bars is None or previous is None:
                continue
            for domain in domains:
                for key in (label, POOLED_LABEL):
                    table[domain][key][0] += int(bars == previous)
                    table[domain][key][1] += 1
    return _plain(table)


def material_count_key(n_materials: int) -> str:
    """Bucket of how many distinct materials a label already has (1 or 2+)."""
    return "1" if n_materials <= 1 else "2"


def count_new_material(songs: Iterable[Song]) -> dict:
    """new_material[domain][label][k] = [new material, sections with k materials]."""
    table: dict = defaultdict(lambda: defaultdict(lambda: defaultdict(lambda: [0, 0])))
    for song in songs:
        domains = song_domains(song)
        materials: dict[str, int] = defaultdict(int)
        for label, repeat in zip(song.labels, song.repeat_of):
            if materials[label]:
                key = material_count_key(materials[label])
                for domain in domains:
                    for pooled in (label, POOLED_LABEL):
                        table[domain][pooled][key][0] += int(repeat is None)
                        table[domain][pooled][key][1] += 1
            materials[label] += int(repeat is None)
    return _plain(table)


def _plain(table):
    """Nested defaultdicts -> plain dicts with sorted keys (stable JSON)."""
    if isinstance(table, dict):
        return {key: _plain(table[key]) for key in sorted(table)}
    return table
