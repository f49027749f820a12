"""Adversarial command-line input (CLI audit of session 9): rich markup in names, paths the system refuses,
overflowing numbers, deep nesting, special files. Each ends in a message and an exit code, never a traceback."""

from __future__ import annotations

import os
import stat

import pytest
from typer.testing import CliRunner

from composer.cli import app
from conftest import TWO_SECTION_OUTLINE

runner = CliRunner()


def invoke(*args: object):
    result = runner.invoke(app, [str(a) for a in args])
    assert "Traceback" not in result.output and not isinstance(result.exception, (AssertionError, TypeError)), \
        result.output
    return result


def test_square_brackets_in_a_title_and_prompt_print_as_written(tmp_path):
    outline = tmp_path / "song.yaml"
    outline.write_text(TWO_SECTION_OUTLINE.replace("title: Folder", "title: 'oops [/bold] x'")
                       .replace("prompt: piano", "prompt: 'p [/x]'"))
    plan = invoke("plan", outline)
    assert plan.exit_code == 0 and "oops [/bold] x" in plan.output and "[/x]" in plan.output
    render = invoke("render", outline, "-o", tmp_path / "n[/z]", "--backend", "tiny-random")
    assert render.exit_code == 0 and "'oops [/bold] x'" in render.output
    assert invoke("takes", tmp_path / "n[/z]").exit_code == 0


def test_an_error_message_holding_brackets_is_printed_whole(tmp_path):
    result = invoke("plan", tmp_path / "no[/x]such.yaml")
    assert result.exit_code != 0 and "no[/x]such.yaml" in result.output


def test_a_file_name_too_long_for_the_file_system_is_a_message(tmp_path):
    (tmp_path / "song.yaml").write_text(TWO_SECTION_OUTLINE)
    long_name = tmp_path / ("x" * 300)
    render = invoke("render", tmp_path / "song.yaml", "-o", long_name, "--backend", "tiny-random")
    assert render.exit_code == 1 and "File name too long" in render.output
    assert invoke("takes", long_name).exit_code == 1


def test_a_file_name_that_is_not_utf8_is_a_message(tmp_path):
    folder = os.fsdecode(os.fsencode(str(tmp_path)) + b"/s\xffU")  # surrogate-escaped, as Python reads argv
    (tmp_path / "song.yaml").write_text(TWO_SECTION_OUTLINE)
    result = invoke("render", tmp_path / "song.yaml", "-o", folder, "--backend", "tiny-random")
    assert result.exit_code == 2 and "not valid UTF-8" in result.output


@pytest.mark.parametrize("duration", ["1e308", "1" + "0" * 400 + ":00"])
def test_an_overflowing_duration_is_a_message(tmp_path, duration):
    result = invoke("structure", "sample", "--genre", "pop", "--duration", duration, "--bpm", "120",
                    "-o", tmp_path / "s.yaml")
    assert result.exit_code == 2 and "--duration" in result.output and not (tmp_path / "s.yaml").exists()


def test_an_overflowing_duration_in_an_outline_names_its_line(tmp_path):
    outline = tmp_path / "song.yaml"
    outline.write_text("bpm: 120\nform: learned\nstructure: {genre: pop, duration: 1.0e+308}\n")
    result = invoke("plan", outline)
    assert result.exit_code == 2 and "song.yaml:3: structure.duration" in result.output


def test_bench_threads_have_a_ceiling():
    result = invoke("bench", "--backend", "tiny-random", "--threads", "100000")
    assert result.exit_code == 2 and "--threads" in result.output


def test_a_manifest_nested_thousands_deep_is_unreadable_not_a_crash(song):
    (song / "manifest.json").write_text("[" * 100_000)
    for command in ("takes", "evaluate"):
        result = invoke(command, song)
        assert result.exit_code == 5 and "nested too deeply" in result.output


def test_a_symlink_loop_as_the_output_is_a_message(tmp_path):
    (tmp_path / "song.yaml").write_text(TWO_SECTION_OUTLINE)
    os.symlink(tmp_path / "b", tmp_path / "a")
    os.symlink(tmp_path / "a", tmp_path / "b")
    result = invoke("render", tmp_path / "song.yaml", "-o", tmp_path / "a", "--backend", "tiny-random")
    assert result.exit_code in (1, 5) and "a" in result.output


