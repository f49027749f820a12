"""The CLI's consoles: stderr for messages, stdout for tables and JSON.

Markup is off: titles, prompts, section and file names print as written (a title holding '[/x]' is
text, not a rich tag that breaks the print after the work is saved). The few styles composer uses are
applied as spans of ``rich.text.Text``.
"""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

console = Console(stderr=True, soft_wrap=True, markup=False)
out = Console(markup=False)


def labelled(label: str, style: str, message: str) -> Text:
    """'warning: <message>' with only the label styled."""
    return Text.assemble((label, style), " ", message)


def error(message: str) -> None:
    console.print(labelled("error:", "bold red", message), highlight=False)


def warning(message: str) -> None:
    console.print(labelled("warning:", "yellow", message), highlight=False)


def system_error_message(exc: BaseException) -> tuple[str, int]:
    """(message, exit code) for what the system refused outside composer's own checks: a path too long for
    the file system, a file name that is not UTF-8, input nested too deeply to read. Never a traceback."""
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror or exc}", 1
    if isinstance(exc, UnicodeError):
        return (f"a file name or text is not valid UTF-8 ({exc.reason}); composer reads and writes UTF-8 names "
                "and files: rename it"), 2
    return "the input is nested too deeply to read (thousands of levels of lists or mappings)", 2
