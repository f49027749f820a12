"""Evaluate the form model on the test split.

    python -m structure_models.evaluate [--data PATH] [--model PATH] [--out PATH]

Only test songs that are truly unseen are scored: the split hashes corpus ids, so
a test song can be another version of a train or validation song (a remix, an
edit, a cover, the same track in the other corpus). Those test songs are left
out (group_disjoint, keyed by song_groups.song_group_key) and the report lists
them with the songs they share a group with.

1. Held-out log-likelihood per section (labels; labels + bars) of the form
   model against a unigram and a first-order Markov baseline fit on the same
   train split (baseline smoothing tuned on the validation split).
2. Forms sampled for every test song (its genre, duration, tempo and metre)
   against the songs themselves: sections per song, label shares, median bars
   per label, first and last labels, repeat rate; and sections per song and bars per
   section by tempo band, held-out against sampled.

A test song's tempo (like its genre, duration and metre) is an input the model
is given, not a target: its bar lengths are scored for its tempo band, and
tempo-free when the corpus has no tempo for it.
"""

from __future__ import annotations

import argparse
import json
import math
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from structure_models.baselines import Baseline, baseline_song_bits, fit_first_order, fit_unigram
from structure_models.corpus import Song, file_sha256, load_songs, split_songs
from structure_models.model import FormModel, load_model
from structure_models.sampling import DURATION_TOLERANCE
from structure_models.tempo import TEMPO_EDGES, band_names, tempo_band
from structure_models.train import BETAS, DEFAULT_DATA, known_songs, song_bits

DEFAULT_REPORT = Path("out") / "structure_eval.json"
# tempo assumed for sampling a test song whose corpus entry has none (its duration needs one; the
# model then samples bar lengths for this tempo's band)
FALLBACK_BPM = 120.0
# (label, bars or None, index of repeated section or None) per section
Form = list[tuple[str, int | None, int | None]]
# which test songs are not scored, in one line for the report
GROUP_RULE = (
    "test songs whose song group (normalised title + primary artist, plus hand-checked covers and aliases: "
    "structure_models/song_groups.py) has a train or validation song are not scored"
)


def per_section(rows: Sequence[tuple[float, float, int, int]]) -> dict[str, float]:
    """Bits and nats per section, labels alone and labels + bars."""
    totals = np.asarray(rows, dtype=np.float64).sum(axis=0)
    labels = totals[0] / totals[2]
    # sections without a bar count add no bars term, in every model alike
    with_bars = (totals[0] + totals[1]) / totals[2]
    return {
        "labels_bits": labels,
        "labels_bars_bits": with_bars,
        "labels_nats": labels * math.log(2),
        "labels_bars_nats": with_bars * math.log(2),
    }


def tuned_first_order(train: Sequence[Song], validation: Sequence[Song], *, labels, max_bars) -> Baseline:
    """First-order baseline with the Witten-Bell strength best on validation."""
    candidates = [fit_first_order(train, labels=labels, max_bars=max_bars, beta=beta) for beta in BETAS]
    return min(
        candidates,
        key=lambda b: per_section([baseline_song_bits(b, s) for s in validation])["labels_bits"],
    )


def group_disjoint(splits: dict[str, list[Song]]) -> tuple[list[Song], list[dict]]:
    """Test songs whose song group has no train or validation song, and a record of each test song left out.

    A left-out record names the test song, its group key and every train or validation song of that group.
    """
    elsewhere: dict[str, list[dict[str, str]]] = {}
    for split in ("train", "validation"):
        for song in splits[split]:
            elsewhere.setdefault(song.group, []).append({"split": split, "song_id": song.song_id})
    kept, left_out = [], []
    for song in splits["test"]:
        partners = elsewhere.get(song.group)
        if partners:
            left_out.append({"song_id": song.song_id, "group": song.group, "same_song_as": partners})
        else:
            kept.append(song)
    return kept, left_out


def left_out_summary(left_out: list[dict], *, unknown_labels: int) -> dict:
    """Counts of test songs left out, by reason, and the songs themselves."""
    in_train = sum(any(p["split"] == "train" for p in song["same_song_as"]) for song in left_out)
    return {
        "rule": GROUP_RULE,
        "same_song_in_train": in_train,
        "same_song_in_validation_only": len(left_out) - in_train,
        "labels_unknown_to_model": unknown_labels,
        "songs": left_out,
    }


