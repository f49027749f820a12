"""Pydantic validation errors turned into messages that name the line, the field and what is allowed.

A wrong type says what the field holds, a number out of range gives the range, an unknown key
suggests the nearest allowed one, and a form naming an undefined section suggests the nearest name.
"""

from __future__ import annotations

import difflib
import math
import reprlib
import types
from typing import Annotated, Any, Literal, Optional, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from composer.errors import OutlineError
from composer.outline_model import Outline, RuleError, bpm_limits
from composer.outline_yaml import Lines, Loc, dotted, line_of
from composer.timing import ALLOWED_BEAT_UNITS, parse_time_signature

# pydantic error types that mean "wrong kind of value" (a union lists one per branch)
_TYPE_ERRORS = {"int_from_float", "literal_error", "union_tag_invalid", "int_parsing", "float_parsing"}
_RANGE_ERRORS = {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}
_LENGTH_ERRORS = {"string_too_short", "string_too_long"}
# what a field holds, where its type alone says it badly
_EXPECTED = {
    "form": "a list of section names such as [verse, chorus, verse], or 'learned'",
    "duration": "seconds or 'm:ss' text such as '3:30'",
    "sections": "a mapping from section names to their settings (bars, prompt, ...)",
    # as parse_time_signature checks it
    "time_signature": "text such as '4/4' or '6/8' (numerator 1-32, denominator "
                      + ", ".join(str(unit) for unit in ALLOWED_BEAT_UNITS[:-1]) + f" or {ALLOWED_BEAT_UNITS[-1]})",
}
#: most error lines one outline gets (the rest are counted)
MAX_MESSAGES = 20
# note values by the denominator that counts them
_NOTE_NAMES = {1: "whole", 2: "half", 4: "quarter", 8: "eighth", 16: "sixteenth", 32: "thirty-second"}
_shown = reprlib.Repr()
_shown.maxstring, _shown.maxother, _shown.maxlist, _shown.maxdict, _shown.maxlevel = 60, 60, 6, 4, 3


def format_validation_error(exc: ValidationError, *, data: Any, lines: Lines, source: str) -> str:
    located = [(_error_loc(error, data), error) for error in exc.errors()]
    if isinstance(data, dict) and data.get("form") is None:
        # the form was not written: it is the sections in order, so its errors are the sections'
        located = [(("sections",) + loc[1:] if loc[:1] == ("form",) else loc, error) for loc, error in located]
    # a union (form: 'learned' or a list) fails once per branch: the errors inside the branch that
    # matched the shape explain it, so drop errors about a key when there are errors below it
    deeper = {loc[:n] for loc, _ in located for n in range(len(loc))}
    by_loc: dict[Loc, list[dict[str, Any]]] = {}
    for loc, error in located:
        if loc not in deeper:
            by_loc.setdefault(loc, []).append(error)
    messages = []
    for loc, errors in by_loc.items():
        prefix = f"{source}:{line_of(loc, lines)}: {dotted(loc)}"
        if all(_is_type_error(error) and "[key]" not in error["loc"] for error in errors) and _expected(loc, data):
            messages.append(f"{prefix}: {_wrong_type(errors[0], loc, data)}")  # one message for every branch
        else:
            messages += [f"{prefix}: {_explain(error, loc, data)}{_bpm_unit_note(error, loc, data)}"
                         for error in errors]
    unique = list(dict.fromkeys(messages))
    if len(unique) > MAX_MESSAGES:  # a generated outline can break one rule thousands of times
        unique = unique[:MAX_MESSAGES] + [f"... and {len(unique) - MAX_MESSAGES} more errors like these"]
    return "\n".join(unique)


def _error_loc(error: dict[str, Any], data: Any) -> Loc:
    """Key path the error is about: the document's own keys, plus the key a cross-field rule names."""
    loc = _clean_loc(error["loc"], data, missing=error["type"] == "missing")
    cause = (error.get("ctx") or {}).get("error")
    return loc + cause.field if isinstance(cause, RuleError) else loc


def _clean_loc(loc: Loc, data: Any, *, missing: bool = False) -> Loc:
    """Drop the union branch names pydantic puts in locations ('list[str]', 'int'), keeping real keys.

    Follows the document itself: a part is kept only if it is a key or index of the data at that point.
    """
    kept: list[Any] = []
    node = data
    for part in loc:
        if part == "[key]":  # the mapping key itself is wrong (not text): point at it
            break
        if isinstance(node, dict) and part in node:
            kept.append(str(part))  # as the walk saw the key: 'sections: {1: ...}' is at key '1'
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            kept.append(part)
            node = node[part]
        elif missing and isinstance(node, dict) and part == loc[-1]:
            kept.append(part)  # a missing field: name it
    return tuple(kept)


