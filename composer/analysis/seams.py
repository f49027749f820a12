"""How audible a joint is: spectral flux, sample steps and dropouts at the joint against the beats around it.

Joints sit on bar lines, where the music itself has its strongest onsets (kick,
crash), so every measure compares the joint with the same measure at the other
bar lines or beats of the sections around it, never with arbitrary frames. The
limits were set on seamless material (one continuous drum groove of every style
family cut at the planned clip joints, `tests/test_seams.py`), which they must
not flag, and on splices, dropouts, DC clicks and noise bursts, which they must.
"""

from __future__ import annotations

from dataclasses import dataclass

import librosa
import numpy as np

HOP_SAMPLES = 256
N_FFT = 2048
#: an onset's flux peaks when the analysis window first reaches it, up to N_FFT / 2 samples before the
#: frame centred on it; searched the same way at the joint and at the reference bar lines
FRAMES_BEFORE = N_FFT // 2 // HOP_SAMPLES
FRAMES_AFTER = 1
#: a clip joint is flagged when its flux exceeds the loud end (95th percentile) of the bar lines around it
#: by this factor. A joint is itself a bar line, so at 1.0 about one seamless joint in twenty was flagged;
#: continuous grooves of every family peaked at 1.2 at clip joints
FLUX_RATIO_LIMIT = 1.5
#: a joint is flagged when its largest sample step exceeds the largest at the other beats around it by this
#: factor (a splice click). The drums' own attacks sit on the beats too: a continuous latin groove, whose
#: two-bar clave is loudest where the clip joints fall, reached 1.6
STEP_RATIO_LIMIT = 2.0
#: a joint is flagged when the audio around it drops this far below the quietest it gets near other beats
GAP_LIMIT_DB = -20.0
#: "the quietest near other beats": this percentile of the beats' quietest 5 ms
QUIET_PERCENTILE = 10
#: the fewest reference bar lines; with fewer, every beat that is not a joint is a reference
MIN_REFERENCES = 4


@dataclass(frozen=True)
class SeamScore:
    """One clip joint or section boundary."""

    # sample index of the joint on the song grid
    sample: int
    # flux at the joint / 95th percentile of flux at the other bar lines around it
    flux_ratio: float
    # whether the flux ratio counts: clip joints only, since a section start is where the music is meant to
    # change (a crash or a fill in the plan's own groove measured up to 3.8)
    flux_checked: bool
    # largest absolute sample-to-sample step within +/- 5 ms of the joint
    max_step: float
    # the largest step within +/- 5 ms of the other beats around it (where the music's own transients are)
    local_max_step: float
    # quietest 5-ms RMS within +/- 25 ms of the joint over the quietest near the other beats around it (their
    # 10th percentile), dB (a dropout: far below 0)
    gap_db: float
    # True when a measure is beyond its limit
    flagged: bool


def spectral_flux(audio: np.ndarray) -> np.ndarray:
    """Half-wave rectified flux of the log-magnitude STFT, one value per hop."""
    spectrum = np.log1p(np.abs(librosa.stft(audio.astype(np.float32), n_fft=N_FFT, hop_length=HOP_SAMPLES)))
    flux = np.maximum(np.diff(spectrum, axis=1), 0.0).sum(axis=0)
    return np.concatenate([[0.0], flux])


def seam_scores(audio: np.ndarray, *, joint_samples: list[int], neighbourhood: list[tuple[int, int]],
                within_section: list[bool], bar_samples: np.ndarray, beat_samples: np.ndarray,
                sample_rate_hz: int) -> list[SeamScore]:
    """Score every joint against the bar lines and beats of its neighbourhood.

    ``neighbourhood[i]`` is the [start, end) span whose bar lines and beats
    (other joints left out) are the references of joint ``i``;
    ``within_section[i]`` says whether it is a clip joint inside a section.
    """
    audio = np.asarray(audio, dtype=np.float64)
    flux = spectral_flux(audio)
    guard = max(1, int(0.005 * sample_rate_hz))
    joints = np.asarray(joint_samples, dtype=np.int64)
    scores = []
    for joint, (lo, hi), inside in zip(joint_samples, neighbourhood, within_section):
        bars = _usable(bar_samples, joints, lo=lo, hi=hi, guard=guard, limit=flux.size * HOP_SAMPLES)
        beats = _usable(beat_samples, joints, lo=lo, hi=hi, guard=guard, limit=audio.size)
        references = bars if len(bars) >= MIN_REFERENCES else beats
        near = _peak_flux(flux, joint)
        reference = float(np.percentile([_peak_flux(flux, p) for p in references], 95)) if references else near
        ratio = float(near / reference) if reference > 0 else 0.0
        max_step = _max_step(audio, joint, guard)
        local_max = max((_max_step(audio, p, guard) for p in beats), default=max_step)
        # a low percentile, not the minimum: one silent beat nearby (a stop, a song starting from silence) would
        # otherwise set the reference to silence and hide every dropout around it
        quiet_beats = [_quietest_rms(audio, p, guard) for p in beats]
        quietest = float(np.percentile(quiet_beats, QUIET_PERCENTILE)) if quiet_beats else _quietest_rms(
            audio, joint, guard)
        gap = _db(_quietest_rms(audio, joint, guard)) - _db(quietest)
        scores.append(SeamScore(
            sample=joint, flux_ratio=ratio, flux_checked=inside, max_step=max_step, local_max_step=local_max,
            gap_db=gap,
            flagged=(inside and ratio > FLUX_RATIO_LIMIT) or max_step > STEP_RATIO_LIMIT * local_max
            or gap < GAP_LIMIT_DB,
        ))
    return scores


def _usable(positions: np.ndarray, joints: np.ndarray, *, lo: int, hi: int, guard: int, limit: int) -> list[int]:
    """Positions in [lo, min(hi, limit)) that are not joints (a joint is never its own or another's reference)."""
    inside = positions[(positions >= lo) & (positions < min(hi, limit))]
    return [int(p) for p in inside if joints.size == 0 or np.min(np.abs(joints - p)) > guard]


def _peak_flux(flux: np.ndarray, sample: int) -> float:
    frame = int(round(sample / HOP_SAMPLES))
    window = flux[max(frame - FRAMES_BEFORE, 0):frame + FRAMES_AFTER + 1]
    return float(window.max()) if window.size else 0.0


def _max_step(audio: np.ndarray, position: int, guard: int) -> float:
    steps = np.abs(np.diff(audio[max(position - guard, 0):position + guard]))
    return float(steps.max()) if steps.size else 0.0


def _quietest_rms(audio: np.ndarray, position: int, guard: int) -> float:
    """Lowest RMS of the 5-ms frames within +/- 5 guards (25 ms) of a position."""
    window = audio[max(position - 5 * guard, 0):position + 5 * guard]
    frames = window[:window.size // guard * guard].reshape(-1, guard)
    return float(np.sqrt((frames ** 2).mean(axis=1)).min()) if frames.size else 0.0


def _db(rms: float) -> float:
    return float(20.0 * np.log10(max(rms, 1e-5)))  # floor -100 dBFS: silence on both sides is no gap
