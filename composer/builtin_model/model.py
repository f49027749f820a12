"""Build, save and load the built-in model (AutoencoderKL + UNet2DConditionModel + scheduler).

A model folder is diffusers-shaped, so each part also opens with diffusers'
own ``from_pretrained``::

    model_index.json                      component list + "composer" section
    vae/config.json                       AutoencoderKL config (scaling_factor set)
    vae/diffusion_pytorch_model.safetensors
    unet/config.json                      UNet2DConditionModel config
    unet/diffusion_pytorch_model.safetensors
    scheduler/scheduler_config.json       DPMSolverMultistepScheduler config

Every folder, the shipped one included, loads through ``load_builtin_model``;
anything missing or inconsistent raises ``ModelFolderError`` naming the file.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from diffusers import AutoencoderKL, DDPMScheduler, DPMSolverMultistepScheduler, UNet2DConditionModel

from composer.builtin_model.config import (
    BuiltinModelConfig,
    NoiseSchedule,
    TextConditioning,
    UnetArchitecture,
    VaeArchitecture,
)
from composer.builtin_model.text_encoder import TEXT_ENCODER_ID
from composer.codec.params import SpectrogramParams
from composer.errors import CodecError, ModelFolderError

#: bump when the folder layout or the meaning of a field changes
FOLDER_FORMAT_VERSION = 1
INDEX_FILE = "model_index.json"
WEIGHTS_FILE = "diffusion_pytorch_model.safetensors"
CONFIG_FILE = "config.json"
SCHEDULER_FILE = "scheduler/scheduler_config.json"


@dataclass(frozen=True)
class LatentNorm:
    """Per-channel statistics of the training latents: the UNet sees (latent - mean) / std."""

    # mean of each VAE latent channel (posterior means over the training clips)
    mean: tuple[float, ...]
    # standard deviation of each VAE latent channel
    std: tuple[float, ...]


def normalize_latents(latents: torch.Tensor, norm: LatentNorm) -> torch.Tensor:
    """VAE latents [b, c, h, w] -> zero-mean, unit-variance diffusion latents."""
    mean, std = (torch.tensor(v, dtype=latents.dtype, device=latents.device)[:, None, None] for v in (norm.mean, norm.std))
    return (latents - mean) / std


def denormalize_latents(latents: torch.Tensor, norm: LatentNorm) -> torch.Tensor:
    """Inverse of ``normalize_latents``."""
    mean, std = (torch.tensor(v, dtype=latents.dtype, device=latents.device)[:, None, None] for v in (norm.mean, norm.std))
    return latents * std + mean


@dataclass(frozen=True)
class BuiltinModel:
    """A loaded model folder, ready to sample."""

    # identity from the folder's model_index.json
    model_id: str
    # codec the model was trained with
    codec: SpectrogramParams
    # prompt length and width of the text conditioning
    text: TextConditioning
    # scheduler steps a render uses unless told otherwise
    default_steps: int
    # image columns the model was trained on (its preferred clip length)
    train_frames: int
    # False for untrained (random-weight) folders such as the tests' tiny one
    makes_music: bool
    # per-channel latent statistics
    latent_norm: LatentNorm
    # spectrogram autoencoder (eval mode, no gradients)
    vae: AutoencoderKL
    # latent denoiser (eval mode, no gradients)
    unet: UNet2DConditionModel
    # DPMSolverMultistepScheduler config; build a fresh scheduler per render
    scheduler_config: dict[str, Any]
    # sha256 over both weight files (hex)
    weights_sha256: str

    @property
    def latent_multiple(self) -> int:
        """Image pixels per latent cell times the UNet's halvings: image sides are multiples of it."""
        return vae_factor_of(self.vae) * unet_factor_of(self.unet)


def build_vae(arch: VaeArchitecture) -> AutoencoderKL:
    """Fresh AutoencoderKL for 1-channel mel images; fully convolutional (no attention)."""
    levels = len(arch.block_out_channels)
    return AutoencoderKL(
        in_channels=1,
        out_channels=1,
        down_block_types=("DownEncoderBlock2D",) * levels,
        up_block_types=("UpDecoderBlock2D",) * levels,
        block_out_channels=tuple(arch.block_out_channels),
        layers_per_block=arch.layers_per_block,
        latent_channels=arch.latent_channels,
        norm_num_groups=arch.norm_num_groups,
        mid_block_add_attention=False,
        scaling_factor=1.0,
    )


