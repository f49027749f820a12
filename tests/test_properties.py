"""Property tests of the pure core: the bar grid, the planner, crossfades and the regeneration guarantee.

Every property holds for any valid input hypothesis draws. The runs are derandomized (the same examples
on every machine) and sized to take a few seconds on one core.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
import zlib
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from composer.backends.base import SpectrogramBackend
from composer.clip_cache import ClipCache
from composer.dsp.loudness import soft_limit, trend_corrections_db
from composer.dsp.stitch import (
    FADE_LAWS, ClipPlacement, add_clip, declick_edges, equal_power_fade, fade_window, joint_ramps, linear_fade,
    stitch_clips,
)
from composer.outline_model import MAX_BPM, MAX_SONG_S, MIN_BPM, Outline
from composer.plan import Plan, SectionOverride
from composer.planner import declick_samples, plan_song
from composer.render import changed_span, joint_fades, render_song
from composer.seeds import SEED_LIMIT, derive_seed
from composer.timing import ALLOWED_BEAT_UNITS, BarGrid


def _settings(examples: int) -> settings:
    """Reproducible (derandomized, no example database) and without per-example deadlines."""
    return settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


RATES = (16000, 22050, 44100, 48000)
NAMES = ("intro", "verse", "chorus", "bridge", "solo", "breakdown", "build", "outro")
bpms = st.one_of(
    st.integers(MIN_BPM, MAX_BPM),
    st.floats(MIN_BPM, MAX_BPM, allow_nan=False, allow_infinity=False),
    st.decimals(MIN_BPM, MAX_BPM, places=2).map(float),
)


def exact_bar_sample(*, bpm: float, beats_per_bar: int, rate: int, bar: int) -> int:
    """Bar ``bar``'s first sample, rounded half up from exact rational arithmetic (the bpm as written)."""
    return math.floor(Fraction(bar * beats_per_bar * 60 * rate) / Fraction(str(bpm)) + Fraction(1, 2))


# --- the bar grid -----------------------------------------------------------------------------------------


@_settings(150)
@given(bpm=bpms, beats=st.integers(1, 32), unit=st.sampled_from(ALLOWED_BEAT_UNITS), rate=st.sampled_from(RATES),
       fractions=st.lists(st.floats(0, 1), max_size=12))
@example(bpm=240, beats=1, unit=4, rate=22050, fractions=[])  # 5512.5 samples a bar: every odd bar is a tie
@example(bpm=112, beats=1, unit=4, rate=22050, fractions=[])  # 11812.5 samples, and 60/112 s is no binary fraction
@example(bpm=40.32, beats=1, unit=4, rate=22050, fractions=[])  # 32812.5 samples as written; the float is a hair over
def test_bar_lines_are_exact_rounded_half_up_and_never_drift(bpm, beats, unit, rate, fractions):
    grid = BarGrid(bpm=bpm, beats_per_bar=beats, beat_unit=unit, sample_rate_hz=rate)
    exact_bar = Fraction(beats * 60 * rate) / Fraction(str(bpm))
    last = math.floor(MAX_SONG_S * rate / exact_bar)  # the last bar line of a 60-minute song
    bars = sorted({*range(min(64, last)), max(last - 1, 0), last, *(math.floor(f * last) for f in fractions)})
    for bar in bars:
        start, following = grid.bar_start_sample(bar), grid.bar_start_sample(bar + 1)
        assert start == exact_bar_sample(bpm=bpm, beats_per_bar=beats, rate=rate, bar=bar)
        assert abs(start - bar * grid.bar_s * rate) <= 0.5 + 1e-6  # seconds agree: no drift after 60 minutes
        # every bar lasts the exact bar length rounded down or up, never more: starts strictly increase
        assert following - start in (math.floor(exact_bar), math.ceil(exact_bar))
        # the beat grid meets the bar grid on every downbeat; the beat unit does not change the tempo grid
        assert grid.beat_start_sample(bar * beats) == start
        other_unit = ALLOWED_BEAT_UNITS[(ALLOWED_BEAT_UNITS.index(unit) + 1) % len(ALLOWED_BEAT_UNITS)]
        assert BarGrid(bpm=bpm, beats_per_bar=beats, beat_unit=other_unit, sample_rate_hz=rate) \
            .bar_start_sample(bar) == start


