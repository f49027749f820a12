"""Planner: bars on a sample-exact grid, seeds, interpolation, repeats."""

from __future__ import annotations

from fractions import Fraction

import pytest

from composer.outline import parse_outline
from composer.plan import SectionOverride
from composer.planner import infer_role, plan_song
from composer.seeds import derive_seed
from composer.templates_catalog import load_template, template_names
from composer.timing import BarGrid

OUTLINE = """\
title: t
bpm: 117
seed: 3
sections:
  intro: {bars: 4, prompt: soft}
  verse: {bars: 8, prompt: verse, transition: interpolate, interpolate_bars: 4}
  chorus: {bars: 8, prompt: chorus, variation: 0.2}
  bridge: {bars: 8, prompt: bridge, transition: cut}
form: [intro, verse, chorus, verse, chorus, bridge, chorus]
"""


def test_bar_grid_is_exact_and_never_drifts():
    grid = BarGrid(bpm=117, beats_per_bar=4, beat_unit=4, sample_rate_hz=44100)
    exact = Fraction(4 * 60 * 44100) / Fraction(117)
    for bar in (0, 1, 7, 100, 1000):
        assert abs(grid.bar_start_sample(bar) - exact * bar) <= Fraction(1, 2)


def test_three_minute_song_sample_exact():
    outline = parse_outline(OUTLINE.replace("bpm: 117", "bpm: 113.7"))
    plan = plan_song(outline, sample_rate_hz=44100, max_clip_s=5.11)
    grid = BarGrid(bpm=113.7, beats_per_bar=4, beat_unit=4, sample_rate_hz=44100)
    # every clip starts where the previous ends, on the grid of its own bar number
    for before, after in zip(plan.clips, plan.clips[1:]):
        assert before.end_sample == after.start_sample
    for clip in plan.clips:
        assert clip.start_sample == grid.bar_start_sample(clip.start_bar)
    for section in plan.sections:
        assert section.start_sample == grid.bar_start_sample(section.start_bar)
    assert plan.total_samples == grid.bar_start_sample(sum(s.bars for s in plan.sections))


@pytest.mark.parametrize("name", template_names())
def test_templates_are_about_three_minutes(name):
    plan = plan_song(load_template(name), sample_rate_hz=22050, max_clip_s=5.94)
    assert 170 <= plan.duration_s <= 210
    # a 3-minute song lands on its bar grid at the last sample too
    last = plan.sections[-1]
    assert plan.total_samples == last.end_sample


def test_clips_fit_the_backend_and_cover_whole_bars():
    plan = plan_song(parse_outline(OUTLINE), sample_rate_hz=44100, max_clip_s=5.11)
    bar_s = 4 * 60 / 117
    for clip in plan.clips:
        assert clip.bars >= 1
        assert clip.bars * bar_s <= 5.11 + 1e-9
    for section in plan.sections:
        assert sum(plan.clips[i].bars for i in section.clip_indices) == section.bars


def test_repeats_reuse_seed_and_prompt():
    plan = plan_song(parse_outline(OUTLINE), sample_rate_hz=44100, max_clip_s=5.11)
    verses = [s for s in plan.sections if s.name == "verse"]
    assert verses[0].seed == verses[1].seed == derive_seed(3, "section", "verse")
    first = [plan.clips[i] for i in verses[0].clip_indices]
    second = [plan.clips[i] for i in verses[1].clip_indices]
    assert [(c.seed_a, c.prompt_a, c.alpha) for c in first] == [(c.seed_a, c.prompt_a, c.alpha) for c in second]


def test_variation_moves_repeats_away_from_first_occurrence():
    plan = plan_song(parse_outline(OUTLINE), sample_rate_hz=44100, max_clip_s=5.11)
    choruses = [s for s in plan.sections if s.name == "chorus"]
    first, second = (plan.clips[choruses[k].clip_indices[0]] for k in (0, 1))
    assert first.alpha == 0.0 and second.alpha == pytest.approx(0.2)
    assert second.seed_a == first.seed_a and second.seed_b != first.seed_b


def test_interpolation_steps_alpha_toward_next_section():
    plan = plan_song(parse_outline(OUTLINE), sample_rate_hz=44100, max_clip_s=5.11)
    verse = plan.sections[1]
    clips = [plan.clips[i] for i in verse.clip_indices]
    morph = [c for c in clips if c.kind == "interpolation"]
    assert sum(c.bars for c in morph) == 4
    alphas = [c.alpha for c in morph]
    assert alphas == sorted(alphas) and 0 < alphas[0] and alphas[-1] < 1
    chorus = plan.sections[2]
    assert all(c.prompt_b == chorus.prompt for c in morph)
    assert all(c.seed_b == plan.clips[chorus.clip_indices[0]].seed_a for c in morph)


