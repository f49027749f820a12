"""Render arrangements with a General MIDI soundfont, mix them and level the clips.

Two engines: fluidsynth (through pyfluidsynth; the corpus build uses it with
FluidR3_GM) and tinysoundfont (pure pip, used by the tests with the TimGM6mb
soundfont that pretty_midi bundles). Every part is rendered on a fresh synth so
the audio depends only on the part, never on what was rendered before.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pretty_midi
import scipy.signal
import soundfile

from composer.errors import RenderError

from .arrangement import Arrangement
from .seeds import derive_seed

FLUIDR3_PATH = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
DRUM_CHANNEL = 9

# Target level of each part before mixing (active RMS, dBFS): the lead and the
# drums sit on top, pads underneath.
ROLE_LEVEL_DB = {"drums": -14.0, "bass": -17.0, "chords": -20.0, "pad": -23.0, "arp": -22.0, "timpani": -21.0, "lead": -16.0}
# Fraction of the style's reverb send each role gets (bass stays dry).
ROLE_REVERB_SEND = {"drums": 0.3, "bass": 0.0, "chords": 1.0, "pad": 1.0, "arp": 1.0, "timpani": 0.8, "lead": 1.0}


@dataclass(frozen=True)
class Soundfont:
    """A soundfont file and the engine that plays it."""

    # path of the .sf2 file
    path: Path
    # "fluidsynth" or "tinysoundfont"
    engine: str


@dataclass(frozen=True)
class Loudness:
    """How finished clips are levelled."""

    # RMS every clip is scaled to, in dBFS (a fixed target, not per-clip peak)
    target_rms_dbfs: float = -20.0
    # samples above this magnitude go through a soft limiter
    limiter_threshold: float = 0.6
    # the limiter never exceeds this magnitude
    ceiling: float = 0.98


def bundled_soundfont_path() -> Path:
    """The small TimGM6mb General MIDI soundfont shipped inside pretty_midi."""
    return Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"


def fluidsynth_available() -> bool:
    """True when pyfluidsynth imports and finds libfluidsynth."""
    try:
        import fluidsynth  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


def choose_soundfont(*, path: str | os.PathLike | None = None, engine: str = "auto") -> Soundfont:
    """Pick the soundfont and engine: FluidR3_GM + fluidsynth if present, else TimGM6mb + tinysoundfont."""
    if engine not in ("auto", "fluidsynth", "tinysoundfont"):
        raise RenderError(f"engine must be auto, fluidsynth or tinysoundfont, got {engine!r}")
    if engine == "auto":
        engine = "fluidsynth" if fluidsynth_available() and (path is not None or FLUIDR3_PATH.exists()) else "tinysoundfont"
    if engine == "fluidsynth" and not fluidsynth_available():
        raise RenderError("engine fluidsynth needs pyfluidsynth and libfluidsynth (apt-get install libfluidsynth3)")
    if path is None:
        path = FLUIDR3_PATH if engine == "fluidsynth" else bundled_soundfont_path()
    path = Path(path)
    if not path.is_file():
        raise RenderError(f"soundfont {path} does not exist")
    return Soundfont(path=path, engine=engine)


def file_sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _events(midi: pretty_midi.Instrument, *, sample_rate_hz: int, num_samples: int) -> list[tuple[int, int, int, int]]:
    """(sample, is_on, pitch, velocity) sorted with note-offs before note-ons at a tie."""
    events = []
    for note in midi.notes:
        on = int(round(note.start * sample_rate_hz))
        if on >= num_samples:
            continue
        events.append((on, 1, note.pitch, note.velocity))
        events.append((min(int(round(note.end * sample_rate_hz)), num_samples), 0, note.pitch, 0))
    return sorted(events)


def _render_fluidsynth(midi: pretty_midi.Instrument, *, path: Path, sample_rate_hz: int, num_samples: int) -> np.ndarray:
    import fluidsynth

    write_float = fluidsynth._fl.fluid_synth_write_float
    write_float.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
    write_float.restype = ctypes.c_int
    settings = {"synth.reverb.active": 0, "synth.chorus.active": 0, "synth.dynamic-sample-loading": 1}
    synth = fluidsynth.Synth(gain=0.5, samplerate=float(sample_rate_hz), **settings)
    try:
        sfid = synth.sfload(str(path))
        if sfid < 0:
            raise RenderError(f"fluidsynth could not load soundfont {path}")
        channel = DRUM_CHANNEL if midi.is_drum else 0
        bank = 128 if midi.is_drum else 0
        if synth.program_select(channel, sfid, bank, midi.program) != 0:
            synth.program_select(channel, sfid, bank, 0)
        left = np.zeros(num_samples, np.float32)
        right = np.zeros(num_samples, np.float32)
        cursor = 0

        def advance(to: int) -> None:
            nonlocal cursor
            if to > cursor:
                offset = cursor * 4
                write_float(synth.synth, to - cursor, left.ctypes.data + offset, 0, 1, right.ctypes.data + offset, 0, 1)
                cursor = to

        for sample, is_on, pitch, velocity in _events(midi, sample_rate_hz=sample_rate_hz, num_samples=num_samples):
            advance(sample)
            if is_on:
                synth.noteon(channel, pitch, velocity)
            else:
                synth.noteoff(channel, pitch)
        advance(num_samples)
    finally:
        synth.delete()
    return 0.5 * (left + right)


@functools.lru_cache(maxsize=2)
def _soundfont_bytes(path: Path) -> bytes:
    return path.read_bytes()


def _render_tinysoundfont(midi: pretty_midi.Instrument, *, path: Path, sample_rate_hz: int, num_samples: int) -> np.ndarray:
    import tinysoundfont

    synth = tinysoundfont.Synth(samplerate=sample_rate_hz)
    sfid = synth.sfload(_soundfont_bytes(path))
    channel = DRUM_CHANNEL if midi.is_drum else 0
    bank = 128 if midi.is_drum else 0
    try:
        synth.program_select(channel, sfid, bank, midi.program, is_drums=midi.is_drum)
    except Exception:  # tinysoundfont raises its own error for a missing preset
        synth.program_select(channel, sfid, bank, 0, is_drums=midi.is_drum)
    chunks = []
    cursor = 0
    for sample, is_on, pitch, velocity in _events(midi, sample_rate_hz=sample_rate_hz, num_samples=num_samples) + [(num_samples, -1, 0, 0)]:
        if sample > cursor:
            chunks.append(np.frombuffer(synth.generate(sample - cursor), dtype=np.float32).copy())
            cursor = sample
        if is_on == 1:
            synth.noteon(channel, pitch, velocity)
        elif is_on == 0:
            synth.noteoff(channel, pitch)
    stereo = np.concatenate(chunks).reshape(-1, 2) if chunks else np.zeros((num_samples, 2), np.float32)
    return stereo.mean(axis=1)


def render_part(midi: pretty_midi.Instrument, *, soundfont: Soundfont, sample_rate_hz: int, num_samples: int) -> np.ndarray:
    """Mono float32 rendering of one part, exactly ``num_samples`` long."""
    render = _render_fluidsynth if soundfont.engine == "fluidsynth" else _render_tinysoundfont
    audio = render(midi, path=soundfont.path, sample_rate_hz=sample_rate_hz, num_samples=num_samples)
    if audio.shape != (num_samples,) or not np.all(np.isfinite(audio)):
        raise RenderError(f"{soundfont.engine} rendered {audio.shape} samples for part {midi.name}, expected {num_samples} finite")
    return audio.astype(np.float32)


def active_rms(audio: np.ndarray, *, sample_rate_hz: int, frame_ms: float = 50.0) -> float:
    """RMS over the frames within 40 dB of the loudest one (ignores rests)."""
    frame = max(1, int(sample_rate_hz * frame_ms / 1000))
    n = len(audio) // frame * frame
    if n == 0:
        return 0.0
    energy = np.mean(audio[:n].astype(np.float64).reshape(-1, frame) ** 2, axis=1)
    if energy.max() <= 0:
        return 0.0
    active = energy[energy >= energy.max() * 1e-4]
    return float(np.sqrt(active.mean()))


def room_impulse(*, decay_s: float, sample_rate_hz: int, rng: np.random.Generator) -> np.ndarray:
    """A unit-energy synthetic room response: 20 ms pre-delay, decaying darkened noise."""
    n = int(decay_s * sample_rate_hz)
    t = np.arange(n) / sample_rate_hz
    noise = rng.standard_normal(n) * np.exp(-6.9 * t / decay_s)
    pole = np.exp(-2 * np.pi * 4000.0 / sample_rate_hz)
    tail = scipy.signal.lfilter([1 - pole], [1, -pole], noise)
    impulse = np.concatenate([np.zeros(int(0.02 * sample_rate_hz)), tail])
    return (impulse / np.sqrt(np.sum(impulse**2))).astype(np.float32)


def normalise_loudness(audio: np.ndarray, *, loudness: Loudness) -> np.ndarray:
    """Scale to the fixed RMS target, then soft-limit peaks under the ceiling."""
    rms = float(np.sqrt(np.mean(audio.astype(np.float64) ** 2)))
    if rms < 1e-6:
        raise RenderError(f"clip is silent (RMS {rms:.2e}); nothing to level")
    scaled = audio * (10 ** (loudness.target_rms_dbfs / 20) / rms)
    t, c = loudness.limiter_threshold, loudness.ceiling
    magnitude = np.abs(scaled)
    over = magnitude > t
    scaled[over] = np.sign(scaled[over]) * (t + (c - t) * np.tanh((magnitude[over] - t) / (c - t)))
    return scaled.astype(np.float32)


def render_stems(arrangement: Arrangement, *, soundfont: Soundfont, sample_rate_hz: int, num_samples: int) -> dict[str, np.ndarray]:
    """Every part rendered and levelled to its role's target (with a small seeded variation)."""
    stems = {}
    for part in arrangement.parts:
        audio = render_part(part.midi, soundfont=soundfont, sample_rate_hz=sample_rate_hz, num_samples=num_samples)
        level = active_rms(audio, sample_rate_hz=sample_rate_hz)
        if level <= 0:
            continue  # a part with no sounding note in range (e.g. a preset missing from the font)
        rng = np.random.default_rng(derive_seed(arrangement.seed, "mix", part.role))
        target_db = ROLE_LEVEL_DB[part.role] + float(rng.uniform(-2.0, 2.0))
        stems[part.role] = audio * np.float32(10 ** (target_db / 20) / level)
    return stems


