"""Mel magnitude <-> Riffusion spectrogram image (and its [-1, 1] float form).

Pixel p = 255 - 255 * (mel / clip max) ** power, rows flipped so low
frequencies are at the bottom; white is silence. The float "unit" form is SD's
image normalisation 2 * p / 255 - 1 of the same picture, without rounding.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from PIL import Image, PngImagePlugin

from composer.codec.params import SpectrogramParams
from composer.errors import CodecError

#: PNG text chunk holding ``SpectrogramParams.to_dict()`` as JSON
PARAMS_TEXT_KEY = "composer:spectrogram"

#: Riffusion's custom EXIF tags -> composer field names (Riffusion's MAX_VALUE
#: tag holds the clip's own maximum, not the decode scale, so it is not a field)
RIFFUSION_EXIF_FIELDS = {
    11000: "sample_rate_hz",
    11010: "hop_ms",
    11020: "window_ms",
    11030: "n_fft_ms",
    11040: "n_mels",
    11050: "min_frequency_hz",
    11060: "max_frequency_hz",
    11070: "power_for_image",
}
EXIF_STEREO = 11005
EXIF_CLIP_MAX = 11080


def mel_to_unit(mel: torch.Tensor, *, params: SpectrogramParams) -> torch.Tensor:
    """[..., n_mels, T] mel -> image-oriented floats in [-1, 1] (1 = silence, row 0 = top).

    Each clip is normalised by its own maximum; an all-zero clip maps to white.
    """
    peak = mel.amax(dim=(-2, -1), keepdim=True)
    scaled = torch.where(peak > 0, mel / torch.where(peak > 0, peak, 1.0), 0.0)
    unit = 1.0 - 2.0 * scaled.clamp(0.0, 1.0) ** params.power_for_image
    return unit.flip(-2)


def unit_to_mel(unit: torch.Tensor, *, params: SpectrogramParams) -> torch.Tensor:
    """Inverse of ``mel_to_unit`` at the fixed decode scale ``params.max_value``."""
    darkness = ((1.0 - unit.clamp(-1.0, 1.0)) / 2.0).flip(-2)
    return darkness ** (1.0 / params.power_for_image) * params.max_value


def unit_to_image(unit: torch.Tensor, *, params: SpectrogramParams, clip_max: float) -> Image.Image:
    """[n_mels, T] unit floats -> RGB uint8 image carrying ``params`` as PNG text and EXIF.

    ``img.save(path)`` keeps the metadata on Pillow >= 11.2; ``save_image`` does on any.
    """
    pixels = np.rint((unit.detach().float().cpu().numpy() + 1.0) * 127.5).clip(0, 255).astype(np.uint8)
    image = Image.fromarray(pixels).convert("RGB")
    image.info[PARAMS_TEXT_KEY] = json.dumps(params.to_dict(), sort_keys=True)
    exif = image.getexif()
    for tag, name in RIFFUSION_EXIF_FIELDS.items():
        exif[tag] = getattr(params, name)
    exif[EXIF_STEREO] = False
    exif[EXIF_CLIP_MAX] = float(clip_max)
    image.encoderinfo = {"pnginfo": _png_text(image), "exif": exif}
    return image


def image_to_unit(image: Image.Image, *, params: SpectrogramParams) -> torch.Tensor:
    """Image -> [n_mels, T] unit floats; mono reads channel 0 as Riffusion did.

    If the image carries parameters they must equal ``params`` (except the decode
    scale ``max_value``, which is the reader's choice).
    """
    stored = image_params(image) if has_image_params(image) else None
    if stored is not None:
        for name, value in stored.to_dict().items():
            if name != "max_value" and value != getattr(params, name):
                raise CodecError(
                    f"spectrogram image was made with {name}={value!r} but this codec uses "
                    f"{name}={getattr(params, name)!r}"
                )
    pixels = np.asarray(image.convert("RGB"))[:, :, 0].astype(np.float32)
    if pixels.shape[0] != params.n_mels:
        raise CodecError(
            f"spectrogram image is {pixels.shape[0]} px high but the codec has n_mels={params.n_mels}"
        )
    return torch.from_numpy(pixels / 127.5 - 1.0)


def has_image_params(image: Image.Image) -> bool:
    """Whether the image carries composer or Riffusion spectrogram parameters."""
    return PARAMS_TEXT_KEY in image.info or any(tag in image.getexif() for tag in RIFFUSION_EXIF_FIELDS)


def image_params(image: Image.Image) -> SpectrogramParams:
    """Parameters stored in a spectrogram image (composer PNG text, else Riffusion EXIF)."""
    if PARAMS_TEXT_KEY in image.info:
        try:
            data = json.loads(image.info[PARAMS_TEXT_KEY])
        except json.JSONDecodeError as exc:
            raise CodecError(f"PNG text chunk {PARAMS_TEXT_KEY!r} is not valid JSON: {exc}") from exc
        return SpectrogramParams.from_dict(data)
    exif = image.getexif()
    if exif.get(EXIF_STEREO):
        raise CodecError("stereo spectrogram images (Riffusion EXIF tag 11005) are not supported; mono only")
    found = {name: exif[tag] for tag, name in RIFFUSION_EXIF_FIELDS.items() if tag in exif}
    if not found:
        raise CodecError(
            f"image has no spectrogram parameters (no PNG text {PARAMS_TEXT_KEY!r}, no Riffusion EXIF tags)"
        )
    defaults = SpectrogramParams()
    # EXIF integers come back as int, floats as float; keep the field types
    typed = {name: type(getattr(defaults, name))(value) for name, value in found.items()}
    return SpectrogramParams.from_dict(typed)


def save_image(image: Image.Image, path: str | Path) -> None:
    """Write a spectrogram image as PNG with its parameters (text chunk and EXIF)."""
    image.save(path, format="PNG", pnginfo=_png_text(image), exif=image.getexif())


def _png_text(image: Image.Image) -> PngImagePlugin.PngInfo:
    info = PngImagePlugin.PngInfo()
    if PARAMS_TEXT_KEY in image.info:
        info.add_text(PARAMS_TEXT_KEY, image.info[PARAMS_TEXT_KEY])
    return info