def test_override_changes_only_that_occurrence():
    outline = parse_outline(OUTLINE)
    base = plan_song(outline, sample_rate_hz=44100, max_clip_s=5.11)
    changed = plan_song(outline, sample_rate_hz=44100, max_clip_s=5.11,
                        overrides={("chorus", 2): SectionOverride(seed=99)})
    diff = {i for i, (a, b) in enumerate(zip(base.clips, changed.clips)) if a != b}
    chorus2 = base.section_for("chorus:2")
    # the chorus itself, plus the interpolation clips of the verse that morph into it
    into = {i for i in base.sections[chorus2.index - 1].clip_indices if base.clips[i].kind == "interpolation"}
    assert diff == set(chorus2.clip_indices) | into


def test_cut_transition_uses_a_short_declick_fade():
    plan = plan_song(parse_outline(OUTLINE), sample_rate_hz=44100, max_clip_s=5.11)
    bridge = plan.section_for("bridge")
    assert bridge.transition == "cut"
    assert bridge.fade_samples < plan.joint_fade_samples


def test_section_selector_errors_list_choices():
    from composer.errors import PlanError

    plan = plan_song(parse_outline(OUTLINE), sample_rate_hz=44100, max_clip_s=5.11)
    assert plan.section_for("chorus:3").occurrence == 3
    assert plan.section_for("0").name == "intro"
    with pytest.raises(PlanError, match="chorus:1"):
        plan.section_for("chorus:9")
    with pytest.raises(PlanError, match="out of range"):
        plan.section_for("99")
    assert plan.section_for("chorus").occurrence == 1  # a bare name is the first occurrence
    for bad in ("chorus:", "chorus:0", "chorus:x"):  # a colon needs an occurrence after it
        with pytest.raises(PlanError, match="NAME:OCCURRENCE"):
            plan.section_for(bad)


@pytest.mark.parametrize(("name", "role"), [("chorus_2", "chorus"), ("Pre-Chorus", "prechorus"),
                                            ("verse2", "verse"), ("outro", "outro"), ("zzz", "other")])
def test_infer_role(name, role):
    assert infer_role(name) == role


def test_odd_meter_bars():
    outline = parse_outline(OUTLINE.replace("bpm: 117", "bpm: 140\ntime_signature: '7/8'"))
    plan = plan_song(outline, sample_rate_hz=22050, max_clip_s=5.94)
    grid = BarGrid(bpm=140, beats_per_bar=7, beat_unit=8, sample_rate_hz=22050)
    assert plan.total_samples == grid.bar_start_sample(sum(s.bars for s in plan.sections))


def test_learned_form_is_sampled_at_plan_time_and_recorded():
    text = ("title: learned\nbpm: 110\nseed: 9\nform: learned\nstructure: {genre: pop, duration: '3:00'}\n"
            "sections:\n  chorus: {bars: 8, prompt: big chorus}\n")
    first = plan_song(parse_outline(text), sample_rate_hz=22050, max_clip_s=5.94)
    again = plan_song(parse_outline(text), sample_rate_hz=22050, max_clip_s=5.94)
    assert first == again  # same seed, same form
    assert first.learned_form["genre"] == "pop" and first.learned_form["form"] == list(first.form)
    assert abs(first.duration_s - 180) <= 9  # within 5 %
    choruses = [s for s in first.sections if s.name == "chorus"]
    assert choruses and all(s.bars == 8 and s.prompt.startswith("big chorus") for s in choruses)
    other = plan_song(parse_outline(text.replace("seed: 9", "seed: 10")), sample_rate_hz=22050, max_clip_s=5.94)
    assert other.form != first.form or other.sections != first.sections
    assert first.warnings == ()  # it plays the outline's chorus


def test_a_learned_form_that_leaves_out_an_outline_section_says_so():
    text = ("title: learned\nbpm: 120\nform: learned\nstructure: {genre: pop, duration: '3:00'}\n"
            "sections:\n  chorus: {bars: 96, prompt: huge chorus}\n")
    plan = plan_song(parse_outline(text), sample_rate_hz=22050, max_clip_s=5.94)
    assert "chorus" not in plan.form  # 96 pinned bars of a 90-bar target: no form with a chorus fits
    (warning,) = plan.warnings
    assert warning.startswith(f"the learned form ({' '.join(plan.form)}) leaves out the outline's section "
                              "'chorus' (96 bars)")
    assert "give it fewer bars" in warning and plan.to_dict()["warnings"] == (warning,)


