"""Linear STFT magnitude and the HTK mel filterbank (torchaudio-compatible)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from composer.codec.params import SpectrogramParams
from composer.dsp.mel_scale import triangular_mel_filters


def mel_filterbank(params: SpectrogramParams) -> np.ndarray:
    """Triangular HTK filters without normalisation, shape [n_mels, n_freqs].

    Same construction as ``torchaudio.functional.melscale_fbanks(norm=None,
    mel_scale="htk")``, which Riffusion used.
    """
    return triangular_mel_filters(sample_rate_hz=params.sample_rate_hz, n_freqs=params.n_freqs, n_mels=params.n_mels,
                                  min_frequency_hz=params.min_frequency_hz, max_frequency_hz=params.max_frequency_hz)


def hann_window(params: SpectrogramParams, *, device: torch.device | str = "cpu") -> torch.Tensor:
    """Periodic Hann window of ``win_length`` samples."""
    return torch.hann_window(params.win_length, periodic=True, dtype=torch.float32, device=device)


def window_offset(params: SpectrogramParams) -> int:
    """Samples from a window's first sample to its frame centre, as torch.stft places it."""
    return params.n_fft // 2 - (params.n_fft - params.win_length) // 2


def min_stft_samples(params: SpectrogramParams) -> int:
    """Shortest signal the centred STFT accepts (reflect padding must be shorter than it)."""
    return max(window_offset(params), params.win_length - window_offset(params)) + 1


def stft(audio: torch.Tensor, *, params: SpectrogramParams, window: torch.Tensor) -> torch.Tensor:
    """Complex centred STFT [..., samples] -> [..., n_freqs, frames] (a view of ``stft_frames``)."""
    return stft_frames(audio, params=params, window=window).transpose(-1, -2)


def istft(spectrum: torch.Tensor, *, params: SpectrogramParams, window: torch.Tensor,
          num_samples: int) -> torch.Tensor:
    """Inverse of ``stft``: [..., n_freqs, frames] -> [..., num_samples]."""
    return istft_frames(spectrum.transpose(-1, -2).contiguous(), params=params, window=window,
                        num_samples=num_samples)


def stft_frames(audio: torch.Tensor, *, params: SpectrogramParams, window: torch.Tensor) -> torch.Tensor:
    """Centred STFT, frame-major: [..., samples] -> contiguous [..., frames, n_freqs].

    Magnitudes equal ``torch.stft(center=True, pad_mode="reflect")``'s, but
    only the ``win_length`` non-zero samples of each frame are framed and
    windowed (the FFT zero-pads to n_fft), and frames stay rows, which keeps
    the FFTs contiguous: about twice as fast for Riffusion's 4x padding.
    Phases use the window start as origin; ``istft_frames`` matches it.
    """
    offset = window_offset(params)
    batch = audio.reshape(-1, 1, audio.shape[-1])
    padded = F.pad(batch, (offset, params.win_length - offset), mode="reflect")[:, 0]
    frames = padded.unfold(-1, params.win_length, params.hop_length) * window
    spectrum = torch.fft.rfft(frames, n=params.n_fft)
    return spectrum.reshape(*audio.shape[:-1], *spectrum.shape[-2:])


def istft_frames(
    spectrum: torch.Tensor, *, params: SpectrogramParams, window: torch.Tensor, num_samples: int
) -> torch.Tensor:
    """Least-squares inverse of ``stft_frames`` (windowed overlap-add), exactly ``num_samples`` samples."""
    num_frames = spectrum.shape[-2]
    batch = spectrum.reshape(-1, *spectrum.shape[-2:])
    frames = torch.fft.irfft(batch, n=params.n_fft)[..., : params.win_length] * window
    total = (num_frames - 1) * params.hop_length + params.win_length
    envelope = window_envelope(window, num_frames=num_frames, params=params, num_samples=total)
    audio = overlap_add(frames, params=params, num_samples=total) / envelope.clamp_min(1e-11)
    offset = window_offset(params)
    if offset + num_samples > total:
        raise ValueError(f"{num_frames} frames cover {total - offset} samples, not {num_samples}")
    return audio[:, offset : offset + num_samples].reshape(*spectrum.shape[:-2], num_samples)


def overlap_add(frames: torch.Tensor, *, params: SpectrogramParams, num_samples: int) -> torch.Tensor:
    """[batch, frames, win_length] -> [batch, num_samples] summed at hop spacing.

    Each frame is cut into ceil(win_length / hop) chunks of one hop; chunk k of frame t lands on the
    output's hop-long block t + k, so the whole sum is that many shifted block additions. (``F.fold``
    did the same through col2im and a transposed copy: over half of Griffin-Lim's time.)
    """
    return _overlap_add_blocks(frames, num_frames=frames.shape[-2], params=params, num_samples=num_samples)


def window_envelope(window: torch.Tensor, *, num_frames: int, params: SpectrogramParams,
                    num_samples: int) -> torch.Tensor:
    """[1, num_samples]: the squared window overlap-added over ``num_frames`` frames (the iSTFT's normaliser)."""
    return _overlap_add_blocks((window**2)[None, None], num_frames=num_frames, params=params, num_samples=num_samples)


def _overlap_add_blocks(frames: torch.Tensor, *, num_frames: int, params: SpectrogramParams,
                        num_samples: int) -> torch.Tensor:
    """``overlap_add`` of [batch, num_frames or 1 (the same frame each time), win_length] frames."""
    hop = params.hop_length
    width = frames.shape[-1]
    chunks = -(-width // hop)
    if chunks * hop != width:
        frames = F.pad(frames, (0, chunks * hop - width))
    blocks = frames.reshape(frames.shape[0], frames.shape[1], chunks, hop)
    summed = frames.new_zeros(frames.shape[0], num_frames + chunks - 1, hop)
    for k in range(chunks):
        summed[:, k:k + num_frames] += blocks[:, :, k]
    flat = summed.reshape(frames.shape[0], -1)
    if flat.shape[-1] < num_samples:
        flat = F.pad(flat, (0, num_samples - flat.shape[-1]))
    return flat[:, :num_samples]