def log_likelihoods(model: FormModel, splits: dict[str, list[Song]], test: Sequence[Song]) -> dict[str, dict[str, float]]:
    """Per-section held-out log-likelihood of each model on the given (scored) test songs."""
    labels, max_bars = model.labels, model.max_bars
    validation = known_songs(model, splits["validation"])
    unigram = fit_unigram(splits["train"], labels=labels, max_bars=max_bars)
    first_order = tuned_first_order(splits["train"], validation, labels=labels, max_bars=max_bars)
    genre_blind = [Song(**{**song.__dict__, "genre": "any"}) for song in test]
    return {
        "unigram": per_section([baseline_song_bits(unigram, s) for s in test]),
        "first-order Markov": per_section([baseline_song_bits(first_order, s) for s in test]),
        f"form model, no genre (order {model.order})": per_section([song_bits(model, s) for s in genre_blind]),
        f"form model (order {model.order})": per_section([song_bits(model, s) for s in test]),
    }


def song_form(song: Song) -> Form:
    """A corpus song as a Form."""
    return list(zip(song.labels, song.bars, song.repeat_of))


def sampled_form(model: FormModel, song: Song, *, seed: int) -> tuple[Form, float]:
    """A form sampled for the song's genre, duration, tempo and metre, and its duration error."""
    bpm = song.bpm or FALLBACK_BPM
    try:
        sections = model.sample_form(
            genre=song.genre, duration_s=song.span_s, bpm=bpm, beats_per_bar=song.beats_per_bar, seed=seed
        )
    except ValueError as exc:
        raise ValueError(f"test song {song.song_id}: {exc}") from None
    duration_s = sum(s.bars for s in sections) * song.beats_per_bar * 60.0 / bpm
    return [(s.label, s.bars, s.repeat_of) for s in sections], abs(duration_s / song.span_s - 1.0)


def shares(values: Sequence[str], *, top: int | None = None) -> dict[str, float]:
    """Fraction of each value, most common first."""
    counts = Counter(values).most_common(top)
    return {value: count / len(values) for value, count in counts}


def form_statistics(forms: Sequence[Form]) -> dict:
    """Summary statistics of a set of forms."""
    sections = [section for form in forms for section in form]
    lengths = [len(form) for form in forms]
    bars_by_label: dict[str, list[int]] = {}
    for label, bars, _ in sections:
        if bars is not None:
            bars_by_label.setdefault(label, []).append(bars)
    known_bars = [bars for _, bars, _ in sections if bars is not None]
    return {
        "songs": len(forms),
        "sections_per_song_mean": float(np.mean(lengths)),
        "sections_per_song_median": float(np.median(lengths)),
        "bars_per_song_median": float(np.median([sum(b or 0 for _, b, _ in form) for form in forms])),
        "label_share": shares([label for label, _, _ in sections]),
        "median_bars": {label: float(np.median(v)) for label, v in sorted(bars_by_label.items())},
        "first_label": shares([form[0][0] for form in forms], top=4),
        "last_label": shares([form[-1][0] for form in forms], top=4),
        "repeat_rate": sum(repeat is not None for _, _, repeat in sections) / len(sections),
        "bars_4_8_16_share": sum(bars in (4, 8, 16) for bars in known_bars) / len(known_bars),
    }


def by_tempo_band(songs: Sequence[Song], forms: Sequence[Form]) -> dict:
    """Per tempo band (TEMPO_EDGES, whatever the model uses): songs, sections per song, bars per section."""
    groups: dict[str, list[Form]] = {}
    for song, form in zip(songs, forms):
        band = tempo_band(TEMPO_EDGES, bpm=song.bpm, beats_per_bar=song.beats_per_bar) or "unknown"
        groups.setdefault(band, []).append(form)
    out = {}
    for band in [*band_names(TEMPO_EDGES), "unknown"]:
        if band in groups:
            bars = [bars for form in groups[band] for _, bars, _ in form if bars is not None]
            out[band] = {
                "songs": len(groups[band]),
                "sections_per_song_mean": float(np.mean([len(form) for form in groups[band]])),
                "bars_per_section_mean": float(np.mean(bars)) if bars else None,
            }
    return out


def compare_forms(model: FormModel, songs: Sequence[Song]) -> dict:
    """Statistics of held-out songs and of forms sampled to match each of them."""
    sampled = [sampled_form(model, song, seed=index) for index, song in enumerate(songs)]
    errors = [error for _, error in sampled]
    held_forms = [song_form(song) for song in songs]
    sampled_forms = [form for form, _ in sampled]
    return {
        "held_out": {**form_statistics(held_forms), "by_tempo_band": by_tempo_band(songs, held_forms)},
        "sampled": {**form_statistics(sampled_forms), "by_tempo_band": by_tempo_band(songs, sampled_forms)},
        "sampled_duration_error_max": max(errors),
        "sampled_within_tolerance": sum(e <= DURATION_TOLERANCE + 1e-9 for e in errors) / len(errors),
    }


