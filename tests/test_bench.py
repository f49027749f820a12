"""The benchmark's song scaling (the timing itself is measured by `composer bench`, not asserted)."""

from __future__ import annotations

import pytest

from composer.bench import scaled_outline, summarize
from composer.outline import outline_from_dict
from composer.planner import plan_song
from composer.templates_catalog import load_template


@pytest.mark.parametrize("minutes", [1, 3, 6, 10])
def test_scaled_outline_reaches_the_length(minutes):
    outline = load_template("pop")
    scaled = outline_from_dict(scaled_outline(outline, duration_s=minutes * 60))
    plan = plan_song(scaled, sample_rate_hz=22050, max_clip_s=5.94)
    longest_section_s = max(s.bars for s in outline.sections.values()) * 4 * 60 / outline.bpm
    assert minutes * 60 <= plan.duration_s < minutes * 60 + longest_section_s
    assert scaled.form[: len(outline.form)] == outline.form[: len(scaled.form)]


def test_summarize_takes_medians():
    runs = [{"total_s": t, "real_time_factor": 180 / t, "peak_host_memory_mb": m, "stages_s": {"render": t - 1},
             "backend_stages_s": {"denoise": t / 2}} for t, m in ((10, 100), (30, 300), (20, 200))]
    summary = summarize(runs)
    assert summary["median_total_s"] == 20 and summary["peak_host_memory_mb"] == 300
    assert summary["median_stage_s"] == {"denoise": 10, "render": 19}


@pytest.mark.parametrize("template", ["ambient", "edm", "waltz"])
def test_an_hour_long_benchmark_song_stays_within_the_outline_limit(template):
    from composer.outline_model import MAX_SONG_S

    data = scaled_outline(load_template(template), duration_s=MAX_SONG_S)
    outline_from_dict(data, source=f"{template} at 60 minutes")  # would raise past the limit


def test_a_learned_form_cannot_be_cycled():
    from composer.errors import PlanError

    learned = outline_from_dict({"title": "l", "bpm": 110, "form": "learned",
                                 "structure": {"genre": "pop", "duration": "3:00"}})
    with pytest.raises(PlanError, match="needs an explicit form list"):
        scaled_outline(learned, duration_s=60.0)
