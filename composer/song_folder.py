"""The song folder: song.wav, song.mid, spectrogram.png, manifest.json, clips/ and takes/.

A new take's files are written beside the folder's (in ``.incoming/``) and then
renamed into place together, manifest last, with Ctrl-C held: a folder is always
either the previous take or the new one. Every earlier take is kept under ``takes/``.
A folder whose song files have no readable manifest is never overwritten.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any, Callable, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError, ValidationInfo, field_validator

from composer.errors import SongFolderError
from composer.outline_model import FASTEST_BPM, MIN_BPM, bpm_limits
from composer.seeds import SEED_LIMIT
from composer.timing import parse_time_signature

MANIFEST_SCHEMA_VERSION = 1
SONG_FILES = ("song.wav", "song.mid", "spectrogram.png", "manifest.json")
#: written by `composer evaluate`; it describes one take, so it moves to takes/ with it and comes back on restore
EVALUATION = "evaluation.json"
MANIFEST = "manifest.json"
#: where a new take's files are written before they replace the current ones
INCOMING = ".incoming"
#: an archived take's folder name
_TAKE_NAME = re.compile(r"take-(?!0+$)[0-9]+")  # take numbers start at 1: a 'take-0' folder is not a take


class _Loose(BaseModel):
    """Manifest parts: the fields composer reads are checked, anything else is kept as is."""

    model_config = ConfigDict(extra="allow")


class _ManifestClip(_Loose):
    index: StrictInt = Field(ge=0)
    start_sample: int = Field(ge=0)
    cache_key: str


class _ManifestSection(_Loose):
    name: str
    occurrence: int = Field(ge=1)
    start_s: float = Field(ge=0)
    end_s: float = Field(ge=0)
    start_sample: int = Field(ge=0)
    end_sample: int = Field(ge=0)
    clips: list[_ManifestClip]


class _ManifestBackend(_Loose):
    name: str
    model: Optional[str] = None
    identity: Optional[dict[str, Any]] = None


class _ManifestOverride(_Loose):
    section: str
    occurrence: StrictInt = Field(ge=1)
    seed: Optional[StrictInt] = Field(None, ge=0, lt=SEED_LIMIT)  # strict: "7" would be kept as text
    prompt: Optional[str] = Field(None, min_length=1)
    denoising: Optional[float] = Field(None, gt=0, le=1)


class _Manifest(_Loose):
    take: StrictInt = Field(ge=1)
    sample_rate: int = Field(gt=0)
    time_signature: str  # before bpm, whose range depends on it
    bpm: float = Field(ge=MIN_BPM, le=FASTEST_BPM)
    total_samples: int = Field(ge=0)
    backend: _ManifestBackend
    outline: dict[str, Any]
    overrides: list[_ManifestOverride] = []
    sections: list[_ManifestSection] = Field(min_length=1)
    # what made this take (absent in a first render's older manifests)
    change: Optional[dict[str, Any]] = None
    # the folder groove files were read from
    groove_root: Optional[str] = None
    # SHA-256 of the take's song.wav (manifests before composer 0.4 have none)
    audio_sha256: Optional[str] = Field(None, pattern=r"^[0-9a-f]{64}$")
    # how the take's clips were crossfaded (composer.dsp.stitch.FADE_LAWS); takes before composer 0.6 have
    # none and were stitched with the fixed fades
    joint_fades: Literal["matched", "fixed"] = "fixed"

    @field_validator("outline")
    @classmethod
    def _outline(cls, value: dict[str, Any]) -> dict[str, Any]:
        from composer.outline_model import Outline

        try:
            Outline.model_validate(value)
        except ValidationError as exc:  # the first problem, as pydantic words it
            error = exc.errors()[0]
            raise ValueError(f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}") from None
        return value

    @field_validator("time_signature")
    @classmethod
    def _metre(cls, value: str) -> str:
        parse_time_signature(value)  # ValueError says what is allowed
        return value

    @field_validator("bpm")
    @classmethod
    def _bpm_fits_metre(cls, value: float, info: ValidationInfo) -> float:
        if "time_signature" in info.data:
            low, high = bpm_limits(info.data["time_signature"])
            if not low <= value <= high:
                raise ValueError(f"{value:g} is outside {low}-{high}, the range of {info.data['time_signature']}")
        return value


def clips_dir(folder: Path) -> Path:
    return Path(folder) / "clips"


def takes_dir(folder: Path) -> Path:
    return Path(folder) / "takes"


def read_manifest(folder: Path) -> dict[str, Any]:
    """The current manifest of a song folder, checked; a clear error when there is none or it is damaged."""
    if not Path(folder).is_dir():
        raise SongFolderError(f"{folder}: no such song folder (render one first with `composer render`)")
    return read_manifest_file(Path(folder) / MANIFEST)


def read_manifest_file(path: Path) -> dict[str, Any]:
    """A manifest.json (a folder's or an archived take's) as a dict whose fields composer reads are valid."""
    try:
        manifest = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SongFolderError(f"{path}: missing; this is not a finished song folder") from None
    except (OSError, ValueError) as exc:  # ValueError: bad JSON or bytes that are not UTF-8
        raise SongFolderError(f"{path}: unreadable ({exc})") from None
    except RecursionError:
        raise SongFolderError(f"{path}: unreadable (nested too deeply to be a manifest)") from None
    if not isinstance(manifest, dict):
        raise SongFolderError(f"{path}: expected a JSON object, found {type(manifest).__name__}")
    version = manifest.get("schema_version")
    if version != MANIFEST_SCHEMA_VERSION:
        raise SongFolderError(f"{path}: schema_version {version!r} is not supported (expected {MANIFEST_SCHEMA_VERSION})")
    try:
        _Manifest.model_validate(manifest)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
                             for error in exc.errors()[:3])
        raise SongFolderError(f"{path}: damaged ({problems}); it was not written by composer as it is now") from None
    return manifest


def archived_take_owner(folder: Path) -> Optional[Path]:
    """The song folder whose ``takes/`` is ``folder`` or holds it (a kept take, or one being copied), else None."""
    try:
        folder = Path(folder).resolve()
    except (RuntimeError, OSError) as exc:  # a symlink loop
        raise SongFolderError(f"{folder}: cannot be used as a folder ({exc})") from None
    for song, inside in ((folder.parent, folder), (folder.parent.parent, folder.parent)):
        if (inside.name == "takes" and (inside is folder or folder.name.startswith(("take-", ".take-")))
                and ((song / MANIFEST).is_file() or clips_dir(song).is_dir())):
            return song
    return None


def check_not_an_archived_take(folder: Path) -> None:
    """SongFolderError for a folder inside a song's ``takes/``: writing there would turn a kept take into a
    song of its own, and the song could no longer list or restore it."""
    song = archived_take_owner(folder)
    if song is not None:
        raise SongFolderError(
            f"{Path(folder).resolve()} is where the song folder {song} keeps its takes, not a song folder; composer "
            f"never writes there: `composer restore {song} --take N` makes a take current, or copy it elsewhere first")


def current_take(folder: Path) -> Optional[int]:
    """The current take's number; None while the folder holds no song. Song files without a readable
    manifest raise: they could not be kept as a take, and composer never overwrites what it cannot keep.
    So does an archived take's folder (``check_not_an_archived_take``)."""
    folder = Path(folder)
    check_not_an_archived_take(folder)
    if not (folder / MANIFEST).exists():
        present = [name for name in SONG_FILES if (folder / name).exists()]
        if present:
            raise SongFolderError(
                f"{folder}: holds {', '.join(present)} but no {MANIFEST}, so composer cannot keep it as a take "
                "and will not overwrite it; render into another folder (-o) or move those files away")
        return None
    try:
        return int(read_manifest(folder)["take"])
    except SongFolderError as exc:
        raise SongFolderError(f"{exc}; composer will not overwrite a song it cannot keep as a take: render into "
                              "another folder (-o) or move this one away") from None