def build_unet(arch: UnetArchitecture, *, latent_channels: int, text: TextConditioning) -> UNet2DConditionModel:
    """Fresh UNet2DConditionModel: plain first level, cross-attention below it."""
    levels = len(arch.block_out_channels)
    down = ("DownBlock2D",) + ("CrossAttnDownBlock2D",) * (levels - 1)
    up = ("CrossAttnUpBlock2D",) * (levels - 1) + ("UpBlock2D",)
    return UNet2DConditionModel(
        in_channels=latent_channels,
        out_channels=latent_channels,
        down_block_types=down,
        up_block_types=up,
        block_out_channels=tuple(arch.block_out_channels),
        layers_per_block=arch.layers_per_block,
        norm_num_groups=arch.norm_num_groups,
        cross_attention_dim=text.dim,
        # diffusers' legacy name: this is the number of heads per level
        attention_head_dim=tuple(arch.attention_heads),
        # the pooled sentence vector joins the timestep embedding
        class_embed_type="projection",
        projection_class_embeddings_input_dim=text.dim,
    )


def build_training_scheduler(schedule: NoiseSchedule) -> DDPMScheduler:
    """DDPM scheduler that noises training latents."""
    return DDPMScheduler(
        num_train_timesteps=schedule.num_train_timesteps,
        beta_start=schedule.beta_start,
        beta_end=schedule.beta_end,
        beta_schedule=schedule.beta_schedule,
        prediction_type=schedule.prediction_type,
    )


def build_sampling_scheduler(schedule: NoiseSchedule) -> DPMSolverMultistepScheduler:
    """DPM-Solver++ (2nd order): good samples in 15-25 steps."""
    return DPMSolverMultistepScheduler(
        num_train_timesteps=schedule.num_train_timesteps,
        beta_start=schedule.beta_start,
        beta_end=schedule.beta_end,
        beta_schedule=schedule.beta_schedule,
        prediction_type=schedule.prediction_type,
        algorithm_type="dpmsolver++",
        solver_order=2,
    )


def vae_factor_of(vae: AutoencoderKL) -> int:
    """Pixels per latent cell of a built VAE."""
    return 2 ** (len(vae.config.block_out_channels) - 1)


def unet_factor_of(unet: UNet2DConditionModel) -> int:
    """Latent cells the UNet halves away."""
    return 2 ** (len(unet.config.block_out_channels) - 1)