def _is_type_error(error: dict[str, Any]) -> bool:
    return error["type"].endswith("_type") or error["type"] in _TYPE_ERRORS


def _explain(error: dict[str, Any], loc: Loc, data: Any) -> str:
    kind = error["type"]
    given = error.get("input")
    if kind == "extra_forbidden":
        return _unknown_key_message(loc)
    if kind == "missing":
        return "required field is missing"
    if "[key]" in error["loc"]:
        return f"key {_shown.repr(given)} must be text (a name that starts with a letter)"
    allowed = f"; allowed: {_expected(loc, data)}" if _expected(loc, data) else ""
    if kind in _RANGE_ERRORS:
        return f"{error['msg'].lower()} (got {_shown.repr(given)}){allowed}"
    if kind in _LENGTH_ERRORS:
        return f"{error['msg'].lower()} (got {len(given)} characters)"
    if _is_type_error(error):
        return f"{error['msg']} (got {_type_name(given)} {_shown.repr(given)})"
    return f"{error['msg'].removeprefix('Value error, ')}"


def _wrong_type(error: dict[str, Any], loc: Loc, data: Any) -> str:
    given = error.get("input")
    message = f"must be {_expected(loc, data)} (got {_type_name(given)} {_shown.repr(given)}"
    if isinstance(given, str) and _is_number(given) and "number" in str(_expected(loc, data)):
        message += ", which YAML reads as text: write numbers unquoted, exponents as 1.0e+3"
    elif isinstance(given, str) and get_origin(_annotation(loc)) is Literal:
        hint = difflib.get_close_matches(given, [str(v) for v in get_args(_annotation(loc))], n=1)
        message += f"; did you mean {hint[0]!r}?" if hint else ""
    elif isinstance(given, (int, float)) and not isinstance(given, bool) and _kind(_annotation(loc)) == "text":
        message += ", which YAML reads as a number: quote it" + _sexagesimal_note(given, loc)
    return message + ")"


def _sexagesimal_note(given: float, loc: Loc) -> str:
    """YAML 1.1 reads an unquoted 3:4 as the base-60 number 184: say so where a colon is a likely typo."""
    if loc[-1] != "time_signature" or not isinstance(given, int) or given < 60:
        return ""
    guess = "/".join(str(part) for part in divmod(given, 60))
    try:
        parse_time_signature(guess)
    except ValueError:
        return ""
    return f"; unquoted, {guess.replace('/', ':')} is base-60 for {given}: did you mean {guess!r}?"


def _bpm_unit_note(error: dict[str, Any], loc: Loc, data: Any) -> str:
    """Where bpm is out of range and does not count quarter notes, which note it counts and what the figure
    means: '; in 6/8, bpm counts eighth notes (a dotted quarter at 110 is bpm 330)'."""
    if loc != ("bpm",) or error["type"] not in _RANGE_ERRORS or not isinstance(data, dict):
        return ""
    try:
        beats_per_bar, beat_unit = parse_time_signature(data.get("time_signature", "4/4"))
        bpm = float(error["input"])
    except ValueError:
        return ""  # its own error says what is wrong with the time signature
    except OverflowError:
        return ""  # an integer of hundreds of digits: the range says enough
    if beat_unit == 4 or not math.isfinite(bpm):
        return ""
    from composer.groove.grid import meter

    if meter(beats_per_bar=beats_per_bar, beat_unit=beat_unit).compound:
        # compound: the felt pulse is three beat units, a dotted note twice as long as the unit
        pulse, pulse_bpm = f"a dotted {_NOTE_NAMES[beat_unit // 2]}", bpm / 3
    else:
        pulse, pulse_bpm = "a quarter note", bpm * 4 / beat_unit
    return (f"; in {beats_per_bar}/{beat_unit}, bpm counts {_NOTE_NAMES[beat_unit]} notes "
            f"({pulse} at {round(pulse_bpm, 2):g} is bpm {bpm:g})")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _expected(loc: Loc, data: Any) -> Optional[str]:
    """What the key at ``loc`` may hold, with its range: 'a number from 40 to 240'; None if unknown."""
    if loc == ("bpm",):  # the range is the metre's (4/4's when the time signature is missing or wrong)
        low, high = bpm_limits(_time_signature_or_default(data))
        return f"a number from {low} to {high}"
    if loc[:1] == ("sections",) and len(loc) == 2:
        return "a mapping with at least bars and prompt"
    if loc[:1] == ("form",) and len(loc) == 2:
        return "a section name (text)"
    info = _field_info(loc)
    if info is None:
        return None
    return _EXPECTED.get(loc[-1]) or _kind(info.annotation) + _bounds(info)


