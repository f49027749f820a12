"""Linear STFT magnitude and the HTK mel filterbank (torchaudio-compatible)."""

from __future__ import annotations

import numpy as np
import torch

from composer.codec.params import SpectrogramParams


def hz_to_mel_htk(frequency_hz: np.ndarray) -> np.ndarray:
    """HTK mel scale: 2595 * log10(1 + f / 700)."""
    return 2595.0 * np.log10(1.0 + np.asarray(frequency_hz, dtype=np.float64) / 700.0)


def mel_to_hz_htk(mel: np.ndarray) -> np.ndarray:
    """Inverse of ``hz_to_mel_htk``."""
    return 700.0 * (10.0 ** (np.asarray(mel, dtype=np.float64) / 2595.0) - 1.0)


def mel_filterbank(params: SpectrogramParams) -> np.ndarray:
    """Triangular HTK filters without normalisation, shape [n_mels, n_freqs].

    Same construction as ``torchaudio.functional.melscale_fbanks(norm=None,
    mel_scale="htk")``, which Riffusion used.
    """
    bin_hz = np.linspace(0.0, params.sample_rate_hz / 2, params.n_freqs)
    edges_mel = np.linspace(
        hz_to_mel_htk(params.min_frequency_hz), hz_to_mel_htk(params.max_frequency_hz), params.n_mels + 2
    )
    edges_hz = mel_to_hz_htk(edges_mel)
    widths_hz = np.diff(edges_hz)
    slopes = edges_hz[None, :] - bin_hz[:, None]  # [n_freqs, n_mels + 2]
    rising = -slopes[:, :-2] / widths_hz[:-1]
    falling = slopes[:, 2:] / widths_hz[1:]
    return np.maximum(0.0, np.minimum(rising, falling)).T


def hann_window(params: SpectrogramParams, *, device: torch.device | str = "cpu") -> torch.Tensor:
    """Periodic Hann window of ``win_length`` samples (torch.stft centres it in n_fft)."""
    return torch.hann_window(params.win_length, periodic=True, dtype=torch.float32, device=device)


def stft(audio: torch.Tensor, *, params: SpectrogramParams, window: torch.Tensor) -> torch.Tensor:
    """Complex centred STFT, shape [..., n_freqs, frames]."""
    return torch.stft(
        audio,
        n_fft=params.n_fft,
        hop_length=params.hop_length,
        win_length=params.win_length,
        window=window,
        center=True,
        pad_mode="reflect",
        onesided=True,
        return_complex=True,
    )


def istft(spectrum: torch.Tensor, *, params: SpectrogramParams, window: torch.Tensor, length: int) -> torch.Tensor:
    """Inverse of ``stft`` (least-squares overlap-add), exactly ``length`` samples."""
    return torch.istft(
        spectrum,
        n_fft=params.n_fft,
        hop_length=params.hop_length,
        win_length=params.win_length,
        window=window,
        center=True,
        onesided=True,
        length=length,
    )
