"""YAML with line numbers: parse an outline and remember the line of every key path.

Errors found later (by pydantic, or by checks across fields) are reported at the line
the user wrote; aliases are followed, and counted so a few nested ones cannot make a
300-byte file stand for billions of values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

import yaml

from composer.errors import OutlineError

# a key path: mapping keys and list indices from the document root
Loc = tuple[Any, ...]

#: values an outline may repeat through YAML aliases (*name) beyond those written out; a few nested
#: aliases can otherwise stand for billions of values (a 300-byte file took 80 s and 9 GB to reject)
MAX_ALIASED_VALUES = 100_000

@dataclass
class Lines:
    """Where the keys of one YAML document are.

    ``at`` maps each key path walked to its 1-based line. A node reached again through an alias is walked
    only once (so the walk stays linear in the file, whatever the aliases expand to): ``aliases`` maps the
    path of each later use to the path it was first walked at, and ``line_of`` follows it.
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


def load_yaml_with_lines(text: str, *, source: str) -> tuple[Any, Lines]:
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
        problem = exc.problem or str(exc)
        hint = "; indent with spaces, YAML does not allow tabs" if "'\\t'" in problem else ""
        raise OutlineError(f"{source}{line}: not valid YAML: {problem}{hint}") from None
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
                    f"{walk.source}:{key_node.start_mark.line + 1}: {dotted(loc)}: "
                    "a key must be plain text, not a list or a mapping"
                )
            key = key_node.value
            if key in keys:
                raise OutlineError(
                    f"{walk.source}:{key_node.start_mark.line + 1}: {dotted(loc + (key,))}: "
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
            f"{walk.source}:{line}: {dotted(loc)}: aliases (*name) here make the outline stand for more than "
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


def line_of(loc: Loc, lines: Lines) -> int:
    """Line of ``loc``, else of its nearest walked parent; paths through an alias follow it to where it points."""
    while loc not in lines.at:
        site = next((loc[:n] for n in range(len(loc) - 1, 0, -1) if loc[:n] in lines.aliases), None)
        loc = loc[:-1] if site is None else lines.aliases[site] + loc[len(site):]
    return lines.at[loc]


def dotted(loc: Iterable[Any]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"
