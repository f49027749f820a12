"""Train the form model: count, tune smoothing on the validation split, ship JSON.

    python -m structure_models.train --data ../shared/data/song_structures/structures.jsonl \
        --out structure_models/data/form_model.json

The shipped model is fit on the train split only, so the numbers that
`python -m structure_models.evaluate` reports on the test split describe it
(the split is by corpus id, so evaluate leaves out the test songs that are
versions of train or validation songs: see song_groups.py).
"""

from __future__ import annotations

import argparse
import itertools
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from structure_models.corpus import (
    SPLIT_FRACTIONS,
    SPLIT_SALT,
    Song,
    file_sha256,
    load_songs,
    split_songs,
)
from structure_models.genres import ALL_DOMAIN, GENRES, domain_chain, genre_domain, source_domain
from structure_models.model import FormModel, write_model
from structure_models.probabilities import bars_probabilities
from structure_models.scoring import REFERENCE_LEVELS, surprisals
from structure_models.tables import (
    POOLED_LABEL,
    count_bars,
    count_copies,
    count_labels,
    count_new_material,
    previous_same_label_bars,
)
from structure_models.tempo import CHAINS, TEMPO_EDGES

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data" / "song_structures" / "structures.jsonl"
DEFAULT_OUT = Path(__file__).resolve().parent / "data" / "form_model.json"

# longest section the model produces; longer annotated sections are clipped to it
MAX_BARS = 96
# grids searched on the validation split (order 5+ gains < 0.02 bits/section
# but grows the shipped file past 300 KB)
ORDERS = (1, 2, 3, 4)
BETAS = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)
RATE_WEIGHTS = (3.0, 10.0, 30.0, 100.0, 300.0)
# where tempo-band domains go in the bar-length and copy-rate backoff chains (tempo.CHAINS; 'none'
# ignores tempo), searched on the validation split with the bars smoothing
TEMPO_CHAINS = CHAINS
# label contexts seen fewer times are dropped from the shipped file (~0.01 bits/section
# on validation at order 4, and half the file size)
MIN_CONTEXT_COUNT = 5
# a genre needs this many validation songs for its own reference quantiles
MIN_REFERENCE_SONGS = 20


def fit_model(
    songs: Sequence[Song],
    *,
    order: int,
    label_beta: float = 1.0,
    bars_beta: float = 1.0,
    rate_weight: float = 10.0,
    max_bars: int = MAX_BARS,
    tempo_edges: Sequence[float] = TEMPO_EDGES,
    bars_chain: str = "band-first",
    copy_chain: str = "none",
) -> FormModel:
    """Count tables from `songs` with the given smoothing; no reference quantiles yet.

    Songs without a tempo count in the tempo-free domains only.
    """
    return FormModel(
        labels=tuple(sorted({label for song in songs for label in song.labels})),
        order=order,
        label_beta=label_beta,
        bars_beta=bars_beta,
        rate_weight=rate_weight,
        max_bars=max_bars,
        tempo_edges=tuple(float(edge) for edge in tempo_edges),
        bars_chain=bars_chain,
        copy_chain=copy_chain,
        label_counts=count_labels(songs, order=order),
        bars_counts=count_bars(songs, max_bars=max_bars, tempo_edges=tempo_edges),
        copy_counts=count_copies(songs, tempo_edges=tempo_edges),
        new_material_counts=count_new_material(songs),
        reference={},
        meta={},
    )


def with_settings(model: FormModel, **settings) -> FormModel:
    """Same tables, other smoothing settings, fresh cache."""
    fields = {
        name: getattr(model, name)
        for name in (
            "labels", "order", "label_beta", "bars_beta", "rate_weight", "max_bars",
            "tempo_edges", "bars_chain", "copy_chain",
            "label_counts", "bars_counts", "copy_counts", "new_material_counts", "reference", "meta",
        )
    }
    return FormModel(**{**fields, **settings})


def known_songs(model: FormModel, songs: Sequence[Song]) -> list[Song]:
    """Songs whose labels the model knows (a label unseen in training cannot be scored)."""
    return [song for song in songs if set(song.labels) <= set(model.labels)]


def song_band(model: FormModel, song: Song) -> str | None:
    """The song's tempo band under the model (None when its tempo is unknown): its tempo is an input, like its genre."""
    return model.tempo_band(bpm=song.bpm, beats_per_bar=song.beats_per_bar)


def song_bits(model: FormModel, song: Song) -> tuple[float, float, int, int]:
    """(label + end bits, bars bits, sections, sections with bars) of one song under its genre and tempo."""
    label_bits, bars_bits, end_bits = surprisals(
        model, song.labels, song.bars, genre=song.genre, band=song_band(model, song)
    )
    known = [bits for bits in bars_bits if bits is not None]
    return sum(label_bits) + end_bits, sum(known), len(label_bits), len(known)