def list_takes(folder: Path) -> list[dict[str, Any]]:
    """Every take once: number, when, what changed, whether current; a damaged archived take is listed as such.

    A restored take is both current and archived under its number; it is listed once, as current.
    """
    archived = _archived(folder)
    try:
        current = read_manifest(folder) if (Path(folder) / MANIFEST).exists() or not archived else None
    except SongFolderError as exc:
        if not archived:
            raise
        names = ", ".join(path.name for path in archived)
        raise SongFolderError(f"{exc}; the archived takes are intact in {takes_dir(folder)}: {names} (`composer "
                              f"restore {folder} --take N` brings one back and sets the current files aside)") from None
    current_number = None if current is None else int(current["take"])
    takes = []
    for path in archived:
        if int(path.name.removeprefix("take-")) == current_number:
            continue
        try:
            takes.append(_marked_summary(path, read_manifest_file(path / MANIFEST), current=False))
        except SongFolderError as exc:
            takes.append({"take": int(path.name.removeprefix("take-")), "created": "", "current": False,
                          "duration_s": None, "change": f"damaged: {exc}"})
    if current is not None:
        takes.append(_marked_summary(Path(folder), current, current=True))
    return sorted(takes, key=lambda t: t["take"])


def _marked_summary(folder: Path, manifest: dict[str, Any], *, current: bool) -> dict[str, Any]:
    """``_take_summary``, its change followed by what is wrong with the take's files, if anything."""
    summary = _take_summary(manifest, current=current)
    problem = take_problem(folder, manifest)
    return summary if problem is None else {**summary, "change": f"{summary['change']} ({problem})"}


