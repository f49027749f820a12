"""Settings of composer's built-in spectrogram diffusion model.

Sized for a 2-core CPU: a 16 x (frames / 8) latent, attention only at the two
lowest UNet levels, about 15 M parameters (30 MB in fp16) in all.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from composer.codec.params import SpectrogramParams

#: the codec the built-in model is trained with: 22,050 Hz, 128 mel bins, hop 256
#: samples (11.6 ms), so a 512-column image spans 5.94 s
BUILTIN_CODEC = SpectrogramParams(
    sample_rate_hz=22_050,
    hop_ms=256_000 / 22_050,
    window_ms=1_024_000 / 22_050,
    n_fft_ms=1_024_000 / 22_050,
    n_mels=128,
    min_frequency_hz=0.0,
    max_frequency_hz=11_025.0,
)


@dataclass(frozen=True)
class VaeArchitecture:
    """AutoencoderKL that maps a 1-channel mel image to a compact latent."""

    # channels per encoder level (the decoder mirrors them); len - 1 halvings
    block_out_channels: tuple[int, ...] = (16, 32, 64, 128)
    # resnet blocks per encoder level (the decoder gets one more)
    layers_per_block: int = 2
    # channels of the latent image
    latent_channels: int = 8
    # GroupNorm groups; must divide every channel count
    norm_num_groups: int = 8


@dataclass(frozen=True)
class UnetArchitecture:
    """UNet2DConditionModel denoiser over the latent."""

    # channels per level; len - 1 halvings of the latent
    block_out_channels: tuple[int, ...] = (64, 128, 192)
    # resnet (+ transformer) layers per down level (up levels get one more)
    layers_per_block: int = 1
    # attention heads per level (32 channels each); level 0 has no attention
    attention_heads: tuple[int, ...] = (2, 4, 6)
    # GroupNorm groups; must divide every channel count
    norm_num_groups: int = 32


@dataclass(frozen=True)
class TextConditioning:
    """How prompts become cross-attention context (frozen all-MiniLM-L6-v2)."""

    # prompts are padded / truncated to this many tokens
    max_tokens: int = 48
    # width of the encoder's token states and pooled vector
    dim: int = 384


@dataclass(frozen=True)
class NoiseSchedule:
    """DDPM training schedule, shared by the inference scheduler."""

    # diffusion steps during training
    num_train_timesteps: int = 1000
    # first beta of the scaled-linear schedule (Stable Diffusion's)
    beta_start: float = 0.00085
    # last beta of the scaled-linear schedule
    beta_end: float = 0.012
    # diffusers beta schedule name
    beta_schedule: str = "scaled_linear"
    # what the UNet predicts: "epsilon" or "v_prediction"
    prediction_type: str = "epsilon"


@dataclass(frozen=True)
class BuiltinModelConfig:
    """Everything needed to build, train and describe the model."""

    # identity written into the model folder and every manifest
    model_id: str = "composer-builtin-v1"
    # spectrogram codec the model sees and decodes with
    codec: SpectrogramParams = BUILTIN_CODEC
    # spectrogram autoencoder
    vae: VaeArchitecture = field(default_factory=VaeArchitecture)
    # latent denoiser
    unet: UnetArchitecture = field(default_factory=UnetArchitecture)
    # text conditioning
    text: TextConditioning = field(default_factory=TextConditioning)
    # noise schedule
    schedule: NoiseSchedule = field(default_factory=NoiseSchedule)
    # image columns of a training crop (a multiple of latent_multiple_frames)
    train_frames: int = 512
    # scheduler steps a render uses unless the request says otherwise
    default_steps: int = 20


def vae_factor(vae: VaeArchitecture) -> int:
    """Pixels per latent cell along each axis."""
    return 2 ** (len(vae.block_out_channels) - 1)


def config_to_dict(config: BuiltinModelConfig) -> dict[str, Any]:
    """JSON-able form (tuples become lists)."""
    data = asdict(config)
    data["codec"] = config.codec.to_dict()
    return data


def config_from_dict(data: dict[str, Any]) -> BuiltinModelConfig:
    """Inverse of ``config_to_dict``."""
    return BuiltinModelConfig(
        model_id=data["model_id"],
        codec=SpectrogramParams.from_dict(data["codec"]),
        vae=VaeArchitecture(**{k: tuple(v) if isinstance(v, list) else v for k, v in data["vae"].items()}),
        unet=UnetArchitecture(**{k: tuple(v) if isinstance(v, list) else v for k, v in data["unet"].items()}),
        text=TextConditioning(**data["text"]),
        schedule=NoiseSchedule(**data["schedule"]),
        train_frames=data["train_frames"],
        default_steps=data["default_steps"],
    )
