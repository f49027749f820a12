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
    """Call ``write(tmp_path)`` then rename onto ``path``; nothing is left behind on failure. A symlink is
    written through (its target gets the new file); a device, pipe or socket is never replaced."""
    path = Path(path)
    if path.is_symlink():
        path = Path(os.path.realpath(path))
    if path.exists() and not path.is_file() and not path.is_dir():  # a folder gets its own error from os.replace
        raise SongFolderError(f"{path}: is not a regular file (a device, pipe or socket); composer writes only "
                              "regular files: name another file")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp" + path.suffix, dir=path.parent)
        os.close(fd)
        os.chmod(tmp_name, 0o666 & ~_umask())  # mkstemp makes 0600; the user's files get their usual mode
    except OSError as exc:
        blocking = next((parent for parent in path.parents if parent.is_file()), None)
        if blocking is not None:  # 'song.yaml/out.yaml': mkdir says only "File exists"
            raise SongFolderError(f"{path}: {blocking} is a file, not a folder") from None
        reason = _describe_full(folder=path.parent, written=0) if exc.errno == errno.ENOSPC else _reason(exc)
        raise SongFolderError(f"{_shown(path).parent}: cannot write here ({reason})") from None
    tmp = Path(tmp_name)
    try:
        write(tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except (OSError, RuntimeError) as exc:  # RuntimeError: libraries' own I/O errors (libsndfile's "System error.")
        reason = _discard(tmp, exc)
        raise SongFolderError(f"{_shown(path)}: could not be written ({reason}); {_what_stands(path)}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


#: less free space than this after a failed write means the disk filled up, whatever the library said
_NEARLY_FULL = 1 << 20


def _discard(tmp: Path, exc: BaseException) -> str:
    """Delete a failed write's partial file and say why it failed. A disk is judged full while the partial file
    is still there (it is what filled the disk) and its free space is reported once it is gone."""
    written = _size(tmp)
    full = _is_full(exc, folder=tmp.parent)
    tmp.unlink(missing_ok=True)
    return _describe_full(folder=tmp.parent, written=written) if full else _reason(exc)


def _is_full(exc: BaseException, *, folder: Path) -> bool:
    """ENOSPC, or an error that hides its cause (libsndfile's "System error.") with next to no space left."""
    if isinstance(exc, OSError) and exc.errno is not None:  # the system said what went wrong
        return exc.errno == errno.ENOSPC
    try:
        return shutil.disk_usage(folder).free < _NEARLY_FULL
    except OSError:
        return False


def _describe_full(*, folder: Path, written: int) -> str:
    """'the disk is full: 3.2 MB free, the file needs more than 13.1 MB', leaving out what is not known."""
    try:
        known = [f"{_bytes(shutil.disk_usage(folder).free)} free"]
    except OSError:
        known = []
    if written:  # what the failed write had put down: the whole file is larger
        known.append(f"the file needs more than {_bytes(written)}")
    return "the disk is full" + (f": {', '.join(known)}" if known else "")


def _reason(exc: BaseException) -> str:
    return (exc.strerror if isinstance(exc, OSError) else None) or str(exc)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _bytes(count: int) -> str:
    return f"{count / 1e6:.1f} MB" if count >= 100_000 else f"{count / 1e3:.0f} kB"


def _shown(path: Path) -> Path:
    """The path the user knows: a song file staged in the folder's ``.incoming/`` is named as the song file."""
    from composer.song_folder import INCOMING  # here: this low-level module does not load the manifest model

    return path.parent.parent / path.name if path.parent.name == INCOMING else path


def _what_stands(path: Path) -> str:
    """What a failed write left: the file it would have replaced, or nothing at all."""
    kept = _shown(path)  # a staged song file replaces the folder's, not the staged one
    return "the previous file is unchanged" if kept.exists() else "no partial file was left"


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


def replace_together(moves: Sequence[tuple[Path, Path]], *, remove: Sequence[Path] = ()) -> None:
    """Rename every (source, target) in order, then delete each of ``remove`` (files that described the old
    ones), all with signals held, so a folder never mixes old and new files. Each source must be complete and
    on the target's file system (a rename never copies)."""
    blocked = [target for _, target in moves if target.is_dir() and not target.is_symlink()]
    if blocked:  # a rename onto a folder fails part-way: refuse before moving anything
        raise SongFolderError(f"{blocked[0]} is a folder where composer keeps a file; move it away (nothing was "
                              "changed)")
    try:
        with interrupts_deferred():
            for source, target in moves:
                os.replace(source, target)
            for stale in remove:
                Path(stale).unlink(missing_ok=True)
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
    except OSError as exc:
        raise SongFolderError(f"{folder}: cannot create the song folder: {exc.strerror or exc}") from None
    try:  # an existing folder that cannot be written (`composer evaluate` of someone else's song)
        handle = open(folder / ".lock", "w")
    except OSError as exc:
        raise SongFolderError(f"{folder}: cannot write its .lock file ({exc.strerror or exc})") from None
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
