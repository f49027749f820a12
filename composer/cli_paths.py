"""Path parameters of the CLI: an empty string (an unset shell variable, `-o "$OUT"`) is refused rather than
read as the current folder, where a render would write its song files among the user's own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer


def non_empty_path(value: Any) -> Path:
    """``value`` as a Path, refusing '' and whitespace (Path('') would be the current folder)."""
    text = str(value)
    if not text.strip():
        raise typer.BadParameter("an empty path; give a file or folder name ('.' for the current folder)")
    return Path(text)


#: keyword arguments for a typer Option holding a path (an Argument takes only the parser: a metavar would
#: replace its name in error messages)
PATH = {"parser": non_empty_path, "metavar": "<path>"}
