"""Diffusers model folders: where one is (local or hub), whether it is whole, how its parts load.

The riffusion backend loads through here; errors name the folder, the part and the layout expected.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch

from composer.backends.tiny_pipeline import SPECTROGRAM_PARAMS_FILE
from composer.codec.params import SpectrogramParams
from composer.errors import CodecError, ModelFolderError

#: what a model folder must hold (any one file of each alternative set)
EXPECTED_LAYOUT = {
    "unet": (("config.json",), ("diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.bin")),
    "vae": (("config.json",), ("diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.bin")),
    "text_encoder": (("config.json",), ("model.safetensors", "pytorch_model.bin")),
    "tokenizer": (("vocab.json", "tokenizer.json"),),
    "scheduler": (("scheduler_config.json",),),
}
LAYOUT_HELP = (
    "a diffusers Stable Diffusion folder such as a downloaded riffusion/riffusion-model-v1: "
    "unet/ (config.json, diffusion_pytorch_model.safetensors or .bin), vae/ (the same), "
    "text_encoder/ (config.json, model.safetensors or pytorch_model.bin), tokenizer/ (vocab.json + "
    "merges.txt, or tokenizer.json), scheduler/ (scheduler_config.json)"
)
WEIGHT_SUFFIXES = (".safetensors", ".bin")
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


@dataclass(frozen=True)
class DiffusionComponents:
    """The five parts of a Stable Diffusion folder, loaded on one device."""

    # noise predictor conditioned on text embeddings
    unet: Any
    # image <-> latent autoencoder
    vae: Any
    # CLIP text transformer
    text_encoder: Any
    # CLIP byte-level BPE tokenizer
    tokenizer: Any
    # the folder's scheduler (its config is reused for a fresh instance per batch)
    scheduler: Any


def resolve_model_folder(model: str | Path) -> Path:
    """A local folder as is; a hub id ("owner/name") from the Hugging Face cache or the network.

    "owner/name" whose owner is a local folder is a mistyped path, never a hub id: fetching it
    would download gigabytes the user did not ask for.
    """
    folder = Path(model).expanduser()
    if folder.is_dir() or not HUB_ID.match(str(model)):
        return folder
    if folder.parent.is_dir():
        raise ModelFolderError(
            f"model folder {folder} does not exist (its folder {folder.parent} does, so this is read as a local "
            f"path, not a Hugging Face hub id); expected {LAYOUT_HELP}"
        )
    try:
        from huggingface_hub import snapshot_download

        patterns = [f"{sub}/*" for sub in EXPECTED_LAYOUT] + ["model_index.json", SPECTROGRAM_PARAMS_FILE]
        return Path(snapshot_download(str(model), allow_patterns=patterns))
    except Exception as exc:  # noqa: BLE001 - any hub failure means "not available"
        raise ModelFolderError(
            f"{model!r} is not a local folder and could not be fetched as a Hugging Face hub id ({exc}); "
            f"expected {LAYOUT_HELP}"
        ) from exc


def check_model_folder(folder: Path) -> dict[str, str | None]:
    """Raise ModelFolderError naming the first missing part; return each model's weight variant."""
    if folder.is_file():
        hint = (f"; its folder {folder.parent} has that layout: pass --model {folder.parent}"
                if _has_layout(folder.parent) else
                " (a single checkpoint such as riffusion-model-v1.ckpt cannot be loaded offline); "
                "download the whole riffusion/riffusion-model-v1 repository and pass its folder")
        raise ModelFolderError(f"model {folder} is a file, not a folder{hint}; expected {LAYOUT_HELP}")
    if not folder.is_dir():
        raise ModelFolderError(f"model folder {folder} does not exist; expected {LAYOUT_HELP}")
    variants: dict[str, str | None] = {}
    for sub, alternatives in EXPECTED_LAYOUT.items():
        if not (folder / sub).is_dir():
            hint = (f" ({folder.name}/ is one part of a model: pass --model {folder.parent})"
                    if folder.name in EXPECTED_LAYOUT and _has_layout(folder.parent) else "")
            raise ModelFolderError(f"model folder {folder} has no {sub}/ subfolder{hint}; expected {LAYOUT_HELP}")
        for names in alternatives:
            found = [folder / sub / name for name in names if (folder / sub / name).is_file()]
            if found:
                _check_not_lfs_pointer(found[0])
                variants[sub] = None
                continue
            fp16 = [n for n in names if (folder / sub / _fp16_name(n)).is_file()]
            if not fp16:
                raise ModelFolderError(
                    f"model folder {folder} lacks {sub}/{' or '.join(names)}; expected {LAYOUT_HELP}"
                )
            variants[sub] = "fp16"
    return variants


#: how a Git LFS pointer file starts (what a clone without git-lfs holds instead of the weights)
LFS_POINTER_PREFIX = b"version https://git-lfs"