def save_builtin_model(
    folder: str | Path,
    *,
    config: BuiltinModelConfig,
    vae: AutoencoderKL,
    unet: UNet2DConditionModel,
    latent_norm: LatentNorm,
    makes_music: bool,
    training: dict[str, Any],
    dtype: torch.dtype = torch.float16,
) -> Path:
    """Write a complete model folder (weights cast to ``dtype``); replaces ``folder`` atomically."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    _save_component(staging / "vae", vae, dtype=dtype)
    _save_component(staging / "unet", unet, dtype=dtype)
    build_sampling_scheduler(config.schedule).save_pretrained(staging / "scheduler")
    index = {
        "_class_name": "ComposerBuiltinSpectrogramModel",
        "vae": ["diffusers", "AutoencoderKL"],
        "unet": ["diffusers", "UNet2DConditionModel"],
        "scheduler": ["diffusers", "DPMSolverMultistepScheduler"],
        "composer": {
            "format_version": FOLDER_FORMAT_VERSION,
            "model_id": config.model_id,
            "codec": config.codec.to_dict(),
            "text_encoder": TEXT_ENCODER_ID,
            "text": asdict(config.text),
            "default_steps": config.default_steps,
            "train_frames": config.train_frames,
            "latent_norm": {"mean": list(latent_norm.mean), "std": list(latent_norm.std)},
            "makes_music": makes_music,
            "training": training,
        },
    }
    (staging / INDEX_FILE).write_text(json.dumps(index, indent=2) + "\n")
    # mkdtemp and safetensors create owner-only entries; package data must be world-readable
    for path in [staging, *staging.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    if folder.exists():
        retired = folder.with_name(f".{folder.name}.old")
        shutil.rmtree(retired, ignore_errors=True)
        os.replace(folder, retired)
        os.replace(staging, folder)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        os.replace(staging, folder)
    return folder


def _save_component(folder: Path, module: Any, *, dtype: torch.dtype) -> None:
    """config.json + weights in ``dtype`` (what ``save_pretrained`` writes, without casting the module)."""
    from safetensors.torch import save_file

    module.save_config(folder)
    state = {key: value.detach().to("cpu", dtype).contiguous() for key, value in module.state_dict().items()}
    save_file(state, str(folder / WEIGHTS_FILE), metadata={"format": "pt"})


def load_builtin_model(path: str | Path, *, device: str | torch.device = "cpu",
                       dtype: torch.dtype = torch.float32) -> BuiltinModel:
    """Load any folder written by ``save_builtin_model`` on ``device``, its VAE and UNet weights in ``dtype``
    (the sampling functions cast their inputs to it and return float32)."""
    folder = Path(path)
    if not folder.is_dir():
        raise ModelFolderError(f"builtin model folder {folder} does not exist or is not a folder")
    index = _read_json(folder / INDEX_FILE, expected="the model index with a 'composer' section")
    section = index.get("composer")
    if not isinstance(section, dict):
        raise ModelFolderError(f"{folder / INDEX_FILE} has no 'composer' section (model_id, codec, text, ...)")
    version = section.get("format_version")
    if version != FOLDER_FORMAT_VERSION:
        raise ModelFolderError(
            f"{folder / INDEX_FILE}: format_version {version!r} is not supported; expected {FOLDER_FORMAT_VERSION}"
        )
    codec, text, fields = _parse_index_section(section, where=folder / INDEX_FILE)
    vae = _load_component(folder, "vae", AutoencoderKL, device=device, dtype=dtype)
    unet = _load_component(folder, "unet", UNet2DConditionModel, device=device, dtype=dtype)
    scheduler_config = _read_json(folder / SCHEDULER_FILE, expected="a DPMSolverMultistepScheduler config")
    try:
        DPMSolverMultistepScheduler.from_config(scheduler_config)
    except (TypeError, ValueError, NotImplementedError) as exc:
        raise ModelFolderError(f"{folder / SCHEDULER_FILE} is not a valid scheduler config: {exc}") from exc
    _check_consistent(folder, codec=codec, text=text, norm=fields["latent_norm"], vae=vae, unet=unet)
    return BuiltinModel(
        codec=codec,
        text=text,
        **fields,
        vae=vae,
        unet=unet,
        scheduler_config=dict(scheduler_config),
        weights_sha256=weights_digest(folder),
    )


def weights_digest(folder: str | Path) -> str:
    """sha256 over the folder's weight files (names and bytes, fixed order)."""
    digest = hashlib.sha256()
    for part in ("unet", "vae"):
        path = Path(folder) / part / WEIGHTS_FILE
        digest.update(f"{part}/{WEIGHTS_FILE}\n".encode())
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def _read_json(path: Path, *, expected: str) -> dict[str, Any]:
    if not path.is_file():
        raise ModelFolderError(f"missing {path}: expected {expected}")
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFolderError(f"{path} is not readable JSON ({exc}); expected {expected}") from exc
    if not isinstance(data, dict):
        raise ModelFolderError(f"{path} holds {type(data).__name__}; expected {expected} (a JSON object)")
    return data


def _parse_index_section(
    section: dict[str, Any], *, where: Path
) -> tuple[SpectrogramParams, TextConditioning, dict[str, Any]]:
    try:
        codec = SpectrogramParams.from_dict(section["codec"])
        text = TextConditioning(**section["text"])
        fields = {
            "model_id": str(section["model_id"]),
            "default_steps": int(section["default_steps"]),
            "train_frames": int(section["train_frames"]),
            "makes_music": bool(section["makes_music"]),
            "latent_norm": LatentNorm(
                mean=tuple(float(v) for v in section["latent_norm"]["mean"]),
                std=tuple(float(v) for v in section["latent_norm"]["std"]),
            ),
        }
    except KeyError as exc:
        raise ModelFolderError(f"{where}: the 'composer' section lacks the field {exc.args[0]!r}") from exc
    except (CodecError, TypeError, ValueError) as exc:
        raise ModelFolderError(f"{where}: invalid 'composer' section: {exc}") from exc
    for name in ("default_steps", "train_frames"):
        if fields[name] < 1:
            raise ModelFolderError(f"{where}: 'composer.{name}' must be a positive integer, got {fields[name]}")
    return codec, text, fields


