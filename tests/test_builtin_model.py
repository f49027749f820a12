"""The built-in model: folder save/load, BuiltinBackend rendering, training and resume.

Everything runs on a tiny random-weight model of the same classes built here,
with a small codec, so the file takes seconds.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch

from composer.backends.base import ClipRequest
from composer.backends.builtin import BuiltinBackend, builtin_info
from composer.builtin_model.model import (
    LatentNorm,
    build_unet,
    build_vae,
    load_builtin_model,
    save_builtin_model,
)
from composer.builtin_model.training import (
    TrainSettings,
    export_model,
    load_run_config,
    train_decoder,
    train_unet,
    train_vae,
)
from composer.errors import BackendError, ComposerError, ModelFolderError
from tiny_builtin import TINY_BUILTIN

TINY = TINY_BUILTIN
RATE = TINY.codec.sample_rate_hz
NORM = LatentNorm(mean=(0.1, -0.2, 0.0, 0.3), std=(1.0, 2.0, 0.5, 1.5))


def tiny_folder(path: Path, *, seed: int = 0) -> Path:
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        vae = build_vae(TINY.vae)
        unet = build_unet(TINY.unet, latent_channels=TINY.vae.latent_channels, text=TINY.text)
    return save_builtin_model(path, config=TINY, vae=vae, unet=unet, latent_norm=NORM, makes_music=False,
                              training={})


def request(**overrides) -> ClipRequest:
    fields = dict(prompt_a="funk groove with slap bass", prompt_b="ambient pad", alpha=0.0, seed_a=1, seed_b=2,
                  num_samples=RATE // 2, denoising=1.0, guidance=3.0, steps=4)
    fields.update(overrides)
    return ClipRequest(**fields)


def sine(num_samples: int, *, frequency_hz: float) -> np.ndarray:
    return (0.5 * np.sin(2 * np.pi * frequency_hz * np.arange(num_samples) / RATE)).astype(np.float32)


def clicks(num_samples: int, *, every_samples: int) -> np.ndarray:
    audio = np.zeros(num_samples, dtype=np.float32)
    audio[::every_samples] = 0.9
    return audio


@pytest.fixture(autouse=True, scope="module")
def plain_cpu_kernels():
    """oneDNN compiles kernels per new shape (about a second each); tiny models run faster without it."""
    with torch.backends.mkldnn.flags(enabled=False):
        yield


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tiny_folder(tmp_path_factory.mktemp("builtin") / "weights")


@pytest.fixture(scope="module")
def backend(folder) -> BuiltinBackend:
    return BuiltinBackend(folder, device="cpu")


@pytest.mark.parametrize("num_samples", [RATE // 2, 4001, 4096, RATE + 77])
def test_render_gives_exact_lengths(backend, num_samples):
    (audio,) = backend.render([request(num_samples=num_samples)])
    assert audio.shape == (num_samples,)
    assert audio.dtype == np.float32
    assert np.all(np.isfinite(audio)) and np.abs(audio).max() > 0


def test_render_is_deterministic_across_backend_instances(folder, backend):
    first = backend.render([request(alpha=0.3)])[0]
    again = BuiltinBackend(folder, device="cpu").render([request(alpha=0.3)])[0]
    assert np.array_equal(first, again)


def test_seed_changes_the_clip(backend):
    assert not np.allclose(backend.render([request(seed_a=1)])[0], backend.render([request(seed_a=5)])[0])


def test_alpha_endpoints_are_one_prompt_alone(backend):
    mixed = backend.render([request(prompt_b="orchestral strings", seed_b=99, alpha=0.0)])[0]
    pure = backend.render([request(prompt_b="funk groove with slap bass", seed_b=1, alpha=0.0)])[0]
    halfway = backend.render([request(prompt_b="orchestral strings", seed_b=99, alpha=0.5)])[0]
    assert np.array_equal(mixed, pure)
    assert not np.allclose(halfway, pure)
    end = backend.render([request(prompt_a="orchestral strings", seed_a=99, prompt_b="jazz", seed_b=7, alpha=1.0)])[0]
    assert np.array_equal(end, backend.render([request(prompt_a="jazz", seed_a=7)])[0])


def test_init_audio_steers_img2img(backend):
    n = RATE // 2
    with_sine = backend.render([request(init_audio=sine(n, frequency_hz=440.0), denoising=0.5)])[0]
    with_clicks = backend.render([request(init_audio=clicks(n, every_samples=1000), denoising=0.5)])[0]
    assert not np.allclose(with_sine, with_clicks)
    # strength 1 ignores the init entirely
    ignored = backend.render([request(init_audio=sine(n, frequency_hz=440.0), denoising=1.0)])[0]
    assert np.array_equal(ignored, backend.render([request()])[0])


def test_prompt_embeddings_are_cached(backend):
    backend.render([request(prompt_a="bossa nova guitar")])
    cached = backend._prompt_cache["bossa nova guitar"][0]
    backend.render([request(prompt_a="bossa nova guitar", seed_a=3)])
    assert backend._prompt_cache["bossa nova guitar"][0] is cached


def test_describe_names_model_weights_codec_and_scheduler(folder, backend):
    info = backend.describe()
    assert info["model_id"] == "tiny-test"
    assert len(info["weights_sha256"]) == 16
    assert info["codec"] == TINY.codec.to_dict()
    assert info["scheduler"]["_class_name"] == "DPMSolverMultistepScheduler"
    assert info["default_steps"] == 4
    json.dumps(info)
    assert backend.sample_rate_hz == RATE and backend.makes_music is False
    info = builtin_info(folder)
    assert (info.name, info.sample_rate_hz, info.default_steps, info.makes_music) == ("builtin", RATE, 4, False)
    assert info.preferred_clip_s == pytest.approx((TINY.train_frames - 1) * TINY.codec.hop_length / RATE)


def test_other_weights_give_another_hash(tmp_path, backend):
    other = load_builtin_model(tiny_folder(tmp_path / "other", seed=1))
    assert other.weights_sha256 != backend.model.weights_sha256


def test_missing_weights_file_is_named(tmp_path, folder):
    broken = Path(shutil.copytree(folder, tmp_path / "broken"))
    (broken / "unet" / "diffusion_pytorch_model.safetensors").unlink()
    with pytest.raises(ModelFolderError, match=r"unet/diffusion_pytorch_model\.safetensors"):
        BuiltinBackend(broken, device="cpu")


def test_missing_index_is_named(tmp_path, folder):
    broken = Path(shutil.copytree(folder, tmp_path / "broken"))
    (broken / "model_index.json").unlink()
    with pytest.raises(ModelFolderError, match="model_index.json"):
        load_builtin_model(broken)


def test_config_that_does_not_match_weights_is_named(tmp_path, folder):
    broken = Path(shutil.copytree(folder, tmp_path / "broken"))
    config_path = broken / "vae" / "config.json"
    config = json.loads(config_path.read_text())
    config["latent_channels"] = 6
    config_path.write_text(json.dumps(config))
    with pytest.raises(ModelFolderError, match=r"vae/diffusion_pytorch_model\.safetensors.*shape"):
        load_builtin_model(broken)


def write_synthetic_corpus(root: Path) -> Path:
    """Six half-second clips (sines and click tracks) in the corpus layout."""
    rows = []
    for number in range(6):
        split = "validation" if number >= 4 else "train"
        audio = sine(RATE, frequency_hz=220.0 * (number + 1)) if number % 2 else clicks(RATE, every_samples=2000 + number)
        path = Path("clips") / split / f"clip{number}.wav"
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        soundfile.write(root / path, audio, RATE, subtype="PCM_16")
        rows.append({"id": f"clip{number}", "arrangement_id": f"a{number}", "split": split, "path": str(path),
                     "caption": f"test clip {number}, {100 + number} bpm", "sample_rate_hz": RATE,
                     "num_samples": RATE})
    (root / "metadata.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    return root


def log_steps(path: Path) -> list[int]:
    return [json.loads(line)["step"] for line in path.read_text().splitlines()]


def test_training_checkpoints_resumes_and_exports(tmp_path):
    corpus = write_synthetic_corpus(tmp_path / "corpus")
    run = tmp_path / "run"
    config = load_run_config(run, default=TINY)
    assert load_run_config(run) == TINY
    settings = TrainSettings(steps=1, batch_size=2, checkpoint_every=1, eval_every=1)
    quiet = lambda line: None  # noqa: E731

    assert train_vae(corpus, run, config=config, settings=settings, log=quiet) == 1
    assert (run / "vae" / "checkpoint.pt").is_file()
    with pytest.raises(ComposerError, match="--resume"):
        train_vae(corpus, run, config=config, settings=settings, log=quiet)
    more = TrainSettings(steps=3, batch_size=2, checkpoint_every=1, eval_every=1)
    assert train_vae(corpus, run, config=config, settings=more, resume=True, log=quiet) == 3
    assert log_steps(run / "vae" / "log.jsonl") == [1, 2, 3]
    assert torch.load(run / "vae" / "checkpoint.pt", weights_only=False)["step"] == 3

    assert train_unet(corpus, run, config=config, settings=settings, log=quiet) == 1
    assert train_unet(corpus, run, config=config, settings=more, resume=True, log=quiet) == 3
    records = [json.loads(line) for line in (run / "unet" / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [1, 2, 3]
    assert all(np.isfinite(r["loss"]) and np.isfinite(r["val_loss_ema"]) for r in records)

    assert train_decoder(corpus, run, config=config, settings=settings, log=quiet) == 1
    exported = export_model(run, tmp_path / "exported", makes_music=False, log=quiet)
    training = json.loads((exported / "model_index.json").read_text())["composer"]["training"]
    assert (training["vae_steps"], training["unet_steps"], training["decoder_finetune_steps"]) == (3, 3, 1)
    backend = BuiltinBackend(exported, device="cpu")
    assert backend.makes_music is False  # what the export declared travels with the weights
    assert backend.render([request(num_samples=3000)])[0].shape == (3000,)


def test_resumed_training_matches_uninterrupted_training(tmp_path):
    corpus = write_synthetic_corpus(tmp_path / "corpus")
    quiet = lambda line: None  # noqa: E731
    straight, halves = tmp_path / "straight", tmp_path / "halves"
    for run in (straight, halves):
        load_run_config(run, default=TINY)
    train_vae(corpus, straight, config=TINY, settings=TrainSettings(steps=2, batch_size=2, eval_every=0), log=quiet)
    train_vae(corpus, halves, config=TINY, settings=TrainSettings(steps=1, batch_size=2, eval_every=0), log=quiet)
    train_vae(corpus, halves, config=TINY, settings=TrainSettings(steps=2, batch_size=2, eval_every=0),
              resume=True, log=quiet)
    a = torch.load(straight / "vae" / "checkpoint.pt", weights_only=False)["modules"]["model"]
    b = torch.load(halves / "vae" / "checkpoint.pt", weights_only=False)["modules"]["model"]
    assert all(torch.allclose(a[key], b[key]) for key in a)


def test_a_constant_rate_run_resumes_into_a_linear_cool_down(tmp_path):
    corpus = write_synthetic_corpus(tmp_path / "corpus")
    run = tmp_path / "run"
    load_run_config(run, default=TINY)
    quiet = lambda line: None  # noqa: E731
    train_vae(corpus, run, config=TINY, settings=TrainSettings(steps=2, batch_size=2, warmup_steps=1, eval_every=0,
                                                               learning_rate=1e-3), log=quiet)
    cool = TrainSettings(steps=4, batch_size=2, warmup_steps=1, eval_every=0, learning_rate=1e-3, decay_steps=2,
                         final_lr_ratio=0.05)
    train_vae(corpus, run, config=TINY, settings=cool, resume=True, log=quiet)
    rates = [json.loads(line)["lr"] for line in (run / "vae" / "log.jsonl").read_text().splitlines()]
    np.testing.assert_allclose(rates, [1e-3, 1e-3, 0.525e-3, 0.05e-3])


def test_train_command_rejects_a_cool_down_longer_than_the_run(capsys):
    from composer.builtin_model.train import main

    assert main(["--stage", "unet", "--steps", "10", "--decay-steps", "20"]) != 0
    assert "--decay-steps must be between 0 and --steps (10), got 20" in capsys.readouterr().err


def test_latent_norm_of_wrong_width_is_named(tmp_path, folder):
    broken = Path(shutil.copytree(folder, tmp_path / "broken"))
    index_path = broken / "model_index.json"
    index = json.loads(index_path.read_text())
    index["composer"]["latent_norm"]["mean"] = [0.0, 0.0]
    index_path.write_text(json.dumps(index))
    with pytest.raises(ModelFolderError, match="latent_norm"):
        load_builtin_model(broken)


@pytest.mark.parametrize("field", ["train_frames", "default_steps"])
def test_non_positive_clip_layout_is_named(tmp_path, folder, field):
    broken = Path(shutil.copytree(folder, tmp_path / "broken"))
    index_path = broken / "model_index.json"
    index = json.loads(index_path.read_text())
    index["composer"][field] = -5
    index_path.write_text(json.dumps(index))
    with pytest.raises(ModelFolderError, match=f"composer.{field}' must be a positive integer, got -5"):
        load_builtin_model(broken)


def test_outpainting_keeps_the_known_latent_columns(backend):
    from composer.builtin_model.sampling import initial_noise, sample_latents

    model = backend.model
    states, pooled = backend._embed("funk groove")
    uncond_states, uncond_pooled = backend._embed("")
    shape = (1, TINY.vae.latent_channels, 4, 16)
    known = initial_noise(seed=7, shape=shape)
    mask = torch.zeros(1, 1, 1, shape[-1])
    mask[..., :5] = 1.0
    common = dict(noise=initial_noise(seed=1, shape=shape), context=states, pooled=pooled,
                  uncond_context=uncond_states, uncond_pooled=uncond_pooled, guidance=3.0, steps=4, strength=1.0)
    free = sample_latents(model, **common)
    kept = sample_latents(model, **common, known_latents=known, known_mask=mask)
    assert torch.equal(kept[..., :5], known[..., :5])
    assert not torch.allclose(kept[..., 5:], free[..., 5:])  # the free part saw the known context
    with pytest.raises(ValueError, match="known_mask"):
        sample_latents(model, **common, known_latents=known)


def test_prefix_audio_steers_the_clip_start_and_is_validated(backend):
    n = RATE
    prefix = sine(n // 4, frequency_hz=300.0)
    assert backend.supports_continuation
    plain = backend.render([request(num_samples=n)])[0]
    continued = backend.render([request(num_samples=n, prefix_audio=prefix)])[0]
    assert continued.shape == (n,) and np.all(np.isfinite(continued))
    assert not np.allclose(plain, continued)
    with pytest.raises(ValueError, match="prefix_audio"):
        request(num_samples=n, prefix_audio=np.zeros(n, dtype=np.float32))


def test_a_strength_below_one_step_still_runs_one(backend):
    """int(steps * strength) == 0 returned the init untouched: prompt, seed and continuation prefix ignored."""
    init = clicks(RATE // 2, every_samples=RATE // 8)
    a, b = backend.render([request(init_audio=init, denoising=0.1, prompt_a="funk groove"),
                           request(init_audio=init, denoising=0.1, prompt_a="ambient pad")])
    assert not np.array_equal(a, b)


def test_loading_a_model_leaves_torchs_global_rng_alone(folder):
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    BuiltinBackend(folder, device="cpu")
    assert torch.equal(torch.rand(3), expected)


def test_a_prefix_shorter_than_a_latent_column_is_spliced(backend):
    """crossfade_beats: 0 with continuation gave a 112-sample prefix against a 2048-sample fade: a crash."""
    prefix = sine(10, frequency_hz=440.0)
    (audio,) = backend.render([request(prefix_audio=prefix)])
    assert audio.shape == (RATE // 2,) and np.all(np.isfinite(audio))


def test_a_song_regenerates_with_the_inversion_settings_it_was_rendered_with(folder, tmp_path):
    """The folder's mel_inverse_iters changed (8 -> 128 in 0.5.0); a song rendered before still regenerates,
    with its own settings, instead of being refused as another model."""
    import json
    import shutil

    from typer.testing import CliRunner

    from composer.cli import app
    from conftest import TWO_SECTION_OUTLINE

    weights = tmp_path / "weights"
    shutil.copytree(folder, weights)
    (tmp_path / "song.yaml").write_text(TWO_SECTION_OUTLINE)
    runner = CliRunner()
    result = runner.invoke(app, ["render", str(tmp_path / "song.yaml"), "-o", str(tmp_path / "song"),
                                 "--model", str(weights), "--device", "cpu"])
    assert result.exit_code == 0, result.output
    index = json.loads((weights / "model_index.json").read_text())
    rendered_with = index["composer"]["codec"]["mel_inverse_iters"]
    index["composer"]["codec"]["mel_inverse_iters"] = rendered_with + 5  # a newer composer's setting
    (weights / "model_index.json").write_text(json.dumps(index))
    result = runner.invoke(app, ["regenerate", str(tmp_path / "song"), "--section", "b", "--seed", "4"])
    assert result.exit_code == 0, result.output
    identity = json.loads((tmp_path / "song" / "manifest.json").read_text())["backend"]["identity"]
    assert identity["codec"]["mel_inverse_iters"] == rendered_with
    with pytest.raises(BackendError, match="only the inversion settings"):
        BuiltinBackend(weights, device="cpu", codec_overrides={"n_mels": 64})
