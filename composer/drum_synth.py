"""A small General-MIDI drum synthesiser in numpy (808-style voices).

Each voice is synthesised once per sample rate from a noise generator seeded by
hashing its name, then every hit is a scaled copy placed at an exact sample:
rendering is deterministic bit for bit and a window of a longer rendering
equals the rendering of that window (no state carries from hit to hit).
"""

from __future__ import annotations

import functools
import hashlib
import math
from dataclasses import dataclass

import numpy as np
import pretty_midi

# General MIDI percussion keys the grooves use
KICK = 36
SIDE_STICK = 37
SNARE = 38
CLAP = 39
TOM_FLOOR = 41
CLOSED_HAT = 42
TOM_LOW = 45
PEDAL_HAT = 44
OPEN_HAT = 46
TOM_MID = 47
TOM_HIGH = 50
CRASH = 49
RIDE = 51
RIDE_BELL = 53
TAMBOURINE = 54
COWBELL = 56
SHAKER = 70
CLAVES = 75

#: default gain on the summed voices: a full pop chorus then peaks near 0.45 (RMS about -23 dBFS)
MASTER_GAIN = 0.5
#: the soft limiter is linear below this level ...
LIMIT_KNEE = 0.8
#: ... and never exceeds this one
LIMIT_CEILING = 0.95
#: longest voice tail (crash), so callers know how far back a hit can still sound
MAX_VOICE_S = 2.5

_METAL_HZ = (205.3, 304.4, 369.6, 522.7, 540.0, 800.0)  # the TR-808's six square oscillators
_TOM_HZ = {41: 82.0, 43: 98.0, 45: 110.0, 47: 131.0, 48: 147.0, 50: 175.0}


@dataclass(frozen=True)
class Voice:
    """How one drum sounds; all times in seconds."""

    # synthesis recipe: "kick", "snare", "clap", "rim", "hat", "ride", "bell", "crash", "tom", "shaker", "tone"
    kind: str
    # output level of the voice at velocity 127 (peak of its one-shot)
    level: float
    # exponential amplitude decay constant
    decay_s: float
    # main pitch for tonal voices (kick end pitch, tom, bell, claves)
    pitch_hz: float = 0.0
    # high-pass corner of the noise/metal part (0 = none)
    high_hz: float = 0.0
    # low-pass corner of the noise/metal part (0 = none)
    low_hz: float = 0.0


_VOICES = {
    KICK: Voice("kick", 1.0, 0.16, pitch_hz=48.0),
    35: Voice("kick", 1.0, 0.2, pitch_hz=44.0),
    SIDE_STICK: Voice("rim", 0.5, 0.012, pitch_hz=1700.0, high_hz=2000.0),
    SNARE: Voice("snare", 0.8, 0.09, pitch_hz=185.0, high_hz=1500.0, low_hz=9000.0),
    40: Voice("snare", 0.85, 0.11, pitch_hz=200.0, high_hz=1200.0, low_hz=10000.0),
    CLAP: Voice("clap", 0.65, 0.07, high_hz=800.0, low_hz=5000.0),
    CLOSED_HAT: Voice("hat", 0.35, 0.025, high_hz=7000.0),
    PEDAL_HAT: Voice("hat", 0.25, 0.02, high_hz=6000.0, low_hz=12000.0),
    OPEN_HAT: Voice("hat", 0.35, 0.2, high_hz=6500.0),
    CRASH: Voice("crash", 0.45, 0.55, high_hz=3500.0),
    57: Voice("crash", 0.45, 0.6, high_hz=3000.0),
    RIDE: Voice("ride", 0.3, 0.45, high_hz=3000.0, low_hz=12000.0),
    59: Voice("ride", 0.3, 0.5, high_hz=2800.0, low_hz=11000.0),
    RIDE_BELL: Voice("bell", 0.3, 0.3, pitch_hz=2450.0),
    TAMBOURINE: Voice("shaker", 0.3, 0.07, high_hz=6000.0),
    COWBELL: Voice("tone", 0.3, 0.08, pitch_hz=540.0, high_hz=500.0, low_hz=4000.0),
    69: Voice("shaker", 0.2, 0.03, high_hz=5000.0, low_hz=12000.0),
    SHAKER: Voice("shaker", 0.2, 0.03, high_hz=4000.0, low_hz=12000.0),
    CLAVES: Voice("bell", 0.35, 0.02, pitch_hz=2500.0),
    **{key: Voice("tom", 0.7, 0.22, pitch_hz=hz) for key, hz in _TOM_HZ.items()},
}


