"""Read a YAML song outline and validate it, with errors that point at the line.

``load_outline`` is the only way the rest of composer gets an ``Outline``: any
problem becomes an ``OutlineError`` naming the file, the line, the field and
what is allowed.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Iterable

import yaml
from pydantic import BaseModel, ValidationError

from composer.errors import OutlineError
from composer.outline_model import Outline

Loc = tuple[Any, ...]


def load_outline(path: str | Path) -> Outline:
    """Read and validate an outline file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise OutlineError(f"{path}: no such outline file") from None
    except IsADirectoryError:
        raise OutlineError(f"{path}: is a folder, expected a YAML outline file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise OutlineError(f"{path}: cannot read outline: {exc}") from None
    return parse_outline(text, source=str(path))


def parse_outline(text: str, *, source: str = "<outline>") -> Outline:
    """Validate outline text; ``source`` names it in error messages."""
    data, lines = _load_yaml_with_lines(text, source=source)
    if not isinstance(data, dict):
        raise OutlineError(
            f"{source}:1: an outline must be a YAML mapping with title, bpm, sections and form "
            f"(got {type(data).__name__})"
        )
    try:
        outline = Outline.model_validate(data)
    except ValidationError as exc:
        raise OutlineError(_format_validation_error(exc, data=data, lines=lines, source=source)) from None
    _check_form_names(outline, lines=lines, source=source)
    return outline


def outline_from_dict(data: dict[str, Any], *, source: str = "<outline>") -> Outline:
    """Validate an outline already parsed (e.g. stored in a manifest)."""
    return parse_outline(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), source=source)


def outline_to_dict(outline: Outline) -> dict[str, Any]:
    """JSON/YAML-able dict of an outline, without defaults the user did not set."""
    return outline.model_dump(mode="json", exclude_unset=True)


# --- YAML with line numbers -------------------------------------------------


def _load_yaml_with_lines(text: str, *, source: str) -> tuple[Any, dict[Loc, int]]:
    """Parse YAML and map every key path to its 1-based line number."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        raise OutlineError(f"{source}{line}: not valid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise OutlineError(f"{source}: not valid YAML: {exc}") from None
    if node is None:
        raise OutlineError(f"{source}: the outline is empty")
    lines: dict[Loc, int] = {}
    _walk(node, (), lines, source=source, seen=set())
    return data, lines


def _walk(node: yaml.Node, loc: Loc, lines: dict[Loc, int], *, source: str, seen: set[int]) -> None:
    lines.setdefault(loc, node.start_mark.line + 1)
    if id(node) in seen:  # an alias back to an ancestor (a cyclic document): its lines are known already
        return
    seen = seen | {id(node)}
    if isinstance(node, yaml.MappingNode):
        keys: set[Any] = set()
        for key_node, value_node in node.value:
            key = key_node.value
            if key in keys:
                raise OutlineError(
                    f"{source}:{key_node.start_mark.line + 1}: {_dotted(loc + (key,))}: "
                    "duplicate key (each key may appear once)"
                )
            keys.add(key)
            lines[loc + (key,)] = key_node.start_mark.line + 1
            _walk(value_node, loc + (key,), lines, source=source, seen=seen)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, loc + (index,), lines, source=source, seen=seen)


def _line_of(loc: Loc, lines: dict[Loc, int]) -> int:
    while loc and loc not in lines:
        loc = loc[:-1]
    return lines.get(loc, 1)


def _dotted(loc: Iterable[Any]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


# --- turning pydantic errors into located messages ---------------------------


def _format_validation_error(exc: ValidationError, *, data: Any, lines: dict[Loc, int], source: str) -> str:
    messages = []
    for error in exc.errors():
        loc = _clean_loc(error["loc"], data)
        messages.append(f"{source}:{_line_of(loc, lines)}: {_dotted(loc)}: {_explain(error, loc)}")
    return "\n".join(dict.fromkeys(messages))


def _clean_loc(loc: Loc, data: Any) -> Loc:
    """Drop the union branch names pydantic puts in locations ('list[str]', 'int'), keeping real keys.

    Follows the document itself: a part is kept only if it is a key or index of the data at that point.
    """
    kept: list[Any] = []
    node = data
    for part in loc:
        if isinstance(node, dict) and part in node:
            kept.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            kept.append(part)
            node = node[part]
        elif isinstance(node, dict) and part == loc[-1]:
            kept.append(part)  # a missing field: name it
    return tuple(kept)


def _explain(error: dict[str, Any], loc: Loc) -> str:
    kind = error["type"]
    given = error.get("input")
    if kind == "extra_forbidden":
        return _unknown_key_message(loc)
    if kind == "missing":
        return "required field is missing"
    if kind in {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}:
        return f"{error['msg'].lower()} (got {given!r})"
    if kind.endswith("_type") or kind in {"int_from_float", "literal_error", "union_tag_invalid"}:
        return f"{error['msg']} (got {_type_name(given)} {given!r})"
    return f"{error['msg'].removeprefix('Value error, ')}"


def _unknown_key_message(loc: Loc) -> str:
    if not loc:
        return "unknown key"
    key = str(loc[-1])
    allowed = _allowed_keys(loc[:-1])
    hint = difflib.get_close_matches(key, allowed, n=1)
    guess = f"; did you mean {hint[0]!r}?" if hint else ""
    return f"unknown key {key!r}{guess} Allowed here: {', '.join(sorted(allowed))}"


def _allowed_keys(parent: Loc) -> list[str]:
    from composer.outline_model import LearnedStructure, RenderSettings, SectionSpec

    model: type[BaseModel] = Outline
    if parent[:1] == ("render",):
        model = RenderSettings
    elif parent[:1] == ("structure",):
        model = LearnedStructure
    elif parent[:1] == ("sections",) and len(parent) >= 2:
        model = SectionSpec
    return list(model.model_fields)


def _type_name(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "text", bool: "a boolean", type(None): "nothing"}.get(
        type(value), type(value).__name__
    )


def _check_form_names(outline: Outline, *, lines: dict[Loc, int], source: str) -> None:
    if outline.form == "learned":
        return
    defined = list(outline.sections)
    for index, name in enumerate(outline.form):
        if name not in outline.sections:
            hint = difflib.get_close_matches(name, defined, n=1)
            guess = f"; did you mean {hint[0]!r}?" if hint else ""
            raise OutlineError(
                f"{source}:{_line_of(('form', index), lines)}: form[{index}]: section {name!r} is not defined"
                f"{guess} Defined sections: {', '.join(defined)}"
            )
