"""Spectrogram parameters: how audio maps to a mel image and back.

Defaults reproduce Riffusion's mono codec. Fixed choices (not parameters):
Hann window, centred frames with reflect padding, magnitude (not power)
STFT, HTK mel scale without filter normalisation.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Mapping

from composer.errors import CodecError


@dataclass(frozen=True)
class SpectrogramParams:
    """Frozen codec settings; every backend stores its own in its model folder."""

    # audio sample rate (mono)
    sample_rate_hz: int = 44_100
    # STFT hop: one image column per hop
    hop_ms: float = 10.0
    # Hann window length inside each FFT frame
    window_ms: float = 100.0
    # FFT size (window zero-padded to this length), riffusion's "padded duration"
    n_fft_ms: float = 400.0
    # mel bins = image height in pixels
    n_mels: int = 512
    # lowest mel filter edge
    min_frequency_hz: float = 0.0
    # highest mel filter edge; nothing above it survives the round trip
    max_frequency_hz: float = 10_000.0
    # image pixel = 255 - 255 * (mel / clip max) ** power_for_image
    power_for_image: float = 0.25
    # mel magnitude a black pixel decodes to; riffusion's 30e6 was in int16
    # sample units, composer's audio is float in [-1, 1]
    max_value: float = 30e6 / 32768
    # projected-gradient refinements of the non-negative mel -> linear inverse
    mel_inverse_iters: int = 8
    # Griffin-Lim phase-retrieval iterations
    griffin_lim_iters: int = 32
    # fast Griffin-Lim momentum (0 is classic Griffin-Lim)
    griffin_lim_momentum: float = 0.99

    def __post_init__(self) -> None:
        for name in ("sample_rate_hz", "n_mels", "mel_inverse_iters", "griffin_lim_iters"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise CodecError(f"spectrogram parameter {name} must be an integer, got {value!r}")
        for name in ("hop_ms", "window_ms", "n_fft_ms", "min_frequency_hz", "max_frequency_hz",
                     "power_for_image", "max_value", "griffin_lim_momentum"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise CodecError(f"spectrogram parameter {name} must be a number, got {value!r}")
        positive = ("sample_rate_hz", "hop_ms", "window_ms", "n_fft_ms", "n_mels",
                    "power_for_image", "max_value")
        for name in positive:
            if getattr(self, name) <= 0:
                raise CodecError(f"spectrogram parameter {name} must be > 0, got {getattr(self, name)}")
        for name in ("mel_inverse_iters", "griffin_lim_iters"):
            if getattr(self, name) < 0:
                raise CodecError(f"spectrogram parameter {name} must be >= 0, got {getattr(self, name)}")
        if not 0.0 <= self.griffin_lim_momentum < 1.0:
            raise CodecError(
                f"spectrogram parameter griffin_lim_momentum must be in [0, 1), got {self.griffin_lim_momentum}"
            )
        if self.hop_length < 1:
            raise CodecError(f"spectrogram parameter hop_ms={self.hop_ms} is shorter than one sample")
        if not self.hop_length <= self.win_length <= self.n_fft:
            raise CodecError(
                "spectrogram parameters must satisfy hop_ms <= window_ms <= n_fft_ms, got "
                f"hop_ms={self.hop_ms}, window_ms={self.window_ms}, n_fft_ms={self.n_fft_ms}"
            )
        nyquist_hz = self.sample_rate_hz / 2
        if not 0.0 <= self.min_frequency_hz < self.max_frequency_hz <= nyquist_hz:
            raise CodecError(
                "spectrogram parameters must satisfy 0 <= min_frequency_hz < max_frequency_hz <= "
                f"{nyquist_hz:g} (Nyquist), got min_frequency_hz={self.min_frequency_hz}, "
                f"max_frequency_hz={self.max_frequency_hz}"
            )

    @property
    def hop_length(self) -> int:
        """Hop in samples (rounded to a whole sample)."""
        return round(self.hop_ms * self.sample_rate_hz / 1000)

    @property
    def win_length(self) -> int:
        """Window length in samples."""
        return round(self.window_ms * self.sample_rate_hz / 1000)

    @property
    def n_fft(self) -> int:
        """FFT size in samples."""
        return round(self.n_fft_ms * self.sample_rate_hz / 1000)

    @property
    def n_freqs(self) -> int:
        """Linear STFT bins (one-sided)."""
        return self.n_fft // 2 + 1

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict of every field."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "SpectrogramParams":
        """Inverse of ``to_dict``; missing keys take defaults, unknown keys are an error."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise CodecError(
                f"unknown spectrogram parameter(s) {', '.join(unknown)}; allowed: {', '.join(sorted(known))}"
            )
        return cls(**dict(data))


def frames_for_samples(num_samples: int, *, params: SpectrogramParams) -> int:
    """Image columns of a centred STFT over ``num_samples`` samples."""
    return num_samples // params.hop_length + 1


def samples_for_frames(num_frames: int, *, params: SpectrogramParams) -> int:
    """Samples that ``num_frames`` centred columns span (inverse of ``frames_for_samples``)."""
    return (num_frames - 1) * params.hop_length
