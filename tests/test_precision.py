"""--precision: which dtype the built-in model computes in, and that a song keeps the one it was made with."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from composer.backends import precision as precision_module
from composer.backends.builtin import BuiltinBackend
from composer.backends.precision import cpu_has_bf16_matrix_units, resolve_precision
from composer.backends.registry import load_backend
from composer.builtin_model.sampling import decode_latents, initial_noise, latent_shape, sample_latents
from composer.cli import app
from composer.clip_cache import clip_cache_key
from composer.errors import BackendError
from composer.song import recorded_backend_options
from conftest import TWO_SECTION_OUTLINE
from test_builtin_model import request, tiny_folder


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tiny_folder(tmp_path_factory.mktemp("precision") / "weights")


@pytest.fixture(scope="module")
def full(folder) -> BuiltinBackend:
    return BuiltinBackend(folder, device="cpu", precision="float32")


@pytest.fixture(scope="module")
def half(folder) -> BuiltinBackend:
    return BuiltinBackend(folder, device="cpu", precision="bfloat16")


@pytest.mark.parametrize("has_units, expected", [(True, torch.bfloat16), (False, torch.float32)])
def test_auto_takes_bfloat16_only_on_a_cpu_with_matrix_units(monkeypatch, has_units, expected):
    monkeypatch.setattr(precision_module, "cpu_has_bf16_matrix_units", lambda: has_units)
    assert resolve_precision("auto", device=torch.device("cpu")) == expected
    assert resolve_precision("auto", device=torch.device("cuda")) == torch.float32  # not measured there yet


def test_named_precisions_and_a_typo():
    cpu = torch.device("cpu")
    assert resolve_precision("float32", device=cpu) == torch.float32
    assert resolve_precision("bfloat16", device=cpu) == torch.bfloat16
    with pytest.raises(BackendError, match="unknown precision 'fp16'; use one of auto, float32, bfloat16"):
        resolve_precision("fp16", device=cpu)


def test_the_probe_gives_false_on_a_torch_without_it(monkeypatch):
    assert isinstance(cpu_has_bf16_matrix_units(), bool)
    monkeypatch.delattr(torch.cpu, "_is_amx_tile_supported", raising=False)
    assert cpu_has_bf16_matrix_units() is False


def test_bfloat16_weights_and_identity(full, half):
    assert {p.dtype for p in half.model.unet.parameters()} == {torch.bfloat16}
    assert {p.dtype for p in half.model.vae.parameters()} == {torch.bfloat16}
    assert {p.dtype for p in full.model.unet.parameters()} == {torch.float32}
    assert next(half.text_encoder().model.parameters()).dtype == torch.float32  # the text encoder stays float32
    assert (half.describe()["dtype"], full.describe()["dtype"]) == ("bfloat16", "float32")
    # so a clip of one precision is never served from the cache to the other
    clip = request()
    assert clip_cache_key(clip, backend_identity=half.describe()) != clip_cache_key(clip,
                                                                                    backend_identity=full.describe())


def test_bfloat16_renders_float32_audio_of_the_exact_length(half):
    audio = half.render([request(num_samples=4001)])[0]
    assert audio.dtype == np.float32 and audio.shape == (4001,) and np.all(np.isfinite(audio))


def test_bfloat16_latents_stay_near_float32_and_far_from_another_seed(full, half):
    """Same noise, prompt and steps: bfloat16 rounding moves the result far less than a new seed does, and it
    does move it (the weights really are bfloat16)."""
    shape = (1, *latent_shape(full.model, frames=64))
    states, pooled = full._embed("funk groove")
    empty_states, empty_pooled = full._embed("")

    def latents(model, seed):
        return sample_latents(model, noise=initial_noise(seed=seed, shape=shape), context=states, pooled=pooled,
                              uncond_context=empty_states, uncond_pooled=empty_pooled, guidance=3.0, steps=4,
                              strength=1.0)

    reference = latents(full.model, 1)
    rounded, other_seed = latents(half.model, 1), latents(full.model, 2)
    assert rounded.dtype == torch.float32
    rounding = (rounded - reference).norm() / reference.norm()
    assert 0 < rounding < 0.1 * (other_seed - reference).norm() / reference.norm()
    unit_full, unit_half = decode_latents(full.model, reference), decode_latents(half.model, reference)
    assert unit_half.dtype == torch.float32 and 0 < (unit_half - unit_full).abs().mean() < 0.05


def test_only_the_builtin_backend_takes_a_precision():
    with pytest.raises(BackendError, match="--precision bfloat16 applies to the builtin backend"):
        load_backend("tiny-random", device="cpu", precision="bfloat16")


@pytest.mark.parametrize("rendered_in", ["bfloat16", "float32"])
def test_a_song_regenerates_in_the_precision_it_was_rendered_in(folder, tmp_path, monkeypatch, rendered_in):
    """Regenerated where ``auto`` would pick the other precision (another machine): the song keeps its own."""
    monkeypatch.setattr(precision_module, "cpu_has_bf16_matrix_units", lambda: rendered_in == "float32")
    (tmp_path / "song.yaml").write_text(TWO_SECTION_OUTLINE)
    runner = CliRunner()
    result = runner.invoke(app, ["render", str(tmp_path / "song.yaml"), "-o", str(tmp_path / "song"),
                                 "--model", str(folder), "--device", "cpu", "--precision", rendered_in])
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "song" / "manifest.json").read_text())
    assert manifest["backend"]["identity"]["dtype"] == rendered_in
    assert recorded_backend_options(manifest)["precision"] == rendered_in
    result = runner.invoke(app, ["regenerate", str(tmp_path / "song"), "--section", "b", "--seed", "4"])
    assert result.exit_code == 0, result.output  # the other precision would have been refused as another model
    assert "outside that span differ" not in result.output
    manifest = json.loads((tmp_path / "song" / "manifest.json").read_text())
    assert manifest["take"] == 2 and manifest["backend"]["identity"]["dtype"] == rendered_in


def test_a_song_from_before_the_choice_regenerates_in_float32():
    manifest = {"backend": {"name": "builtin", "identity": {"codec": {}}}}
    assert recorded_backend_options(manifest)["precision"] == "float32"


def test_a_bad_precision_on_the_command_line(tmp_path):
    (tmp_path / "song.yaml").write_text(TWO_SECTION_OUTLINE)
    result = CliRunner().invoke(app, ["render", str(tmp_path / "song.yaml"), "-o", str(tmp_path / "song"),
                                      "--precision", "half"])
    assert result.exit_code == 2 and "auto" in result.output and "bfloat16" in result.output
    assert not (tmp_path / "song").exists()


def test_the_baseline_runs_float32_where_auto_would_take_bfloat16(folder, monkeypatch):
    from composer.bench import bench_baseline
    from composer.outline import outline_from_dict
    import yaml

    monkeypatch.setattr(precision_module, "cpu_has_bf16_matrix_units", lambda: True)
    outline = outline_from_dict(yaml.safe_load(TWO_SECTION_OUTLINE))
    report = bench_baseline(outline, backend_name="builtin", model=str(folder), device="cpu", duration_s=4.0,
                            clips=1)
    assert report["dtype"] == "float32"


def test_bfloat16_without_matrix_units_is_named_slow(full, half, monkeypatch):
    from composer.backends.precision import slow_precision_warning

    monkeypatch.setattr(precision_module, "cpu_has_bf16_matrix_units", lambda: False)
    message = slow_precision_warning(half)
    assert "slower than float32" in message and "--precision float32" in message
    assert slow_precision_warning(full) is None
    monkeypatch.setattr(precision_module, "cpu_has_bf16_matrix_units", lambda: True)
    assert slow_precision_warning(half) is None


def test_regenerating_a_bfloat16_song_on_a_cpu_without_matrix_units_warns(folder, tmp_path, monkeypatch):
    monkeypatch.setattr(precision_module, "cpu_has_bf16_matrix_units", lambda: True)  # the machine it was made on
    (tmp_path / "song.yaml").write_text(TWO_SECTION_OUTLINE)
    runner = CliRunner()
    result = runner.invoke(app, ["render", str(tmp_path / "song.yaml"), "-o", str(tmp_path / "song"),
                                 "--model", str(folder), "--device", "cpu"])
    assert result.exit_code == 0, result.output
    assert "bfloat16 matrix units" not in result.output
    monkeypatch.setattr(precision_module, "cpu_has_bf16_matrix_units", lambda: False)  # another machine
    result = runner.invoke(app, ["regenerate", str(tmp_path / "song"), "--section", "b", "--seed", "4"])
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert "without bfloat16 matrix units" in output and "--precision float32" in output
    manifest = json.loads((tmp_path / "song" / "manifest.json").read_text())
    assert manifest["take"] == 2 and manifest["backend"]["identity"]["dtype"] == "bfloat16"
