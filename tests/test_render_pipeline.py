"""The renderer stores and stitches clips on a worker thread while the backend renders the next batch."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest

from composer.backends.base import SpectrogramBackend
from composer.clip_cache import ClipCache
from composer.dsp.loudness import rms_db, soft_limit
from composer.dsp.stitch import ClipPlacement, declick_edges, stitch_clips
from composer.outline import parse_outline
from composer.planner import declick_samples, plan_song
from composer.render import _section_gains_db, joint_fades, render_song

OUTLINE = """
title: pipeline
bpm: 120
seed: 5
sections:
  a: {bars: 4, prompt: "one"}
  b: {bars: 4, prompt: "two"}
form: [a, b, a]
"""


class NoiseBackend(SpectrogramBackend):
    """Test double: seeded noise at a level that depends on the prompt."""

    name = "noise"

    def __init__(self, before_render=None) -> None:
        self.before_render, self.calls = before_render, 0

    @property
    def sample_rate_hz(self) -> int:
        return 8000

    def describe(self):
        return {"name": self.name}

    def render(self, requests):
        self.calls += 1
        if self.before_render:
            self.before_render(self.calls)
        return [(0.1 + 0.2 * ("two" in r.prompt_a)) * np.random.default_rng(r.seed_a).standard_normal(r.num_samples)
                .astype(np.float32) for r in requests]


@pytest.fixture
def plan():
    outline = parse_outline(OUTLINE, source="pipeline.yaml")
    return plan_song(outline, sample_rate_hz=8000, max_clip_s=2.5)


def test_stitching_clip_by_clip_gives_the_whole_song_stitch_bit_for_bit(plan, tmp_path):
    song = render_song(plan, NoiseBackend(), cache=ClipCache(tmp_path), loudness_db=-18.0, groove_root=tmp_path,
                       batch_size=1)
    cache = ClipCache(tmp_path)
    clips = [cache.get(key, num_samples=c.end_sample - c.start_sample + 2 * plan.pad_samples)
             for key, c in zip(song.clip_keys, plan.clips)]
    gains = [0.0] * len(clips)
    for section in plan.sections:
        for i, gain in zip(section.clip_indices, _section_gains_db([clips[i] for i in section.clip_indices], plan,
                                                                   section, loudness_db=-18.0)):
            gains[i] = gain
    whole = stitch_clips([a.astype(np.float64) * 10.0 ** (g / 20.0) for a, g in zip(clips, gains)],
                         [ClipPlacement(c.start_sample, c.end_sample, plan.pad_samples) for c in plan.clips],
                         joint_fade_samples=joint_fades(plan), total_samples=plan.total_samples)
    expected = soft_limit(declick_edges(whole, fade_samples=declick_samples(sample_rate_hz=8000))).astype(np.float32)
    assert np.array_equal(song.audio, expected)
    assert song.clip_gains_db == tuple(round(g, 4) for g in gains)


class LevelsByPosition(NoiseBackend):
    """Test double: the k-th clip of every section comes out at ``levels_db[k]``."""

    def __init__(self, plan, levels_db) -> None:
        super().__init__()
        self.level_of_seed = {plan.clips[i].seed_a: levels_db[k]
                              for section in plan.sections for k, i in enumerate(section.clip_indices)}

    def render(self, requests):
        out = []
        for r in requests:
            noise = np.random.default_rng(r.seed_a).standard_normal(r.num_samples)
            out.append((noise / np.sqrt(np.mean(noise ** 2)) * 10 ** (self.level_of_seed[r.seed_a] / 20))
                       .astype(np.float32))
        return out


def _span_levels_db(song, plan, section):
    return np.array([rms_db(song.audio[plan.clips[i].start_sample:plan.clips[i].end_sample])
                     for i in section.clip_indices])


def test_a_fade_the_clips_were_rendered_with_survives(plan, tmp_path):
    """A section whose clips fall 4 dB each (a thinning outro) keeps that fade: one gain for all its clips."""
    assert all(len(section.clip_indices) == 4 for section in plan.sections)
    song = render_song(plan, LevelsByPosition(plan, [-20.0, -24.0, -28.0, -32.0]), cache=ClipCache(tmp_path),
                       loudness_db=-18.0, groove_root=tmp_path)
    for section in plan.sections:
        gains = [song.clip_gains_db[i] for i in section.clip_indices]
        assert max(gains) - min(gains) < 0.05  # only the noise spans' own RMS scatter
        # inner spans (the crossfades blend the edges of the first and last)
        np.testing.assert_allclose(np.diff(_span_levels_db(song, plan, section))[1:2], -4.0, atol=0.5)


def test_seed_scatter_inside_a_section_is_levelled(plan, tmp_path):
    """Clips rendered 6 dB apart around a flat level come out at one level: no joint steps."""
    song = render_song(plan, LevelsByPosition(plan, [-17.0, -23.0, -23.0, -17.0]), cache=ClipCache(tmp_path),
                       loudness_db=-18.0, groove_root=tmp_path)
    for section in plan.sections:
        levels = _span_levels_db(song, plan, section)
        assert np.ptp(levels) < 1.0, levels
        assert np.mean(levels) == pytest.approx(-18.0, abs=0.5)  # the section still meets the target


def test_the_next_batch_renders_while_the_last_one_is_stored(plan, tmp_path):
    """Storing the first clip waits until the backend has started the second batch: on one thread
    that would never happen (the wait times out and the test fails)."""
    second_batch_started = threading.Event()
    waited = []

    class SlowCache(ClipCache):
        def put(self, key, audio, *, retry_seed=None):
            if not waited:
                waited.append(second_batch_started.wait(timeout=5))
            super().put(key, audio, retry_seed=retry_seed)

    def before_render(call):
        if call == 2:
            second_batch_started.set()

    song = render_song(plan, NoiseBackend(before_render), cache=SlowCache(tmp_path), loudness_db=-18.0,
                       groove_root=tmp_path, batch_size=1)
    assert waited == [True]
    assert song.overlapped_stitch_s > 0.0 and len(song.rendered) >= 2


class BatchRecorder(NoiseBackend):
    """Records how many clips each render call gets; asks for ``preferred`` per call."""

    def __init__(self, preferred: int) -> None:
        super().__init__()
        self.preferred, self.sizes = preferred, []

    @property
    def preferred_batch_size(self) -> int:
        return self.preferred

    def render(self, requests):
        self.sizes.append(len(requests))
        return super().render(requests)


@pytest.mark.parametrize(("preferred", "asked", "largest"), [(4, None, 4), (8, None, 8), (8, 2, 2)])
def test_render_hands_over_the_backends_preferred_batch_unless_told(tmp_path, preferred, asked, largest):
    from composer.song import render_outline

    outline = tmp_path / "song.yaml"  # 32 bars in 2-bar clips: 16 clips of one length
    outline.write_text("title: t\nbpm: 120\nsections:\n  a: {bars: 32, prompt: one, groove: none}\nform: [a]\n")
    backend = BatchRecorder(preferred)
    render_outline(outline, tmp_path / "song", backend, model=None, device="cpu", batch_size=asked)
    assert max(backend.sizes) == largest and sum(backend.sizes) == 16


FADE_LONGER_THAN_THE_INTRO = """
title: fades
bpm: 120
render: {crossfade_beats: 8}
sections:
  intro: {bars: 1, prompt: "one"}
  verse: {bars: 8, prompt: "two"}
  outro: {bars: 4, prompt: "three"}
