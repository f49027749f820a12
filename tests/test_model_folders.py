"""Broken model folders give a ModelFolderError naming the file and what was expected."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from composer.backends.riffusion import RiffusionBackend
from composer.backends.tiny_pipeline import build_tiny_pipeline_folder
from composer.errors import ModelFolderError


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return build_tiny_pipeline_folder(tmp_path_factory.mktemp("tiny") / "model", seed=0)


@pytest.fixture
def copy(tiny, tmp_path) -> Path:
    target = tmp_path / "model"
    shutil.copytree(tiny, target)
    return target


def _load_error(folder: Path) -> str:
    with pytest.raises(ModelFolderError) as info:
        RiffusionBackend(folder, device="cpu")
    return str(info.value)


def test_missing_weight_file(copy):
    next((copy / "unet").glob("*.safetensors")).unlink()
    message = _load_error(copy)
    assert "unet/" in message and "expected" in message


def test_config_from_another_model(copy):
    shutil.copyfile(copy / "vae" / "config.json", copy / "unet" / "config.json")
    message = _load_error(copy)
    assert f"model folder {copy}: unet/ could not be loaded" in message


def test_weights_of_the_wrong_shape(copy):
    config = json.loads((copy / "unet" / "config.json").read_text())
    config["block_out_channels"] = [c * 2 for c in config["block_out_channels"]]
    (copy / "unet" / "config.json").write_text(json.dumps(config))
    message = _load_error(copy)
    assert f"model folder {copy}: unet/ could not be loaded" in message and "shape" in message


def test_spectrogram_parameters_that_do_not_fit(copy):
    path = copy / "spectrogram_params.json"
    params = json.loads(path.read_text())
    params["n_mels"] = 500  # not a multiple of the VAE's 8x downsampling
    path.write_text(json.dumps(params))
    assert "n_mels=500" in _load_error(copy)
    params["n_melz"] = params.pop("n_mels")
    path.write_text(json.dumps(params))
    message = _load_error(copy)
    assert "spectrogram_params.json" in message and "n_melz" in message


def test_unreadable_config(copy):
    (copy / "scheduler" / "scheduler_config.json").write_text("{not json")
    message = _load_error(copy)
    assert f"model folder {copy}: scheduler/scheduler_config.json could not be loaded: JSONDecodeError" in message


def test_a_checkpoint_file_instead_of_a_folder_says_so(tmp_path):
    checkpoint = tmp_path / "riffusion-model-v1.ckpt"
    checkpoint.write_bytes(b"\0" * 16)
    message = _load_error(checkpoint)
    assert "is a file, not a folder" in message and "riffusion/riffusion-model-v1 repository" in message
    assert "does not exist" not in message


def test_a_file_inside_a_model_folder_points_at_the_folder(copy):
    message = _load_error(copy / "model_index.json")
    assert f"pass --model {copy}" in message


def test_one_part_of_a_model_points_at_the_whole_folder(copy):
    message = _load_error(copy / "unet")
    assert "unet/ is one part of a model" in message and f"pass --model {copy}" in message


LFS_POINTER = (b"version https://git-lfs.github.com/spec/v1\n"
               b"oid sha256:3b1e0b0c9b3c4a6f0d2e5f1a7c8e9d0b1a2c3d4e5f60718293a4b5c6d7e8f901\nsize 492265879\n")


@pytest.mark.parametrize("part", ["unet", "vae", "text_encoder"])
def test_a_git_lfs_pointer_instead_of_weights_says_how_to_fetch_them(copy, part):
    # riffusion-model-v1 cloned without git-lfs: every weight file is a pointer like this one
    weights = next(p for p in (copy / part).iterdir() if p.suffix == ".safetensors")
    weights.unlink()
    (copy / part / ("pytorch_model.bin" if part == "text_encoder" else "diffusion_pytorch_model.bin")).write_bytes(
        LFS_POINTER)
    message = _load_error(copy)
    assert f"{part}/" in message and "Git LFS pointer" in message and "git lfs pull" in message


def test_a_damaged_pickle_in_the_text_encoder_is_a_model_folder_error(copy):
    (copy / "text_encoder" / "model.safetensors").unlink()
    (copy / "text_encoder" / "pytorch_model.bin").write_bytes(b"not a pickle at all" * 100)
    assert f"model folder {copy}: text_encoder/ could not be loaded" in _load_error(copy)


def test_a_mistyped_path_in_an_existing_folder_is_not_fetched_from_the_hub(tmp_path, monkeypatch):
    import huggingface_hub

    def no_download(*args, **kwargs):
        raise AssertionError("a local path must not be fetched from the hub")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", no_download)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models").mkdir()
    message = _load_error(Path("models/riffusion-model-v2"))
    assert "does not exist" in message and "not a Hugging Face hub id" in message
