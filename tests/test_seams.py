"""Seam scores on material with a known answer: a continuous groove is never flagged, splices are.

The seamless songs are composer's own drum grooves rendered in one piece per
section (crashes, fills and builds included) under a sustained chord, cut at
2-bar clip joints that nothing was spliced at; the limits in
`composer.analysis.seams` were set on the full set of style families and metres.
"""

from __future__ import annotations

import numpy as np
import pytest

from composer.analysis.seams import FLUX_RATIO_LIMIT, seam_scores
from composer.groove.audio import groove_audio
from composer.timing import BarGrid

RATE = 22050
FORM = (("intro", 4), ("verse", 8), ("prechorus", 4), ("chorus", 8), ("outro", 4))
CLIP_BARS = 2


def continuous_song(*, style: str, bpm: float, beats_per_bar: int, beat_unit: int) -> dict:
    """One groove per section, rendered whole, plus a chord: no joint in it was ever a splice."""
    grid = BarGrid(bpm=bpm, beats_per_bar=beats_per_bar, beat_unit=beat_unit, sample_rate_hz=RATE)
    parts, spans, bar = [], [], 0
    for role, bars in FORM:
        start, end = grid.bar_start_sample(bar), grid.bar_start_sample(bar + bars)
        parts.append(groove_audio(style=style, role=role, bpm=bpm, beats_per_bar=beats_per_bar, beat_unit=beat_unit,
                                  start_bar=bar, bars=bars, sample_rate_hz=RATE, num_samples=end - start))
        spans.append((bar, bars, start, end))
        bar += bars
    audio = np.concatenate(parts)
    t = np.arange(audio.size) / RATE
    audio = audio + sum(0.05 * np.sin(2 * np.pi * f * t) for f in (220.0, 277.2, 329.6))
    joints, neighbourhood, inside = [], [], []
    for index, (first_bar, bars, start, end) in enumerate(spans):
        for k in range(0, bars, CLIP_BARS):
            if first_bar + k == 0:
                continue
            joints.append(grid.bar_start_sample(first_bar + k))
            neighbourhood.append((spans[index - 1][2] if k == 0 else start, end))
            inside.append(k > 0)
    return {
        "audio": audio, "joint_samples": joints, "neighbourhood": neighbourhood, "within_section": inside,
        "bar_samples": np.array([grid.bar_start_sample(b) for b in range(bar + 1)]),
        "beat_samples": np.array([grid.beat_start_sample(b) for b in range(bar * beats_per_bar + 1)]),
    }


def score(song: dict, audio: np.ndarray | None = None):
    return seam_scores(song["audio"] if audio is None else audio, joint_samples=song["joint_samples"],
                       neighbourhood=song["neighbourhood"], within_section=song["within_section"],
                       bar_samples=song["bar_samples"], beat_samples=song["beat_samples"], sample_rate_hz=RATE)


@pytest.mark.parametrize("metre", [(4, 4), (3, 4), (6, 8), (7, 8), (4, 4, 70)])
@pytest.mark.parametrize("style", ["pop", "rock", "edm", "hiphop", "jazz", "blues", "ambient", "funk", "reggae",
                                   "latin"])
def test_a_continuous_groove_has_no_flagged_joint(style, metre):
    """The sweep the limits were set on: every groove family in five metres and tempos. The hard cases: latin's
    two-bar clave is loudest where the joints fall (the largest sample steps), reggae's chorus crash (the
    largest flux at a section start)."""
    beats_per_bar, beat_unit, *bpm = metre
    bpm = bpm[0] if bpm else {4: 120, 3: 150, 6: 180, 7: 140}[beats_per_bar]
    song = continuous_song(style=style, bpm=bpm, beats_per_bar=beats_per_bar, beat_unit=beat_unit)
    scores = score(song)
    assert len(scores) == 13
    assert [s.sample for s in scores if s.flagged] == []


@pytest.fixture(scope="module")
def pop_song():
    return continuous_song(style="pop", bpm=120, beats_per_bar=4, beat_unit=4)


def flagged_at(song: dict, audio: np.ndarray) -> list[int]:
    return [s.sample for s in score(song, audio) if s.flagged]


def test_a_click_a_dropout_and_a_noise_burst_at_a_clip_joint_are_flagged(pop_song):
    joint = pop_song["joint_samples"][2]  # inside the verse
    assert pop_song["within_section"][2]
    for name, damage in {
        "dc click": lambda a: a.__setitem__(slice(joint, joint + 40), 0.99),
        "10-ms dropout": lambda a: a.__setitem__(slice(joint - 110, joint + 110), 0.0),
        "noise burst over one clip": lambda a: a.__setitem__(
            slice(joint, joint + 4 * RATE), a[joint:joint + 4 * RATE]
            + 0.3 * np.random.default_rng(0).standard_normal(4 * RATE)),
    }.items():
        audio = pop_song["audio"].copy()
        damage(audio)
        assert flagged_at(pop_song, audio) == [joint], name


def test_flux_is_not_what_flags_a_section_start(pop_song):
    """A section may start with a crash: its flux is reported but only clip joints are held to the limit."""
    reggae = continuous_song(style="reggae", bpm=150, beats_per_bar=3, beat_unit=4)
    starts = [s for s, inside in zip(score(reggae), reggae["within_section"]) if not inside]
    assert max(s.flux_ratio for s in starts) > 2 * FLUX_RATIO_LIMIT and not any(s.flagged for s in starts)
    scores = score(pop_song)
    section_starts = [s for s, inside in zip(scores, pop_song["within_section"]) if not inside]
    assert section_starts and not any(s.flux_checked for s in section_starts)
    assert all(s.flux_checked for s, inside in zip(scores, pop_song["within_section"]) if inside)