def voice_for(pitch: int) -> Voice:
    """The voice a GM drum key plays; keys without their own voice get a short click."""
    if pitch in _VOICES:
        return _VOICES[pitch]
    if pitch in (52, 55):  # china, splash
        return _VOICES[CRASH]
    centre_hz = 200.0 * 2.0 ** ((pitch - 35) / 12.0)
    return Voice("shaker", 0.25, 0.05, high_hz=centre_hz, low_hz=centre_hz * 4.0)


def velocity_gain(velocity: int | np.ndarray) -> np.ndarray:
    """Square-law velocity curve: velocity 127 -> 1.0, 64 -> 0.25."""
    return (np.clip(np.asarray(velocity, dtype=np.float64), 0, 127) / 127.0) ** 2


@functools.lru_cache(maxsize=128)
def one_shot(pitch: int, *, sample_rate_hz: int) -> np.ndarray:
    """The float64 one-shot of a GM drum key at velocity 127 (read-only, cached)."""
    voice = voice_for(pitch)
    rng = np.random.default_rng(_voice_seed(voice))
    sound = _SYNTHS[voice.kind](voice, sample_rate_hz, rng)
    sound = sound / max(float(np.max(np.abs(sound))), 1e-12) * voice.level
    sound.setflags(write=False)
    return sound


def mix_hits(*, onsets_samples: np.ndarray, pitches: np.ndarray, velocities: np.ndarray,
             sample_rate_hz: int, num_samples: int) -> np.ndarray:
    """Sum drum hits into float64 mono audio of exactly ``num_samples`` (no gain, no limiter).

    Onsets are sample indices relative to the first output sample; negative ones
    start before the window and only their tail is heard. Hits are summed in a
    fixed order, so overlapping windows agree sample for sample.
    """
    onsets = np.asarray(onsets_samples, dtype=np.int64)
    order = np.lexsort((np.asarray(pitches), onsets))
    out = np.zeros(num_samples, dtype=np.float64)
    gains = velocity_gain(velocities)
    for i in order:
        sound = one_shot(int(pitches[i]), sample_rate_hz=sample_rate_hz)
        start = int(onsets[i])
        lo, hi = max(start, 0), min(start + sound.size, num_samples)
        if lo < hi:
            out[lo:hi] += gains[i] * sound[lo - start:hi - start]
    return out


def render_hits(*, onsets_samples: np.ndarray, pitches: np.ndarray, velocities: np.ndarray,
                sample_rate_hz: int, num_samples: int, gain: float = MASTER_GAIN) -> np.ndarray:
    """``mix_hits`` times a fixed ``gain`` through the pointwise soft limiter, as float32.

    No per-window normalisation: a window of a longer rendering equals the
    rendering of that window.
    """
    mix = mix_hits(onsets_samples=onsets_samples, pitches=pitches, velocities=velocities,
                   sample_rate_hz=sample_rate_hz, num_samples=num_samples)
    return soft_limit(gain * mix).astype(np.float32)


def render_drums(midi: pretty_midi.PrettyMIDI, *, sample_rate_hz: int, num_samples: int) -> np.ndarray:
    """Render the drum instruments of a MIDI file (notes at round(start * rate)) at ``MASTER_GAIN``."""
    notes = [note for inst in midi.instruments if inst.is_drum for note in inst.notes]
    return render_hits(
        onsets_samples=np.array([round(n.start * sample_rate_hz) for n in notes], dtype=np.int64),
        pitches=np.array([n.pitch for n in notes], dtype=np.int64),
        velocities=np.array([n.velocity for n in notes], dtype=np.int64),
        sample_rate_hz=sample_rate_hz, num_samples=num_samples,
    )


