"""Sample-exact musical time: bars and beats to sample indices.

Every position is computed from the song start (never by accumulating clip
lengths), so rounding never drifts: bar ``n`` starts at
``round(n * bar_duration_s * sample_rate_hz)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from composer.errors import PlanError

ALLOWED_BEAT_UNITS = (1, 2, 4, 8, 16, 32)


@dataclass(frozen=True)
class BarGrid:
    """The tempo grid of one song."""

    # beats per minute, counted in the time signature's beat unit (6/8 at 120 = 120 eighths/min)
    bpm: float
    # numerator of the time signature
    beats_per_bar: int
    # denominator of the time signature
    beat_unit: int
    # output sample rate
    sample_rate_hz: int

    def __post_init__(self) -> None:
        if not (self.bpm > 0 and math.isfinite(self.bpm)):
            raise PlanError(f"bpm must be a positive number, got {self.bpm}")
        if self.beats_per_bar < 1:
            raise PlanError(f"beats per bar must be >= 1, got {self.beats_per_bar}")
        if self.beat_unit not in ALLOWED_BEAT_UNITS:
            raise PlanError(f"beat unit must be one of {ALLOWED_BEAT_UNITS}, got {self.beat_unit}")

    @property
    def samples_per_beat(self) -> Fraction:
        """Exact (rational) number of samples in one beat, at the bpm as written: 40.32 is 1008/25, not the
        nearest binary float (the two round differently where a bar line falls on half a sample)."""
        return Fraction(60 * self.sample_rate_hz) / Fraction(repr(float(self.bpm)))

    @property
    def samples_per_bar(self) -> Fraction:
        return self.samples_per_beat * self.beats_per_bar

    @property
    def beat_s(self) -> float:
        return 60.0 / self.bpm

    @property
    def bar_s(self) -> float:
        return self.beat_s * self.beats_per_bar

    def bar_start_sample(self, bar: int) -> int:
        """First sample of bar ``bar`` (0-based), rounded half up from the exact value."""
        return _round_half_up(self.samples_per_bar * bar)

    def beat_start_sample(self, beat: int) -> int:
        """First sample of beat ``beat`` counted from the song start (0-based)."""
        return _round_half_up(self.samples_per_beat * beat)

    def beats_to_samples(self, beats: float) -> int:
        """A duration in beats as a whole number of samples."""
        return _round_half_up(self.samples_per_beat * Fraction(beats))


def parse_time_signature(text: str) -> tuple[int, int]:
    """'6/8' -> (6, 8); raises ValueError with what is allowed."""
    parts = str(text).strip().split("/")
    # ASCII digits only: str.isdigit() also accepts other scripts' digits ('٤/4')
    if len(parts) != 2 or not all(p.strip() and p.strip().isascii() and p.strip().isdigit() for p in parts):
        raise ValueError(f"time signature must look like '4/4' or '6/8', got {text!r}")
    beats, unit = int(parts[0]), int(parts[1])
    if not 1 <= beats <= 32:
        raise ValueError(f"time signature numerator must be 1-32, got {beats}")
    if unit not in ALLOWED_BEAT_UNITS:
        raise ValueError(f"time signature denominator must be one of {ALLOWED_BEAT_UNITS}, got {unit}")
    return beats, unit


def format_mmss(seconds: float) -> str:
    """125.4 -> '2:05.4'; 119.97 -> '2:00.0' (rounded before splitting, never '1:60.0'); 1e308 -> '1e+308 s'."""
    if not math.isfinite(float(seconds) * 10):  # too long to count in tenths: an error message's echo of it
        return f"{float(seconds):g} s"
    tenths = round(max(0.0, seconds) * 10)
    minutes, rest = divmod(tenths, 600)
    return f"{minutes}:{rest / 10:04.1f}"


def parse_duration_s(text: str | float | int) -> float:
    """'3:00' or '180' or 180 -> 180.0 seconds."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        try:
            value = float(text)
        except OverflowError:  # an integer of hundreds of digits
            value = math.inf
    else:
        raw = str(text).strip()
        if not raw.isascii():  # float() and int() also read other scripts' digits ('٣:٠٠'); time signatures do not
            raise ValueError(f"duration must be written with ASCII digits (e.g. 3:00), got {text!r}")
        try:
            if ":" in raw:
                minutes, seconds = raw.split(":", 1)
                if not (int(minutes) >= 0 and 0 <= float(seconds) < 60):
                    raise ValueError
                value = int(minutes) * 60 + float(seconds)
            else:
                value = float(raw)
        except OverflowError:  # '1<400 zeros>:00': minutes beyond a float
            value = math.inf
        except ValueError:
            raise ValueError(f"duration must be seconds or m:ss with 0-59 seconds (e.g. 3:00), got {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"duration must be a positive, finite number of seconds, got {_shown(text)}")
    return value


def _shown(text: str | float | int) -> str:
    """A value for an error message, at most 40 characters of it."""
    shown = repr(text)
    return shown if len(shown) <= 40 else shown[:37] + "..."


def _round_half_up(value: Fraction) -> int:
    return math.floor(value + Fraction(1, 2))
