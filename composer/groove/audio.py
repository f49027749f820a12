"""Groove audio: a section's drum hits rendered into any window of song samples at a fixed level.

``groove_audio`` places every hit of ``composer.groove.patterns.bar_hits`` at its
bar's start on the song grid (``BarGrid``) plus its rounded offset and renders
the window with ``composer.drum_synth``, so a window of a longer groove equals
the groove of that window; ``section_gain`` levels a section once from its
plain groove, never per clip, so overlapping clips agree sample for sample.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from composer.drum_synth import MAX_VOICE_S, mix_hits, render_hits
from composer.groove.patterns import bar_hits
from composer.timing import BarGrid

#: a section's plain groove is scaled to this RMS ...
TARGET_RMS_DBFS = -20.0
#: ... or to this peak, whichever is quieter (sparse grooves hit the peak first)
TARGET_PEAK = 0.8


def groove_audio(*, style: str, role: str, bpm: float, beats_per_bar: int, beat_unit: int, start_bar: int,
                 bars: int, sample_rate_hz: int, num_samples: int, pre_roll_samples: int = 0,
                 section_start_bar: int | None = None, section_bars: int | None = None) -> np.ndarray:
    """The groove heard in song samples ``[clip_start - pre_roll, clip_start - pre_roll + num_samples)``.

    ``clip_start`` is the first sample of bar ``start_bar`` on the song grid
    (``BarGrid.bar_start_sample``); every hit sits at its bar's start plus its
    rounded offset, so the result depends only on the song position: a window
    of a longer groove equals the groove of that window. Before the section
    start its plain pattern plays, before bar 0 too: the lead-in of a section's
    first clip is then the same wherever the section stands, so a repeat of the
    song's opening section is the same clip as the opening itself (the lead-in
    before bar 0 is never heard). The section (crash on its first bar, fill or roll on its last) is
    ``[section_start_bar, section_start_bar + section_bars)``, by default the
    clip's own bars. Level: ``section_gain`` (the section's plain groove at RMS
    -20 dBFS or peak 0.8, whichever is quieter), then a pointwise soft limiter
    (peak <= 0.95); never normalised per clip, which would break the slicing.
    """
    if num_samples <= 0 or pre_roll_samples < 0 or bars < 1:
        raise ValueError(f"need num_samples > 0, pre_roll_samples >= 0, bars >= 1; got {num_samples}, "
                         f"{pre_roll_samples}, {bars}")
    grid = BarGrid(bpm=bpm, beats_per_bar=beats_per_bar, beat_unit=beat_unit, sample_rate_hz=sample_rate_hz)
    first_section_bar = start_bar if section_start_bar is None else section_start_bar
    section_length = bars if section_bars is None else section_bars
    window_start = grid.bar_start_sample(start_bar) - pre_roll_samples
    window_end = window_start + num_samples
    bar_samples = float(grid.samples_per_bar)
    # earliest bar whose longest tail still reaches the window, last bar that starts inside it
    first_bar = math.floor((window_start - MAX_VOICE_S * sample_rate_hz) / bar_samples) - 1
    last_bar = math.ceil(window_end / bar_samples)
    onsets, pitches, velocities = [], [], []
    for bar in range(first_bar, last_bar + 1):
        bar_start = grid.bar_start_sample(bar)
        for hit in bar_hits(style=style, role=role, beats_per_bar=beats_per_bar, beat_unit=beat_unit,
                            bar_in_section=bar - first_section_bar, section_bars=section_length):
            onsets.append(bar_start + grid.beats_to_samples(hit.beat) - window_start)
            pitches.append(hit.pitch)
            velocities.append(hit.velocity)
    gain = section_gain(style=style, role=role, bpm=bpm, beats_per_bar=beats_per_bar, beat_unit=beat_unit,
                        sample_rate_hz=sample_rate_hz, section_bars=section_length)
    return render_hits(onsets_samples=np.array(onsets, dtype=np.int64), pitches=np.array(pitches, dtype=np.int64),
                       velocities=np.array(velocities, dtype=np.int64), sample_rate_hz=sample_rate_hz,
                       num_samples=num_samples, gain=gain)


@functools.lru_cache(maxsize=256)
def section_gain(*, style: str, role: str, bpm: float, beats_per_bar: int, beat_unit: int, sample_rate_hz: int,
                 section_bars: int) -> float:
    """Gain that brings two bars of the section's plain groove to ``TARGET_RMS_DBFS`` or ``TARGET_PEAK``.

    It depends on the section only, never on a clip's window, so every clip of a
    section gets the same gain and overlapping clips still agree sample for sample.
    """
    grid = BarGrid(bpm=bpm, beats_per_bar=beats_per_bar, beat_unit=beat_unit, sample_rate_hz=sample_rate_hz)
    onsets, pitches, velocities = [], [], []
    for bar in (0, 1):  # bars just before the section: no crash, fill or roll
        for hit in bar_hits(style=style, role=role, beats_per_bar=beats_per_bar, beat_unit=beat_unit,
                            bar_in_section=bar - 2, section_bars=section_bars):
            onsets.append(grid.bar_start_sample(bar) + grid.beats_to_samples(hit.beat))
            pitches.append(hit.pitch)
            velocities.append(hit.velocity)
    mix = mix_hits(onsets_samples=np.array(onsets), pitches=np.array(pitches), velocities=np.array(velocities),
                   sample_rate_hz=sample_rate_hz, num_samples=grid.bar_start_sample(2))
    rms, peak = float(np.sqrt(np.mean(mix ** 2))), float(np.max(np.abs(mix)))
    if peak == 0.0:
        return 1.0
    return min(10.0 ** (TARGET_RMS_DBFS / 20.0) / rms, TARGET_PEAK / peak)
