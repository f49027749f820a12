"""Outline validation: every bad case names the file, line and field and what is allowed."""

from __future__ import annotations

import textwrap

import pytest

from composer.errors import OutlineError
from composer.outline import load_outline, outline_to_dict, parse_outline
from composer.planner import plan_song
from composer.templates_catalog import template_names, template_path

GOOD = """\
title: Test song
bpm: 120
time_signature: "4/4"
seed: 5
sections:
  verse:
    bars: 8
    prompt: funk groove with slap bass
  chorus:
    bars: 8
    prompt: full funk chorus with brass
form: [verse, chorus, verse, chorus]
"""


def _error(text: str) -> str:
    with pytest.raises(OutlineError) as info:
        parse_outline(textwrap.dedent(text), source="song.yaml")
    return str(info.value)


def test_good_outline_parses():
    outline = parse_outline(GOOD)
    assert outline.form == ["verse", "chorus", "verse", "chorus"]
    assert outline.sections["verse"].bars == 8
    assert outline.time_signature_tuple == (4, 4)


@pytest.mark.parametrize(
    ("old", "new", "line", "expected"),
    [
        ("bpm: 120", "bpm: 300", 2, "bpm: input should be less than or equal to 240"),
        ("bpm: 120", "bpm: 12", 2, "greater than or equal to 40"),
        ("bpm: 120", "bpm: fast", 2, "bpm:"),
        ("    bars: 8\n    prompt: funk", "    bars: 0\n    prompt: funk", 7, "sections.verse.bars: input should be greater than 0"),
        ("    bars: 8\n    prompt: funk", "    bars: -4\n    prompt: funk", 7, "greater than 0 (got -4)"),
        ("    bars: 8\n    prompt: funk", "    bars: eight\n    prompt: funk", 7, "must be a whole number, more than 0 and at most 1024 (got text 'eight')"),
        ("seed: 5", "seed: 5\ntempo: 120", 5, "unknown key 'tempo'"),
        ("    prompt: funk groove", "    promt: funk groove", 8, "did you mean 'prompt'"),
        ("form: [verse, chorus, verse, chorus]", "form: [verse, chorsu]", 12, "form[1]: section 'chorsu' is not defined; did you mean 'chorus'"),
        ("form: [verse, chorus, verse, chorus]", "form: []", 12, "form: is empty"),
        ('time_signature: "4/4"', 'time_signature: "4/5"', 3, "denominator must be one of"),
        ('time_signature: "4/4"', 'time_signature: "waltz"', 3, "must look like '4/4'"),
    ],
)
def test_bad_outline_names_line_and_field(old, new, line, expected):
    text = GOOD.replace(old, new)
    assert text != GOOD, "the replacement must change the outline"
    message = _error(text)
    assert expected in message
    assert message.startswith(f"song.yaml:{line}:") or f"song.yaml:{line}:" in message


def test_missing_required_field():
    assert "bpm: required field is missing" in _error(GOOD.replace("bpm: 120\n", ""))
    assert "song.yaml:1: sections: is missing" in _error("bpm: 120\n")
    assert "song.yaml:2: sections: is empty" in _error("bpm: 120\nsections: {}\n")


def test_title_defaults_to_the_file_name_and_is_kept(tmp_path):
    path = tmp_path / "night drive.yaml"
    path.write_text(GOOD.replace("title: Test song\n", ""))
    outline = load_outline(path)
    assert outline.title == "night drive"
    assert outline_to_dict(outline)["title"] == "night drive"  # recorded in the manifest
    assert parse_outline(GOOD.replace("title: Test song\n", "")).title == "Untitled"
    path.write_text(GOOD)
    assert load_outline(path).title == "Test song"


def test_form_defaults_to_the_sections_in_written_order():
    text = GOOD.split("form:")[0]
    outline = parse_outline(text)
    assert outline.form == ["verse", "chorus"]
    assert outline_to_dict(outline)["form"] == ["verse", "chorus"]  # recorded, so a re-render plays the same
    assert plan_song(outline, sample_rate_hz=22_050, max_clip_s=5.0).form == ("verse", "chorus")
    # an explicit null is no form either; an explicit empty list is still an error
    assert parse_outline(text + "form:\n").form == ["verse", "chorus"]
    assert "form: is empty" in _error(text + "form: []\n")


def test_an_unwritten_form_reports_its_errors_at_the_sections():
    text = "bpm: 60\nsections:\n  v: {bars: 1024, prompt: rock}\n"
    message = _error(text)
    assert message.startswith("song.yaml:2: sections: the song lasts 68:16.0")


def test_tabs_and_accented_names_get_a_hint():
    assert "indent with spaces" in _error("bpm: 120\nsections:\n\t- name: a\n")
    assert "only ASCII letters" in _error("bpm: 120\nsections:\n  V\u00e9rse: {bars: 2, prompt: x}\n")


def test_a_role_must_be_one_the_groove_knows():
    def with_role(role):
        return GOOD.replace("    bars: 8\n    prompt: funk", f"    bars: 8\n    role: {role}\n    prompt: funk")

    assert "unknown role 'corus'; did you mean 'chorus'?" in _error(with_role("corus"))
    assert parse_outline(with_role("Pre-Chorus 2")).sections["verse"].role == "Pre-Chorus 2"  # alias, numbered


def test_duplicate_key_is_an_error():
    message = _error(GOOD.replace("seed: 5", "seed: 5\nseed: 6"))
    assert "duplicate key" in message and "song.yaml:5:" in message


def test_not_yaml_and_not_a_mapping():
    assert "not valid YAML" in _error("title: [unclosed\n")
    assert "must be a YAML mapping" in _error("- just\n- a list\n")
    assert "empty" in _error("")


def test_interpolate_bars_needs_interpolate_transition():
    message = _error(GOOD.replace("    bars: 8\n    prompt: funk", "    bars: 8\n    interpolate_bars: 2\n    prompt: funk"))
    assert "only allowed with transition: interpolate" in message


def test_learned_form_needs_structure():
    message = _error(GOOD.replace("form: [verse, chorus, verse, chorus]", "form: learned"))
    assert "structure" in message


def test_missing_file_is_clear(tmp_path):
    with pytest.raises(OutlineError, match="no such outline file"):
        load_outline(tmp_path / "nope.yaml")


@pytest.mark.parametrize("name", template_names())
def test_templates_are_valid(name):
    outline = load_outline(template_path(name))
    assert outline.form


def test_at_least_six_templates():
    assert len(template_names()) >= 6
