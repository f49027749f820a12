"""Read a YAML song outline and validate it, with errors that point at the line.

``load_outline`` is the only way the rest of composer gets an ``Outline``: any
problem becomes an ``OutlineError`` naming the file, the line, the field and
what is allowed.
"""

from __future__ import annotations

import difflib
import reprlib
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Iterable, Literal, Optional, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from composer.errors import OutlineError
from composer.outline_model import MAX_TITLE_CHARS, Outline, RuleError

Loc = tuple[Any, ...]

#: values an outline may repeat through YAML aliases (*name) beyond those written out; a few nested
#: aliases can otherwise stand for billions of values (a 300-byte file took 80 s and 9 GB to reject)
MAX_ALIASED_VALUES = 100_000


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
    return parse_outline(text, source=str(path), default_title=path.stem)


def parse_outline(text: str, *, source: str = "<outline>", default_title: str | None = None) -> Outline:
    """Validate outline text; ``source`` names it in error messages, ``default_title`` stands in for a missing
    title (the file's name)."""
    data, lines = _load_yaml_with_lines(text, source=source)
    if not isinstance(data, dict):
        raise OutlineError(
            f"{source}:1: an outline must be a YAML mapping with bpm and sections (and optionally title, form, "
            f"time_signature, ...) (got {type(data).__name__})"
        )
    if "title" not in data and default_title and default_title.strip():
        # set, not defaulted, so the manifest keeps the title the song was made with
        data = {"title": default_title.strip()[:MAX_TITLE_CHARS], **data}
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


@dataclass
class Lines:
    """Where the keys of one YAML document are.

    ``at`` maps each key path walked to its 1-based line. A node reached again through an alias is walked
    only once (so the walk stays linear in the file, whatever the aliases expand to): ``aliases`` maps the
    path of each later use to the path it was first walked at, and ``_line_of`` follows it.
    """

    at: dict[Loc, int] = field(default_factory=dict)
    aliases: dict[Loc, Loc] = field(default_factory=dict)


@dataclass
class _Walk:
    source: str
    lines: Lines
    # id(node) -> the path it was first walked at
    first: dict[int, Loc] = field(default_factory=dict)
    # id(node) -> how many values it stands for with every alias inside it expanded
    sizes: dict[int, int] = field(default_factory=dict)
    # values that aliases repeat so far
    aliased: int = 0


def _load_yaml_with_lines(text: str, *, source: str) -> tuple[Any, Lines]:
    """Parse YAML and map every key path to its 1-based line number."""
    loader = None
    try:
        loader = yaml.SafeLoader(text)
        node = loader.get_single_node()
        if node is None:
            raise OutlineError(f"{source}: the outline is empty")
        lines = Lines()
        # walk before constructing: construction expands '<<' merge keys, which aliases can blow up too
        _walk(node, (), _Walk(source=source, lines=lines))
        return loader.construct_document(node), lines
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        raise OutlineError(f"{source}{line}: not valid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise OutlineError(f"{source}: not valid YAML: {exc}") from None
    except RecursionError:
        raise OutlineError(f"{source}: not valid YAML: lists or mappings nested too deeply") from None
    finally:
        if loader is not None:
            loader.dispose()


def _walk(node: yaml.Node, loc: Loc, walk: _Walk) -> None:
    walk.lines.at.setdefault(loc, node.start_mark.line + 1)
    if id(node) in walk.first:  # an alias (or a cycle back to an ancestor): walked already
        walk.lines.aliases[loc] = walk.first[id(node)]
        _count_aliased(node, loc, walk)
        return
    walk.first[id(node)] = loc
    if isinstance(node, yaml.MappingNode):
        keys: set[Any] = set()
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise OutlineError(
                    f"{walk.source}:{key_node.start_mark.line + 1}: {_dotted(loc)}: "
                    "a key must be plain text, not a list or a mapping"
                )
            key = key_node.value
            if key in keys:
                raise OutlineError(
                    f"{walk.source}:{key_node.start_mark.line + 1}: {_dotted(loc + (key,))}: "
                    "duplicate key (each key may appear once)"
                )
            keys.add(key)
            walk.lines.at[loc + (key,)] = key_node.start_mark.line + 1
            _walk(value_node, loc + (key,), walk)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, loc + (index,), walk)


def _count_aliased(node: yaml.Node, loc: Loc, walk: _Walk) -> None:
    walk.aliased += _expanded_size(node, walk.sizes, on_path=set())
    if walk.aliased > MAX_ALIASED_VALUES:
        # an alias in a flow list has no line of its own in the composed document: name its parent's
        line = walk.lines.at[loc if isinstance(loc[-1], str) else loc[:-1]]
        raise OutlineError(
            f"{walk.source}:{line}: {_dotted(loc)}: aliases (*name) here make the outline stand for more than "
            f"{MAX_ALIASED_VALUES:,} values beyond those written out (nested aliases multiply); "
            "write the repeated part out, or nest fewer aliases"
        )


