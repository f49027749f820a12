"""Join clips on bar lines with crossfades centred on each joint.

Two fade laws. ``matched`` (what songs are rendered with) sets each crossfade's gains from the two clips'
correlation and levels over the fade, so the mix holds the power the two clips interpolate: an
equal-power fade for unrelated clips, equal-gain for a clip that continues the previous one, and in
between for clips that share a groove (an equal-power fade swelled such joints by up to 1.7 dB, and
dipped anti-correlated ones by up to 2.2 dB). ``fixed`` (takes made before it, kept so that regenerating
one changes no other joint) is equal-power, or linear where a clip continues the previous one.

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


FADE_LAWS = ("matched", "fixed")
# correlations below this count as this one: an anti-correlated pair is lifted at most 3 dB at its joint
MIN_FADE_CORRELATION = -0.5


def matched_fade(outgoing: np.ndarray, incoming: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(fade_out, fade_in) that hold the mix's power, for two clips' samples over one fade window.

    With c, s the equal-power gains, Ex, Ey the clips' energies and rho their correlation over the fade
    (each weighted by 2cs, which is largest where both clips are loud in the mix), both gains are scaled by
    ``k = sqrt((c²Ex + s²Ey) / (c²Ex + s²Ey + 2cs·rho·sqrt(Ex·Ey)))``, so the mix has the power of the
    equal-power interpolation of the two clips. rho = 0 (or a silent clip) leaves the equal-power fade;
    rho = 1 at equal levels gives fade_out + fade_in == 1.
    """
    if outgoing.shape != incoming.shape:
        raise ValueError(f"fade windows differ: {outgoing.shape} and {incoming.shape}")
    cos, sin = equal_power_fade(num_samples=outgoing.size)
    peak = max(float(np.max(np.abs(outgoing))), float(np.max(np.abs(incoming)))) if outgoing.size else 0.0
    if not (np.isfinite(peak) and peak > 0.0):  # silence, or samples that are not finite
        return cos, sin
    x, y = outgoing / peak, incoming / peak  # the law is scale-free; this keeps the squares from under/overflowing
    both = 2.0 * cos * sin
    # np.sum, not np.dot: a BLAS dot may start threads of its own, which fight the clips rendering beside it
    ex, ey = float(np.sum(both * x * x)), float(np.sum(both * y * y))
    cross = float(np.sqrt(ex) * np.sqrt(ey))
    if not cross > 0.0:  # one clip silent over the fade
        return cos, sin
    rho = min(max(float(np.sum(both * x * y)) / cross, MIN_FADE_CORRELATION), 1.0)
    held = cos * cos * ex + sin * sin * ey
    k = np.sqrt(held / (held + both * rho * cross))
    return k * cos, k * sin


def fixed_fade(*, num_samples: int, coherent: bool) -> tuple[np.ndarray, np.ndarray]:
    """The ``fixed`` law's (fade_out, fade_in): linear where the incoming clip continues the outgoing one."""
    return (linear_fade if coherent else equal_power_fade)(num_samples=num_samples)


def fade_window_samples(audio: np.ndarray, place: ClipPlacement, *, start: int, stop: int) -> np.ndarray:
    """A clip's samples over song samples [start, stop)."""
    origin = place.start_sample - place.pad_samples  # song sample of audio[0]
    return audio[start - origin:stop - origin]