@pytest.mark.parametrize("prompt, extra, expected", [
    ("soft", "", "soft, 117 bpm"),
    ("soft, 90 BPM", "", "soft, 90 BPM"),  # the prompt's own tempo wins
    ("soft", "style: 'funk at 100 beats per minute'\n", "soft, funk at 100 beats per minute"),
    ("soft", "tempo_in_prompt: false\n", "soft"),
    ("soft", "key: A minor\nstyle: funk\n", "soft, funk, in A minor, 117 bpm"),
])
def test_prompts_state_the_tempo_unless_told_not_to(prompt, extra, expected):
    text = f"title: t\nbpm: 117\n{extra}sections:\n  a: {{bars: 4, prompt: '{prompt}'}}\nform: [a]\n"
    plan = plan_song(parse_outline(text), sample_rate_hz=44100, max_clip_s=5.11)
    assert plan.clips[0].prompt_a == expected


def test_tempo_in_prompt_must_be_a_boolean():
    with pytest.raises(Exception, match="tempo_in_prompt"):
        parse_outline("title: t\nbpm: 117\ntempo_in_prompt: 'yes'\nsections:\n  a: {bars: 4, prompt: x}\nform: [a]\n")


@pytest.mark.parametrize("text", ["\u0664/4", "4/\u0664", "4/", "/4", "four/4"])
def test_time_signatures_are_ascii_digits(text):
    from composer.timing import parse_time_signature

    with pytest.raises(ValueError, match="must look like"):
        parse_time_signature(text)


@pytest.mark.parametrize("text, seconds", [("3:00", 180.0), ("0:59.5", 59.5), ("90", 90.0), (42, 42.0)])
def test_durations_parse(text, seconds):
    from composer.timing import parse_duration_s

    assert parse_duration_s(text) == seconds


@pytest.mark.parametrize("text", ["3:-30", "3:75", "-1:10", "0", "inf"])
def test_durations_out_of_range_are_refused(text):
    from composer.timing import parse_duration_s

    with pytest.raises(ValueError):
        parse_duration_s(text)


FADE_OVER_WHOLE_CLIPS = """\
title: fades
bpm: 240
time_signature: "3/8"
render: {crossfade_beats: 16}
sections:
  a: {bars: 1, prompt: x}
  b: {bars: 3, prompt: y}
  c: {bars: 1, prompt: z}
form: [a, b, c]
"""


def test_a_crossfade_longer_than_its_clips_is_planned_at_the_length_applied():
    # 16 eighths at 240 bpm ask for 4 s, but a bar of 3/8 lasts 0.75 s: no fade outlasts a one-bar clip
    plan = plan_song(parse_outline(FADE_OVER_WHOLE_CLIPS), sample_rate_hz=44100, max_clip_s=5.11)
    assert [c.end_sample - c.start_sample for c in plan.clips] == [33075, 99225, 33075]
    assert plan.joint_fade_samples == 33075
    assert [s.fade_samples for s in plan.sections] == [33075, 33075, 33075]
    assert plan.pad_samples == 33075 // 2 + 1  # padded for the fade applied, not for the 4 s asked


LONG_BARS = "title: t\nbpm: 40\ntime_signature: '12/8'\nsections:\n  a: {bars: 2, prompt: x}\nform: [a]\n"


def test_a_bar_longer_than_the_backends_clip_is_planned_with_a_warning():
    plan = plan_song(parse_outline(LONG_BARS), sample_rate_hz=22050, max_clip_s=5.93)
    assert [c.bars for c in plan.clips] == [1, 1]  # still planned (and rendered): one bar per clip
    (warning,) = plan.warnings
    assert "one bar of 12/8 at 40 bpm lasts 18.00 s" in warning
    assert "longer than the backend's longest clip (5.93 s)" in warning
    assert "fits at 121.5 bpm or faster" in warning  # 12 eighths in 5.93 s; at 121.4 a bar is 5.9308 s
    assert plan.to_dict()["warnings"] == (warning,)
    fits = plan_song(parse_outline(LONG_BARS.replace("bpm: 40", "bpm: 121.5")), sample_rate_hz=22050,
                     max_clip_s=5.93)
    assert fits.warnings == () and "warnings" not in fits.to_dict()


def test_a_bar_no_allowed_tempo_fits_says_so():
    text = LONG_BARS.replace("bpm: 40", "bpm: 240").replace("12/8", "21/4")
    (warning,) = plan_song(parse_outline(text), sample_rate_hz=44100, max_clip_s=5.11).warnings
    assert "lasts 5.25 s" in warning and "fits only above 240 bpm (246.6)" in warning