def _expanded_size(node: yaml.Node, sizes: dict[int, int], *, on_path: set[int]) -> int:
    """Values ``node`` stands for with its aliases expanded; memoized, so linear in the distinct nodes."""
    if id(node) in on_path:  # a cycle: counted once, as pydantic rejects it anyway
        return 1
    if id(node) not in sizes:
        on_path.add(id(node))
        children = [v for pair in node.value for v in pair] if isinstance(node, yaml.MappingNode) else (
            node.value if isinstance(node, yaml.SequenceNode) else [])
        sizes[id(node)] = 1 + sum(_expanded_size(child, sizes, on_path=on_path) for child in children)
        on_path.discard(id(node))
    return sizes[id(node)]


def _line_of(loc: Loc, lines: Lines) -> int:
    """Line of ``loc``, else of its nearest walked parent; paths through an alias follow it to where it points."""
    while loc not in lines.at:
        site = next((loc[:n] for n in range(len(loc) - 1, 0, -1) if loc[:n] in lines.aliases), None)
        loc = loc[:-1] if site is None else lines.aliases[site] + loc[len(site):]
    return lines.at[loc]


def _dotted(loc: Iterable[Any]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


# --- turning pydantic errors into located messages ---------------------------

# pydantic error types that mean "wrong kind of value" (a union lists one per branch)
_TYPE_ERRORS = {"int_from_float", "literal_error", "union_tag_invalid", "int_parsing", "float_parsing"}
_RANGE_ERRORS = {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}
_LENGTH_ERRORS = {"string_too_short", "string_too_long"}
# what a field holds, where its type alone says it badly
_EXPECTED = {
    "form": "a list of section names such as [verse, chorus, verse], or 'learned'",
    "duration": "seconds or 'm:ss' text such as '3:30'",
    "sections": "a mapping from section names to their settings (bars, prompt, ...)",
}
_shown = reprlib.Repr()
_shown.maxstring, _shown.maxother, _shown.maxlist, _shown.maxdict, _shown.maxlevel = 60, 60, 6, 4, 3


def _format_validation_error(exc: ValidationError, *, data: Any, lines: Lines, source: str) -> str:
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
        prefix = f"{source}:{_line_of(loc, lines)}: {_dotted(loc)}"
        if all(_is_type_error(error) and "[key]" not in error["loc"] for error in errors) and _expected(loc):
            messages.append(f"{prefix}: {_wrong_type(errors[0], loc)}")  # one message for every branch
        else:
            messages += [f"{prefix}: {_explain(error, loc)}" for error in errors]
    return "\n".join(dict.fromkeys(messages))


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


def _explain(error: dict[str, Any], loc: Loc) -> str:
    kind = error["type"]
    given = error.get("input")
    if kind == "extra_forbidden":
        return _unknown_key_message(loc)
    if kind == "missing":
        return "required field is missing"
    if "[key]" in error["loc"]:
        return f"key {_shown.repr(given)} must be text (a name that starts with a letter)"
    allowed = f"; allowed: {_expected(loc)}" if _expected(loc) else ""
    if kind in _RANGE_ERRORS:
        return f"{error['msg'].lower()} (got {_shown.repr(given)}){allowed}"
    if kind in _LENGTH_ERRORS:
        return f"{error['msg'].lower()} (got {len(given)} characters)"
    if _is_type_error(error):
        return f"{error['msg']} (got {_type_name(given)} {_shown.repr(given)})"
    return f"{error['msg'].removeprefix('Value error, ')}"


def _wrong_type(error: dict[str, Any], loc: Loc) -> str:
    given = error.get("input")
    message = f"must be {_expected(loc)} (got {_type_name(given)} {_shown.repr(given)}"
    if isinstance(given, str) and _is_number(given) and "number" in str(_expected(loc)):
        message += ", which YAML reads as text: write numbers unquoted, exponents as 1.0e+3"
    elif isinstance(given, str) and get_origin(_annotation(loc)) is Literal:
        hint = difflib.get_close_matches(given, [str(v) for v in get_args(_annotation(loc))], n=1)
        message += f"; did you mean {hint[0]!r}?" if hint else ""
    return message + ")"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _expected(loc: Loc) -> Optional[str]:
    """What the key at ``loc`` may hold, with its range: 'a number from 40 to 240'; None if unknown."""
    if loc[:1] == ("sections",) and len(loc) == 2:
        return "a mapping with at least bars and prompt"
    if loc[:1] == ("form",) and len(loc) == 2:
        return "a section name (text)"
    info = _field_info(loc)
    if info is None:
        return None
    return _EXPECTED.get(loc[-1]) or _kind(info.annotation) + _bounds(info)


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


def _check_form_names(outline: Outline, *, lines: Lines, source: str) -> None:
    if outline.form == "learned":
        return
    defined = list(outline.sections)
    for index, name in enumerate(outline.form):
        if name not in outline.sections:
            hint = difflib.get_close_matches(name, defined, n=1)
            guess = f"; did you mean {hint[0]!r}?" if hint else "."
            raise OutlineError(
                f"{source}:{_line_of(('form', index), lines)}: form[{index}]: section {name!r} is not defined"
                f"{guess} Defined sections: {', '.join(defined)}"
            )