def _archived(folder: Path) -> list[Path]:
    """The archived take folders (``takes/take-NNN``, ASCII digits only; other names are not takes)."""
    return sorted(p for p in takes_dir(folder).glob("take-*") if p.is_dir() and _TAKE_NAME.fullmatch(p.name))


def next_take_number(folder: Path) -> int:
    numbers = [int(p.name.removeprefix("take-")) for p in _archived(folder)]
    current = current_take(folder)
    return max(numbers + ([current] if current else []) + [0]) + 1


def take_problem(folder: Path, manifest: dict[str, Any]) -> Optional[str]:
    """Why the take in ``folder`` could not be restored as it was ('song.wav missing', 'song.wav holds 705600
    samples, its manifest says 1411200'), or None when it is whole."""
    import soundfile

    missing = [name for name in SONG_FILES if not (Path(folder) / name).is_file()]
    if missing:
        return f"incomplete: {', '.join(missing)} missing"
    try:
        frames = soundfile.info(str(Path(folder) / "song.wav")).frames
    except (RuntimeError, OSError) as exc:
        return f"song.wav is not readable audio ({exc})"
    if frames != manifest["total_samples"]:
        return f"song.wav holds {frames} samples, its manifest says {manifest['total_samples']}"
    if "audio_sha256" in manifest and file_sha256(Path(folder) / "song.wav") != manifest["audio_sha256"]:
        return "song.wav was changed after this take was written (its SHA-256 is not the manifest's)"
    return None


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes (read in blocks: a long song is tens of MB)."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def archive_current_take(folder: Path) -> tuple[Optional[int], Optional[str]]:
    """Copy the current song files into ``takes/take-NNN``: (its number, None if no song yet; and what is
    wrong with it, None if it is whole). A damaged current take never replaces a whole archived copy of it."""
    number = current_take(folder)
    if number is None:
        return None, None
    target = takes_dir(folder) / f"take-{number:03d}"
    staging = takes_dir(folder) / f".take-{number:03d}.partial"
    present = [name for name in SONG_FILES if (Path(folder) / name).is_file()]
    evaluation = Path(folder) / EVALUATION
    problem = take_problem(folder, read_manifest(folder))
    if problem is not None and target.is_dir() and _is_whole_take(target, number):
        return number, f"{problem}; take {number} is kept as it was archived before, in {target}"
    if _same_files(Path(folder), target, present):  # restored from there, unchanged since
        if evaluation.is_file():  # evaluated since
            try:
                shutil.copy2(evaluation, target / EVALUATION)
            except OSError as exc:
                raise SongFolderError(f"{folder}: cannot keep the previous take's {EVALUATION} "
                                      f"({exc.strerror or exc}); nothing was changed") from None
        return number, problem
    present += [EVALUATION] if evaluation.is_file() else []
    try:
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        for name in present:
            shutil.copy2(Path(folder) / name, staging / name)
        if target.exists():  # a different folder under this take's name: set aside (never deleted), not a take
            target.rename(_free_name(takes_dir(folder), f"take-{number:03d}.superseded"))
        staging.rename(target)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise SongFolderError(f"{folder}: cannot keep the previous take ({exc.strerror or exc}); nothing was changed") from None
    except BaseException:  # Ctrl-C or `kill` mid-copy: no half-copied take left behind
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return number, None if problem is None else f"{problem}; it is kept as it is in {target}"


def _is_whole_take(path: Path, number: int) -> bool:
    try:
        manifest = read_manifest_file(path / MANIFEST)
    except SongFolderError:
        return False
    return int(manifest["take"]) == number and take_problem(path, manifest) is None


def sweep_leftovers(folder: Path) -> None:
    """Remove what an interrupted command left (a half-copied take, clip files never renamed into place,
    new files never moved); never a finished file. Call it holding the folder lock."""
    folder = Path(folder)
    for partial in takes_dir(folder).glob(".take-*.partial"):
        shutil.rmtree(partial, ignore_errors=True)
    for temporary in clips_dir(folder).glob(".*.tmp*"):  # write_atomic's names: .<name>.<random>.tmp<suffix>
        temporary.unlink(missing_ok=True)
    shutil.rmtree(folder / INCOMING, ignore_errors=True)


def _free_name(parent: Path, stem: str) -> Path:
    """``parent/stem-N`` for the first N not taken."""
    return next(parent / f"{stem}-{n}" for n in range(1, 10_000) if not (parent / f"{stem}-{n}").exists())


