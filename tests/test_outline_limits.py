"""Outline limits: YAML alias bombs, song length, learned-form targets, and where each error points."""

from __future__ import annotations

import json
import re
import time

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

from composer.cli import app
from composer.errors import OutlineError
from composer.outline import parse_outline
from composer.planner import plan_song
from composer.timing import parse_time_signature

runner = CliRunner()

SONG = """\
title: t
bpm: 120
sections:
  verse: {bars: 8, prompt: funk verse}
  chorus: {bars: 8, prompt: funk chorus}
form: [verse, chorus]
"""


def _error(text: str) -> str:
    with pytest.raises(OutlineError) as info:
        parse_outline(text, source="song.yaml")
    return str(info.value)


def _alias_bomb(*, levels: int, tail: str = "title: x\n") -> str:
    """Each level is a list of nine aliases to the one before: 9**levels values in a few hundred bytes."""
    names = "abcdefghij"[:levels]
    text = f'{names[0]}: &{names[0]} ["x","x","x","x","x","x","x","x","x"]\n'
    for previous, name in zip(names, names[1:]):
        text += f"{name}: &{name} [{','.join([f'*{previous}'] * 9)}]\n"
    return text + tail


# --- YAML aliases ---------------------------------------------------------------------------


@pytest.mark.parametrize("levels", [6, 8])
def test_alias_bomb_is_refused_at_once(levels):
    started = time.perf_counter()
    message = _error(_alias_bomb(levels=levels))
    assert time.perf_counter() - started < 2.0
    assert "song.yaml:6: f[0]: aliases (*name) here" in message and "100,000 values" in message


def test_merge_key_bomb_is_refused_before_it_is_built():
    text = "a: &a {x0: 1, x1: 2, x2: 3, x3: 4, x4: 5, x5: 6, x6: 7, x7: 8, x8: 9}\n"
    for previous, name in zip("abcdefg", "bcdefgh"):
        text += f"{name}: &{name} {{<<: [{','.join([f'*{previous}'] * 9)}]}}\n"
    started = time.perf_counter()
    assert "aliases (*name) here" in _error(text + "title: x\n")
    assert time.perf_counter() - started < 2.0


