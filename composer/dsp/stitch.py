"""Join clips on bar lines with crossfades centred on each joint.

Equal-power fades for clips that are different sounds; linear (equal-gain)
fades where the next clip continues the previous one and both play the same
audio across the fade, which an equal-power fade would swell by 3 dB.

Every output sample depends only on the clips that overlap it, so replacing
one clip changes only the samples inside its span plus half a fade either side.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np


@dataclass(frozen=True)
class ClipPlacement:
    """Where one rendered clip goes on the song timeline."""

    # first sample of the nominal span (a bar line)
    start_sample: int
    # one past the last sample of the nominal span (the next bar line)
    end_sample: int
    # the rendered audio starts this many samples before start_sample
    pad_samples: int


def equal_power_fade(*, num_samples: int) -> tuple[np.ndarray, np.ndarray]:
    """(fade_out, fade_in) of ``num_samples`` samples with fade_out**2 + fade_in**2 == 1."""
    theta = (np.arange(num_samples, dtype=np.float64) + 0.5) / max(num_samples, 1) * (np.pi / 2)
    return np.cos(theta), np.sin(theta)


def linear_fade(*, num_samples: int) -> tuple[np.ndarray, np.ndarray]:
    """(fade_out, fade_in) of ``num_samples`` samples with fade_out + fade_in == 1."""
    fade_in = (np.arange(num_samples, dtype=np.float64) + 0.5) / max(num_samples, 1)
    return 1.0 - fade_in, fade_in


def fade_window(*, joint_sample: int, fade_samples: int) -> tuple[int, int]:
    """[start, stop) of a crossfade centred on ``joint_sample``."""
    start = joint_sample - fade_samples // 2
    return start, start + fade_samples


def stitch_clips(
    clips: Sequence[np.ndarray],
    placements: Sequence[ClipPlacement],
    *,
    joint_fade_samples: Sequence[int],
    total_samples: int,
    coherent_joints: Sequence[bool] | None = None,
) -> np.ndarray:
    """Overlap-add clips with a crossfade of ``joint_fade_samples[i]`` samples between clip i and i+1.

    ``coherent_joints[i]`` (default all False) makes that crossfade linear: clip i+1 continues clip i.
    """
    joint_fades = joint_fade_samples
    coherent = [False] * len(joint_fades) if coherent_joints is None else list(coherent_joints)
    if (len(clips) != len(placements) or len(joint_fades) != max(0, len(clips) - 1)
            or len(coherent) != len(joint_fades)):
        raise ValueError("need one placement per clip and one fade (and coherence flag) per joint")
    song = np.zeros(total_samples, dtype=np.float64)
    for i, (audio, place) in enumerate(zip(clips, placements)):
        expected = place.end_sample - place.start_sample + 2 * place.pad_samples
        if audio.shape != (expected,):
            raise ValueError(f"clip {i} has {audio.shape} samples, expected ({expected},)")
        fade_in = joint_fades[i - 1] if i > 0 else 0
        fade_out = joint_fades[i] if i < len(clips) - 1 else 0
        if max(fade_in, fade_out) > 2 * place.pad_samples:  # a centred fade reaches ceil(fade / 2) past the joint
            raise ValueError(f"clip {i}: fades longer than twice the padding ({place.pad_samples})")
        add_clip(song, audio.astype(np.float64), place, fade_in_samples=fade_in, fade_out_samples=fade_out,
                 linear_in=i > 0 and coherent[i - 1], linear_out=i < len(clips) - 1 and coherent[i])
    return song


def add_clip(song: np.ndarray, audio: np.ndarray, place: ClipPlacement, *, fade_in_samples: int,
             fade_out_samples: int, linear_in: bool = False, linear_out: bool = False) -> None:
    """Overlap-add one faded clip into ``song`` in place (what ``stitch_clips`` does for each clip).

    At most two clips overlap at any sample, and IEEE addition of two terms is
    commutative, so adding clips one by one in any order gives the same song bit for bit.
    """
    fade_in, fade_out = fade_in_samples, fade_out_samples
    origin = place.start_sample - place.pad_samples  # song sample of audio[0]
    lo = fade_window(joint_sample=place.start_sample, fade_samples=fade_in)[0] if fade_in else place.start_sample
    hi = fade_window(joint_sample=place.end_sample, fade_samples=fade_out)[1] if fade_out else place.end_sample
    lo, hi = max(lo, 0), min(hi, song.size)
    weights = np.ones(hi - lo, dtype=np.float64)
    if fade_in:
        start, stop = fade_window(joint_sample=place.start_sample, fade_samples=fade_in)
        _, ramp = (linear_fade if linear_in else equal_power_fade)(num_samples=fade_in)
        _apply(weights, ramp, start - lo, stop - lo)
    if fade_out:
        start, stop = fade_window(joint_sample=place.end_sample, fade_samples=fade_out)
        ramp, _ = (linear_fade if linear_out else equal_power_fade)(num_samples=fade_out)
        _apply(weights, ramp, start - lo, stop - lo)
    song[lo:hi] += audio[lo - origin:hi - origin] * weights


def _apply(weights: np.ndarray, ramp: np.ndarray, start: int, stop: int) -> None:
    """Multiply weights[start:stop] by ramp, clipped to the array."""
    a, b = max(start, 0), min(stop, weights.size)
    if a < b:
        weights[a:b] *= ramp[a - start:b - start]


def declick_edges(song: np.ndarray, *, fade_samples: int) -> np.ndarray:
    """Short fade-in at the first and fade-out at the last sample so the song never starts with a click."""
    out = song.copy()
    n = min(fade_samples, out.size // 2)
    if n > 0:
        ramp = np.sin((np.arange(n) + 0.5) / n * (np.pi / 2))
        out[:n] *= ramp
        out[-n:] *= ramp[::-1]
    return out


def splice_prefix(audio: np.ndarray, prefix: np.ndarray, *, keep_samples: int, fade_samples: int) -> np.ndarray:
    """``audio`` that starts as ``prefix`` exactly for ``keep_samples``, then fades linearly into itself.

    For a clip that continues known audio: its head is the known audio sample for
    sample, so the song's crossfade there mixes a sound with itself. The fade is
    linear, not equal-power, because by then both signals are meant to be the
    same sound in phase (equal power would swell by up to 3 dB).
    """
    fade_samples = min(fade_samples, prefix.size, audio.size)  # a prefix shorter than a fade (crossfade 0)
    keep = max(0, min(keep_samples, prefix.size - fade_samples, audio.size - fade_samples))
    out = np.array(audio, dtype=np.float32, copy=True)
    out[:keep] = prefix[:keep]
    fade_out, fade_in = linear_fade(num_samples=fade_samples)
    out[keep:keep + fade_samples] = (fade_out * prefix[keep:keep + fade_samples]
                                     + fade_in * audio[keep:keep + fade_samples]).astype(np.float32)
    return out
