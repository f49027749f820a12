"""Sample a form whose total length fits a target duration.

Forms are drawn from the model and the first one within 5% of the target that
the model's own scorer would not flag as unusual for the genre is kept: a draw
from P(form | duration in the window, typical form), the tail cut the way
top-p sampling cuts it for text. If no typical draw fits, the first fitting
one is kept. If plain
draws keep missing (very short or very long targets), draws that may not end
before the window are tried; if those miss too, the closest draw keeps its
labels and repeats and its bar counts are refit by dynamic programming (one
length per label, the most probable combination inside the window).

Bar lengths are drawn (and refit, and scored) for the tempo band of the target's
bpm and metre, so a fast song gets longer sections rather than more of them.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping

import numpy as np

from structure_models.form import SampledSection
from structure_models.genres import check_genre
from structure_models.model import FormModel
from structure_models.probabilities import (
    bars_probabilities,
    label_probabilities,
    length_probabilities,
    new_material_probability,
)
from structure_models.scoring import REFERENCE_LEVELS, UNUSUAL_LEVEL, surprisals
from structure_models.tables import padded_history, previous_same_label_bars

# allowed relative deviation of the form's total duration from the target
DURATION_TOLERANCE = 0.05
# plain draws tried before draws that may not end early
PLAIN_DRAWS = 300
# draws that may not end before the window, tried before refitting bars
GUIDED_DRAWS = 200
# forms never grow beyond this many sections (or 1 per 2 bars of a long target)
MIN_SECTION_CAP = 40
# longest target in bars: sampling time grows with it (an hour at 240 bpm in 1/4 is 14400 bars)
MAX_TARGET_BARS = 20_000
# the longest song a sampled form may make, seconds (composer's cap on every song, outline_model.MAX_SONG_S):
# a target near it may land up to 5% under it, never over
MAX_FORM_S = 60 * 60


def rng_for(*, seed: int, genre: str) -> np.random.Generator:
    """Generator seeded from SHA-256 of the seed and genre."""
    digest = hashlib.sha256(f"structure_models/sample:{genre}:{int(seed)}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:16], "big"))


def bar_window(*, duration_s: float, bpm: float, beats_per_bar: int) -> tuple[int, int]:
    """Smallest and largest whole-bar totals within the tolerance of duration_s."""
    if not (duration_s > 0 and bpm > 0 and beats_per_bar > 0 and math.isfinite(duration_s * bpm)):
        raise ValueError(
            f"duration_s, bpm and beats_per_bar must be positive, got {duration_s}, {bpm}, {beats_per_bar}"
        )
    target = duration_s * bpm / (60.0 * beats_per_bar)
    if target > MAX_TARGET_BARS:
        raise ValueError(
            f"{duration_s:g} s at {bpm:g} bpm is {target:.0f} bars of {beats_per_bar} beats; "
            f"forms of at most {MAX_TARGET_BARS} bars are sampled: choose a shorter duration"
        )
    low = math.ceil(target * (1 - DURATION_TOLERANCE) - 1e-9)
    high = min(math.floor(target * (1 + DURATION_TOLERANCE) + 1e-9),
               math.floor(MAX_FORM_S * bpm / (60.0 * beats_per_bar) + 1e-9))
    if low > high or high < 1:
        raise ValueError(
            f"{duration_s:g} s at {bpm:g} bpm is {target:.2f} bars of {beats_per_bar} beats; "
            f"no whole number of bars lies within {DURATION_TOLERANCE:.0%} of it: choose a longer duration"
        )
    return max(low, 1), high


def draw(rng: np.random.Generator, probs: np.ndarray) -> int:
    """Index drawn with probability proportional to probs."""
    cumulative = np.cumsum(probs)
    return int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"))


def draw_form(
    model: FormModel,
    *,
    genre: str,
    rng: np.random.Generator,
    fixed_bars: Mapping[str, int],
    max_sections: int,
    min_total_bars: int,
    band: str | None = None,
) -> list[SampledSection]:
    """One form from the model; it may not end before min_total_bars bars. band: the tempo band."""
    labels: list[str] = []
    bars: list[int] = []
    repeats: list[int | None] = []
    # label -> [first index, occurrences] per distinct material
    materials: dict[str, list[list[int]]] = {}
    while len(labels) < max_sections:
        probs = label_probabilities(model, history=padded_history(labels, order=model.order), genre=genre)
        if sum(bars) < min_total_bars:
            probs = np.append(probs[:-1] * _goes_on(model, labels=labels, genre=genre), 0.0)
        choice = draw(rng, probs)
        if choice == len(model.labels):
            break
        label = model.labels[choice]
        own = materials.setdefault(label, [])
        p_new = new_material_probability(model, label=label, n_materials=len(own), genre=genre)
        if rng.random() < p_new:
            repeats.append(None)
            own.append([len(labels), 1])
        else:
            picked = own[draw(rng, np.array([count for _, count in own], dtype=float))]
            repeats.append(picked[0])
            picked[1] += 1
        labels.append(label)
        if label in fixed_bars:
            bars.append(int(fixed_bars[label]))
        else:
            previous = previous_same_label_bars(labels, bars, index=len(labels) - 1)
            lengths = bars_probabilities(model, label=label, previous_bars=previous, genre=genre, band=band)
            bars.append(draw(rng, lengths) + 1)
    return [SampledSection(label=l, bars=b, repeat_of=r) for l, b, r in zip(labels, bars, repeats)]


def _goes_on(model: FormModel, *, labels: list[str], genre: str) -> np.ndarray:
    """Per label, the chance the song goes on after it: P(not END | labels + [label]).

    A song that may not end yet is conditioned one step further ahead too. Without it, masking END
    alone hands END's mass to the labels that end songs: an outro is followed by END in 735 of 790
    corpus songs, so long guided forms looped through outro after outro (70% of 15:00 pop forms had
    one before the last section; 3% of corpus songs do).
    """
    return np.array([
        1.0 - label_probabilities(model, history=padded_history([*labels, label], order=model.order),
                                  genre=genre)[-1]
        for label in model.labels
    ])


#: labels that open a song and labels that close one: a form is returned with them in place when a draw allows
OPENING_LABELS, CLOSING_LABELS = frozenset({"intro"}), frozenset({"outro"})


def frames_in_place(form: list[SampledSection]) -> bool:
    """No intro after the first section and no outro before the last.

    A mean of bits per section over a long form hides one such section; corpus songs have them rarely
    (an outro before the last section in 3% of 1,644 songs, an intro after the first in 7%).
    """
    return (not any(section.label in OPENING_LABELS for section in form[1:])
            and not any(section.label in CLOSING_LABELS for section in form[:-1]))


def total_bars(form: list[SampledSection]) -> int:
    """Sum of the sections' bars."""
    return sum(section.bars for section in form)