def soft_limit(x: np.ndarray) -> np.ndarray:
    """Identity below ``LIMIT_KNEE``, a tanh curve up to ``LIMIT_CEILING`` above it."""
    span = LIMIT_CEILING - LIMIT_KNEE
    mag = np.abs(x)
    over = mag > LIMIT_KNEE
    limited = np.where(over, LIMIT_KNEE + span * np.tanh((mag - LIMIT_KNEE) / span), mag)
    return np.sign(x) * limited


def _voice_seed(voice: Voice) -> int:
    digest = hashlib.sha256(f"composer.drum_synth:{voice!r}".encode()).digest()
    return int.from_bytes(digest[:8], "little")


def _time(voice: Voice, sample_rate_hz: int, *, min_s: float = 0.03) -> np.ndarray:
    # long enough for the decay to reach -60 dB, capped at MAX_VOICE_S
    length_s = min(max(voice.decay_s * math.log(1000.0), min_s), MAX_VOICE_S)
    return np.arange(int(length_s * sample_rate_hz)) / sample_rate_hz


def _envelope(t: np.ndarray, *, decay_s: float, attack_s: float = 0.0005) -> np.ndarray:
    env = np.exp(-t / decay_s) * np.minimum(1.0, t / attack_s) if attack_s > 0 else np.exp(-t / decay_s)
    fade = min(t.size, max(1, int(0.01 * t.size)))  # last 1 % fades to zero: no click at the cut
    env[-fade:] *= np.linspace(1.0, 0.0, fade)
    return env


def _filtered(x: np.ndarray, *, sample_rate_hz: int, high_hz: float = 0.0, low_hz: float = 0.0) -> np.ndarray:
    """Zero-phase 2nd-order Butterworth magnitude, applied in the frequency domain."""
    if not high_hz and not low_hz:
        return x
    freqs = np.fft.rfftfreq(x.size, 1.0 / sample_rate_hz)
    gain = np.ones_like(freqs)
    if high_hz:
        gain /= np.sqrt(1.0 + (high_hz / np.maximum(freqs, 1e-9)) ** 4)
    if low_hz:
        gain /= np.sqrt(1.0 + (freqs / low_hz) ** 4)
    return np.fft.irfft(np.fft.rfft(x) * gain, n=x.size)


def _metal(t: np.ndarray, *, scale: float = 1.0) -> np.ndarray:
    return sum(np.sign(np.sin(2 * np.pi * hz * scale * t + k)) for k, hz in enumerate(_METAL_HZ))


def _kick(v: Voice, sr: int, rng: np.random.Generator) -> np.ndarray:
    t = _time(v, sr)
    pitch_hz = v.pitch_hz + (160.0 - v.pitch_hz) * np.exp(-t / 0.035)  # fast downward sweep
    body = np.sin(2 * np.pi * np.cumsum(pitch_hz) / sr)
    click = _filtered(rng.standard_normal(t.size), sample_rate_hz=sr, high_hz=2000.0) * np.exp(-t / 0.003)
    return body * _envelope(t, decay_s=v.decay_s) + 0.15 * click


def _snare(v: Voice, sr: int, rng: np.random.Generator) -> np.ndarray:
    t = _time(v, sr, min_s=0.25)
    tone = (np.sin(2 * np.pi * v.pitch_hz * t) + 0.6 * np.sin(2 * np.pi * 1.78 * v.pitch_hz * t))
    noise = _filtered(rng.standard_normal(t.size), sample_rate_hz=sr, high_hz=v.high_hz, low_hz=v.low_hz)
    noise /= np.max(np.abs(noise))
    return 0.6 * tone * _envelope(t, decay_s=0.05) + noise * _envelope(t, decay_s=v.decay_s)


def _clap(v: Voice, sr: int, rng: np.random.Generator) -> np.ndarray:
    t = _time(v, sr, min_s=0.3)
    noise = _filtered(rng.standard_normal(t.size), sample_rate_hz=sr, high_hz=v.high_hz, low_hz=v.low_hz)
    # three quick hand claps, then the room tail
    bursts = sum(np.where(t >= d, np.exp(-(t - d) / 0.004), 0.0) for d in (0.0, 0.011, 0.022))
    tail = np.where(t >= 0.031, 0.7 * np.exp(-np.maximum(t - 0.031, 0) / v.decay_s), 0.0)
    return noise * (bursts + tail) * _envelope(t, decay_s=10.0)


