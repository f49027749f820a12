"""Property tests: any YAML document ends in composer's own error (or a valid outline), never a traceback."""

from __future__ import annotations

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from composer.cli import app
from composer.errors import OutlineError
from composer.outline import parse_outline

runner = CliRunner()

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
)
documents = st.recursive(scalars, lambda children: st.one_of(
    st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)), max_leaves=20)

BASE = {
    "title": "t", "bpm": 120, "time_signature": "4/4", "seed": 1,
    "sections": {"verse": {"bars": 4, "prompt": "p"}, "chorus": {"bars": 4, "prompt": "q"}},
    "form": ["verse", "chorus"],
}
FIELDS = [("title",), ("bpm",), ("time_signature",), ("seed",), ("form",), ("sections",),
          ("sections", "verse"), ("sections", "verse", "bars"), ("sections", "verse", "prompt"),
          ("sections", "verse", "transition"), ("sections", "verse", "variation"), ("render",)]


def _parse_or_error(text: str) -> None:
    try:
        parse_outline(text, source="fuzz.yaml")
    except OutlineError as exc:
        assert str(exc).startswith("fuzz.yaml")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_random_documents(doc):
    _parse_or_error(yaml.safe_dump(doc, allow_unicode=True))


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(FIELDS), documents)
def test_one_field_replaced_names_the_field(path, value):
    doc = yaml.safe_load(yaml.safe_dump(BASE))
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    try:
        parse_outline(yaml.safe_dump(doc, allow_unicode=True), source="fuzz.yaml")
    except OutlineError as exc:
        message = str(exc)
        # the replaced field by its dotted path; a section that is no longer a valid section
        # may instead be reported where the form names it
        named = ".".join(path) in message or (path[0] == "sections" and "form" in message)
        assert named, (path, message)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_random_text(text):
    _parse_or_error(text)


def test_cyclic_form_and_names():
    for text in (
        "title: t\nbpm: 120\nsections: {a: {bars: 1, prompt: p}}\nform: &f [a, *f]\n",
        "title: t\nbpm: 120\nsections: &s {a: *s}\nform: [a]\n",
        "title: t\nbpm: 120\nsections: {'': {bars: 1, prompt: p}}\nform: ['']\n",
        "title: t\nbpm: 120\nsections: {'ünï': {bars: 1, prompt: p}}\nform: ['ünï']\n",
        "title: t\nbpm: .nan\nsections: {a: {bars: 1, prompt: p}}\nform: [a]\n",
        "title: t\nbpm: 120\nsections: {a: {bars: 99999999999999999999, prompt: p}}\nform: [a]\n",
    ):
        _parse_or_error(text)


@settings(max_examples=25, deadline=None)
@given(documents)
def test_cli_never_tracebacks(tmp_path_factory, doc):
    path = tmp_path_factory.mktemp("fuzz") / "o.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    result = runner.invoke(app, ["plan", str(path)])
    assert result.exit_code in (0, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
