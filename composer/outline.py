"""Read a YAML song outline and validate it, with errors that point at the line.

``load_outline`` is the only way the rest of composer gets an ``Outline``: any
problem becomes an ``OutlineError`` naming the file, the line, the field and
what is allowed. ``outline_yaml`` finds the lines, ``outline_errors`` words the
messages, ``outline_model`` holds the fields and their rules.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from composer.errors import OutlineError
from composer.outline_errors import check_form_names, format_validation_error
from composer.outline_model import MAX_TITLE_CHARS, Outline
from composer.outline_yaml import load_yaml_with_lines


#: largest outline file read
MAX_OUTLINE_BYTES = 4_000_000


def load_outline(path: str | Path) -> Outline:
    """Read and validate an outline file."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if path.is_file() and size > MAX_OUTLINE_BYTES:  # the YAML parser would take minutes and gigabytes
            raise OutlineError(f"{path}: {size / 1e6:.1f} MB is not an outline; an outline of even an hour of "
                               f"sections is a few hundred kB (at most {MAX_OUTLINE_BYTES // 1_000_000} MB read)")
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
    data, lines = load_yaml_with_lines(text, source=source)
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
        raise OutlineError(format_validation_error(exc, data=data, lines=lines, source=source)) from None
    check_form_names(outline, lines=lines, source=source)
    return outline


def outline_from_dict(data: dict[str, Any], *, source: str = "<outline>") -> Outline:
    """Validate an outline already parsed (e.g. stored in a manifest)."""
    return parse_outline(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), source=source)


def outline_to_dict(outline: Outline) -> dict[str, Any]:
    """JSON/YAML-able dict of an outline, without defaults the user did not set."""
    return outline.model_dump(mode="json", exclude_unset=True)
