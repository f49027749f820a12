"""Surprisal of a form under the model, and how it compares with the validation songs.

The reference quantiles come from the validation split, which also chose the model's
four smoothing settings (and holds versions of 20 train songs), so they are not
held-out figures; structure_models.evaluate reports those, on the test split.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from structure_models.form import FormScore, SectionScore
from structure_models.genres import check_genre
from structure_models.model import FormModel
from structure_models.probabilities import bars_probabilities, label_probabilities, outcomes
from structure_models.tables import padded_history, previous_same_label_bars

# quantile levels at which validation song scores are stored
REFERENCE_LEVELS = tuple(i / 20 for i in range(21))
# a form scoring above this quantile of validation songs of its genre is flagged
UNUSUAL_LEVEL = 0.95
# a section is annotated when its label or length had less than this probability
RARE_PROBABILITY = 0.05


def surprisals(
    model: FormModel,
    labels: Sequence[str],
    bars: Sequence[int | None] | None,
    *,
    genre: str,
    band: str | None = None,
) -> tuple[list[float], list[float | None], float]:
    """Label bits and bars bits per section, and the bits of ending after the last one.

    band is the song's tempo band (FormModel.tempo_band; None when its tempo is unknown).
    """
    names = outcomes(model)
    label_bits: list[float] = []
    bars_bits: list[float | None] = []
    for index, label in enumerate(labels):
        history = padded_history(labels[:index], order=model.order)
        probs = label_probabilities(model, history=history, genre=genre)
        label_bits.append(-math.log2(probs[names.index(label)]))
        if bars is None or bars[index] is None:
            bars_bits.append(None)
            continue
        previous = previous_same_label_bars(labels, bars, index=index)
        lengths = bars_probabilities(model, label=label, previous_bars=previous, genre=genre, band=band)
        bars_bits.append(-math.log2(lengths[min(bars[index], model.max_bars) - 1]))
    history = padded_history(labels, order=model.order)
    end_bits = -math.log2(label_probabilities(model, history=history, genre=genre)[-1])
    return label_bits, bars_bits, end_bits


def section_note(
    *, label: str, previous: str | None, bars: int | None, label_bits: float, bars_bits: float | None
) -> str:
    """Why a section is surprising, or '' when neither its label nor its length is rare."""
    notes = []
    if label_bits > -math.log2(RARE_PROBABILITY):
        where = "opens a song" if previous is None else f"follows '{previous}'"
        notes.append(f"'{label}' rarely {where} (p={2 ** -label_bits:.2g})")
    if bars_bits is not None and bars_bits > -math.log2(RARE_PROBABILITY):
        notes.append(f"{bars} bars is a rare length here for a {label} (p={2 ** -bars_bits:.2g})")
    return "; ".join(notes)


def check_form(model: FormModel, labels: Sequence[str], bars: Sequence[int] | None) -> None:
    """ValueError when the labels or bars cannot be scored."""
    if not labels:
        raise ValueError("a form needs at least one section")
    unknown = sorted({label for label in labels if label not in model.labels})
    if unknown:
        raise ValueError(f"unknown section labels {unknown}; known labels: {', '.join(model.labels)}")
    if bars is not None:
        if len(bars) != len(labels):
            raise ValueError(f"got {len(bars)} bar counts for {len(labels)} sections")
        if any(int(b) != b or b < 1 for b in bars):
            raise ValueError(f"bar counts must be positive integers, got {list(bars)}")


def score_form(
    model: FormModel,
    labels: Sequence[str],
    bars: Sequence[int] | None,
    *,
    genre: str,
    bpm: float | None = None,
    beats_per_bar: int = 4,
) -> FormScore:
    """Score a form against the model and the validation songs of its genre.

    Bar lengths are scored for the tempo band of bpm in a metre of beats_per_bar, tempo-free
    when bpm is None.
    """
    check_genre(genre)
    labels = list(labels)
    check_form(model, labels, bars)
    band = model.tempo_band(bpm=bpm, beats_per_bar=beats_per_bar)
    label_bits, bars_bits, end_bits = surprisals(model, labels, bars, genre=genre, band=band)
    sections = tuple(
        SectionScore(
            label=label,
            bars=None if bars is None else int(bars[index]),
            label_bits=label_bits[index],
            bars_bits=bars_bits[index],
            note=section_note(
                label=label,
                previous=labels[index - 1] if index else None,
                bars=None if bars is None else int(bars[index]),
                label_bits=label_bits[index],
                bars_bits=bars_bits[index],
            ),
        )
        for index, label in enumerate(labels)
    )
    total = sum(s.bits for s in sections) + end_bits
    per_section = total / len(sections)
    reference = model.reference[genre]
    quantiles = np.asarray(reference["labels" if bars is None else "labels_bars"])
    percentile = float(np.interp(per_section, quantiles, REFERENCE_LEVELS))
    threshold = float(np.interp(UNUSUAL_LEVEL, REFERENCE_LEVELS, quantiles))
    unusual = per_section > threshold
    return FormScore(
        genre=genre,
        sections=sections,
        end_bits=end_bits,
        total_bits=total,
        bits_per_section=per_section,
        percentile=percentile,
        unusual=unusual,
        explanation=explain(
            genre=genre,
            sections=sections,
            end_bits=end_bits,
            per_section=per_section,
            percentile=percentile,
            threshold=threshold,
            unusual=unusual,
            n_songs=int(reference["n_songs"]),
        ),
    )


def explain(
    *,
    genre: str,
    sections: tuple[SectionScore, ...],
    end_bits: float,
    per_section: float,
    percentile: float,
    threshold: float,
    unusual: bool,
    n_songs: int,
) -> str:
    """One or two sentences comparing the form with the validation songs."""
    verdict = "unusual" if unusual else "typical"
    text = (
        f"{verdict} for {genre}: {per_section:.2f} bits/section, above {percentile:.0%} of "
        f"{n_songs} validation songs (flagged above {threshold:.2f})."
    )
    if not unusual:
        return text
    worst = max(range(len(sections)), key=lambda i: sections[i].bits)
    if end_bits > sections[worst].bits:
        return text + f" Most surprising: ending after '{sections[-1].label}' (p={2 ** -end_bits:.2g})."
    detail = sections[worst].note or f"{sections[worst].bits:.1f} bits"
    return text + f" Most surprising: section {worst + 1}, {detail}."
