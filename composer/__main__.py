"""The `composer` console script and `python -m composer`.

Importing the CLI (typer, rich, numpy) takes a fraction of a second; a Ctrl-C in that
time must end like one during a render (a one-line message and exit status 130),
never a traceback. Once the app runs, click and friendly_errors handle Ctrl-C.
"""

from __future__ import annotations

import gc
import sys

# the shell's exit status for a process ended by SIGINT (128 + 2)
INTERRUPTED_EXIT = 130


def caused_by_ctrl_c(error: BaseException) -> bool:
    """True when ``error`` is a KeyboardInterrupt or was raised because of one. Python wraps a Ctrl-C that lands
    in a class body's ``__set_name__`` (a dataclass field, say) into "RuntimeError: Error calling __set_name__",
    with the KeyboardInterrupt as its cause."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, KeyboardInterrupt):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def main() -> None:
    try:
        from composer.cli import app

        app()
    except (KeyboardInterrupt, Exception) as error:  # SystemExit passes through untouched
        if not caused_by_ctrl_c(error):
            raise
        sys.stderr.write("interrupted\n")
        sys.exit(INTERRUPTED_EXIT)
    finally:
        # the process ends now, so nothing it holds needs collecting: freezing spares the interpreter's
        # exit from walking the million objects torch, diffusers and transformers made on import, which
        # took about 1 s of every command that had loaded a model (2-core CPU)
        gc.freeze()


if __name__ == "__main__":
    main()
