"""The built-in model's evaluation: Frechet distance, classifier, tempo counting, and the command end to end.

Everything runs on synthetic audio and a tiny random-weight model folder built here, so the file takes seconds.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch

from composer.analysis.tempo import track_beats_s
from composer.builtin_model.eval_classifier import EMBEDDING_DIM, train_classifier
from composer.builtin_model.eval_data import ClipFeaturizer, split_halves
from composer.builtin_model.evaluate import main
from composer.builtin_model.model import LatentNorm, build_unet, build_vae, save_builtin_model
from composer.builtin_model.quality import accuracy, frechet_distance, majority_chance, tally_tempo, tempo_outcome
from composer.codec.codec import SpectrogramCodec
from tiny_builtin import TINY_BUILTIN

TINY = replace(TINY_BUILTIN, model_id="tiny-eval-test", default_steps=2)
RATE = TINY.codec.sample_rate_hz


def clicks(*, bpm: float, seconds: float, offset_s: float = 0.0) -> np.ndarray:
    """A click track: a short decaying burst on every beat."""
    audio = np.zeros(int(seconds * RATE), dtype=np.float32)
    for start in np.arange(offset_s * RATE, audio.size, 60.0 * RATE / bpm):
        i = int(round(start))
        burst = np.hanning(80)[40:] * 0.9
        audio[i:i + burst.size] += burst[: audio.size - i]
    return audio


def sine(*, frequency_hz: float, seconds: float) -> np.ndarray:
    return (0.4 * np.sin(2 * np.pi * frequency_hz * np.arange(int(seconds * RATE)) / RATE)).astype(np.float32)


# --- Frechet distance ------------------------------------------------------------------------

def test_frechet_distance_of_identical_sets_is_zero():
    a = np.random.default_rng(0).normal(size=(500, 8))
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)


def test_frechet_distance_of_shifted_and_scaled_sets_is_known():
    a = np.random.default_rng(1).normal(size=(400, 6))
    shift = np.arange(6, dtype=np.float64)
    # same covariance: only the squared mean shift remains
    assert frechet_distance(a, a + shift) == pytest.approx(float(shift @ shift), rel=1e-6)
    # b = 2a + shift: cov_b = 4 cov_a, so tr(ca) + tr(cb) - 2 tr(sqrt(ca cb)) = 5 tr(ca) - 4 tr(ca) = tr(ca)
    moved_mean = a.mean(axis=0) + shift
    expected = float(moved_mean @ moved_mean) + float(np.trace(np.cov(a, rowvar=False)))
    assert frechet_distance(a, 2 * a + shift) == pytest.approx(expected, rel=1e-6)


def test_frechet_distance_rejects_mismatched_shapes():
    with pytest.raises(ValueError):
        frechet_distance(np.zeros((4, 3)), np.zeros((4, 2)))


# --- classifier ------------------------------------------------------------------------------

def _sines_and_clicks(rng: np.random.Generator, count: int) -> tuple[np.ndarray, list[str]]:
    featurize = ClipFeaturizer(SpectrogramCodec(TINY.codec))
    features, labels = [], []
    for k in range(count):
        if k % 2:
            audio = clicks(bpm=float(rng.uniform(80, 160)), seconds=2.0, offset_s=float(rng.uniform(0, 0.3)))
            labels.append("clicks")
        else:
            audio = sine(frequency_hz=float(rng.uniform(200, 2000)), seconds=2.0)
            labels.append("sine")
        features.append(featurize(audio + 0.01 * rng.normal(size=audio.size).astype(np.float32)))
    return np.stack(features), labels


def test_classifier_learns_a_separable_problem_and_not_shuffled_labels():
    rng = np.random.default_rng(2)
    train_x, train_y = _sines_and_clicks(rng, 40)
    test_x, test_y = _sines_and_clicks(rng, 40)
    classifier = train_classifier(train_x, {"kind": train_y}, seed=0, epochs=150)
    assert accuracy(classifier.predict(test_x)["kind"], test_y) >= 0.95
    assert classifier.embed(test_x).shape == (40, EMBEDDING_DIM)

    shuffled = list(np.random.default_rng(3).permutation(train_y))
    chance = train_classifier(train_x, {"kind": shuffled}, seed=0, epochs=150)
    assert 0.2 <= accuracy(chance.predict(test_x)["kind"], test_y) <= 0.8


def test_classifier_is_deterministic_and_leaves_the_global_rng_alone():
    x = np.random.default_rng(4).normal(size=(30, 5))
    y = ["a" if v > 0 else "b" for v in x[:, 0]]
    with torch.random.fork_rng():  # the test's own seeding must not leak into later tests either
        torch.manual_seed(123)
        before = torch.rand(1)
        torch.manual_seed(123)
        one = train_classifier(x, {"t": y}, seed=7, epochs=20)
        assert torch.rand(1) == before
    two = train_classifier(x, {"t": y}, seed=7, epochs=20)
    np.testing.assert_array_equal(one.embed(x), two.embed(x))


def test_majority_chance():
    assert majority_chance(["a", "a", "b"], ["a", "b", "b", "b"]) == 0.25


# --- tempo -----------------------------------------------------------------------------------

@pytest.mark.parametrize("tracked, outcome", [
    (120.0, "hit"), (123.5, "hit"), (116.5, "hit"), (124.0, "miss"), (60.5, "half_time"),
    (238.0, "double_time"), (180.0, "miss"), (0.0, "miss"), (float("nan"), "miss"),
])
def test_tempo_outcome(tracked, outcome):
    assert tempo_outcome(tracked, target_bpm=120.0, tolerance=0.03) == outcome


def test_tempo_hits_on_click_tracks():
    outcomes = []
    for bpm, target in ((120.0, 120.0), (97.0, 97.0), (60.0, 120.0), (150.0, 100.0)):
        tracked, _ = track_beats_s(clicks(bpm=bpm, seconds=8.0), sample_rate_hz=RATE, bpm_hint=target)
        outcomes.append(tempo_outcome(tracked, target_bpm=target))
    assert outcomes == ["hit", "hit", "half_time", "miss"]
    tally = tally_tempo(outcomes + ["double_time"])
    assert (tally.clips, tally.hits, tally.half_time, tally.double_time, tally.misses) == (5, 2, 1, 1, 1)
    assert tally.hit_rate == pytest.approx(0.4)


def test_halves_split_by_arrangement():
    rows = [{"id": f"x{i}", "arrangement_id": f"a{i // 2}"} for i in range(20)]
    a, b = split_halves(rows, seed=0)
    assert len(a) + len(b) == 20
    assert not {r["arrangement_id"] for r in a} & {r["arrangement_id"] for r in b}
    assert split_halves(rows, seed=0) == (a, b)


# --- the command end to end ------------------------------------------------------------------

def _tiny_model(path: Path) -> Path:
    with torch.random.fork_rng():
        torch.manual_seed(0)
        vae = build_vae(TINY.vae)
        unet = build_unet(TINY.unet, latent_channels=TINY.vae.latent_channels, text=TINY.text)
    return save_builtin_model(path, config=TINY, vae=vae, unet=unet,
                              latent_norm=LatentNorm(mean=(0.0,) * 4, std=(1.0,) * 4), makes_music=False, training={})


def _tiny_corpus(path: Path) -> Path:
    """Two styles (click 'rock', sine 'ambient'), two lead families, 1 s clips at the tiny model's rate."""
    rng = np.random.default_rng(5)
    rows = []
    # three sizes, so a report's clip counts show which split played which part
    for split, count in (("train", 12), ("validation", 8), ("test", 6)):
        for k in range(count):
            rock = k % 2 == 0
            bpm = int(rng.integers(90, 140))
            audio = clicks(bpm=bpm, seconds=1.0) if rock else sine(frequency_hz=float(rng.uniform(200, 900)),
                                                                     seconds=1.0)
            clip_id = f"{split[0]}{k}"
            relative = f"clips/{split}/{clip_id}.wav"
            (path / "clips" / split).mkdir(parents=True, exist_ok=True)
            soundfile.write(str(path / relative), audio, RATE, subtype="PCM_16")
            rows.append({"id": clip_id, "arrangement_id": f"{split}-{k // 2}", "split": split, "path": relative,
                         "style": "rock" if rock else "ambient", "lead_family": "guitar" if k % 4 < 2 else "piano",
                         "bpm": bpm, "time_signature": "3/4" if k == 3 else "4/4",
                         "caption": f"{'rock' if rock else 'ambient'} clip {k}, {bpm} bpm", "sample_rate_hz": RATE})
    (path / "metadata.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _check_accuracies(report: dict) -> None:
    """Every accuracy equals the one recomputed from the per-clip predictions it summarises."""
    for task, field in (("style", "style"), ("lead_family", "lead_family")):
        result, clips = report["tasks"][task], report["per_clip"]
        assert result["classes"] == 2 and result["chance_uniform"] == 0.5
        for kind, key in (("real", "real_accuracy"), ("generated", "generated_accuracy"), ("codec", "codec_accuracy")):
            hits = [c["predicted"][kind][task] == c[field] for c in clips]
            assert result[key] == pytest.approx(sum(hits) / len(hits)), (task, key)
        expected_ratio = result["generated_accuracy"] / result["real_accuracy"] if result["real_accuracy"] else 0.0
        assert result["ratio"] == pytest.approx(expected_ratio)
        assert 0.0 <= result["real_accuracy_all_test"] <= 1.0 and 0.0 <= result["chance_majority"] <= 1.0


def test_evaluate_command_end_to_end(tmp_path, capsys):
    model = _tiny_model(tmp_path / "model")
    corpus = _tiny_corpus(tmp_path / "corpus")
    out = tmp_path / "eval"
    assert main(["--corpus", str(corpus), "--model", str(model), "--out", str(out), "--limit", "3",
                 "--sheet-rows", "2"]) == 0
    report = json.loads((out / "report.json").read_text())
    # the classifier learns from the 8 validation clips; the 6 test clips (3 arrangements) are evaluated
    assert report["clips"] == {"classifier_train": 8, "test": 6, "generated": 3, "reference_half_b": 2}
    assert report["evaluated_split"] == "test" and report["classifier"]["train_split"] == "validation"
    assert all(c["id"].startswith("t") for c in report["per_clip"])
    _check_accuracies(report)
    for name in ("generated", "init", "real"):
        tally = report["tempo"][name]
        assert tally["clips"] == 3
        assert tally["hits"] + tally["half_time"] + tally["double_time"] + tally["misses"] == 3
    assert report["tempo"]["init"]["hit_rate"] > 0  # the groove itself is at the target tempo
    assert all(report["frechet"][k] >= 0 for k in ("generated_vs_real", "real_vs_real", "codec_vs_real"))
    assert set(report["targets"]) == {"style_accuracy", "style_ratio", "tempo_hit_rate"}
    assert len(report["per_clip"]) == 3 and report["settings"]["text_denoising"] == 1.0
    assert (out / "sheet.png").stat().st_size > 0
    assert "classifier accuracy" in capsys.readouterr().out

    # same seed, same report (wall time aside)
    assert main(["--corpus", str(corpus), "--model", str(model), "--out", str(tmp_path / "again"), "--limit", "3",
                 "--sheet-rows", "2"]) == 0
    again = json.loads((tmp_path / "again" / "report.json").read_text())
    assert again["per_clip"] == report["per_clip"] and again["frechet"] == report["frechet"]


def test_choosing_a_checkpoint_on_the_validation_split_never_reads_the_test_split(tmp_path, capsys):
    model = _tiny_model(tmp_path / "model")
    corpus = _tiny_corpus(tmp_path / "corpus")
    for clip in (corpus / "clips" / "test").iterdir():
        clip.write_bytes(b"")  # reading any test clip would now fail
    out = tmp_path / "eval"
    assert main(["--corpus", str(corpus), "--model", str(model), "--out", str(out), "--limit", "3",
                 "--sheet-rows", "2", "--split", "validation"]) == 0
    report = json.loads((out / "report.json").read_text())
    # train-split clips teach the classifier, as many as the validation split holds (8 of 12)
    assert report["clips"] == {"classifier_train": 8, "test": 8, "generated": 3, "reference_half_b": 4}
    assert report["evaluated_split"] == "validation" and report["classifier"]["train_split"] == "train"
    assert all(c["id"].startswith("v") for c in report["per_clip"])
    _check_accuracies(report)
    assert "classifier trained on 8 train clips" in capsys.readouterr().out


def test_evaluate_command_names_a_missing_corpus(tmp_path, capsys):
    assert main(["--corpus", str(tmp_path / "nowhere"), "--out", str(tmp_path / "eval")]) == 1
    error = capsys.readouterr().err
    assert "nowhere" in error and "does not exist" in error
    assert not (tmp_path / "eval").exists()