def bits_per_section(model: FormModel, songs: Sequence[Song]) -> tuple[float, float]:
    """(label bits per section, bars bits per section with known bars) over songs."""
    scored = known_songs(model, songs)
    if not scored:
        raise ValueError(f"none of {len(songs)} songs uses only section labels the model was trained on")
    totals = np.array([song_bits(model, song) for song in scored])
    return totals[:, 0].sum() / totals[:, 2].sum(), totals[:, 1].sum() / totals[:, 3].sum()


def bars_bits_per_section(model: FormModel, songs: Sequence[Song]) -> float:
    """Bars bits per section with known bars over songs: bits_per_section()[1] without the label model."""
    total, sections = 0.0, 0
    for song in known_songs(model, songs):
        band = song_band(model, song)
        for index, (label, bars) in enumerate(zip(song.labels, song.bars)):
            if bars is None:
                continue
            previous = previous_same_label_bars(song.labels, song.bars, index=index)
            probs = bars_probabilities(model, label=label, previous_bars=previous, genre=song.genre, band=band)
            total -= math.log2(probs[min(bars, model.max_bars) - 1])
            sections += 1
    if not sections:
        raise ValueError(f"none of {len(songs)} songs has a section with known bars the model can score")
    return total / sections


def tune(train: Sequence[Song], validation: Sequence[Song]) -> dict:
    """Smoothing settings with the fewest validation bits, labels and bars tuned apart.

    The bars part also picks where the tempo bands go in the bar-length and copy-rate backoff
    chains ('none' keeps them out), so tempo is used only where it lowers validation bits.
    """
    full = fit_model(train, order=max(ORDERS))
    label_scores = {
        (order, beta): bits_per_section(with_settings(full, order=order, label_beta=beta), validation)[0]
        for order, beta in itertools.product(ORDERS, BETAS)
    }
    order, label_beta = min(label_scores, key=label_scores.get)
    bars_scores = {
        settings: bars_bits_per_section(
            with_settings(full, bars_chain=settings[0], copy_chain=settings[1], bars_beta=settings[2],
                          rate_weight=settings[3]),
            validation,
        )
        for settings in itertools.product(TEMPO_CHAINS, TEMPO_CHAINS, BETAS, RATE_WEIGHTS)
    }
    bars_chain, copy_chain, bars_beta, rate_weight = min(bars_scores, key=bars_scores.get)
    return {
        "order": order,
        "label_beta": label_beta,
        "bars_beta": bars_beta,
        "rate_weight": rate_weight,
        "bars_chain": bars_chain,
        "copy_chain": copy_chain,
        "validation_label_bits": label_scores[(order, label_beta)],
        "validation_bars_bits": bars_scores[(bars_chain, copy_chain, bars_beta, rate_weight)],
        "validation_label_bits_by_order": {
            str(o): min(v for (oo, _), v in label_scores.items() if oo == o) for o in ORDERS
        },
        "validation_bars_bits_by_chain": {
            f"bars {b}, copy {c}": round(min(v for k, v in bars_scores.items() if k[:2] == (b, c)), 4)
            for b, c in itertools.product(TEMPO_CHAINS, TEMPO_CHAINS)
        },
    }


def song_scores(model: FormModel, songs: Sequence[Song], *, genre: str | None) -> tuple[list, list]:
    """Bits per section of each song (labels only, labels + bars), under `genre` or its own."""
    labels_only, with_bars = [], []
    for song in known_songs(model, songs):
        scored_as = genre or song.genre
        label_bits, bars_bits, end_bits = surprisals(
            model, song.labels, song.bars, genre=scored_as, band=song_band(model, song)
        )
        n = len(label_bits)
        labels_only.append((sum(label_bits) + end_bits) / n)
        with_bars.append((sum(label_bits) + end_bits + sum(b for b in bars_bits if b is not None)) / n)
    return labels_only, with_bars


