"""CLI through typer's CliRunner: exit codes and error text for everything that needs no model."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from composer.cli import app

runner = CliRunner()

GOOD = """\
title: CLI song
bpm: 100
sections:
  a: {bars: 4, prompt: piano}
  b: {bars: 4, prompt: strings}
form: [a, b, a]
"""


def test_plan_table_and_json(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(GOOD)
    result = runner.invoke(app, ["plan", str(path)])
    assert result.exit_code == 0, result.output
    assert "a 2" in result.output and "0:19.2" in result.output  # second 'a' starts after 8 bars of 2.4 s
    result = runner.invoke(app, ["plan", str(path), "--json"])
    data = json.loads(result.output)
    assert [s["name"] for s in data["sections"]] == ["a", "b", "a"]
    assert data["total_samples"] == data["sections"][-1]["end_sample"]


def test_bad_outline_exit_2_and_nothing_written(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(GOOD.replace("bars: 4, prompt: strings", "bars: 0, prompt: strings"))
    out = tmp_path / "out"
    result = runner.invoke(app, ["render", str(path), "-o", str(out), "--backend", "tiny-random"])
    assert result.exit_code == 2
    assert "bad.yaml:5: sections.b.bars" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_missing_outline_and_unknown_backend(tmp_path):
    result = runner.invoke(app, ["plan", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2 and "no such outline file" in result.output
    path = tmp_path / "s.yaml"
    path.write_text(GOOD)
    result = runner.invoke(app, ["render", str(path), "-o", str(tmp_path / "o"), "--backend", "magic"])
    assert result.exit_code == 3 and "unknown backend 'magic'" in result.output


def test_regenerate_needs_a_song_folder(tmp_path):
    result = runner.invoke(app, ["regenerate", str(tmp_path / "none"), "--section", "a"])
    assert result.exit_code == 5 and "no such song folder" in result.output


def test_templates_new_and_schema(tmp_path):
    result = runner.invoke(app, ["templates"])
    assert result.exit_code == 0 and "pop" in result.output
    target = tmp_path / "mine.yaml"
    assert runner.invoke(app, ["new", "--template", "blues", "-o", str(target)]).exit_code == 0
    assert "12-bar" in target.read_text()
    again = runner.invoke(app, ["new", "--template", "blues", "-o", str(target)])
    assert again.exit_code == 2 and "already exists" in again.output  # as `structure sample` exits
    outside = runner.invoke(app, ["new", "--template", "../templates/pop", "-o", str(tmp_path / "y.yaml")])
    assert outside.exit_code == 2 and not (tmp_path / "y.yaml").exists()  # a name, never a path
    unknown = runner.invoke(app, ["new", "--template", "polka", "-o", str(tmp_path / "x.yaml")])
    assert unknown.exit_code == 2 and "available:" in unknown.output
    schema = json.loads(runner.invoke(app, ["schema"]).output)
    assert "sections" in schema["properties"] and schema["required"] == ["bpm"]
    # what the validators add to the types: sections required (unless learned), their names' rule
    assert schema["else"]["required"] == ["sections"] and schema["if"]["properties"]["form"] == {"const": "learned"}
    assert schema["properties"]["sections"]["propertyNames"]["pattern"].startswith("^[A-Za-z]")


def test_backends_lists_tiny_random():
    result = runner.invoke(app, ["backends"])
    assert result.exit_code == 0 and "tiny-random" in result.output and "riffusion" in result.output


def test_riffusion_backend_renders_a_model_folder_through_the_cli(tmp_path):
    """A diffusers folder (here the tiny random one) loads through --backend riffusion --model PATH."""
    from composer.backends.tiny_pipeline import build_tiny_pipeline_folder

    folder = build_tiny_pipeline_folder(tmp_path / "model", seed=1)
    outline = tmp_path / "one.yaml"
    outline.write_text("title: one\nbpm: 120\nrender: {steps: 2}\nsections: {a: {bars: 2, prompt: piano}}\nform: [a]\n")
    result = runner.invoke(app, ["render", str(outline), "-o", str(tmp_path / "song"), "--backend", "riffusion",
                                 "--model", str(folder), "--device", "cpu"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "song" / "manifest.json").read_text())
    assert manifest["backend"]["name"] == "riffusion" and manifest["backend"]["model"] == str(folder)
    missing = runner.invoke(app, ["render", str(outline), "-o", str(tmp_path / "x"), "--backend", "riffusion"])
    assert missing.exit_code == 3 and "--model PATH" in missing.output


def test_registry_facts_match_the_loaded_tiny_backend():
    """`composer plan` uses static registry facts; they must equal what the loaded backend reports."""
    from composer.backends.registry import backend_info, load_backend

    info = backend_info("tiny-random")
    backend = load_backend("tiny-random", device="cpu")
    assert (info.sample_rate_hz, info.preferred_clip_s, info.default_steps, info.makes_music) == (
        backend.sample_rate_hz, backend.preferred_clip_s, backend.default_steps, backend.makes_music)


def test_error_text_is_not_read_as_markup(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(GOOD.replace("form: [a, b, a]", "form: [a, '[red]x[/red]']"))
    result = runner.invoke(app, ["plan", str(path)])
    assert result.exit_code == 2 and "'[red]x[/red]' is not defined" in result.output


def test_render_with_dpm_solver_and_regenerate_keeps_it(tmp_path):
    import soundfile

    from conftest import TWO_SECTION_OUTLINE

    (tmp_path / "song.yaml").write_text(TWO_SECTION_OUTLINE)
    folder = tmp_path / "song"
    result = runner.invoke(app, ["render", str(tmp_path / "song.yaml"), "-o", str(folder), "--backend", "tiny-random",
                                 "--scheduler", "dpm++"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["backend"]["identity"]["sampler"] == "dpm++"
    assert manifest["backend"]["identity"]["scheduler"] == "DPMSolverMultistepScheduler"
    before, _ = soundfile.read(folder / "song.wav", dtype="int16")
    result = runner.invoke(app, ["regenerate", str(folder), "--section", "b", "--seed", "4"])
    assert result.exit_code == 0, result.output  # loaded with DPM-Solver++ again, so the identity matches
    after, _ = soundfile.read(folder / "song.wav", dtype="int16")
    lo, _ = json.loads((folder / "manifest.json").read_text())["change"]["changed_samples"]
    assert (before[:lo] == after[:lo]).all() and not (before[lo:] == after[lo:]).all()


def test_the_builtin_backend_refuses_another_scheduler(tmp_path):
    from conftest import TWO_SECTION_OUTLINE

    (tmp_path / "song.yaml").write_text(TWO_SECTION_OUTLINE)
    result = runner.invoke(app, ["render", str(tmp_path / "song.yaml"), "-o", str(tmp_path / "song"),
                                 "--scheduler", "dpm++"])
    assert result.exit_code != 0 and "one sampler" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "song").exists()