def _load_component(folder: Path, part: str, cls: type, *, device: str | torch.device, dtype: torch.dtype) -> Any:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    config_path = folder / part / CONFIG_FILE
    weights_path = folder / part / WEIGHTS_FILE
    config = _read_json(config_path, expected=f"a diffusers {cls.__name__} config")
    if config.get("_class_name") != cls.__name__:
        raise ModelFolderError(
            f"{config_path} describes {config.get('_class_name')!r}; expected {cls.__name__}"
        )
    try:
        with torch.random.fork_rng():  # the random initialisation the weights replace must not move torch's RNG
            module = cls.from_config(config)
    except (TypeError, ValueError, KeyError) as exc:
        raise ModelFolderError(f"{config_path} does not build a {cls.__name__}: {exc}") from exc
    if not weights_path.is_file():
        raise ModelFolderError(f"missing {weights_path}: expected the {cls.__name__} weights (safetensors)")
    try:
        state = load_file(str(weights_path))
    except (SafetensorError, OSError) as exc:
        raise ModelFolderError(f"{weights_path} is not a readable safetensors file: {exc}") from exc
    _check_state(weights_path, module.state_dict(), state)
    module.load_state_dict({key: value.float() for key, value in state.items()}, strict=True)
    # torch's own ``to``: diffusers' override warns on every dtype change that it would rather see
    # ``from_pretrained(torch_dtype=...)``, which these folders do not load through
    torch.nn.Module.to(module, device=device, dtype=dtype).eval()
    module.requires_grad_(False)
    return module


def _check_state(path: Path, expected: dict[str, torch.Tensor], found: dict[str, torch.Tensor]) -> None:
    missing = sorted(set(expected) - set(found))
    unexpected = sorted(set(found) - set(expected))
    if missing or unexpected:
        raise ModelFolderError(
            f"{path} does not match its config.json: {len(missing)} tensor(s) missing "
            f"(e.g. {missing[:3]}), {len(unexpected)} unexpected (e.g. {unexpected[:3]})"
        )
    for key, tensor in expected.items():
        if tuple(found[key].shape) != tuple(tensor.shape):
            raise ModelFolderError(
                f"{path}: tensor {key} has shape {tuple(found[key].shape)}; config.json expects {tuple(tensor.shape)}"
            )


def _check_consistent(
    folder: Path, *, codec: SpectrogramParams, text: TextConditioning, norm: LatentNorm, vae: Any, unet: Any
) -> None:
    if unet.config.in_channels != vae.config.latent_channels:
        raise ModelFolderError(
            f"{folder / 'unet' / CONFIG_FILE}: in_channels {unet.config.in_channels} differs from the VAE's "
            f"latent_channels {vae.config.latent_channels} in {folder / 'vae' / CONFIG_FILE}"
        )
    if unet.config.cross_attention_dim != text.dim:
        raise ModelFolderError(
            f"{folder / 'unet' / CONFIG_FILE}: cross_attention_dim {unet.config.cross_attention_dim} differs from "
            f"the text width {text.dim} in {folder / INDEX_FILE}"
        )
    channels = vae.config.latent_channels
    if len(norm.mean) != channels or len(norm.std) != channels or min(norm.std) <= 0:
        raise ModelFolderError(
            f"{folder / INDEX_FILE}: latent_norm needs {channels} means and {channels} positive stds "
            f"(the VAE's latent_channels), got {len(norm.mean)} and {len(norm.std)}"
        )
    multiple = vae_factor_of(vae) * unet_factor_of(unet)
    if codec.n_mels % multiple:
        raise ModelFolderError(
            f"{folder / INDEX_FILE}: codec n_mels {codec.n_mels} must be a multiple of {multiple} "
            "(VAE and UNet down-sampling)"
        )