def _same_files(folder: Path, archived: Path, names: list[str]) -> bool:
    """True when ``archived`` holds exactly ``names`` (and perhaps its evaluation) with the same bytes as ``folder``."""
    import filecmp

    if not archived.is_dir() or sorted(p.name for p in archived.iterdir() if p.name != EVALUATION) != sorted(names):
        return False
    return all(filecmp.cmp(folder / name, archived / name, shallow=False) for name in names)


def restore_take(folder: Path, take: int) -> Optional[str]:
    """Make an archived take current again (the current one is archived first); all or nothing. Returns what
    was wrong with the take that was current, if anything (``archive_current_take``). Hold the folder lock."""
    check_not_an_archived_take(folder)
    sweep_leftovers(folder)
    source = takes_dir(folder) / f"take-{take:03d}"
    try:
        current: Optional[int] = current_take(folder)
        unreadable = None
    except SongFolderError as exc:  # song files without a readable manifest: set aside below, never deleted
        current, unreadable = None, exc
    if take == current:
        raise SongFolderError(f"{folder}: take {take} is already the current one")
    if not source.is_dir():
        available = ", ".join(str(t["take"]) for t in list_takes(folder)) or "none"
        raise SongFolderError(f"{folder}: there is no take {take}; takes: {available}")
    manifest = read_manifest_file(source / MANIFEST)
    if int(manifest["take"]) != take:
        raise SongFolderError(f"{source}: its manifest is take {manifest['take']}'s, not take {take}'s; it was "
                              "changed after it was archived, so it is not restored (nothing was changed)")
    problem = take_problem(source, manifest)
    if problem is not None:
        raise SongFolderError(f"{source}: take {take} cannot be restored as it was: {problem}; nothing was changed")
    if unreadable is not None:
        problem = f"{unreadable}; its files were set aside in {_set_aside(folder)}"
    else:
        _, problem = archive_current_take(folder)
    kept = SONG_FILES + ((EVALUATION,) if (source / EVALUATION).is_file() else ())
    commit_song_files(folder, {name: lambda tmp, src=source / name: shutil.copyfile(src, tmp) for name in kept})
    return problem


def _set_aside(folder: Path) -> Path:
    """Move the song files that are not a take (their manifest is damaged or gone) into
    ``takes/unreadable-N``: not listed or restored as a take, never deleted."""
    target = _free_name(takes_dir(folder), "unreadable")
    try:
        target.mkdir(parents=True)
        for name in (*SONG_FILES, EVALUATION):
            if (Path(folder) / name).is_file():
                (Path(folder) / name).rename(target / name)
    except OSError as exc:
        raise SongFolderError(f"{folder}: cannot set the unreadable song files aside in {target} "
                              f"({exc.strerror or exc}); nothing was restored") from None
    return target


def commit_song_files(folder: Path, writers: dict[str, Callable[[Path], None]]) -> None:
    """Write each song file with ``writers[name](path)`` into ``.incoming/``, then move them all into the
    folder together, manifest last: an error or Ctrl-C while writing leaves the current take untouched."""
    from composer.files import replace_together

    folder = Path(folder)
    staging = _fresh_staging(folder)
    try:
        for name, write in writers.items():
            write(staging / name)
        order = sorted(writers, key=lambda name: name == MANIFEST)
        # an evaluation.json not among the new files described the take just archived (a copy lives there);
        # it goes in the same held-signal step, so Ctrl-C or `kill` never leaves it beside the new take
        stale = [] if EVALUATION in writers else [folder / EVALUATION]
        replace_together([(staging / name, folder / name) for name in order], remove=stale)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def check_writable(folder: Path) -> None:
    """Fail now, not after minutes of rendering, when the new take's files could not be written here."""
    _fresh_staging(Path(folder)).rmdir()


def _fresh_staging(folder: Path) -> Path:
    """An empty ``.incoming/`` in ``folder``; a clear error when the folder cannot be written."""
    staging = folder / INCOMING
    try:
        if staging.is_symlink() or staging.is_file():  # the name is composer's own; a stray file there goes
            staging.unlink()
        shutil.rmtree(staging, ignore_errors=True)  # left by a crash: never a finished take
        staging.mkdir(parents=True)
    except OSError as exc:
        raise SongFolderError(f"{folder}: cannot write here ({exc.strerror or exc}); nothing was changed") from None
    return staging


def _take_summary(manifest: dict[str, Any], *, current: bool) -> dict[str, Any]:
    change = manifest.get("change")
    return {"take": int(manifest["take"]), "created": str(manifest.get("created", "")),
            "change": str(change.get("description", "render")) if isinstance(change, dict) else "render",
            "current": current, "duration_s": manifest.get("duration_s")}
