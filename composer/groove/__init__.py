"""Drum grooves at the song's tempo: the img2img init audio that locks clips to the grid.

A bar is built from the meter's pulses (the felt beats: quarters in 4/4, dotted
quarters in 6/8, 2+2+3 eighths in 7/8) and accent groups of two or three pulses
(kick on a group's first pulse, backbeat on its last). Styles decide which drums
play where; roles decide density (intro sparse, chorus full, build rising...).
Every hit's sample is computed from the song start with ``BarGrid``, so a clip's
groove lines up with the song grid and overlapping clips agree sample for sample.

Tempo convention (as in ``composer.timing``): ``bpm`` counts the time signature's
beat unit, so 6/8 at 120 bpm is 120 eighth notes per minute.

The parts: ``grid`` (``Meter``: pulses, accent groups and the bar's grid),
``names`` (style and role names onto their families), ``patterns`` (role feels
and the per-style bar writers, ``bar_hits`` and ``drum_pattern``) and ``audio``
(``groove_audio`` and its per-section level, ``section_gain``).
"""

from __future__ import annotations

from composer.drum_synth import render_drums
from composer.groove.audio import groove_audio, section_gain
from composer.groove.grid import Meter, meter
from composer.groove.names import STYLE_FAMILIES, role_family, style_family
from composer.groove.patterns import Hit, bar_hits, drum_pattern

__all__ = [
    "Hit", "Meter", "STYLE_FAMILIES", "bar_hits", "drum_pattern", "groove_audio", "meter", "render_drums",
    "role_family", "section_gain", "style_family",
]