def _time_signature_or_default(data: Any) -> str:
    given = data.get("time_signature", "4/4") if isinstance(data, dict) else "4/4"
    try:
        parse_time_signature(given)
    except (ValueError, TypeError):
        return "4/4"
    return given


def _field_info(loc: Loc) -> Optional[FieldInfo]:
    model = _model_at(loc[:-1]) if loc else None
    return None if model is None else model.model_fields.get(loc[-1])


def _annotation(loc: Loc) -> Any:
    info = _field_info(loc)
    return None if info is None else info.annotation


def _kind(annotation: Any) -> str:
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return _kind(args[0])
    if origin in (Union, types.UnionType):
        kinds = [_kind(arg) for arg in args if arg is not type(None)]
        if "a number" in kinds:  # int | float: just 'a number'
            kinds = [kind for kind in kinds if kind != "a whole number"]
        return " or ".join(dict.fromkeys(kinds))
    if origin is Literal:
        return "one of " + ", ".join(repr(arg) for arg in args)
    if origin is list:
        return f"a list of {_kind(args[0])}"
    if origin is dict or (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
        return "a mapping"
    return {bool: "true or false", int: "a whole number", float: "a number", str: "text"}.get(annotation, "a value")


def _bounds(info: FieldInfo) -> str:
    """' from 40 to 240', ', more than 0 and at most 1', ' of 1-200 characters', or ''."""
    limits = {name: getattr(item, name) for item in info.metadata
              for name in ("ge", "gt", "le", "lt", "min_length", "max_length") if hasattr(item, name)}
    if "lt" in limits and _kind(info.annotation).endswith("whole number"):
        limits["le"] = limits.pop("lt") - 1  # whole numbers below 2**63: at most 2**63 - 1
    if "ge" in limits and "le" in limits:
        return f" from {limits['ge']:g} to {limits['le']:g}" if _all_small(limits) else (
            f" from {limits['ge']} to {limits['le']}")
    clauses = [f"{words} {limits[name]:g}" for name, words in
               (("gt", "more than"), ("ge", "at least"), ("lt", "less than"), ("le", "at most")) if name in limits]
    if clauses:
        return ", " + " and ".join(clauses)
    low, high = limits.get("min_length"), limits.get("max_length")
    if high is not None:
        return f" of {low or 0}-{high} characters" if low else f" of at most {high} characters"
    return ""


def _all_small(limits: dict[str, Any]) -> bool:
    # ':g' writes 2**63 - 1 as 9.22337e+18: show big bounds in full
    return all(abs(value) < 1e6 for value in limits.values())


def _unknown_key_message(loc: Loc) -> str:
    if not loc:
        return "unknown key"
    key = str(loc[-1])
    allowed = _allowed_keys(loc[:-1])
    hint = difflib.get_close_matches(key, allowed, n=1)
    guess = f"; did you mean {hint[0]!r}?" if hint else "."
    return f"unknown key {key!r}{guess} Allowed here: {', '.join(sorted(allowed))}"


def _model_at(parent: Loc) -> Optional[type[BaseModel]]:
    """The model whose fields the mapping at ``parent`` holds, if any."""
    from composer.outline_model import LearnedStructure, RenderSettings, SectionSpec

    models: dict[Loc, type[BaseModel]] = {(): Outline, ("render",): RenderSettings, ("structure",): LearnedStructure}
    if parent[:1] == ("sections",) and len(parent) == 2:
        return SectionSpec
    return models.get(parent)


def _allowed_keys(parent: Loc) -> list[str]:
    model = _model_at(parent[:1] if parent[:1] in {("render",), ("structure",)} else parent[:2]) or Outline
    return list(model.model_fields)


def _type_name(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "text", bool: "a boolean", type(None): "nothing"}.get(
        type(value), type(value).__name__
    )


def check_form_names(outline: Outline, *, lines: Lines, source: str) -> None:
    if outline.form == "learned":
        return
    defined = list(outline.sections)
    for index, name in enumerate(outline.form):
        if name not in outline.sections:
            hint = difflib.get_close_matches(name, defined, n=1)
            guess = f"; did you mean {hint[0]!r}?" if hint else "."
            raise OutlineError(
                f"{source}:{line_of(('form', index), lines)}: form[{index}]: section {name!r} is not defined"
                f"{guess} Defined sections: {', '.join(defined)}"
            )