def reference_quantiles(model: FormModel, held_out: Sequence[Song]) -> dict:
    """Per genre: quantiles of the given songs' bits per section, for flagging unusual forms.

    train() passes the validation split. Those songs were not counted, but they chose the
    smoothing (and 20 of them are versions of train songs), so the quantiles are not held-out
    figures. A genre with too few songs borrows the songs of its source, or else all of
    them, each scored under its own genre.
    """
    held_out = known_songs(model, held_out)
    if not held_out:
        raise ValueError("the validation split has no songs the model can score")

    def summary(songs: Sequence[Song], genre: str | None, pooled_from: str) -> dict:
        labels_only, with_bars = song_scores(model, songs, genre=genre)
        return {
            "labels": [round(float(q), 4) for q in np.quantile(labels_only, REFERENCE_LEVELS)],
            "labels_bars": [round(float(q), 4) for q in np.quantile(with_bars, REFERENCE_LEVELS)],
            "n_songs": len(labels_only),
            "songs_from": pooled_from,
        }

    reference = {"any": summary(held_out, "any", ALL_DOMAIN)}
    for genre in GENRES:
        if genre == "any":
            continue
        own = [song for song in held_out if song.genre == genre]
        source = domain_chain(genre)[1]
        pooled = [song for song in held_out if source_domain(song.source) == source]
        if len(own) >= MIN_REFERENCE_SONGS:
            reference[genre] = summary(own, genre, genre_domain(genre))
        elif len(pooled) >= MIN_REFERENCE_SONGS:
            reference[genre] = summary(pooled, None, source)
        else:
            reference[genre] = summary(held_out, None, ALL_DOMAIN)
    return reference


def context_length(key: str) -> int:
    """Number of labels in a context key."""
    return key.count("|") + 1 if key else 0


def prune_contexts(model: FormModel, *, min_count: int) -> FormModel:
    """Drop contexts longer than the order (never read) or seen fewer than min_count times."""
    counts = {
        domain: {
            key: followers
            for key, followers in contexts.items()
            if not key or (context_length(key) <= model.order and sum(followers.values()) >= min_count)
        }
        for domain, contexts in model.label_counts.items()
    }
    return with_settings(model, label_counts=counts)


def prune_unread(model: FormModel) -> FormModel:
    """Drop bar and copy counts the model never reads, to keep the shipped file small.

    Pooled ('*') counts are read from the 'all' domain only, and tempo-band domains only by a chain
    that uses them (bars_chain / copy_chain other than 'none').
    """

    def read(table: dict, *, chain: str) -> dict:
        return {
            domain: {
                label: counts for label, counts in by_label.items()
                if label != POOLED_LABEL or domain == ALL_DOMAIN
            }
            for domain, by_label in table.items()
            if "@" not in domain or chain != "none"
        }

    return with_settings(
        model,
        bars_counts=read(model.bars_counts, chain=model.bars_chain),
        copy_counts=read(model.copy_counts, chain=model.copy_chain),
    )


def train(data_path: Path) -> FormModel:
    """Fit, tune and calibrate a model from a structures.jsonl file."""
    songs = load_songs(data_path)
    splits = split_songs(songs)
    if not splits["train"] or not splits["validation"]:
        raise ValueError(
            f"{data_path}: {len(songs)} songs with sections, {len(splits['train'])} in the train split and "
            f"{len(splits['validation'])} in the validation split; training needs songs in both"
        )
    settings = tune(splits["train"], splits["validation"])
    tuned = {
        key: settings[key]
        for key in ("order", "label_beta", "bars_beta", "rate_weight", "bars_chain", "copy_chain")
    }
    model = prune_unread(prune_contexts(fit_model(splits["train"], **tuned), min_count=MIN_CONTEXT_COUNT))
    meta = {
        "data_sha256": file_sha256(data_path),
        "data_file": Path(data_path).name,
        "songs": {name: len(group) for name, group in splits.items()},
        "split": {"fractions": list(SPLIT_FRACTIONS), "salt": SPLIT_SALT, "hash": "sha256"},
        "tuning": settings,
        "min_context_count": MIN_CONTEXT_COUNT,
        "genres": {genre: list(strings) for genre, strings in GENRES.items()},
        "attribution": "see ATTRIBUTION.md: Harmonix Set (MIT, (c) 2019 Oriol Nieto), McGill Billboard (CC0)",
    }
    return with_settings(model, reference=reference_quantiles(model, splits["validation"]), meta=meta)


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: train and write the model JSON."""
    parser = argparse.ArgumentParser(prog="python -m structure_models.train", description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="structures.jsonl of the song-structure corpus")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write the model JSON")
    args = parser.parse_args(argv)
    if not args.data.is_file():
        parser.error(f"--data {args.data}: no such file (the corpus is ../shared/data/song_structures/structures.jsonl)")
    model = train(args.data)
    size = write_model(model, args.out)
    tuning = model.meta["tuning"]
    print(
        f"wrote {args.out} ({size / 1024:.0f} KiB): order {model.order}, label beta {model.label_beta}, "
        f"bars beta {model.bars_beta}, rate weight {model.rate_weight}, tempo bands {model.bars_chain} for bars "
        f"and {model.copy_chain} for copies; validation "
        f"{tuning['validation_label_bits']:.3f} label bits/section, {tuning['validation_bars_bits']:.3f} bars bits/section"
    )


if __name__ == "__main__":
    main()
