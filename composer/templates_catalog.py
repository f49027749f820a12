"""The outline templates shipped in ``templates/``: list them, copy one to start from."""

from __future__ import annotations

import shutil
from pathlib import Path

from composer.errors import ComposerError, OutlineError, OutputExistsError
from composer.outline import load_outline
from composer.outline_model import Outline


def templates_dir() -> Path:
    """``templates/`` beside the package (the repository root for an editable install)."""
    for candidate in (Path(__file__).resolve().parent.parent / "templates",
                      Path(__file__).resolve().parent / "templates"):
        if candidate.is_dir():
            return candidate
    raise ComposerError("the templates folder is missing from this installation (expected templates/ beside "
                        "the composer package)")


def template_names() -> list[str]:
    return sorted(p.stem for p in templates_dir().glob("*.yaml"))


def template_path(name: str) -> Path:
    path = templates_dir() / f"{name}.yaml"
    if name not in template_names():  # a name, never a path ('../x' would reach outside templates/)
        raise OutlineError(f"no template named {name!r}; available: {', '.join(template_names())}")
    return path


def load_template(name: str) -> Outline:
    return load_outline(template_path(name))


def copy_template(name: str, destination: Path, *, force: bool) -> None:
    from composer.files import write_atomic

    source = template_path(name)
    if destination.exists() and not force:
        raise OutputExistsError(f"{destination} already exists; pass --force to overwrite it")
    write_atomic(destination, lambda tmp: shutil.copyfile(source, tmp))