def joint_ramps(outgoing: np.ndarray, outgoing_place: ClipPlacement, incoming: np.ndarray,
                incoming_place: ClipPlacement, *, fade_samples: int, law: str = "matched",
                coherent: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(fade_out, fade_in) of the crossfade of ``fade_samples`` centred where ``incoming`` starts.

    ``coherent`` (the ``fixed`` law only): the incoming clip continues the outgoing one, so the fade is linear.
    """
    if law not in FADE_LAWS:
        raise ValueError(f"unknown fade law {law!r}; expected one of {', '.join(FADE_LAWS)}")
    if fade_samples <= 0:
        return np.ones(0), np.ones(0)
    if law == "fixed":
        return fixed_fade(num_samples=fade_samples, coherent=coherent)
    if outgoing_place.end_sample != incoming_place.start_sample:
        raise ValueError(f"the matched law joins clips that meet: one ends at sample {outgoing_place.end_sample}, "
                         f"the next starts at {incoming_place.start_sample}")
    start, stop = fade_window(joint_sample=incoming_place.start_sample, fade_samples=fade_samples)
    return matched_fade(fade_window_samples(outgoing, outgoing_place, start=start, stop=stop),
                        fade_window_samples(incoming, incoming_place, start=start, stop=stop))


def stitch_clips(
    clips: Sequence[np.ndarray],
    placements: Sequence[ClipPlacement],
    *,
    joint_fade_samples: Sequence[int],
    total_samples: int,
    law: str = "matched",
    coherent_joints: Sequence[bool] | None = None,
) -> np.ndarray:
    """Overlap-add clips with a crossfade of ``joint_fade_samples[i]`` samples between clip i and i+1.

    ``law``: ``FADE_LAWS``. ``coherent_joints[i]`` (default all False; the ``fixed`` law only) makes that
    crossfade linear: clip i+1 continues clip i.
    """
    joint_fades = joint_fade_samples
    coherent = [False] * len(joint_fades) if coherent_joints is None else list(coherent_joints)
    if (len(clips) != len(placements) or len(joint_fades) != max(0, len(clips) - 1)
            or len(coherent) != len(joint_fades)):
        raise ValueError("need one placement per clip and one fade (and coherence flag) per joint")
    for i, (audio, place) in enumerate(zip(clips, placements)):
        expected = place.end_sample - place.start_sample + 2 * place.pad_samples
        if audio.shape != (expected,):
            raise ValueError(f"clip {i} has {audio.shape} samples, expected ({expected},)")
        fade_in = joint_fades[i - 1] if i > 0 else 0
        fade_out = joint_fades[i] if i < len(clips) - 1 else 0
        if max(fade_in, fade_out) > 2 * place.pad_samples:  # a centred fade reaches ceil(fade / 2) past the joint
            raise ValueError(f"clip {i}: fades longer than twice the padding ({place.pad_samples})")
    clips = [np.asarray(audio, dtype=np.float64) for audio in clips]
    ramps = [joint_ramps(clips[i], placements[i], clips[i + 1], placements[i + 1], fade_samples=fade, law=law,
                         coherent=coherent[i]) for i, fade in enumerate(joint_fades)]
    song = np.zeros(total_samples, dtype=np.float64)
    for i, (audio, place) in enumerate(zip(clips, placements)):
        add_clip(song, audio, place, fade_in=ramps[i - 1][1] if i > 0 else None,
                 fade_out=ramps[i][0] if i < len(clips) - 1 else None)
    return song


def add_clip(song: np.ndarray, audio: np.ndarray, place: ClipPlacement, *, fade_in: np.ndarray | None,
             fade_out: np.ndarray | None) -> None:
    """Overlap-add one clip into ``song`` in place, rising by ``fade_in`` across the fade centred on its
    start and falling by ``fade_out`` across the one centred on its end (``joint_ramps``; None: no fade).

    At most two clips overlap at any sample, and IEEE addition of two terms is
    commutative, so adding clips one by one in any order gives the same song bit for bit.
    """
    fade_in = np.ones(0) if fade_in is None else fade_in
    fade_out = np.ones(0) if fade_out is None else fade_out
    origin = place.start_sample - place.pad_samples  # song sample of audio[0]
    lo = fade_window(joint_sample=place.start_sample, fade_samples=fade_in.size)[0]
    hi = fade_window(joint_sample=place.end_sample, fade_samples=fade_out.size)[1]
    lo, hi = max(lo, 0), min(hi, song.size)
    weights = np.ones(hi - lo, dtype=np.float64)
    if fade_in.size:
        start, stop = fade_window(joint_sample=place.start_sample, fade_samples=fade_in.size)
        _apply(weights, fade_in, start - lo, stop - lo)
    if fade_out.size:
        start, stop = fade_window(joint_sample=place.end_sample, fade_samples=fade_out.size)
        _apply(weights, fade_out, start - lo, stop - lo)
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