def _rim(v: Voice, sr: int, rng: np.random.Generator) -> np.ndarray:
    t = _time(v, sr, min_s=0.06)
    tone = np.sin(2 * np.pi * v.pitch_hz * t) + 0.5 * np.sin(2 * np.pi * 480.0 * t) * np.exp(-t / 0.02)
    noise = _filtered(rng.standard_normal(t.size), sample_rate_hz=sr, high_hz=v.high_hz)
    return tone * _envelope(t, decay_s=v.decay_s) + 0.3 * noise * np.exp(-t / 0.003)


def _hat(v: Voice, sr: int, rng: np.random.Generator) -> np.ndarray:
    t = _time(v, sr)
    source = 0.6 * _metal(t, scale=1.0) / 6 + 0.4 * rng.standard_normal(t.size)
    return _filtered(source, sample_rate_hz=sr, high_hz=v.high_hz, low_hz=v.low_hz) * _envelope(t, decay_s=v.decay_s)


def _ride(v: Voice, sr: int, rng: np.random.Generator) -> np.ndarray:
    t = _time(v, sr)
    source = 0.7 * _metal(t, scale=2.3) / 6 + 0.3 * rng.standard_normal(t.size)
    shimmer = _filtered(source, sample_rate_hz=sr, high_hz=v.high_hz, low_hz=v.low_hz)
    ping = np.sin(2 * np.pi * 3100.0 * t) * np.exp(-t / 0.08)  # the stick's ping
    return (shimmer + 0.3 * ping) * _envelope(t, decay_s=v.decay_s, attack_s=0.001)


def _bell(v: Voice, sr: int, rng: np.random.Generator) -> np.ndarray:
    t = _time(v, sr, min_s=0.08)
    partials = sum(a * np.sin(2 * np.pi * v.pitch_hz * r * t) for a, r in ((1.0, 1.0), (0.5, 1.5), (0.3, 2.76)))
    return partials * _envelope(t, decay_s=v.decay_s)


def _crash(v: Voice, sr: int, rng: np.random.Generator) -> np.ndarray:
    t = _time(v, sr)
    source = 0.5 * _metal(t, scale=3.1) / 6 + 0.5 * rng.standard_normal(t.size)
    return _filtered(source, sample_rate_hz=sr, high_hz=v.high_hz) * _envelope(t, decay_s=v.decay_s, attack_s=0.002)


def _tom(v: Voice, sr: int, rng: np.random.Generator) -> np.ndarray:
    t = _time(v, sr)
    pitch_hz = v.pitch_hz * (1.0 + 0.5 * np.exp(-t / 0.04))
    body = np.sin(2 * np.pi * np.cumsum(pitch_hz) / sr)
    skin = _filtered(rng.standard_normal(t.size), sample_rate_hz=sr, high_hz=1000.0) * np.exp(-t / 0.01)
    return body * _envelope(t, decay_s=v.decay_s) + 0.1 * skin


def _shaker(v: Voice, sr: int, rng: np.random.Generator) -> np.ndarray:
    t = _time(v, sr, min_s=0.1)
    noise = _filtered(rng.standard_normal(t.size), sample_rate_hz=sr, high_hz=v.high_hz, low_hz=v.low_hz)
    return noise * _envelope(t, decay_s=v.decay_s, attack_s=0.008)


def _tone(v: Voice, sr: int, rng: np.random.Generator) -> np.ndarray:
    t = _time(v, sr, min_s=0.15)
    squares = np.sign(np.sin(2 * np.pi * v.pitch_hz * t)) + np.sign(np.sin(2 * np.pi * v.pitch_hz * 1.48 * t))
    return _filtered(squares, sample_rate_hz=sr, high_hz=v.high_hz, low_hz=v.low_hz) * _envelope(t, decay_s=v.decay_s)


_SYNTHS = {
    "kick": _kick, "snare": _snare, "clap": _clap, "rim": _rim, "hat": _hat, "ride": _ride,
    "bell": _bell, "crash": _crash, "tom": _tom, "shaker": _shaker, "tone": _tone,
}
