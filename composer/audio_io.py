"""Reading and writing audio files (WAV), atomically."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from composer.errors import OutlineError
from composer.files import write_atomic


def to_int16(audio: np.ndarray) -> np.ndarray:
    """Float audio in [-1, 1] -> 16-bit PCM (clipped, rounded half to even)."""
    return np.clip(np.round(np.asarray(audio, dtype=np.float64) * 32767.0), -32768, 32767).astype(np.int16)


def write_wav_16bit(path: Path, audio: np.ndarray, *, sample_rate_hz: int) -> None:
    """Write mono 16-bit PCM WAV via a temporary file."""
    pcm = to_int16(audio)
    write_atomic(Path(path), lambda tmp: sf.write(str(tmp), pcm, sample_rate_hz, subtype="PCM_16", format="WAV"))


def read_wav_mono(path: Path, *, sample_rate_hz: int) -> np.ndarray:
    """Read any soundfile-readable file as mono float32 at ``sample_rate_hz``."""
    import librosa

    try:
        audio, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        raise OutlineError(f"{path}: cannot read audio ({exc}); a WAV/FLAC/OGG file is expected") from None
    mono = audio.mean(axis=1)
    if rate != sample_rate_hz:
        mono = librosa.resample(mono, orig_sr=rate, target_sr=sample_rate_hz)
    return mono.astype(np.float32)
