"""Reading and writing audio files, atomically. Groove files are read as WAV, FLAC or OGG."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from composer.errors import OutlineError
from composer.files import write_atomic

#: what a groove file may be, in every message that says so
GROOVE_FORMATS = "a WAV, FLAC or OGG file"
#: frames per read when mixing a file down to mono: a few MB at most, whatever the file's length
BLOCK_FRAMES = 1 << 16
#: sample formats libsndfile decodes sample by sample (uncompressed PCM/float, also inside FLAC), so a file read
#: in blocks gives the bytes a whole-file read gives. Lossy codecs do not (Opus decodes its last frames, MP3 whole
#: stretches, differently when read in blocks): those are read whole, as before, so no clip cache key changes.
_BLOCKWISE_SUBTYPES = frozenset({"PCM_S8", "PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE"})


def to_int16(audio: np.ndarray) -> np.ndarray:
    """Float audio in [-1, 1] -> 16-bit PCM (clipped, rounded half to even)."""
    scaled = np.asarray(audio, dtype=np.float64) * 32767.0  # one float64 temporary, rounded and clipped in place
    np.round(scaled, out=scaled)
    np.clip(scaled, -32768, 32767, out=scaled)
    return scaled.astype(np.int16)


def write_wav_16bit(path: Path, audio: np.ndarray, *, sample_rate_hz: int) -> None:
    """Write mono 16-bit PCM WAV via a temporary file."""
    pcm = to_int16(audio)
    write_atomic(Path(path), lambda tmp: sf.write(str(tmp), pcm, sample_rate_hz, subtype="PCM_16", format="WAV"))


def read_wav_mono(path: Path, *, sample_rate_hz: int) -> np.ndarray:
    """Read a WAV, FLAC or OGG file as mono float32 (the mean of its channels) at ``sample_rate_hz``.

    An unreadable file, an MP3 or NaN/inf samples raise OutlineError naming the file, before any resampling."""
    mono, rate_hz = _read_mono(Path(path))
    if not np.isfinite(mono).all():
        raise OutlineError(f"{path}: has NaN or infinite samples; a groove must be {GROOVE_FORMATS} of finite audio")
    if rate_hz != sample_rate_hz:
        mono = _resampled(mono, path=path, from_hz=rate_hz, to_hz=sample_rate_hz)
    return mono.astype(np.float32, copy=False)


def _read_mono(path: Path) -> tuple[np.ndarray, int]:
    if path.suffix.lower() == ".mp3":
        raise _mp3_refused(path)
    try:
        with sf.SoundFile(str(path)) as f:
            if f.format == "MP3":  # MPEG data under another name
                raise _mp3_refused(path)
            with np.errstate(invalid="ignore", over="ignore"):  # inf - inf: read_wav_mono says so, no warning
                mono = _mix_in_blocks(f) if f.subtype in _BLOCKWISE_SUBTYPES else f.read(
                    dtype="float32", always_2d=True).mean(axis=1)
            return mono, f.samplerate
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        raise OutlineError(f"{path}: cannot read audio ({exc}); {GROOVE_FORMATS} is expected") from None


def _mp3_refused(path: Path) -> OutlineError:
    # libsndfile decodes MP3 differently depending on how it is read, so a loop (and every clip cache key)
    # would not be stable
    return OutlineError(f"{path}: MP3 is not accepted as a groove (it does not decode the same way every time); "
                        f"convert it to {GROOVE_FORMATS}")


def _mix_in_blocks(f: sf.SoundFile) -> np.ndarray:
    """``f.read(dtype="float32", always_2d=True).mean(axis=1)`` without the (frames, channels) array: one
    float32 array for the mix, filled a block at a time."""
    mono = np.empty(f.frames, dtype=np.float32)
    block = np.empty((min(BLOCK_FRAMES, f.frames), f.channels), dtype=np.float32)
    done = 0
    while done < mono.size:
        got = f.read(dtype="float32", always_2d=True, out=block[:mono.size - done])
        if not len(got):
            break  # the data ends before the header says: keep what is there, as a whole read does
        # the mean even of one channel, as before: it turns -0.0 into +0.0, and the clip cache keys hash the bytes
        np.mean(got, axis=1, out=mono[done:done + len(got)])
        done += len(got)
    return mono[:done]


def _resampled(mono: np.ndarray, *, path: Path, from_hz: int, to_hz: int) -> np.ndarray:
    import librosa

    try:
        return librosa.resample(mono, orig_sr=from_hz, target_sr=to_hz)
    except librosa.ParameterError as exc:
        raise OutlineError(f"{path}: cannot resample from {from_hz} Hz to {to_hz} Hz ({exc}); "
                           f"a groove must be {GROOVE_FORMATS} of finite audio") from None