def _check_not_lfs_pointer(path: Path) -> None:
    """ModelFolderError if a weight file is a Git LFS pointer (a few hundred bytes of text)."""
    if path.suffix not in WEIGHT_SUFFIXES or path.stat().st_size > 1024:
        return
    with path.open("rb") as handle:
        if handle.read(len(LFS_POINTER_PREFIX)) == LFS_POINTER_PREFIX:
            raise ModelFolderError(
                f"{path} is a Git LFS pointer, not weights: the model was cloned without git-lfs; run "
                f"`git lfs install && git lfs pull` in {path.parent.parent}, or download the files again"
            )


def _has_layout(folder: Path) -> bool:
    """Whether every part of the diffusers layout is a subfolder of `folder` (for hints only)."""
    return all((folder / sub).is_dir() for sub in EXPECTED_LAYOUT)


def _load_part(folder: Path, part: str, load: Callable[[Path], Any]) -> Any:
    """``load(folder / part)``, any loading failure becoming a ModelFolderError that names the part."""
    try:
        return load(folder / part)
    # JSONDecodeError is a ValueError; UnpicklingError: a damaged .bin that torch.load refuses
    except (OSError, ValueError, KeyError, AttributeError, RuntimeError, TypeError, pickle.UnpicklingError) as exc:
        named = f"{part}/" if (folder / part).is_dir() else part
        raise ModelFolderError(f"model folder {folder}: {named} could not be loaded: {type(exc).__name__}: {exc}; "
                               f"expected {LAYOUT_HELP}") from exc


def load_components(folder: Path, *, device: torch.device, dtype: torch.dtype) -> DiffusionComponents:
    """Load the five parts from a checked folder (never touches the network)."""
    import diffusers
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextModel, CLIPTokenizer

    variants = check_model_folder(folder)
    unet = _load_part(folder, "unet", lambda path: UNet2DConditionModel.from_pretrained(
        path, variant=variants["unet"], torch_dtype=dtype, local_files_only=True))
    vae = _load_part(folder, "vae", lambda path: AutoencoderKL.from_pretrained(
        path, variant=variants["vae"], torch_dtype=dtype, local_files_only=True))
    text_encoder = _load_part(folder, "text_encoder", lambda path: CLIPTextModel.from_pretrained(
        path, variant=variants["text_encoder"], local_files_only=True))
    tokenizer = _load_part(folder, "tokenizer", lambda path: CLIPTokenizer.from_pretrained(path, local_files_only=True))

    def load_scheduler(path: Path) -> Any:
        config = json.loads(path.read_text())
        return getattr(diffusers, config.get("_class_name", "PNDMScheduler")).from_config(config)

    scheduler = _load_part(folder, "scheduler/scheduler_config.json", load_scheduler)
    if unet.config.cross_attention_dim != text_encoder.config.hidden_size:
        raise ModelFolderError(
            f"model folder {folder}: unet cross_attention_dim={unet.config.cross_attention_dim} does not match "
            f"text_encoder hidden_size={text_encoder.config.hidden_size}"
        )
    if unet.config.in_channels != vae.config.latent_channels:
        raise ModelFolderError(
            f"model folder {folder}: unet in_channels={unet.config.in_channels} does not match "
            f"vae latent_channels={vae.config.latent_channels}"
        )
    text_encoder.to(dtype=dtype)
    for model in (unet, vae, text_encoder):
        model.to(device=device).eval().requires_grad_(False)
    return DiffusionComponents(unet=unet, vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, scheduler=scheduler)


def folder_codec_params(folder: Path) -> SpectrogramParams:
    """The folder's spectrogram_params.json if present, else Riffusion's defaults."""
    path = folder / SPECTROGRAM_PARAMS_FILE
    if not path.is_file():
        return SpectrogramParams()
    try:
        return SpectrogramParams.from_dict(json.loads(path.read_text()))
    except (json.JSONDecodeError, CodecError) as exc:
        raise ModelFolderError(f"{path} is not a valid spectrogram parameter file: {exc}") from exc


def weights_fingerprint(folder: Path, *, samples: int = 16, chunk_bytes: int = 65_536) -> str:
    """Short hash of every config file, every weight file's name and size, and
    ``samples`` evenly spaced chunks of its bytes.

    Sizes alone cannot tell two fine-tunes of one architecture apart; sampled
    content can (a fine-tune changes every tensor) without reading 2 GB.
    """
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder).as_posix()
        if path.suffix == ".json":
            digest.update(f"{relative}\n".encode() + path.read_bytes())
        elif path.suffix in WEIGHT_SUFFIXES:
            size = path.stat().st_size
            digest.update(f"{relative}:{size}\n".encode())
            with path.open("rb") as handle:
                for index in range(samples):
                    handle.seek(index * max(size - chunk_bytes, 0) // max(samples - 1, 1))
                    digest.update(handle.read(chunk_bytes))
    return digest.hexdigest()[:16]


def _fp16_name(name: str) -> str:
    stem, dot, suffix = name.rpartition(".")
    return f"{stem}.fp16.{suffix}" if dot else name
