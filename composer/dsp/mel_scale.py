"""The HTK mel scale, triangular mel filters and a magnitude STFT in plain numpy.

The codec builds its filterbank here; the song picture draws its spectrogram with these too, so writing a
song never pays librosa's first-call imports (numba and friends, about a second in a fresh process).
"""

from __future__ import annotations

import numpy as np


def hz_to_mel_htk(frequency_hz: np.ndarray | float) -> np.ndarray:
    """HTK mel scale: 2595 * log10(1 + f / 700)."""
    return 2595.0 * np.log10(1.0 + np.asarray(frequency_hz, dtype=np.float64) / 700.0)


def mel_to_hz_htk(mel: np.ndarray | float) -> np.ndarray:
    """Inverse of ``hz_to_mel_htk``."""
    return 700.0 * (10.0 ** (np.asarray(mel, dtype=np.float64) / 2595.0) - 1.0)


def triangular_mel_filters(*, sample_rate_hz: int, n_freqs: int, n_mels: int, min_frequency_hz: float,
                           max_frequency_hz: float) -> np.ndarray:
    """Unnormalised triangular filters on the HTK scale over ``n_freqs`` bins from 0 to Nyquist, shape
    [n_mels, n_freqs] (the construction of torchaudio's ``melscale_fbanks(norm=None, mel_scale="htk")``)."""
    bin_hz = np.linspace(0.0, sample_rate_hz / 2, n_freqs)
    edges_hz = mel_to_hz_htk(np.linspace(hz_to_mel_htk(min_frequency_hz), hz_to_mel_htk(max_frequency_hz),
                                         n_mels + 2))
    widths_hz = np.diff(edges_hz)
    slopes = edges_hz[None, :] - bin_hz[:, None]  # [n_freqs, n_mels + 2]
    rising = -slopes[:, :-2] / widths_hz[:-1]
    falling = slopes[:, 2:] / widths_hz[1:]
    return np.maximum(0.0, np.minimum(rising, falling)).T


def power_spectrogram(audio: np.ndarray, *, n_fft: int, hop_samples: int) -> np.ndarray:
    """|STFT|^2 with a periodic Hann window, frames centred on multiples of ``hop_samples`` (zero padding at
    the ends), shape [n_fft // 2 + 1, frames]."""
    padded = np.pad(np.asarray(audio, dtype=np.float32), n_fft // 2)
    if padded.size < n_fft:
        padded = np.pad(padded, (0, n_fft - padded.size))
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop_samples]
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)).astype(np.float32)
    return (np.abs(np.fft.rfft(frames * window, axis=1)) ** 2).T
