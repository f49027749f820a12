"""Witten-Bell interpolation along a backoff chain of count tables."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


def interpolated_distribution(
    *,
    tables: Sequence[Mapping[str, int] | None],
    outcomes: Sequence[str],
    beta: float,
    base: np.ndarray,
) -> np.ndarray:
    """Probabilities of `outcomes` from count tables ordered most specific first.

    Each table with n observations of t distinct outcomes keeps weight
    n / (n + beta * t) on its own relative frequencies and passes the rest to the
    next, more general table; the most general one falls back to `base`. Missing
    or empty tables pass everything on.
    """
    probs = np.asarray(base, dtype=np.float64)
    for counts in reversed(tables):
        if not counts:
            continue
        total = sum(counts.values())
        keep = total / (total + beta * len(counts))
        frequencies = np.array([counts.get(o, 0) for o in outcomes], dtype=np.float64) / total
        probs = keep * frequencies + (1.0 - keep) * probs
    return probs


def shrunk_rate(*, counts: Sequence[Sequence[int] | None], prior: float, weight: float) -> float:
    """Rate of successes, shrunk from the most general count pair to the most specific.

    `counts` holds (successes, trials) pairs ordered most specific first; each
    level's estimate is (successes + weight * parent) / (trials + weight).
    """
    rate = prior
    for pair in reversed(counts):
        if pair:
            successes, trials = pair
            rate = (successes + weight * rate) / (trials + weight)
    return rate
