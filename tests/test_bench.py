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


def test_each_run_reports_its_own_peak_memory():
    import numpy as np

    from composer.bench import peak_host_memory_mb, reset_host_peak

    if reset_host_peak() != "run":
        pytest.skip("this kernel cannot restart the peak-RSS record")
    block = np.ones(300 * 2**20 // 8)  # 300 MB, touched
    big = peak_host_memory_mb()
    del block
    assert reset_host_peak() == "run"
    assert peak_host_memory_mb() < big - 200  # ru_maxrss would still say `big`


def fake_run(total_s: float) -> dict:
    return {"duration_s": 60.0, "total_s": total_s, "song_s": total_s - 1, "real_time_factor": 60.0 / total_s,
            "peak_host_memory_mb": 100.0, "peak_gpu_memory_mb": None, "stages_s": {"render": 1.0},
            "backend_stages_s": {}, "dtype": "float32"}


def test_bench_writes_its_json_after_every_length_and_refuses_a_length_twice(tmp_path, monkeypatch):
    import json

    from typer.testing import CliRunner

    from composer import bench
    from composer.cli import app

    runs = iter([fake_run(10.0)])
    monkeypatch.setattr(bench, "bench_song", lambda *a, **k: next(runs))  # the second length fails
    result = CliRunner().invoke(app, ["bench", "--backend", "tiny-random", "--minutes", "1,2", "--repeats", "1", "--no-baseline",
                                      "--no-warmup", "--json", str(tmp_path / "b.json")])
    assert result.exit_code != 0
    saved = json.loads((tmp_path / "b.json").read_text())
    assert list(saved["results"]) == ["1 min"] and saved["results"]["1 min"]["summary"]["median_total_s"] == 10.0

    twice = CliRunner().invoke(app, ["bench", "--backend", "tiny-random", "--minutes", "1,1"])
    assert twice.exit_code == 2 and "each length once" in twice.output


def test_bench_times_a_regeneration_warm_and_in_a_fresh_process(tmp_path):
    import json

    from typer.testing import CliRunner

    from composer.cli import app

    result = CliRunner().invoke(app, ["bench", "--backend", "tiny-random", "--minutes", "0.05", "--repeats", "1",
                                      "--no-baseline", "--json", str(tmp_path / "b.json")])
    assert result.exit_code == 0, result.output
    saved = json.loads((tmp_path / "b.json").read_text())
    assert saved["warmup"] is True and saved["precision"] == "auto"
    assert isinstance(saved["environment"]["cpu_bf16_matrix_units"], bool)
    (run,) = saved["results"]["0.05 min"]["runs"]
    assert run["peak_host_memory_scope"] in ("run", "process")
    # the fresh process pays Python start, imports and model load on top of the warm figure
    assert run["regenerate"]["cold_s"] > run["regenerate"]["total_s"]
    assert "in a fresh process" in " ".join(result.output.split())
