"""SpectrogramCodec: audio <-> mel <-> [-1, 1] image tensor / PNG, on one device."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch
from PIL import Image

from composer.codec import image as image_mapping
from composer.codec.inversion import griffin_lim, mel_pseudo_inverse, mel_to_linear
from composer.codec.mel import hann_window, mel_filterbank, min_stft_samples, stft, window_offset
from composer.codec.params import SpectrogramParams, frames_for_samples, samples_for_frames
from composer.errors import CodecError


class SpectrogramCodec:
    """Holds the mel filterbank, its pseudo-inverse and the STFT window on ``device``."""

    def __init__(self, params: SpectrogramParams | None = None, *, device: torch.device | str = "cpu") -> None:
        self.params = params if params is not None else SpectrogramParams()
        self.device = torch.device(device)
        dense = torch.from_numpy(mel_filterbank(self.params)).float()
        gram_pinv, self._lipschitz = mel_pseudo_inverse(dense)
        self._gram_pinv = gram_pinv.to(self.device)
        self._filterbank = dense.to_sparse().coalesce().to(self.device)
        self._filterbank_t = dense.T.to_sparse().coalesce().to(self.device)
        self._window = hann_window(self.params, device=self.device)

    @property
    def min_frames(self) -> int:
        """Fewest columns Griffin-Lim can invert (its signal must outlast the reflect padding)."""
        return math.ceil(min_stft_samples(self.params) / self.params.hop_length) + 1

    def max_samples_for_frames(self, num_frames: int) -> int:
        """Longest signal ``mel_to_audio`` can return from ``num_frames`` columns."""
        tail = min(self.params.hop_length - 1, self.params.win_length - window_offset(self.params))
        return self.samples_for_frames(num_frames) + tail

    def frames_for_samples(self, num_samples: int) -> int:
        """Columns of a centred STFT over ``num_samples`` samples: num_samples // hop + 1."""
        return frames_for_samples(num_samples, params=self.params)

    def samples_for_frames(self, num_frames: int) -> int:
        """Samples spanned by ``num_frames`` columns: (num_frames - 1) * hop."""
        return samples_for_frames(num_frames, params=self.params)

    def audio_to_mel(self, audio: np.ndarray) -> torch.Tensor:
        """Mono float audio -> mel magnitude [n_mels, frames_for_samples(len(audio))] on the device."""
        audio = np.asarray(audio)
        if audio.ndim != 1:
            raise CodecError(f"audio_to_mel expects mono audio of shape (samples,), got {audio.shape}")
        num_frames = self.frames_for_samples(audio.shape[0])
        # reflect padding needs a longer signal; pad very short clips with silence
        padded = np.zeros(max(audio.shape[0], min_stft_samples(self.params)), dtype=np.float32)
        padded[: audio.shape[0]] = audio
        signal = torch.from_numpy(padded).to(self.device)
        magnitude = stft(signal, params=self.params, window=self._window).abs()[:, :num_frames]
        return self._filterbank @ magnitude

    def mel_to_unit(self, mel: torch.Tensor) -> torch.Tensor:
        """Mel [..., n_mels, T] -> image-oriented floats in [-1, 1], per-clip max normalised."""
        return image_mapping.mel_to_unit(mel, params=self.params)

    def unit_to_mel(self, unit: torch.Tensor) -> torch.Tensor:
        """Inverse of ``mel_to_unit`` at the fixed decode scale ``params.max_value``."""
        return image_mapping.unit_to_mel(unit, params=self.params)

    def mel_to_image(self, mel: torch.Tensor) -> Image.Image:
        """Mel [n_mels, T] -> Riffusion RGB uint8 image with the params in PNG text and EXIF."""
        return image_mapping.unit_to_image(
            self.mel_to_unit(mel), params=self.params, clip_max=float(mel.max())
        )

    def image_to_mel(self, image: Image.Image) -> torch.Tensor:
        """Spectrogram image -> mel [n_mels, width]; stored params must match the codec's."""
        return self.unit_to_mel(image_mapping.image_to_unit(image, params=self.params).to(self.device))

    def mel_to_audio(
        self, mel: torch.Tensor, *, generator: torch.Generator | Sequence[torch.Generator],
        num_samples: int | None = None, phase_prefix: np.ndarray | None = None,
    ) -> np.ndarray:
        """Mel [..., n_mels, T] -> float32 audio [..., num_samples] (default (T - 1) * hop).

        ``phase_prefix``: audio the result continues; Griffin-Lim holds its phase over the frames it covers.

        ``generator`` may be one generator per item of a [B, n_mels, T] batch (see ``griffin_lim``).

        ``num_samples`` may reach ``max_samples_for_frames(T)`` (past the last
        column's centre). Non-negative mel inverse (``params.mel_inverse_iters``),
        then Griffin-Lim whose random initial phase comes from ``generator``.
        """
        num_frames = mel.shape[-1]
        if mel.shape[-2] != self.params.n_mels:
            raise CodecError(f"mel has {mel.shape[-2]} bins but the codec has n_mels={self.params.n_mels}")
        if num_frames < self.min_frames:
            raise CodecError(f"mel has {num_frames} frames; Griffin-Lim needs at least {self.min_frames}")
        length = self.samples_for_frames(num_frames) if num_samples is None else num_samples
        if length > self.max_samples_for_frames(num_frames):
            raise CodecError(
                f"{num_frames} mel frames give at most {self.max_samples_for_frames(num_frames)} samples, not {length}"
            )
        linear = mel_to_linear(
            mel.to(self.device, torch.float32),
            filterbank=self._filterbank,
            filterbank_t=self._filterbank_t,
            gram_pinv=self._gram_pinv,
            lipschitz=self._lipschitz,
            iters=self.params.mel_inverse_iters,
        )
        prefix = None if phase_prefix is None else torch.from_numpy(np.ascontiguousarray(phase_prefix, np.float32))
        audio = griffin_lim(linear, params=self.params, window=self._window, num_samples=length, generator=generator,
                            phase_prefix=prefix)
        return audio.cpu().numpy().astype(np.float32)