# --- random outlines --------------------------------------------------------------------------------------


@st.composite
def outlines(draw, *, max_sections: int = 8, max_bars: int = 64, max_form: int = 12, max_beats: int = 16,
             max_song_s: float = MAX_SONG_S, groove: str = "auto") -> Outline:
    """A valid outline: 1-8 sections, a form with repeats, every transition and variation, at most 60:00."""
    bpm = draw(bpms)
    beats = draw(st.integers(1, max_beats))
    names = draw(st.permutations(NAMES))[:draw(st.integers(1, max_sections))]
    form = draw(st.lists(st.sampled_from(names), min_size=1, max_size=max_form))
    bar_s = beats * 60.0 / float(bpm)
    per_entry = max(1, min(max_bars, math.floor(max_song_s / bar_s * (1 - 1e-9)) // len(form)))
    sections = {}
    for name in names:
        bars = draw(st.integers(1, per_entry))
        spec = {"bars": bars, "prompt": f"{name} with piano", "groove": groove}
        transition = draw(st.sampled_from(("crossfade", "cut", "interpolate")))
        if transition != "crossfade" or draw(st.booleans()):
            spec["transition"] = transition
        if transition == "interpolate" and draw(st.booleans()):
            spec["interpolate_bars"] = draw(st.integers(1, bars))
        variation = draw(st.one_of(st.just(0.0), st.floats(0.0, 1.0)))
        if variation or draw(st.booleans()):
            spec["variation"] = variation
        if draw(st.integers(0, 3)) == 0:
            spec["seed"] = draw(st.integers(0, SEED_LIMIT - 1))
        if draw(st.integers(0, 3)) == 0:
            spec["denoising"] = draw(st.floats(0.05, 1.0))
        sections[name] = spec
    return Outline.model_validate({
        "title": "property", "bpm": bpm, "time_signature": f"{beats}/{draw(st.sampled_from(ALLOWED_BEAT_UNITS))}",
        "seed": draw(st.integers(0, SEED_LIMIT - 1)), "sections": sections, "form": form,
        "render": {"crossfade_beats": draw(st.one_of(st.just(1), st.integers(0, 16), st.floats(0, 16)))},
    })


max_clip_seconds = st.one_of(st.sampled_from((5.11, 5.94)), st.floats(0.5, 30.0))


# --- the planner ------------------------------------------------------------------------------------------


@_settings(200)
@given(outline=outlines(), rate=st.sampled_from(RATES), max_clip_s=max_clip_seconds)
def test_sections_and_clips_tile_the_song_on_bar_lines(outline, rate, max_clip_s):
    plan = plan_song(outline, sample_rate_hz=rate, max_clip_s=max_clip_s)
    beats, _ = outline.time_signature_tuple

    def bar_line(bar):
        return exact_bar_sample(bpm=float(outline.bpm), beats_per_bar=beats, rate=rate, bar=bar)

    assert [s.name for s in plan.sections] == list(outline.form)
    assert [c.index for c in plan.clips] == list(range(len(plan.clips)))
    assert [i for s in plan.sections for i in s.clip_indices] == list(range(len(plan.clips)))
    song_end = 0
    for section in plan.sections:
        assert (section.start_sample, section.start_bar, section.bars) \
            == (song_end, sum(s.bars for s in plan.sections[:section.index]), outline.sections[section.name].bars)
        assert section.end_sample == bar_line(section.start_bar + section.bars)
        assert (section.start_s, section.end_s) == (section.start_sample / rate, section.end_sample / rate)
        clips = [plan.clips[i] for i in section.clip_indices]
        assert clips and all(c.section_index == section.index and c.bars >= 1 for c in clips)
        # the section's clips cover it exactly: no gap, no overlap, every edge on its own bar line
        edge, bar = section.start_sample, section.start_bar
        for clip in clips:
            assert (clip.start_sample, clip.start_bar) == (edge, bar)
            assert clip.end_sample == bar_line(clip.start_bar + clip.bars) > clip.start_sample
            edge, bar = clip.end_sample, bar + clip.bars
        assert (edge, bar) == (section.end_sample, section.start_bar + section.bars)
        song_end = section.end_sample
    assert plan.total_samples == song_end == bar_line(sum(s.bars for s in plan.sections))
    assert sum(s.end_sample - s.start_sample for s in plan.sections) == plan.total_samples


@_settings(200)
@given(outline=outlines(), rate=st.sampled_from(RATES), max_clip_s=max_clip_seconds)
def test_clips_are_the_fewest_near_equal_runs_that_fit_the_backend(outline, rate, max_clip_s):
    """A clip is at most max_clip_s long unless it is a single bar (a bar longer than a clip is rendered
    whole); the section body and its interpolation tail are each split into the fewest near-equal clips."""
    plan = plan_song(outline, sample_rate_hz=rate, max_clip_s=max_clip_s)
    beats, _ = outline.time_signature_tuple
    bar_s = beats * 60.0 / float(outline.bpm)
    fit = max_clip_s / bar_s  # bars that fit in one clip, not rounded
    for clip in plan.clips:
        assert clip.bars == 1 or clip.bars <= fit + 1e-6
        assert clip.bars == 1 or clip.end_sample - clip.start_sample <= max_clip_s * rate * (1 + 1e-6) + 1
    for section in plan.sections:
        clips = [plan.clips[i] for i in section.clip_indices]
        spec = outline.sections[section.name]
        interpolates = spec.transition == "interpolate" and section.index + 1 < len(plan.sections)
        tail = (spec.interpolate_bars or 1) if interpolates else 0
        body = [c.bars for c in clips if c.kind == "section"]
        morph = [c.bars for c in clips if c.kind == "interpolation"]
        assert [c.kind for c in clips] == ["section"] * len(body) + ["interpolation"] * len(morph)
        assert (sum(body), sum(morph)) == (spec.bars - tail, tail)
        for run in (body, morph):
            if run:
                assert run == sorted(run, reverse=True) and run[0] - run[-1] <= 1  # near-equal, longer first
                # one clip fewer could not hold the run: some clip would be longer than max_clip_s
                assert len(run) == 1 or math.ceil(sum(run) / (len(run) - 1)) > fit - 1e-6


@_settings(200)
@given(outline=outlines(), rate=st.sampled_from(RATES), max_clip_s=max_clip_seconds)
def test_crossfades_fit_the_padding_and_the_clips(outline, rate, max_clip_s):
    plan = plan_song(outline, sample_rate_hz=rate, max_clip_s=max_clip_s)
    declick = declick_samples(sample_rate_hz=rate)
    assert plan.joint_fade_samples >= declick
    for section in plan.sections[:-1]:
        assert section.fade_samples == (declick if section.transition == "cut" else plan.joint_fade_samples)
    assert plan.sections[-1].transition == "end"
    fades = joint_fades(plan)
    assert len(fades) == len(plan.clips) - 1
    for i, fade in enumerate(fades):
        before, after = plan.clips[i], plan.clips[i + 1]
        shortest = min(before.end_sample - before.start_sample, after.end_sample - after.start_sample)
        planned = (plan.sections[before.section_index].fade_samples if before.section_index != after.section_index
                   else plan.joint_fade_samples)
        # shortened only where the clips are too short
        assert fade == min(planned, shortest) > 0
        # the window either side of the joint lies inside the audio rendered beyond the clips' bar lines
        start, stop = fade_window(joint_sample=before.end_sample, fade_samples=fade)
        assert before.end_sample - start <= plan.pad_samples and stop - before.end_sample <= plan.pad_samples


def _clip_signature(clip):
    return clip.seed_a, clip.prompt_a, clip.seed_b, clip.prompt_b, clip.alpha


@_settings(200)
@given(outline=outlines(), rate=st.sampled_from(RATES), max_clip_s=max_clip_seconds)
def test_repeats_reuse_seed_and_prompt_unless_varied_and_morphs_aim_at_the_next_section(outline, rate, max_clip_s):
    plan = plan_song(outline, sample_rate_hz=rate, max_clip_s=max_clip_s)
    first = {}
    for section in plan.sections:
        spec = outline.sections[section.name]
        assert section.occurrence == list(outline.form[:section.index + 1]).count(section.name)
        expected_seed = spec.seed if spec.seed is not None else derive_seed(outline.seed, "section", section.name)
        assert section.seed == expected_seed
        assert section.prompt.startswith(spec.prompt)
        clips = [plan.clips[i] for i in section.clip_indices]
        for position, clip in enumerate(clips):
            assert (clip.seed_a, clip.prompt_a) == (derive_seed(section.seed, "clip", position), section.prompt)
            if clip.kind == "section" and (section.occurrence == 1 or spec.variation == 0):
                assert (clip.seed_b, clip.prompt_b, clip.alpha) == (clip.seed_a, clip.prompt_a, 0.0)
            elif clip.kind == "section":  # a varied repeat: same endpoint a, its own endpoint b
                assert (clip.prompt_b, clip.alpha) == (clip.prompt_a, round(spec.variation, 6))
                assert clip.seed_b == derive_seed(section.seed, "clip", position, "occurrence", section.occurrence)
        if section.name not in first:
            first[section.name] = clips
        else:  # a repeat plays the first occurrence's clips, up to its variation and its own morph
            assert section.prompt == plan.sections[first[section.name][0].section_index].prompt
            for a, b in zip(first[section.name], clips):
                assert (a.seed_a, a.prompt_a) == (b.seed_a, b.prompt_a)
                if a.kind == b.kind == "section" and spec.variation == 0 and a.bars == b.bars:
                    assert _clip_signature(a) == _clip_signature(b)
        morph = [c for c in clips if c.kind == "interpolation"]
        if morph:
            following = plan.sections[section.index + 1]
            alphas = [c.alpha for c in morph]
            assert 0 < alphas[0] and alphas[-1] < 1 and alphas == sorted(set(alphas))
            assert all((c.prompt_b, c.seed_b) == (following.prompt, plan.clips[following.clip_indices[0]].seed_a)
                       for c in morph)


# --- seeds --------------------------------------------------------------------------------------------------

PINNED_OUTLINE = {"title": "pinned", "bpm": 117, "seed": 2024, "form": ["verse", "chorus", "verse"],
                  "sections": {"verse": {"bars": 8, "prompt": "verse"}, "chorus": {"bars": 4, "prompt": "chorus"}}}
PINNED_SCRIPT = (
    "import json, sys\n"
    "from composer.outline_model import Outline\n"
    "from composer.planner import plan_song\n"
    "plan = plan_song(Outline.model_validate(json.loads(sys.argv[1])), sample_rate_hz=22050, max_clip_s=5.94)\n"
    "print(json.dumps([[s.seed for s in plan.sections], [c.seed_a for c in plan.clips]]))\n"
)


def _pinned_seeds() -> list[list[int]]:
    plan = plan_song(Outline.model_validate(PINNED_OUTLINE), sample_rate_hz=22050, max_clip_s=5.94)
    return [[s.seed for s in plan.sections], [c.seed_a for c in plan.clips]]


def test_seeds_are_pinned_and_do_not_depend_on_the_hash_seed():
    """Seeds are SHA-256 of names, never hash(): the same values in every process, on every machine."""
    assert derive_seed(2024, "section", "verse") == 1416343824
    assert derive_seed(2024, "section", "chorus") == 1275331458
    assert derive_seed(1416343824, "clip", 0) == 2307179756
    assert derive_seed(7, "clip", 3, "occurrence", 2) == 2771878222
    seeds = _pinned_seeds()
    assert seeds[0] == [1416343824, 1275331458, 1416343824]
    other = "1" if os.environ.get("PYTHONHASHSEED") != "1" else "2"
    done = subprocess.run([sys.executable, "-c", PINNED_SCRIPT, json.dumps(PINNED_OUTLINE)], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "PYTHONHASHSEED": other},
                          cwd=Path(__file__).resolve().parents[1])
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == seeds


# --- crossfades ---------------------------------------------------------------------------------------------


@_settings(100)
@given(num_samples=st.integers(1, 5000))
def test_fade_curves_are_equal_power_or_equal_gain_and_symmetric(num_samples):
    out, into = equal_power_fade(num_samples=num_samples)
    np.testing.assert_allclose(out ** 2 + into ** 2, 1.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(out, into[::-1], rtol=0, atol=1e-12)  # centred: the joint is the middle
    assert np.all(np.diff(into) > 0) and 0 < into[0] and into[-1] < 1
    out, into = linear_fade(num_samples=num_samples)
    np.testing.assert_allclose(out + into, 1.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(out, into[::-1], rtol=0, atol=1e-12)


@st.composite
def layouts(draw):
    """Clips on a timeline with a padding and a fade per joint no longer than twice it or either clip."""
    spans = draw(st.lists(st.integers(1, 300), min_size=1, max_size=6))
    pad = draw(st.integers(1, 160))
    fades = [draw(st.integers(0, min(a, b, 2 * pad))) for a, b in zip(spans, spans[1:])]
    coherent = draw(st.lists(st.booleans(), min_size=len(fades), max_size=len(fades)))
    edges = np.concatenate([[0], np.cumsum(spans)]).tolist()
    return [ClipPlacement(a, b, pad) for a, b in zip(edges, edges[1:])], fades, coherent


@_settings(200)
@given(layout=layouts())
def test_fixed_stitch_weights_keep_constant_gain_or_power_across_every_joint(layout):
    """The fixed law: each output sample is one clip at full weight, or two clips in the fade centred on
    their joint whose weights keep power (equal-power) or gain (coherent, linear) at exactly one."""
    places, fades, coherent = layout
    total = places[-1].end_sample
    weights = np.array([
        stitch_clips([np.full(p.end_sample - p.start_sample + 2 * p.pad_samples, float(i == j)) for i, p in
                      enumerate(places)], places, joint_fade_samples=fades, total_samples=total, law="fixed",
                     coherent_joints=coherent)
        for j in range(len(places))])
    in_fade = np.zeros(total, dtype=bool)
    for i, fade in enumerate(fades):
        start, stop = places[i].end_sample - fade // 2, places[i].end_sample - fade // 2 + fade
        pair = weights[i:i + 2, start:stop]
        kept = pair.sum(axis=0) if coherent[i] else np.sum(pair ** 2, axis=0)
        np.testing.assert_allclose(kept, 1.0, rtol=0, atol=1e-12)
        assert np.all(pair > 0) and not np.any(np.delete(weights, [i, i + 1], axis=0)[:, start:stop])
        in_fade[start:stop] = True
    owner = np.searchsorted([p.end_sample for p in places], np.arange(total), side="right")
    solo = weights[:, ~in_fade]
    assert np.array_equal(solo, (owner[~in_fade] == np.arange(len(places))[:, None]).astype(float))


@_settings(50)
@given(pad=st.integers(1, 200), extra=st.integers(0, 400), span=st.integers(1000, 2000))
@example(pad=5, extra=1, span=1000)
def test_stitch_refuses_fades_longer_than_twice_the_padding_with_its_own_message(pad, extra, span):
    fade = 2 * pad + extra
    clips = [np.ones(span + 2 * pad), np.ones(span + 2 * pad)]
    places = [ClipPlacement(0, span, pad), ClipPlacement(span, 2 * span, pad)]
    if extra == 0:
        assert stitch_clips(clips, places, joint_fade_samples=[fade], total_samples=2 * span).shape == (2 * span,)
    else:
        with pytest.raises(ValueError, match="longer than twice the padding"):
            stitch_clips(clips, places, joint_fade_samples=[fade], total_samples=2 * span)


# --- regeneration: replacing clips changes only changed_span --------------------------------------------------

small_outlines = outlines(max_sections=4, max_bars=8, max_form=6, max_beats=8)


def _placements(plan: Plan) -> list[ClipPlacement]:
    return [ClipPlacement(c.start_sample, c.end_sample, plan.pad_samples) for c in plan.clips]


def _noise_clips(plan: Plan, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)  # loud enough that the limiter works on some samples
    return [rng.uniform(0.1, 1.5) * rng.uniform(-1, 1, c.end_sample - c.start_sample + 2 * plan.pad_samples)
            for c in plan.clips]


def _finished(plan: Plan, song: np.ndarray) -> np.ndarray:
    """What render_song does after the overlap-add: edge declicks, then the pointwise limiter."""
    return soft_limit(declick_edges(song, fade_samples=declick_samples(sample_rate_hz=plan.sample_rate_hz)))


@_settings(100)
@given(outline=small_outlines, rate=st.sampled_from((1000, 2000)), max_clip_s=st.floats(0.5, 6.0),
       seed=st.integers(0, 2**32 - 1), data=st.data())
def test_replacing_clips_changes_exactly_their_changed_span(outline, rate, max_clip_s, seed, data):
    plan = plan_song(outline, sample_rate_hz=rate, max_clip_s=max_clip_s)
    places, fades = _placements(plan), joint_fades(plan)
    coherent = data.draw(st.lists(st.booleans(), min_size=len(fades), max_size=len(fades)))
    law = data.draw(st.sampled_from(FADE_LAWS))
    clips = _noise_clips(plan, seed)
    before = stitch_clips(clips, places, joint_fade_samples=fades, total_samples=plan.total_samples, law=law,
                          coherent_joints=coherent)
    assert before.shape == (plan.total_samples,)
    # overlap-adding clip by clip in any order is the same song, bit for bit (what the stitch worker does)
    ramps = [joint_ramps(clips[i], places[i], clips[i + 1], places[i + 1], fade_samples=fade, law=law,
                         coherent=coherent[i]) for i, fade in enumerate(fades)]
    order = data.draw(st.permutations(range(len(clips))))
    piecewise = np.zeros(plan.total_samples)
    for i in order:
        add_clip(piecewise, clips[i], places[i], fade_in=ramps[i - 1][1] if i else None,
                 fade_out=ramps[i][0] if i < len(fades) else None)
    assert np.array_equal(piecewise, before)
    # a regeneration: any set of clips gets new audio
    changed = sorted(data.draw(st.sets(st.sampled_from(range(len(clips))), min_size=1)))
    fresh = _noise_clips(plan, seed + 1)
    after = stitch_clips([fresh[i] if i in changed else a for i, a in enumerate(clips)], places,
                         joint_fade_samples=fades, total_samples=plan.total_samples, law=law,
                         coherent_joints=coherent)
    lo, hi = changed_span(plan, changed)
    old, new = _finished(plan, before), _finished(plan, after)
    assert np.array_equal(old[:lo], new[:lo]) and np.array_equal(old[hi:], new[hi:])
    assert old[lo] != new[lo] and old[hi - 1] != new[hi - 1]  # and the span is no wider than what changed


class SeededNoise(SpectrogramBackend):
    """Numpy stand-in for a model: audio and level follow every field a regeneration can change."""

    name = "seeded-noise"

    def __init__(self, rate: int) -> None:
        self.rate = rate

    @property
    def sample_rate_hz(self) -> int:
        return self.rate

    def describe(self):
        return {"name": self.name, "rate": self.rate}

    def render(self, requests):
        out = []
        for r in requests:
            text = zlib.crc32(f"{r.prompt_a}|{r.prompt_b}|{r.alpha}|{r.denoising}".encode())
            rng = np.random.default_rng([r.seed_a, r.seed_b, text])
            out.append((rng.uniform(0.02, 0.4) * rng.standard_normal(r.num_samples)).astype(np.float32))
        return out


def _regenerate(outline: Outline, rate: int, max_clip_s: float, index: int, override: SectionOverride):
    """Render a song, regenerate one section occurrence as `composer regenerate` does, return both takes."""
    backend = SeededNoise(rate)
    old_plan = plan_song(outline, sample_rate_hz=rate, max_clip_s=max_clip_s)
    section = old_plan.sections[index]
    plan = plan_song(outline, sample_rate_hz=rate, max_clip_s=max_clip_s,
                     overrides={(section.name, section.occurrence): override})
    with tempfile.TemporaryDirectory() as folder:
        kwargs = dict(cache=ClipCache(Path(folder)), loudness_db=-18.0, groove_root=Path(folder))
        old, new = (render_song(p, backend, **kwargs).audio for p in (old_plan, plan))
    changed = [i for i, (a, b) in enumerate(zip(old_plan.clips, plan.clips)) if a != b]
    return old_plan, plan, changed, old, new


overrides = st.builds(SectionOverride, seed=st.one_of(st.none(), st.integers(0, 2**32 - 1)),
                      prompt=st.one_of(st.none(), st.just("a new idea")),
                      denoising=st.one_of(st.none(), st.floats(0.1, 1.0)))


@_settings(40)
@given(outline=outlines(max_sections=4, max_bars=6, max_form=5, max_beats=7, max_song_s=120, groove="none"),
       max_clip_s=st.floats(0.5, 4.0), override=overrides, data=st.data())
def test_regenerating_a_section_leaves_every_sample_outside_the_changed_span_bit_identical(
        outline, max_clip_s, override, data):
    rate = 2000
    sections = plan_song(outline, sample_rate_hz=rate, max_clip_s=max_clip_s).sections
    index = data.draw(st.integers(0, len(sections) - 1))
    old_plan, plan, changed, old, new = _regenerate(outline, rate, max_clip_s, index, override)
    # a section morphing into this one re-renders its morph clips too
    morphs = [i for i in sections[index - 1].clip_indices if plan.clips[i].kind == "interpolation"] if index else []
    assert set(changed) <= set(plan.sections[index].clip_indices) | set(morphs)
    if not changed:
        assert np.array_equal(old, new)
        return
    lo, hi = changed_span(plan, changed)
    assert np.array_equal(old[:lo], new[:lo]) and np.array_equal(old[hi:], new[hi:])


@_settings(10)
@given(bars=st.integers(2, 6), morph=st.integers(1, 2), seed=st.integers(0, 2**32 - 1))
@example(bars=4, morph=1, seed=99)
def test_regenerating_after_a_morph_changes_only_the_changed_span(bars, morph, seed):
    outline = Outline.model_validate({
        "title": "morph", "bpm": 120, "seed": 1, "form": ["a", "b"], "sections": {
            "a": {"bars": bars, "prompt": "one", "groove": "none", "transition": "interpolate",
                  "interpolate_bars": morph},
            "b": {"bars": 2, "prompt": "two", "groove": "none"}}})
    old_plan, plan, changed, old, new = _regenerate(outline, 2000, 2.0, 1, SectionOverride(seed=seed))
    assume(old_plan.sections[1].seed != seed)
    lo, hi = changed_span(plan, changed)
    assert np.array_equal(old[:lo], new[:lo]) and np.array_equal(old[hi:], new[hi:])


# --- loudness -----------------------------------------------------------------------------------------------


@_settings(100)
@given(audio=st.lists(st.floats(-50, 50), min_size=1, max_size=200), cut=st.integers(0, 200))
def test_limiter_is_pointwise_bounded_and_order_preserving(audio, cut):
    """Pointwise is what keeps a regeneration local: limiting a song is limiting its pieces."""
    signal = np.array(audio)
    limited = soft_limit(signal)
    cut = min(cut, signal.size)
    assert np.array_equal(limited, np.concatenate([soft_limit(signal[:cut]), soft_limit(signal[cut:])]))
    assert np.all(np.abs(limited) <= 1.0)
    quiet = np.abs(signal) <= 0.9
    assert np.array_equal(limited[quiet], signal[quiet])
    order = np.argsort(signal, kind="stable")
    assert np.all(np.diff(limited[order]) >= 0)


@_settings(100)
@given(levels=st.lists(st.floats(-60, -6), min_size=3, max_size=12), data=st.data())
def test_trend_corrections_are_a_weighted_line_fit(levels, data):
    count = len(levels)
    positions = np.cumsum(data.draw(st.lists(st.floats(1, 1e5), min_size=count, max_size=count)))
    weights = np.array(data.draw(st.lists(st.floats(1, 1e5), min_size=count, max_size=count)))
    levels = np.array(levels)
    line = data.draw(st.floats(-4, 4)) + data.draw(st.floats(-4, 4)) * positions / positions[-1]
    uncapped = trend_corrections_db(levels, positions=positions, weights=weights, max_correction_db=1e9)
    # the corrected levels lie on the line of least weighted squares: its normal equations hold
    scale = np.sum(weights * np.abs(uncapped)) + 1.0
    assert abs(np.sum(weights * uncapped)) <= 1e-6 * scale
    centred = (positions - positions.mean()) / np.ptp(positions)
    assert abs(np.sum(weights * uncapped * centred)) <= 1e-6 * scale
    # and the arrangement's own trend is kept: adding a straight line to the levels changes no correction
    capped = trend_corrections_db(levels, positions=positions, weights=weights)
    assert np.all(np.abs(capped) <= 6.0)
    shifted = trend_corrections_db(levels + line, positions=positions, weights=weights)
    np.testing.assert_allclose(shifted, capped, rtol=0, atol=1e-6)