def test_plan_refuses_an_alias_bomb_with_exit_2(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(_alias_bomb(levels=8))
    result = runner.invoke(app, ["plan", str(path)])
    assert result.exit_code == 2
    assert f"{path}:6: f[0]: aliases" in result.output


def test_small_anchors_and_aliases_still_work():
    text = """\
title: t
bpm: 120
render: &render_settings {guidance: 6.5}
sections:
  verse: &verse {bars: 8, prompt: funk verse, gain_db: -2}
  verse_b: *verse
  chorus: {bars: 8, prompt: funk chorus}
form: &form [verse, chorus, verse_b, chorus]
"""
    outline = parse_outline(text)
    assert outline.sections["verse_b"] == outline.sections["verse"]
    assert outline.form == ["verse", "chorus", "verse_b", "chorus"]
    assert outline.render.guidance == 6.5


def test_error_inside_an_alias_points_at_the_anchored_line():
    text = "title: t\nbpm: 120\nsections:\n  a: &s\n    bars: 0\n    prompt: x\n  b: *s\nform: [a, b]\n"
    message = _error(text)
    assert "song.yaml:5: sections.a.bars:" in message
    assert "song.yaml:5: sections.b.bars:" in message  # the line that holds the bad value


# --- song length ----------------------------------------------------------------------------


def test_a_song_of_exactly_sixty_minutes_plans():
    # 60 bpm in 4/4: 4 s per bar, 900 bars = 60:00
    text = SONG.replace("bpm: 120", "bpm: 60").replace("bars: 8, prompt: funk verse", "bars: 892, prompt: funk verse")
    outline = parse_outline(text)
    assert outline.sections["verse"].bars == 892
    plan = plan_song(outline, sample_rate_hz=22050, max_clip_s=5.94)
    assert plan.total_samples == 3600 * 22050 and plan.sections[-1].end_sample == plan.total_samples


def test_a_song_over_sixty_minutes_is_refused_at_the_form_line():
    text = SONG.replace("bpm: 120", "bpm: 60").replace("bars: 8, prompt: funk verse", "bars: 893, prompt: funk verse")
    message = _error(text)
    assert message.startswith("song.yaml:6: form: the song lasts 60:04.0 (901 bars of 4/4 at 60 bpm)")
    assert "60:00.0 allowed" in message and "'verse' (1 x 893 bars)" in message


def test_two_hundred_long_sections_are_refused_not_planned(tmp_path):
    path = tmp_path / "long.yaml"
    form = ", ".join(["v"] * 200)
    path.write_text(f"title: big\nbpm: 60\nsections:\n  v: {{bars: 1024, prompt: rock}}\nform: [{form}]\n")
    result = runner.invoke(app, ["plan", str(path)])
    assert result.exit_code == 2, result.output
    assert f"{path}:5: form: the song lasts" in result.output and "'v' (200 x 1024 bars)" in result.output


@pytest.mark.parametrize(
    ("duration", "expected"),
    [
        ("1e9", "longer than the 60:00.0 (3600 seconds) a song may last"),
        ("'99:00'", "'99:00' is 99:00.0"),
        ("3601", "longer than the 60:00.0"),
        ("'3:-30'", "m:ss with 0-59 seconds"),
        ("'3:75'", "m:ss with 0-59 seconds"),
        ("0", "a song lasts more than 0 and at most 60:00.0"),
        ("0.001", "no whole number of bars lies within 5% of it"),
    ],
)
def test_learned_duration_is_bounded_and_located(duration, expected):
    text = SONG.replace("form: [verse, chorus]", f"form: learned\nstructure: {{genre: pop, duration: {duration}}}")
    message = _error(text)
    assert message.startswith("song.yaml:7: structure.duration: ")
    assert expected in message


def test_learned_duration_of_an_hour_is_allowed():
    text = SONG.replace("form: [verse, chorus]", "form: learned\nstructure: {genre: pop, duration: '60:00'}")
    assert parse_outline(text).structure.duration == "60:00"


def test_plan_of_a_huge_learned_duration_fails_fast(tmp_path):
    path = tmp_path / "learned.yaml"
    path.write_text("title: t\nbpm: 112\nform: learned\nstructure: {genre: pop, duration: 1e9}\n")
    started = time.perf_counter()
    result = runner.invoke(app, ["plan", str(path)])
    assert result.exit_code == 2 and f"{path}:4: structure.duration:" in result.output
    assert time.perf_counter() - started < 10.0


# --- where errors point, and what they allow ------------------------------------------------


def test_unknown_learned_genre_names_file_line_and_guess(tmp_path):
    path = tmp_path / "learned.yaml"
    path.write_text("title: t\nbpm: 112\nform: learned\nstructure:\n  genre: hiphop\n  duration: '3:00'\n")
    result = runner.invoke(app, ["plan", str(path)])
    assert result.exit_code == 2
    assert f"{path}:5: structure.genre: unknown genre 'hiphop' (did you mean 'hip-hop'?); allowed genres: any, pop" in (
        result.output.replace("\n", ""))


def test_learned_form_without_structure_points_at_form():
    message = _error(SONG.replace("form: [verse, chorus]", "form: learned"))
    assert message.startswith("song.yaml:6: form: 'learned' needs a 'structure' mapping")


def test_empty_form_and_sections_point_at_their_own_lines():
    assert _error(SONG.replace("form: [verse, chorus]", "form: []")).startswith("song.yaml:6: form: is empty")
    no_sections = "title: t\nbpm: 120\nsections: {}\nform: [verse]\n"
    assert _error(no_sections).startswith("song.yaml:3: sections: is empty")
    missing = "title: t\nbpm: 120\nform: [verse]\n"
    assert _error(missing).startswith("song.yaml:3: form: names sections but the outline has no 'sections'")


def test_structure_with_a_form_list_points_at_structure():
    text = SONG + "structure: {genre: pop, duration: '3:00'}\n"
    assert _error(text).startswith("song.yaml:7: structure: 'structure' is only used with form: learned")


@pytest.mark.parametrize("value", ["1e9", "'112'", "fast", "[120]"])
def test_bpm_of_the_wrong_type_says_the_allowed_range_once(value):
    message = _error(SONG.replace("bpm: 120", f"bpm: {value}"))
    assert message.startswith("song.yaml:2: bpm: must be a number from 40 to 240 (got ")
    assert "\n" not in message  # one message, not one per union branch (int, float)


def test_out_of_range_values_also_say_the_range():
    assert "allowed: a number from 40 to 240" in _error(SONG.replace("bpm: 120", "bpm: 1000000000"))
    assert "allowed: a whole number from 0 to 9223372036854775807" in _error(SONG + "seed: 99999999999999999999\n")


def test_form_with_a_number_names_the_item_only():
    message = _error(SONG.replace("form: [verse, chorus]", "form: [1, chorus]"))
    assert message == "song.yaml:6: form[0]: must be a section name (text) (got int 1)"


def test_form_of_the_wrong_shape_says_what_a_form_is():
    message = _error(SONG.replace("form: [verse, chorus]", "form: {verse: 1}"))
    assert message == ("song.yaml:6: form: must be a list of section names such as [verse, chorus, verse], "
                       "or 'learned' (got a mapping {'verse': 1})")


def test_wrong_literal_guesses_the_value():
    message = _error(SONG.replace("prompt: funk verse}", "prompt: funk verse, transition: crosfade}"))
    assert "sections.verse.transition: must be one of 'crossfade', 'cut', 'interpolate'" in message
    assert "did you mean 'crossfade'?" in message


def test_interpolate_rule_points_at_interpolate_bars():
    verse = "  verse:\n    bars: 8\n    prompt: x\n    interpolate_bars: 2"
    text = SONG.replace("  verse: {bars: 8, prompt: funk verse}", verse)
    assert _error(text).startswith("song.yaml:7: sections.verse.interpolate_bars: interpolate_bars is only allowed")


def test_keys_that_are_not_text_are_refused_clearly():
    assert _error("title: t\nbpm: 120\nsections:\n  ? [a]\n  : x\nform: [a]\n").startswith(
        "song.yaml:4: sections: a key must be plain text")
    number_key = "title: t\nbpm: 120\nsections: {1: {bars: 1, prompt: p}}\nform: [a]\n"
    assert "song.yaml:3: sections.1: key 1 must be text" in _error(number_key)


def test_deeply_nested_yaml_is_an_outline_error():
    assert "nested too deeply" in _error("a: " + "[" * 2000 + "]" * 2000 + "\n")


def test_huge_values_are_shortened_in_messages():
    message = _error(SONG.replace("bpm: 120", "bpm: [" + ", ".join(["1"] * 5000) + "]"))
    assert len(message) < 300


TIME_SIGNATURE_ALLOWED = "text such as '4/4' or '6/8' (numerator 1-32, denominator 1, 2, 4, 8, 16 or 32)"


@pytest.mark.parametrize("value, got", [("4", "int 4"), ("0.75", "float 0.75"), ("3:4", "int 184")])
def test_time_signature_read_as_a_number_says_what_is_allowed_and_to_quote_it(value, got):
    message = _error(SONG.replace("bpm: 120\n", f"bpm: 120\ntime_signature: {value}\n"))
    assert message.startswith(f"song.yaml:3: time_signature: must be {TIME_SIGNATURE_ALLOWED} (got {got}, "
                              "which YAML reads as a number: quote it")
    assert ("did you mean '3/4'?" in message) == (value == "3:4")  # YAML 1.1 reads 3:4 in base 60


def test_schema_pattern_for_time_signature_accepts_what_the_validator_accepts():
    schema = json.loads(runner.invoke(app, ["schema"]).output)
    pattern = schema["properties"]["time_signature"]["pattern"]
    candidates = [f"{n}/{d}" for n in range(0, 41) for d in range(0, 41)] + [
        " 4 / 4", "4/4 ", "\t6/8\n", "04/4", "004/08", "032/032", "4/4/4", "", "4", "-4/4", "+4/4", "4/-4",
        "4 4", "4//4", "3+2/8", "x4/4", "4/4x", "\u0664/4", "\uff14/4", "1e1/4", "/4", "4/",
    ]
    for text in candidates:
        try:
            parse_time_signature(text)
            accepted = True
        except ValueError:
            accepted = False
        assert bool(re.search(pattern, text)) == accepted, text


@pytest.mark.parametrize("signature, bpm, high, note", [
    ("6/8", 500, 480, "in 6/8, bpm counts eighth notes (a dotted quarter at 166.67 is bpm 500)"),
    ("12/16", 1000, 960, "in 12/16, bpm counts sixteenth notes (a dotted eighth at 333.33 is bpm 1000)"),
    ("7/8", 600, 480, "in 7/8, bpm counts eighth notes (a quarter note at 300 is bpm 600)"),
    ("5/16", 30, 960, "in 5/16, bpm counts sixteenth notes (a quarter note at 7.5 is bpm 30)"),
    ("2/2", 30, 240, "in 2/2, bpm counts half notes (a quarter note at 60 is bpm 30)"),
    ("2/2", 250, 240, "in 2/2, bpm counts half notes (a quarter note at 500 is bpm 250)"),
])
def test_bpm_out_of_range_says_the_metres_range_and_which_note_it_counts(signature, bpm, high, note):
    message = _error(SONG.replace("bpm: 120\n", f"bpm: {bpm}\ntime_signature: '{signature}'\n"))
    bound = f"less than or equal to {high}" if bpm > high else "greater than or equal to 40"
    assert message == (f"song.yaml:2: bpm: input should be {bound} (got {bpm}); allowed: a number from 40 to {high}; "
                       f"{note}")


@pytest.mark.parametrize("signature, bpm", [("6/8", 330), ("6/8", 480), ("12/8", 40), ("7/8", 420), ("3/16", 960),
                                            ("3/32", 1920), ("4/4", 240), ("2/2", 240), ("1/1", 40)])
def test_a_short_beat_unit_counts_up_to_240_quarter_notes_a_minute(signature, bpm):
    # a jig's dotted quarter at 110 is bpm 330 in 6/8: as fast in quarter notes as 4/4 at 165
    outline = parse_outline(SONG.replace("bpm: 120\n", f"bpm: {bpm}\ntime_signature: '{signature}'\n"),
                            source="song.yaml")
    assert outline.bpm == bpm


def test_bpm_range_follows_a_badly_written_time_signature_as_4_4():
    message = _error(SONG.replace("bpm: 120\n", "bpm: 330\ntime_signature: '6/7'\n"))
    assert "song.yaml:2: bpm: input should be less than or equal to 240 (got 330); allowed: a number from 40 to 240" \
        in message.splitlines()
    assert "song.yaml:3: time_signature: " in message


@pytest.mark.parametrize("signature", ["4/4", "6/8", "12/16", "3/32", "2/2", None])
@pytest.mark.parametrize("bpm", [39, 40, 240, 241, 480, 481, 960, 961, 1920, 1921])
def test_schema_bpm_range_agrees_with_the_validator(signature, bpm):
    schema = json.loads(runner.invoke(app, ["schema"]).output)
    data = {"bpm": bpm, "sections": {"verse": {"bars": 4, "prompt": "funk"}}}
    if signature is not None:
        data["time_signature"] = signature
    schema_accepts = jsonschema.Draft202012Validator(schema).is_valid(data)
    try:
        parse_outline(yaml.safe_dump(data), source="song.yaml")
        accepted = True
    except OutlineError:
        accepted = False
    assert schema_accepts == accepted


@pytest.mark.parametrize("signature", ["4/4", "3/4", "waltz"])
def test_bpm_out_of_range_in_quarter_notes_or_a_bad_metre_has_no_unit_note(signature):
    message = _error(SONG.replace("bpm: 120\n", f"bpm: 330\ntime_signature: '{signature}'\n"))
    assert "song.yaml:2: bpm: input should be less than or equal to 240 (got 330); allowed: a number from 40 to 240" \
        in message.splitlines()
    assert "counts" not in message