form: [intro, verse, outro]
"""


def test_the_plan_states_the_fade_every_joint_gets(tmp_path):
    # 8 beats = 4 s = a 2-bar clip, but the 1-bar intro's joint cannot fade longer than 2 s: nor does any other
    plan = plan_song(parse_outline(FADE_LONGER_THAN_THE_INTRO), sample_rate_hz=8000, max_clip_s=4.0)
    stated = [plan.joint_fade_samples if a.section_index == b.section_index
              else plan.sections[a.section_index].fade_samples for a, b in zip(plan.clips, plan.clips[1:])]
    assert stated == joint_fades(plan)
    assert [s.fade_samples for s in plan.sections] == [16000] * 3 and plan.joint_fade_samples == 16000
    assert plan.pad_samples == 16000 // 2 + 1
    song = render_song(plan, NoiseBackend(), cache=ClipCache(tmp_path), loudness_db=-18.0, groove_root=tmp_path)
    assert song.audio.shape == (plan.total_samples,)


def test_plan_and_render_warn_of_a_bar_longer_than_the_backends_clip(tmp_path):
    from typer.testing import CliRunner

    from composer.cli import app

    outline = tmp_path / "slow.yaml"  # a 6-s bar; tiny-random renders 5.11-s clips well
    outline.write_text("title: slow\nbpm: 40\nsections:\n  a: {bars: 1, prompt: one, groove: none}\nform: [a]\n")
    expected = "warning: one bar of 4/4 at 40 bpm lasts 6.00 s, longer than the backend's longest clip (5.11 s)"
    runner = CliRunner()
    planned = runner.invoke(app, ["plan", str(outline), "--backend", "tiny-random"])
    assert planned.exit_code == 0 and expected in planned.output and "fits at 47 bpm or faster" in planned.output
    rendered = runner.invoke(app, ["render", str(outline), "-o", str(tmp_path / "song"), "--backend", "tiny-random"])
    assert rendered.exit_code == 0 and expected in rendered.output  # a warning, not a refusal
    assert (tmp_path / "song" / "song.wav").is_file()
    manifest = json.loads((tmp_path / "song" / "manifest.json").read_text())
    assert len(manifest["warnings"]) == 1 and expected.removeprefix("warning: ") in manifest["warnings"][0]