def test_an_outline_breaking_a_rule_thousands_of_times_gets_twenty_lines(tmp_path):
    outline = tmp_path / "song.yaml"
    outline.write_text(TWO_SECTION_OUTLINE + "".join(f"extra_{i}: 1\n" for i in range(500)))
    result = invoke("plan", outline)
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 2 and len(lines) <= 22 and "480 more errors" in result.output


def test_a_songs_takes_folder_is_not_a_render_output(song):
    result = invoke("render", song.parent / "song.yaml", "-o", song / "takes", "--backend", "tiny-random")
    assert result.exit_code == 5 and "keeps its takes" in result.output
    assert sorted(p.name for p in (song / "takes").iterdir()) == ["take-001"]


def test_force_never_replaces_a_pipe_or_device(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    result = invoke("new", "--template", "pop", "-o", fifo, "--force")
    assert result.exit_code == 5 and "not a regular file" in result.output
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_force_writes_through_a_symlink_to_its_file(tmp_path):
    target = tmp_path / "real.yaml"
    target.write_text("old")
    (tmp_path / "link.yaml").symlink_to(target)
    assert invoke("new", "--template", "pop", "-o", tmp_path / "link.yaml", "--force").exit_code == 0
    assert (tmp_path / "link.yaml").is_symlink() and "bpm" in target.read_text()


def test_bench_refuses_a_json_file_it_could_not_write_before_benchmarking(tmp_path, monkeypatch):
    import composer.cli

    monkeypatch.setattr(composer.cli.os, "access", lambda path, mode: False)  # as for a read-only folder
    result = invoke("bench", "--backend", "tiny-random", "--json", tmp_path / "b.json")
    assert result.exit_code == 2 and "cannot be written" in result.output


def test_an_outline_file_of_megabytes_is_refused_before_parsing(tmp_path):
    outline = tmp_path / "big.yaml"
    outline.write_text(TWO_SECTION_OUTLINE + "# " + "x" * 5_000_000 + "\n")
    result = invoke("plan", outline)
    assert result.exit_code == 2 and "5.0 MB is not an outline" in result.output


def test_durations_are_written_in_ascii_digits(tmp_path):
    result = invoke("structure", "sample", "--genre", "pop", "--duration", "\u0663:\u0660\u0660", "--bpm", "120",
                    "-o", tmp_path / "s.yaml")
    assert result.exit_code == 2 and "ASCII digits" in result.output


def test_a_take_0_folder_is_not_listed_as_a_take(song):
    from composer.song_folder import list_takes

    (song / "takes" / "take-0").mkdir()
    assert [t["take"] for t in list_takes(song)] == [1, 2]


def test_writing_under_a_file_names_the_file_that_is_in_the_way(tmp_path):
    (tmp_path / "two.yaml").write_text(TWO_SECTION_OUTLINE)
    result = invoke("new", "--template", "pop", "-o", tmp_path / "two.yaml" / "y.yaml")
    assert result.exit_code == 5 and f"{tmp_path / 'two.yaml'} is a file, not a folder" in result.output
    assert (tmp_path / "two.yaml").read_text() == TWO_SECTION_OUTLINE


@pytest.mark.parametrize("args", [
    ["render", "song.yaml", "-o", ""],  # -o "$OUT" with OUT unset: would write into the current folder
    ["render", "song.yaml", "-o", "  "],
    ["new", "-o", ""],
    ["structure", "sample", "--genre", "pop", "--duration", "3:00", "-o", ""],
    ["bench", "--json", ""],
    ["takes", ""],
    ["regenerate", "", "--section", "a"],
    ["evaluate", "song", "--against", ""],
])
def test_an_empty_path_is_refused_not_read_as_the_current_folder(tmp_path, monkeypatch, args):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "song.yaml").write_text(TWO_SECTION_OUTLINE)
    result = invoke(*args)
    assert result.exit_code == 2 and "an empty path" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["song.yaml"]  # nothing written
