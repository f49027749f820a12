"""Read the song-structure corpus into musician-level records and split it.

Corrections applied here, as the corpus README asks:

* Harmonix 4/4 songs whose annotated beat grid runs at twice the nominal tempo
  (bpm / bpm_meta ~ 2) have every bar halved and the tempo halved, so a bar is
  what a musician counting at the nominal tempo would write. x/8 songs with that
  ratio count eighth notes in a real bar and stay as they are.
* Pickups need no correction: a section's bars count the downbeats inside it and
  the pickup beats belong to the previous section's last bar, so no bar is
  counted twice and the totals stay honest.
* Sections without a bar count (un-metered intros) keep their label but have
  ``bars`` None; the length model skips them.
"""

from __future__ import annotations

import hashlib
import math
import json
import re
from dataclasses import dataclass
from pathlib import Path

from structure_models.genres import BILLBOARD_SOURCE, billboard_era, genre_of_corpus_genre
from structure_models.song_groups import song_group_key

# fractions of songs in the train and validation splits (test gets the rest)
SPLIT_FRACTIONS = (0.70, 0.15)
SPLIT_SALT = "structure_models/split/v1"

# Harmonix raw labels that are the same material as a plain section of their label
_SAME_MATERIAL_ALIASES = {
    "chorusinst": "chorus",
    "instchorus": "chorus",
    "intchorus": "chorus",
    "chorus_instrumental": "chorus",
    "verseinst": "verse",
    "instrumentalverse": "verse",
    "instbridge": "bridge",
    "instintro": "intro",
}


@dataclass(frozen=True)
class Song:
    """One annotated song, reduced to what the form model learns from."""

    # corpus id, e.g. 'harmonix:0001_12step' or 'billboard:0003'
    song_id: str
    # 'harmonix' or 'mcgill_billboard'
    source: str
    # composer genre (a key of GENRES; 'any' when the corpus genre maps to none)
    genre: str
    # normalized section labels in time order
    labels: tuple[str, ...]
    # bars per section at the musician's tempo, None where unknown
    bars: tuple[int | None, ...]
    # per section: index of the earlier section whose material it repeats, else None
    repeat_of: tuple[int | None, ...]
    # musician-level tempo in beats per minute, None where unknown
    bpm: float | None
    # beats per bar (the time signature's numerator)
    beats_per_bar: int
    # seconds from the first section's start to the last section's end
    span_s: float
    # same for every version of one song (song_groups.song_group_key of title and artist; 'id:<song_id>'
    # without a title); the evaluation keeps a test song only when no train or validation song shares it
    group: str


def split_of(song_id: str) -> str:
    """'train', 'validation' or 'test', from a salted SHA-256 of the song id."""
    digest = hashlib.sha256(f"{SPLIT_SALT}:{song_id}".encode()).digest()
    unit = int.from_bytes(digest[:8], "big") / 2**64
    if unit < SPLIT_FRACTIONS[0]:
        return "train"
    if unit < SPLIT_FRACTIONS[0] + SPLIT_FRACTIONS[1]:
        return "validation"
    return "test"


def split_songs(songs: list[Song]) -> dict[str, list[Song]]:
    """Songs grouped by split, keeping corpus order inside each group.

    The split is by corpus id, so versions of one song (Song.group) can sit in two splits;
    evaluate.group_disjoint leaves such test songs out.
    """
    groups: dict[str, list[Song]] = {"train": [], "validation": [], "test": []}
    for song in songs:
        groups[split_of(song.song_id)].append(song)
    return groups


def material_key(*, source: str, label: str, raw_label: str) -> tuple[str, str]:
    """Key that is equal for sections playing the same material (same function).

    Billboard: the annotator's letter without primes (A' varies A). Harmonix: the
    raw label with a trailing '1' dropped ('verse2' is a second verse tune,
    'postchorus' a hook of its own). Letters shared across functions (a solo over
    the verse chords) do not count: composer repeats a section by name.
    """
    if source == BILLBOARD_SOURCE:
        letter = raw_label.split(",", 1)[0].strip().rstrip("'")
        return label, letter
    name = _SAME_MATERIAL_ALIASES.get(raw_label.lower(), raw_label.lower())
    match = re.fullmatch(r"(.*?)(\d*)", name)
    stem, number = match.group(1), match.group(2)
    return label, stem if number in ("", "1") else f"{stem}{number}"