def refit_bars(
    model: FormModel,
    form: list[SampledSection],
    *,
    genre: str,
    low: int,
    high: int,
    fixed_bars: Mapping[str, int],
    band: str | None = None,
) -> list[SampledSection] | None:
    """Same labels and repeats, one length per label, the most probable total in [low, high].

    Dynamic programming over labels: each label's length counts once per
    occurrence in the total and in the log-probability (lengths of the tempo
    band `band`). None if no fit exists.
    """
    order = list(dict.fromkeys(section.label for section in form))
    occurrences = {label: sum(s.label == label for s in form) for label in order}
    best = np.full(high + 1, -np.inf)
    best[0] = 0.0
    choices: list[np.ndarray] = []
    for label in order:
        log_p = np.log(np.maximum(length_probabilities(model, label=label, genre=genre, band=band), 1e-300))
        options = [fixed_bars[label]] if label in fixed_bars else range(1, model.max_bars + 1)
        step = np.full(high + 1, -np.inf)
        picked = np.zeros(high + 1, dtype=int)
        for bars in options:
            width = bars * occurrences[label]
            if width > high:
                continue
            candidate = np.full(high + 1, -np.inf)
            candidate[width:] = best[: high + 1 - width] + occurrences[label] * log_p[bars - 1]
            better = candidate > step
            step[better] = candidate[better]
            picked[better] = bars
        best = step
        choices.append(picked)
    if not np.isfinite(best[low:]).any():
        return None
    total = low + int(np.argmax(best[low:]))
    lengths: dict[str, int] = {}
    for label, picked in zip(reversed(order), reversed(choices)):
        lengths[label] = int(picked[total])
        total -= lengths[label] * occurrences[label]
    return [SampledSection(label=s.label, bars=lengths[s.label], repeat_of=s.repeat_of) for s in form]