def render_clips(
    arrangement: Arrangement, *, soundfont: Soundfont, sample_rate_hz: int, clip_samples: int, loudness: Loudness = Loudness()
) -> list[np.ndarray]:
    """One levelled mono float32 clip per ClipPlan, each exactly ``clip_samples`` long."""
    starts = [int(round(c.start_bar * arrangement.bar_s * sample_rate_hz)) for c in arrangement.clips]
    total = max(starts) + clip_samples
    stems = render_stems(arrangement, soundfont=soundfont, sample_rate_hz=sample_rate_hz, num_samples=total)
    impulse = room_impulse(
        decay_s=arrangement.reverb_decay_s, sample_rate_hz=sample_rate_hz,
        rng=np.random.default_rng(derive_seed(arrangement.seed, "reverb")),
    )
    clips = []
    for plan, start in zip(arrangement.clips, starts):
        dry = np.zeros(total, np.float32)
        send = np.zeros(total, np.float32)
        for role in plan.roles:
            if role in stems:
                dry += stems[role]
                send += stems[role] * np.float32(ROLE_REVERB_SEND[role])
        wet = scipy.signal.fftconvolve(send, impulse)[:total].astype(np.float32)
        mix = dry + np.float32(arrangement.reverb_wet) * wet
        clips.append(normalise_loudness(mix[start : start + clip_samples], loudness=loudness))
    return clips


def write_wav_atomic(path: str | os.PathLike, audio: np.ndarray, *, sample_rate_hz: int) -> None:
    """Write 16-bit PCM through a temporary file in the same folder, then rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".wav.tmp", dir=path.parent)
    os.close(handle)
    try:
        soundfile.write(temp, audio, sample_rate_hz, subtype="PCM_16", format="WAV")
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
