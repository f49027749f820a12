"""Evaluate a built-in model folder against real corpus clips it never saw.

    python -m composer.builtin_model.evaluate --corpus data/corpus --model composer/builtin_model/weights \\
        --out runs/model_eval [--limit N] [--seed 0] [--split test|validation]

1. A small classifier (style, lead family) learns from the validation split's real clips.
2. The test split's arrangements are split in two halves by seed. For the clips of half A
   (at most --limit) the model renders (a) text-to-audio from the caption and (b) a groove-init
   clip at the clip's bpm through the song renderer's request path.
3. Reported: classifier accuracy on the real and the generated clips of the same captions (and on
   the whole real test split), chance, their ratio; the tempo tracked on (b) against the bpm
   (+/- 3 %; half/double time counted apart); the Frechet distance in the classifier's embedding
   of generated (a) vs real half-B clips, beside real half-A vs real half-B (same clip counts).
Writes report.json and sheet.png (real | text-to-audio | groove init per caption) into --out.

--split validation is for choosing between checkpoints without looking at the test split: the same
measures with the validation split in the test split's place and a seeded sample of train-split clips
(as many as the validation split has) teaching the classifier. Report the test split once, for the
checkpoint chosen that way.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from composer.errors import ComposerError

#: relative tempo tolerance of a hit
TEMPO_TOLERANCE = 0.03
#: targets of the issue: generated style accuracy, its ratio to the real accuracy, tempo hit rate
TARGET_STYLE_ACCURACY, TARGET_MIN_STYLES, TARGET_RATIO, TARGET_TEMPO_HIT_RATE = 0.6, 12, 0.7, 0.8
#: task name -> metadata field it predicts
TASKS = {"style": "style", "lead_family": "lead_family"}
#: evaluated split -> the split whose real clips teach the classifier
CLASSIFIER_SPLIT = {"test": "validation", "validation": "train"}

Log = Callable[[str], None]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m composer.builtin_model.evaluate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=Path("data/corpus"), help="corpus folder (metadata.jsonl)")
    parser.add_argument("--model", type=Path, default=Path(__file__).resolve().parent / "weights",
                        help="built-in model folder")
    parser.add_argument("--out", type=Path, default=Path("runs/model_eval"), help="folder for report.json, sheet.png")
    parser.add_argument("--limit", type=int, default=None, help="generate for at most N captions")
    parser.add_argument("--split", choices=sorted(CLASSIFIER_SPLIT), default="test",
                        help="split whose captions are generated: test (the report) or validation (choosing "
                             "a checkpoint; the classifier then learns from train-split clips)")
    parser.add_argument("--seed", type=int, default=0, help="seeds the halves, the classifier and every clip")
    parser.add_argument("--sheet-rows", type=int, default=8, help="captions on the spectrogram sheet")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    try:
        if args.limit is not None and args.limit < 2:
            raise ComposerError("--limit must be at least 2 (a Frechet distance needs two clips)")
        report = evaluate_model(corpus_dir=args.corpus, model_dir=args.model, out_dir=args.out, limit=args.limit,
                                seed=args.seed, split=args.split, sheet_rows=args.sheet_rows,
                                log=lambda line: print(line, flush=True))
    except ComposerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    from composer.builtin_model.eval_summary import print_summary

    print_summary(report)
    return 0


def evaluate_model(*, corpus_dir: Path, model_dir: Path, out_dir: Path, limit: int | None, seed: int,
                   split: str = "test", sheet_rows: int = 8, log: Log = print) -> dict[str, Any]:
    """Run the whole evaluation, write report.json and sheet.png into ``out_dir``, return the report."""
    from composer.backends.builtin import BuiltinBackend
    from composer.builtin_model.eval_classifier import EMBEDDING_DIM, train_classifier
    from composer.builtin_model.eval_data import ClipFeaturizer, load_rows, read_clip, split_halves
    from composer.builtin_model.eval_render import groove_probe, nominal, text_request
    from composer.builtin_model.eval_sheet import SheetRow, save_sheet
    from composer.builtin_model.quality import frechet_distance, tally_tempo, tempo_outcome
    from composer.analysis.tempo import track_beats_s
    from composer.files import write_json_atomic
    from composer.outline_model import RenderSettings
    from composer.seeds import derive_seed

    started = time.perf_counter()
    if split not in CLASSIFIER_SPLIT:
        raise ComposerError(f"split {split!r}: expected one of {', '.join(sorted(CLASSIFIER_SPLIT))}")
    # "test_rows" below are the evaluated split's clips, whichever split that is
    test_rows = load_rows(corpus_dir, split=split)
    train_rows = load_rows(corpus_dir, split=CLASSIFIER_SPLIT[split])
    if CLASSIFIER_SPLIT[split] == "train" and len(train_rows) > len(test_rows):
        # the train split is 20x larger: a seeded sample, as large as the split evaluated, keeps the
        # classifier as strong as the one the test report trains on the validation split
        keep = np.sort(np.random.default_rng(seed).choice(len(train_rows), size=len(test_rows), replace=False))
        train_rows = [train_rows[i] for i in keep]
    if not Path(model_dir).is_dir():
        raise ComposerError(f"model folder {model_dir} does not exist")
    backend = BuiltinBackend(model_dir, device="cpu")
    rate, featurizer = backend.sample_rate_hz, ClipFeaturizer(backend.codec)

    log(f"features of {len(train_rows)} {CLASSIFIER_SPLIT[split]} and {len(test_rows)} {split} clips")
    features = {row["id"]: featurizer(read_clip(corpus_dir, row, sample_rate_hz=rate)) for row in train_rows}
    real = {row["id"]: read_clip(corpus_dir, row, sample_rate_hz=rate) for row in test_rows}
    features.update({clip_id: featurizer(audio) for clip_id, audio in real.items()})
    classifier = train_classifier(np.stack([features[r["id"]] for r in train_rows]),
                                  {task: [r[field] for r in train_rows] for task, field in TASKS.items()}, seed=seed)

    half_a, half_b = split_halves(test_rows, seed=seed)
    subset = half_a[:limit] if limit is not None else half_a
    log(f"generating for {len(subset)} {split} captions (half A of {len(half_a)}); "
        f"reference half B {len(half_b)} clips")
    generated: dict[str, np.ndarray] = {}
    coded: dict[str, np.ndarray] = {}  # features of the real clip after the codec alone (mel -> Griffin-Lim)
    clips, sheet_audio = [], {}
    sheet_ids = _sheet_ids(subset, rows=sheet_rows)
    for k, row in enumerate(subset, start=1):
        clip_seed = derive_seed(seed, "model-eval", row["id"])
        audio = backend.render([text_request(caption=row["caption"], seed=clip_seed,
                                             num_samples=real[row["id"]].size, backend=backend)])[0]
        generated[row["id"]] = featurizer(audio)
        coded[row["id"]] = featurizer(featurizer.round_trip(real[row["id"]], seed=clip_seed))
        probe = groove_probe(caption=row["caption"], bpm=float(row["bpm"]), time_signature=row["time_signature"],
                             groove_style=row["style"], seed=clip_seed, backend=backend)
        grooved = nominal(backend.render([probe.request])[0], probe)
        init = nominal(probe.request.init_audio, probe)
        bpm = float(row["bpm"])
        tracked = {name: track_beats_s(a, sample_rate_hz=rate, bpm_hint=bpm)[0]
                   for name, a in (("generated", grooved), ("init", init), ("real", real[row["id"]]))}
        clips.append({"id": row["id"], "caption": row["caption"], "style": row["style"],
                      "lead_family": row["lead_family"], "bpm": bpm, "time_signature": row["time_signature"],
                      "has_drums": row.get("has_drums"), "seed": clip_seed,
                      "tracked_bpm": {n: round(v, 3) for n, v in tracked.items()},
                      "tempo": {n: tempo_outcome(v, target_bpm=bpm, tolerance=TEMPO_TOLERANCE)
                                for n, v in tracked.items()}})
        if row["id"] in sheet_ids:
            sheet_audio[row["id"]] = (audio, grooved)
        if k % 10 == 0 or k == len(subset):
            elapsed = time.perf_counter() - started
            log(f"  {k}/{len(subset)} captions, {elapsed:.0f} s")

    ids = [c["id"] for c in clips]
    predicted_real = classifier.predict(np.stack([features[i] for i in ids]))
    predicted_gen = classifier.predict(np.stack([generated[i] for i in ids]))
    predicted_codec = classifier.predict(np.stack([coded[i] for i in ids]))
    predicted_all = classifier.predict(np.stack([features[r["id"]] for r in test_rows]))
    for n, clip in enumerate(clips):
        clip["predicted"] = {"real": {t: predicted_real[t][n] for t in TASKS},
                             "generated": {t: predicted_gen[t][n] for t in TASKS},
                             "codec": {t: predicted_codec[t][n] for t in TASKS}}
    tasks = {task: _task_result(task, field, train_rows, test_rows, clips, predicted_real, predicted_gen,
                                predicted_all, predicted_codec) for task, field in TASKS.items()}
    reference = classifier.embed(np.stack([features[r["id"]] for r in half_b]))
    frechet = {
        "generated_vs_real": frechet_distance(classifier.embed(np.stack([generated[i] for i in ids])), reference),
        "real_vs_real": frechet_distance(classifier.embed(np.stack([features[i] for i in ids])), reference),
        "codec_vs_real": frechet_distance(classifier.embed(np.stack([coded[i] for i in ids])), reference),
        "compared_clips": len(ids), "reference_clips": len(half_b), "embedding_dim": EMBEDDING_DIM,
        "note": "generated (half-A captions) vs real half B, beside the same half-A captions' real clips vs real "
                f"half B (and those real clips after the codec alone); halves split the {split} split by arrangement",
    }
    frechet["ratio"] = frechet["generated_vs_real"] / max(frechet["real_vs_real"], 1e-12)
    tempo = {name: tally_tempo([c["tempo"][name] for c in clips]).__dict__ for name in ("generated", "init", "real")}
    report = {
        "model": _model_record(backend), "corpus": str(corpus_dir), "seed": seed, "limit": limit,
        "evaluated_split": split,
        "settings": {"steps": backend.default_steps, "guidance": float(RenderSettings().guidance),
                     "text_denoising": 1.0, "groove_denoising": float(RenderSettings().denoising),
                     "tempo_tolerance": TEMPO_TOLERANCE, "torch_threads": _threads()},
        "clips": {"classifier_train": len(train_rows), "test": len(test_rows), "generated": len(clips),
                  "reference_half_b": len(half_b)},
        "classifier": {"train_split": CLASSIFIER_SPLIT[split], "tasks": list(TASKS), "embedding_dim": EMBEDDING_DIM},
        "tasks": tasks, "tempo": tempo, "frechet": frechet,
        "targets": {
            "style_accuracy": tasks["style"]["generated_accuracy"] >= TARGET_STYLE_ACCURACY
            and tasks["style"]["classes"] >= TARGET_MIN_STYLES,
            "style_ratio": tasks["style"]["ratio"] >= TARGET_RATIO,
            "tempo_hit_rate": tempo["generated"]["hit_rate"] >= TARGET_TEMPO_HIT_RATE,
        },
        "wall_time_s": round(time.perf_counter() - started, 1),
        "per_clip": clips,
    }
    out_dir = Path(out_dir)
    rows_by_id = {c["id"]: c for c in clips}
    unit = featurizer.unit_image
    save_sheet(out_dir / "sheet.png", [
        SheetRow(caption=f"{i} [{rows_by_id[i]['style']}, {rows_by_id[i]['lead_family']}, "
                         f"{rows_by_id[i]['bpm']:g} bpm] {rows_by_id[i]['caption']}",
                 pictures=(("real", unit(real[i])), ("generated (text)", unit(sheet_audio[i][0])),
                           (f"generated (groove init, tracked {rows_by_id[i]['tracked_bpm']['generated']:.1f} bpm)",
                            unit(sheet_audio[i][1]))))
        for i in sheet_ids if i in sheet_audio])
    write_json_atomic(out_dir / "report.json", report)
    log(f"wrote {out_dir / 'report.json'} and {out_dir / 'sheet.png'} ({report['wall_time_s']:.0f} s)")
    return report


def _task_result(task: str, field: str, train_rows, test_rows, clips, predicted_real, predicted_gen,
                 predicted_all, predicted_codec) -> dict[str, Any]:
    from composer.builtin_model.quality import accuracy, majority_chance

    truth = [c[field] for c in clips]
    real_accuracy = accuracy(predicted_real[task], truth)
    generated_accuracy = accuracy(predicted_gen[task], truth)
    classes = sorted({r[field] for r in train_rows})
    return {
        "classes": len(classes),
        "chance_uniform": 1.0 / len(classes),
        "chance_majority": majority_chance([r[field] for r in train_rows], truth),
        "real_accuracy_all_test": accuracy(predicted_all[task], [r[field] for r in test_rows]),
        "real_accuracy": real_accuracy,
        "generated_accuracy": generated_accuracy,
        # the same real clips through mel -> Griffin-Lim only: how much the codec alone costs
        "codec_accuracy": accuracy(predicted_codec[task], truth),
        "ratio": generated_accuracy / real_accuracy if real_accuracy > 0 else 0.0,
    }


def _sheet_ids(subset: list[dict[str, Any]], *, rows: int) -> list[str]:
    """Up to ``rows`` clip ids, one per style first (so the sheet shows the spread), in subset order."""
    chosen, styles = [], set()
    for row in subset:
        if row["style"] not in styles and len(chosen) < rows:
            chosen.append(row["id"])
            styles.add(row["style"])
    for row in subset:
        if len(chosen) < rows and row["id"] not in chosen:
            chosen.append(row["id"])
    return chosen


def _model_record(backend) -> dict[str, Any]:
    described = backend.describe()
    index = json.loads((backend.folder / "model_index.json").read_text())
    return {"folder": str(backend.folder), "model_id": described["model_id"],
            "weights_sha256": described["weights_sha256"], "training": index.get("composer", {}).get("training")}


def _threads() -> int:
    import torch

    return torch.get_num_threads()


if __name__ == "__main__":
    sys.exit(main())
