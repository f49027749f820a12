"""Safe file writing: a file appears under its final name complete or not at all."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import functools
import json
import os
import shutil
import signal
import tempfile
import threading
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from composer.errors import SongFolderError


def write_atomic(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp_path)`` then rename onto ``path``; nothing is left behind on failure."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp" + path.suffix, dir=path.parent)
        os.close(fd)
        os.chmod(tmp_name, 0o666 & ~_umask())  # mkstemp makes 0600; the user's files get their usual mode
    except OSError as exc:
        raise SongFolderError(f"{path.parent}: cannot write here: {exc.strerror or exc}") from None
    tmp = Path(tmp_name)
    try:
        write(tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except (OSError, RuntimeError) as exc:  # RuntimeError: libraries' own I/O errors (libsndfile's "System error.")
        tmp.unlink(missing_ok=True)
        raise SongFolderError(f"{path}: could not be written ({_write_failure(exc, path.parent)}); "
                              "the previous file is unchanged") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _write_failure(exc: BaseException, folder: Path) -> str:
    """Why a write failed, in words; a library that hides ENOSPC is caught by looking at the free space."""
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return "the disk is full"
    try:
        if shutil.disk_usage(folder).free < 1 << 20:
            return "the disk is full"
    except OSError:
        pass
    return (exc.strerror if isinstance(exc, OSError) else None) or str(exc)


class InterruptedAfterCommit(KeyboardInterrupt):
    """Ctrl-C arrived while files were being moved into place; the move finished first, so the new files stand."""


@functools.lru_cache(maxsize=1)
def _umask() -> int:
    """The process umask (read once: setting it to read it is not thread-safe)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


#: signals held while files move into place: Ctrl-C, `kill` and a closed terminal
HELD_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@contextlib.contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Hold SIGINT, SIGTERM and SIGHUP until the block ends, then act on the first: for a few renames that must
    all happen or none. A held SIGINT raises ``InterruptedAfterCommit``; the others get their usual handling.
    Only the main thread can hold signals; elsewhere the block runs as is."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    # a signal the process ignores (nohup, a background job) stays ignored
    held = [signum for signum in HELD_SIGNALS if signal.getsignal(signum) is not signal.SIG_IGN]
    previous = {signum: signal.signal(signum, lambda signum, frame: caught.append(signum)) for signum in held}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if caught and caught[0] == signal.SIGINT:
        raise InterruptedAfterCommit
    if caught:
        os.kill(os.getpid(), caught[0])


def replace_together(moves: Sequence[tuple[Path, Path]]) -> None:
    """Rename every (source, target) in order with signals held, so a folder never mixes old and new files.
    Each source must be complete and on the target's file system (a rename never copies)."""
    blocked = [target for _, target in moves if target.is_dir() and not target.is_symlink()]
    if blocked:  # a rename onto a folder fails part-way: refuse before moving anything
        raise SongFolderError(f"{blocked[0]} is a folder where composer keeps a file; move it away (nothing was "
                              "changed)")
    try:
        with interrupts_deferred():
            for source, target in moves:
                os.replace(source, target)
    except OSError as exc:
        raise SongFolderError(f"{Path(exc.filename or '').parent}: could not move the new files into place "
                              f"({exc.strerror or exc})") from None


def write_text_atomic(path: Path, text: str) -> None:
    write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_json_atomic(path: Path, data: Any) -> None:
    write_text_atomic(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Exclusive lock on a song folder; a second process gets a clear error instead of corrupting it."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle = open(folder / ".lock", "w")
    except OSError as exc:
        raise SongFolderError(f"{folder}: cannot create the song folder: {exc.strerror or exc}") from None
    with handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SongFolderError(
                f"{folder}: another composer process is writing this song folder; wait for it to finish"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
