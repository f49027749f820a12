"""Reference models the form model must beat: unigram and first-order Markov labels.

Both use one bar-length histogram per label (all songs pooled, add-one-half
smoothing) and know nothing of genre, repeats or longer context.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from structure_models.corpus import Song
from structure_models.smoothing import interpolated_distribution
from structure_models.tables import END, START

# pseudo-count per outcome of the baselines' histograms
PSEUDOCOUNT = 0.5


@dataclass(frozen=True, eq=False)
class Baseline:
    """A label model with one previous label at most, plus bar lengths per label."""

    # name shown in the evaluation table
    name: str
    # labels then END, the order of every probability vector
    outcomes: tuple[str, ...]
    # previous label (START first; '' for a unigram) -> P(next outcome)
    next_label: dict[str, np.ndarray]
    # label -> P(bars = i + 1)
    bar_lengths: dict[str, np.ndarray]
    # True when the context is the previous label, False for a unigram
    first_order: bool


def bar_lengths(songs: Sequence[Song], *, labels: Sequence[str], max_bars: int) -> dict[str, np.ndarray]:
    """Add-one-half histogram of bars per label, lengths above max_bars clipped."""
    counts = {label: np.full(max_bars, PSEUDOCOUNT) for label in labels}
    for song in songs:
        for label, bars in zip(song.labels, song.bars):
            if bars is not None and label in counts:
                counts[label][min(bars, max_bars) - 1] += 1
    return {label: c / c.sum() for label, c in counts.items()}


def fit_unigram(songs: Sequence[Song], *, labels: Sequence[str], max_bars: int) -> Baseline:
    """P(label) with END counted once per song, add-one-half smoothed."""
    outcomes = tuple(labels) + (END,)
    counts = Counter(label for song in songs for label in song.labels + (END,))
    probs = np.array([counts[o] + PSEUDOCOUNT for o in outcomes])
    return Baseline(
        name="unigram",
        outcomes=outcomes,
        next_label={"": probs / probs.sum()},
        bar_lengths=bar_lengths(songs, labels=labels, max_bars=max_bars),
        first_order=False,
    )


def fit_first_order(
    songs: Sequence[Song], *, labels: Sequence[str], max_bars: int, beta: float
) -> Baseline:
    """P(label | previous label), Witten-Bell interpolated with the add-one-half unigram."""
    outcomes = tuple(labels) + (END,)
    unigram = fit_unigram(songs, labels=labels, max_bars=max_bars)
    transitions: dict[str, Counter] = defaultdict(Counter)
    for song in songs:
        sequence = (START,) + song.labels + (END,)
        for previous, label in zip(sequence, sequence[1:]):
            transitions[previous][label] += 1
    next_label = {
        previous: interpolated_distribution(
            tables=[transitions.get(previous)], outcomes=outcomes, beta=beta, base=unigram.next_label[""]
        )
        for previous in (START,) + tuple(labels)
    }
    return Baseline(
        name="first-order Markov",
        outcomes=outcomes,
        next_label=next_label,
        bar_lengths=unigram.bar_lengths,
        first_order=True,
    )


def baseline_song_bits(baseline: Baseline, song: Song) -> tuple[float, float, int, int]:
    """(label + end bits, bars bits, sections, sections with bars) of one song."""
    sequence = (START,) + song.labels + (END,)
    label_bits = 0.0
    for previous, label in zip(sequence, sequence[1:]):
        probs = baseline.next_label[previous if baseline.first_order else ""]
        label_bits -= math.log2(probs[baseline.outcomes.index(label)])
    known = [(label, bars) for label, bars in zip(song.labels, song.bars) if bars is not None]
    max_bars = len(next(iter(baseline.bar_lengths.values())))
    bars_bits = -sum(
        math.log2(baseline.bar_lengths[label][min(bars, max_bars) - 1]) for label, bars in known
    )
    return label_bits, bars_bits, len(song.labels), len(known)