def evaluate(*, data_path: Path, model: FormModel) -> dict:
    """The full evaluation report as a JSON-able dict."""
    splits = split_songs(load_songs(data_path))
    unseen, left_out = group_disjoint(splits)
    test = known_songs(model, unseen)
    # baselines fit on train and tune on validation; every split needs songs the model can score
    counts = {"train": len(splits["train"]), "validation": len(known_songs(model, splits["validation"])),
              "test": len(test)}
    if not all(counts.values()):
        why = (
            f"all {len(splits['test'])} test songs are versions of train or validation songs"
            if splits["test"] and not unseen
            else "is this the song-structure corpus the model was trained on?"
        )
        raise ValueError(
            f"{data_path}: songs the model can score per split: {counts}; the evaluation needs some in each ({why})"
        )
    return {
        "data_sha256": file_sha256(data_path),
        "model_data_sha256": model.meta.get("data_sha256"),
        "test_split_songs": len(splits["test"]),
        "test_left_out": left_out_summary(left_out, unknown_labels=len(unseen) - len(test)),
        "test_songs": len(test),
        "test_sections": sum(len(song.labels) for song in test),
        "log_likelihood_per_section": log_likelihoods(model, splits, test),
        "comparison": compare_forms(model, test),
    }


def format_report(report: dict) -> str:
    """Plain-text tables of an evaluation report."""
    dropped = report["test_left_out"]
    n_dropped = len(dropped["songs"])
    lines = [
        f"test split: {report['test_split_songs']} songs; scored {report['test_songs']} songs, "
        f"{report['test_sections']} sections",
        f"left out {n_dropped} test songs that are another version of a train song ({dropped['same_song_in_train']}) "
        f"or of a validation song only ({dropped['same_song_in_validation_only']}); "
        f"{dropped['labels_unknown_to_model']} more use a label the model does not know",
        f"  ({dropped['rule']})",
    ]
    for song in dropped["songs"]:
        partners = ", ".join(f"{p['split']} {p['song_id']}" for p in song["same_song_as"])
        lines.append(f"  {song['song_id']:42} {song['group']:36} = {partners}")
    if report["data_sha256"] != report["model_data_sha256"]:
        lines.append("warning: the model was trained on a different data file")
    lines += ["", f"{'held-out log-likelihood per section':40} {'labels':>16} {'labels+bars':>18}"]
    for name, row in report["log_likelihood_per_section"].items():
        lines.append(
            f"{name:40} {row['labels_bits']:6.3f} bits {row['labels_nats']:5.3f} nats"
            f" {row['labels_bars_bits']:7.3f} bits {row['labels_bars_nats']:5.3f} nats"
        )
    held, sampled = report["comparison"]["held_out"], report["comparison"]["sampled"]
    lines += ["", f"{'forms':32} {'held-out':>10} {'sampled':>10}"]

    def row(name: str, a, b, fmt: str = "{:10.2f}") -> None:
        cell = lambda v: fmt.format(v) if v is not None else f"{'-':>10}"
        lines.append(f"{name:32} {cell(a)} {cell(b)}")

    for key in ("sections_per_song_mean", "sections_per_song_median", "bars_per_song_median", "repeat_rate", "bars_4_8_16_share"):
        row(key.replace("_", " "), held[key], sampled[key])
    for label in held["label_share"]:
        row(f"share {label}", held["label_share"][label], sampled["label_share"].get(label, 0.0), "{:10.1%}")
    for label in held["median_bars"]:
        row(f"median bars {label}", held["median_bars"][label], sampled["median_bars"].get(label))
    for key in ("first_label", "last_label"):
        for label in dict.fromkeys([*held[key], *sampled[key]]):
            row(f"{key.replace('_', ' ')} {label}", held[key].get(label, 0.0), sampled[key].get(label, 0.0), "{:10.1%}")
    for band, stats in held["by_tempo_band"].items():
        other = sampled["by_tempo_band"][band]
        row(f"{band} ({stats['songs']}) sections/song", stats["sections_per_song_mean"], other["sections_per_song_mean"])
        row(f"{band} bars/section", stats["bars_per_section_mean"], other["bars_per_section_mean"])
    comparison = report["comparison"]
    lines.append(
        f"sampled durations: {comparison['sampled_within_tolerance']:.0%} within "
        f"{DURATION_TOLERANCE:.0%}, worst {comparison['sampled_duration_error_max']:.2%}"
    )
    return "\n".join(lines)


def write_report(report: dict, path: Path) -> None:
    """Write the report JSON atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: evaluate, print the tables, write the JSON report."""
    parser = argparse.ArgumentParser(prog="python -m structure_models.evaluate", description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="structures.jsonl of the song-structure corpus")
    parser.add_argument("--model", type=Path, default=None, help="model JSON (default: the one shipped in the package)")
    parser.add_argument("--out", type=Path, default=DEFAULT_REPORT, help="where to write the JSON report")
    args = parser.parse_args(argv)
    if not args.data.is_file():
        parser.error(f"--data {args.data}: no such file")
    report = evaluate(data_path=args.data, model=load_model(args.model))
    print(format_report(report))
    write_report(report, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