def repeats_of(keys: list[tuple[str, str]]) -> tuple[int | None, ...]:
    """Index of the first section with the same key, None for a first occurrence."""
    first: dict[tuple[str, str], int] = {}
    out: list[int | None] = []
    for index, key in enumerate(keys):
        out.append(first.get(key))
        first.setdefault(key, index)
    return tuple(out)


def is_double_time(record: dict) -> bool:
    """A 4/4 Harmonix song whose annotated beats run at twice the nominal tempo."""
    bpm, bpm_meta = record.get("bpm"), record.get("bpm_meta")
    if not bpm or not bpm_meta or record.get("time_signature") != "4/4":
        return False
    return 1.8 < bpm / bpm_meta < 2.2


def song_from_record(record: dict) -> Song:
    """Song from one line of structures.jsonl; ValueError for a value no song could have."""
    _check_values(record)
    double = is_double_time(record)
    sections = record["sections"]
    bars = tuple(
        None if s["bars"] is None else max(1, (s["bars"] + 1) // 2 if double else s["bars"])
        for s in sections
    )
    keys = [
        material_key(source=record["source"], label=s["label"], raw_label=s["raw_label"])
        for s in sections
    ]
    corpus_genre = record.get("genre")
    if record.get("year") is not None:
        corpus_genre = billboard_era(year=record["year"])
    bpm = record.get("bpm")
    signature = record.get("time_signature") or "4/4"
    return Song(
        song_id=record["id"],
        source=record["source"],
        genre=genre_of_corpus_genre(corpus_genre),
        labels=tuple(s["label"] for s in sections),
        bars=bars,
        repeat_of=repeats_of(keys),
        bpm=None if bpm is None else (bpm / 2 if double else bpm),
        beats_per_bar=int(signature.split("/")[0]),
        span_s=sections[-1]["end_s"] - sections[0]["start_s"],
        group=group_of_record(record),
    )


def _check_values(record: dict) -> None:
    """Bars whole and positive (or null), a finite positive bpm (or null), text labels, a metre 'N/D'."""
    bpm = record.get("bpm")
    if bpm is not None and not (_is_number(bpm) and math.isfinite(bpm) and bpm > 0):
        raise ValueError(f"bpm must be a positive number or null, got {bpm!r}")
    signature = record.get("time_signature") or "4/4"
    numerator, _, denominator = str(signature).partition("/")
    if not (numerator.isdigit() and denominator.isdigit() and int(numerator) >= 1 and int(denominator) >= 1):
        raise ValueError(f"time_signature must look like '4/4', got {signature!r}")
    for index, section in enumerate(record["sections"]):
        bars = section["bars"]
        if bars is not None and not (isinstance(bars, int) and not isinstance(bars, bool) and 1 <= bars <= 10_000):
            raise ValueError(f"sections[{index}].bars must be a whole number of bars from 1 (or null), got {bars!r}")
        if not isinstance(section["label"], str) or not section["label"]:
            raise ValueError(f"sections[{index}].label must be text, got {section['label']!r}")


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def group_of_record(record: dict) -> str:
    """Song-group key of a corpus record: its title and artist, or its id when it has no title."""
    title, artist = record.get("title"), record.get("artist")
    if not isinstance(title, str) or not title.strip():
        return f"id:{record['id']}"
    return song_group_key(title, artist if isinstance(artist, str) else "")


def load_songs(path: Path) -> list[Song]:
    """All songs of a structures.jsonl file that have at least one section; ValueError naming the line otherwise."""
    songs = []
    try:
        with Path(path).open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                song = song_from_line(line, where=f"{path}:{number}") if line.strip() else None
                if song is not None:
                    songs.append(song)
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot read the song-structure corpus: {exc}") from None
    return songs


def song_from_line(line: str, *, where: str) -> Song | None:
    """Song of one structures.jsonl line (None when it has no sections); ValueError naming ``where``."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"{where}: not valid JSON ({exc.msg}, column {exc.colno}): the corpus holds one song record per line"
        ) from None
    try:
        return song_from_record(record) if record["sections"] else None
    except KeyError as exc:
        problem = f"no {exc.args[0]!r} field"
    except (TypeError, ValueError, AttributeError, IndexError) as exc:
        problem = f"{type(exc).__name__}: {exc}"
    raise ValueError(
        f"{where}: not a song-structure record ({problem}); each line needs id, source, time_signature and "
        "sections with label, raw_label, start_s, end_s and bars, as ../shared/data/song_structures/README.md says"
    )


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file, recorded in the model for provenance."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
