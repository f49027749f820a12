"""Smoothed conditional distributions of the form model, memoized per model.

Labels: P(label | previous `order` labels, genre), interpolated Witten-Bell
along a chain that, at each context length from longest to empty, tries the
genre, its source, then all songs. Bars: a hurdle model, P(bars = previous
same-label bars) = copy rate, else the label's length histogram (genre ->
source -> all, then all labels pooled with a pseudo-count, so odd lengths keep a
little mass without a uniform floor inviting 70-bar bridges) renormalized
without that value.

Both bar parts take the song's tempo band (tempo.py; None when the tempo is
unknown): the model's bars_chain and copy_chain say where the band domains sit
in their backoff chains.
"""

from __future__ import annotations

import numpy as np

from structure_models.genres import domain_chain
from structure_models.model import FormModel
from structure_models.smoothing import interpolated_distribution, shrunk_rate
from structure_models.tables import END, POOLED_LABEL, context_key, material_count_key
from structure_models.tempo import with_band

# pseudo-count per length added to the pooled length histogram the bars model ends in
POOLED_PSEUDOCOUNT = 0.5


def outcomes(model: FormModel) -> tuple[str, ...]:
    """What the label model predicts: every label, then END."""
    return model.labels + (END,)


def label_probabilities(model: FormModel, *, history: tuple[str, ...], genre: str) -> np.ndarray:
    """P(next label or END | the last model.order labels of `history`), over outcomes()."""
    history = history[len(history) - model.order :] if model.order else ()
    key = ("labels", genre, history)
    if key not in model.cache:
        chain = domain_chain(genre)
        tables = [
            model.label_counts.get(domain, {}).get(context_key(history, length=length))
            for length in range(len(history), -1, -1)
            for domain in chain
        ]
        names = outcomes(model)
        base = np.full(len(names), 1.0 / len(names))
        model.cache[key] = interpolated_distribution(
            tables=tables, outcomes=names, beta=model.label_beta, base=base
        )
    return model.cache[key]


def length_probabilities(model: FormModel, *, label: str, genre: str, band: str | None = None) -> np.ndarray:
    """P(bars | label, genre, tempo band) ignoring repeats; index i holds bars = i + 1."""
    key = ("lengths", genre, band, label)
    if key not in model.cache:
        chain = with_band(domain_chain(genre), band, how=model.bars_chain)
        tables = [model.bars_counts.get(d, {}).get(label) for d in chain]
        names = [str(bars) for bars in range(1, model.max_bars + 1)]
        pooled = model.bars_counts.get("all", {}).get(POOLED_LABEL, {})
        base = np.array([pooled.get(n, 0) + POOLED_PSEUDOCOUNT for n in names])
        base /= base.sum()
        model.cache[key] = interpolated_distribution(
            tables=tables, outcomes=names, beta=model.bars_beta, base=base
        )
    return model.cache[key]


def copy_rate(model: FormModel, *, label: str, genre: str, band: str | None = None) -> float:
    """P(a section has the same bars as the previous section with its label)."""
    chain = with_band(domain_chain(genre), band, how=model.copy_chain)
    counts = [model.copy_counts.get(d, {}).get(label) for d in chain]
    counts.append(model.copy_counts.get("all", {}).get(POOLED_LABEL))
    return shrunk_rate(counts=counts, prior=0.5, weight=model.rate_weight)


def bars_probabilities(
    model: FormModel, *, label: str, previous_bars: int | None, genre: str, band: str | None = None
) -> np.ndarray:
    """P(bars | label, bars of the previous same-label section, genre, tempo band); index = bars - 1."""
    key = ("bars", genre, band, label, previous_bars)
    if key not in model.cache:
        lengths = length_probabilities(model, label=label, genre=genre, band=band)
        if previous_bars is None or not 1 <= previous_bars <= model.max_bars:
            probs = lengths
        else:
            rate = copy_rate(model, label=label, genre=genre, band=band)
            other = lengths.copy()
            other[previous_bars - 1] = 0.0
            probs = (1.0 - rate) * other / other.sum()
            probs[previous_bars - 1] = rate
        model.cache[key] = probs
    return model.cache[key]


def new_material_probability(model: FormModel, *, label: str, n_materials: int, genre: str) -> float:
    """P(a section brings new material | its label already has n_materials in the song)."""
    if n_materials == 0:
        return 1.0
    bucket = material_count_key(n_materials)
    chain = domain_chain(genre)
    counts = [model.new_material_counts.get(d, {}).get(label, {}).get(bucket) for d in chain]
    counts.append(model.new_material_counts.get("all", {}).get(POOLED_LABEL, {}).get(bucket))
    return shrunk_rate(counts=counts, prior=0.5, weight=model.rate_weight)
