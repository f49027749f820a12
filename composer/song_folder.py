"""The song folder: song.wav, song.mid, spectrogram.png, manifest.json, clips/ and takes/.

Writes are atomic and the manifest goes last, so a folder is always either the
previous take or the new one; every earlier take is kept under ``takes/``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Optional

from composer.errors import SongFolderError

MANIFEST_SCHEMA_VERSION = 1
SONG_FILES = ("song.wav", "song.mid", "spectrogram.png", "manifest.json")
MANIFEST = "manifest.json"


def clips_dir(folder: Path) -> Path:
    return Path(folder) / "clips"


def takes_dir(folder: Path) -> Path:
    return Path(folder) / "takes"


def read_manifest(folder: Path) -> dict[str, Any]:
    """The current manifest of a song folder, with a clear error when there is none."""
    path = Path(folder) / MANIFEST
    if not Path(folder).is_dir():
        raise SongFolderError(f"{folder}: no such song folder (render one first with `composer render`)")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SongFolderError(f"{path}: missing; this is not a finished song folder") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise SongFolderError(f"{path}: unreadable ({exc})") from None
    version = manifest.get("schema_version")
    if version != MANIFEST_SCHEMA_VERSION:
        raise SongFolderError(f"{path}: schema_version {version!r} is not supported (expected {MANIFEST_SCHEMA_VERSION})")
    return manifest


def current_take(folder: Path) -> Optional[int]:
    path = Path(folder) / MANIFEST
    if not path.is_file():
        return None
    try:
        return int(json.loads(path.read_text(encoding="utf-8")).get("take", 1))
    except (OSError, ValueError, json.JSONDecodeError):
        return None


def list_takes(folder: Path) -> list[dict[str, Any]]:
    """Every take (archived and current): number, when, what changed."""
    takes = []
    for path in sorted(takes_dir(folder).glob("take-*/" + MANIFEST)):
        takes.append(_take_summary(json.loads(path.read_text(encoding="utf-8")), current=False))
    if (Path(folder) / MANIFEST).is_file():
        takes.append(_take_summary(read_manifest(folder), current=True))
    return sorted(takes, key=lambda t: t["take"])


def next_take_number(folder: Path) -> int:
    numbers = [int(p.name.split("-")[1]) for p in takes_dir(folder).glob("take-*") if p.name.split("-")[1].isdigit()]
    current = current_take(folder)
    return max(numbers + ([current] if current else []) + [0]) + 1


def archive_current_take(folder: Path) -> Optional[int]:
    """Copy the current song files into ``takes/take-NNN``; returns its number (None if no song yet)."""
    number = current_take(folder)
    if number is None:
        return None
    target = takes_dir(folder) / f"take-{number:03d}"
    staging = takes_dir(folder) / f".take-{number:03d}.partial"
    try:
        if target.exists():
            return number
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        for name in SONG_FILES:
            if (Path(folder) / name).is_file():
                shutil.copy2(Path(folder) / name, staging / name)
        staging.rename(target)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise SongFolderError(f"{folder}: cannot keep the previous take ({exc.strerror or exc}); nothing was changed") from None
    return number


def restore_take(folder: Path, take: int) -> None:
    """Make an archived take current again (the current one is archived first)."""
    source = takes_dir(folder) / f"take-{take:03d}"
    if not (source / MANIFEST).is_file():
        available = ", ".join(str(t["take"]) for t in list_takes(folder)) or "none"
        raise SongFolderError(f"{folder}: there is no take {take}; takes: {available}")
    archive_current_take(folder)
    from composer.files import write_atomic

    for name in SONG_FILES:
        if name != MANIFEST and (source / name).is_file():
            write_atomic(Path(folder) / name, lambda tmp, src=source / name: shutil.copyfile(src, tmp))
    write_atomic(Path(folder) / MANIFEST, lambda tmp: shutil.copyfile(source / MANIFEST, tmp))


def _take_summary(manifest: dict[str, Any], *, current: bool) -> dict[str, Any]:
    return {"take": int(manifest.get("take", 1)), "created": manifest.get("created", ""),
            "change": manifest.get("change", {}).get("description", "render"), "current": current,
            "duration_s": manifest.get("duration_s")}