def typical_limit(model: FormModel, *, genre: str) -> float:
    """Bits per section (labels + bars) above which the scorer flags a form."""
    reference = model.reference.get(genre)
    if not reference:
        return math.inf
    return float(np.interp(UNUSUAL_LEVEL, REFERENCE_LEVELS, reference["labels_bars"]))


def bits_per_section(
    model: FormModel, form: list[SampledSection], *, genre: str, band: str | None = None
) -> float:
    """Labels + bars + end surprisal of a sampled form, per section (bars in the tempo band `band`)."""
    labels = [s.label for s in form]
    label_bits, bars_bits, end_bits = surprisals(model, labels, [s.bars for s in form], genre=genre, band=band)
    return (sum(label_bits) + sum(bars_bits) + end_bits) / len(form)


def sample_form(
    model: FormModel,
    *,
    genre: str,
    duration_s: float,
    bpm: float,
    beats_per_bar: int,
    seed: int,
    fixed_bars: Mapping[str, int],
) -> list[SampledSection]:
    """A form within 5% of duration_s, deterministic in (seed, genre) and the target."""
    check_genre(genre)
    bad = {label: bars for label, bars in fixed_bars.items() if int(bars) != bars or bars < 1}
    if bad:
        raise ValueError(f"fixed bar counts must be positive integers, got {bad}")
    low, high = bar_window(duration_s=duration_s, bpm=bpm, beats_per_bar=beats_per_bar)
    band = model.tempo_band(bpm=bpm, beats_per_bar=beats_per_bar)
    rng = rng_for(seed=seed, genre=genre)
    max_sections = max(MIN_SECTION_CAP, math.ceil(high / 2))
    limit = typical_limit(model, genre=genre)
    fitting: list[SampledSection] | None = None
    misses: list[tuple[float, int, list[SampledSection]]] = []
    for attempt in range(PLAIN_DRAWS + GUIDED_DRAWS):
        form = draw_form(
            model,
            genre=genre,
            rng=rng,
            fixed_bars=fixed_bars,
            max_sections=max_sections,
            min_total_bars=0 if attempt < PLAIN_DRAWS else low,
            band=band,
        )
        if form and low <= total_bars(form) <= high:
            in_place = frames_in_place(form)
            if in_place and bits_per_section(model, form, genre=genre, band=band) <= limit:
                return form
            # fallbacks, best first: framed in place (but atypical), then any form of the right length
            if fitting is None or (in_place and not frames_in_place(fitting)):
                fitting = form
        elif form:
            misses.append((abs(math.log(total_bars(form) / ((low + high) / 2))), attempt, form))
    if fitting:
        return fitting
    # the closest miss framed in place first: refitting keeps its labels
    for _, _, form in sorted(misses, key=lambda miss: (not frames_in_place(miss[2]), *miss[:2])):
        refit = refit_bars(model, form, genre=genre, low=low, high=high, fixed_bars=fixed_bars, band=band)
        if refit is not None:
            return refit
    bars = f"{low} bar{'s' if low != 1 else ''}" if low == high else f"{low}-{high} bars"
    raise ValueError(
        f"no {genre} form of {bars} was found"
        + (f" with fixed bars {dict(fixed_bars)}: fix fewer sections' bars, or" if fixed_bars else ";")
        + " choose a longer duration (or another genre)"
    )
