"""Writes into a song folder: a full disk is named as such, and `composer evaluate` never pairs one take's
measures with another take (it reads and writes holding the folder lock)."""

from __future__ import annotations

import errno
import json
import os
import shutil
from pathlib import Path

import pytest
import soundfile

import composer.audio_io
import composer.files
from composer.errors import SongFolderError
from composer.files import folder_lock, write_atomic
from test_song_folder import SONG_FILES, invoke

#: free space on the pretend disk before a write starts filling it
FREE = 5_000_000


@pytest.fixture(scope="module")
def tiny_random():
    from composer.backends.registry import load_backend

    return load_backend("tiny-random", device="cpu")


def snapshot(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in SONG_FILES}


def take_of(folder: Path) -> int:
    return json.loads((folder / "manifest.json").read_text())["take"]


def leftovers(folder: Path) -> list[Path]:
    """Temporary or staged files a failed write might leave."""
    return [p for p in folder.rglob("*") if ".tmp" in p.name or p.name == ".incoming"]


@pytest.fixture
def small_disk(monkeypatch, tmp_path):
    """A disk with ``FREE`` bytes free besides the temporary files being written (``write_atomic``'s
    ``.<name>.<random>.tmp<suffix>``): a partial file that filled it leaves nothing free until it is deleted."""
    real = shutil.disk_usage

    def disk_usage(path):
        filling = sum(p.stat().st_size for p in tmp_path.rglob("*.tmp*") if p.is_file())
        total = real(path).total
        return shutil._ntuple_diskusage(total, total - FREE + filling, max(FREE - filling, 0))

    monkeypatch.setattr(composer.files.shutil, "disk_usage", disk_usage)


def fill_then_fail(error: BaseException):
    """A writer that fills the pretend disk with a partial file, then fails as a library would."""

    def write(file, *args, **kwargs):
        Path(file).write_bytes(b"\0" * FREE)
        raise error

    return write


@pytest.mark.parametrize("error", [soundfile.LibsndfileError(2, "Error writing: "),  # libsndfile hides ENOSPC
                                   OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))],
                         ids=["libsndfile System error", "ENOSPC"])
def test_a_full_disk_while_the_new_take_is_written_says_so_and_names_the_song_file(song, small_disk, monkeypatch,
                                                                                    error):
    before = snapshot(song)
    monkeypatch.setattr(composer.audio_io.sf, "write", fill_then_fail(error))
    result = invoke("regenerate", song, "--section", "a", "--seed", "6")
    assert result.exit_code == 5, result.output
    assert (f"error: {song / 'song.wav'}: could not be written (the disk is full: 5.0 MB free, the file needs "
            "more than 5.0 MB); the previous file is unchanged") in result.output
    assert ".incoming" not in result.output and "System error" not in result.output
    assert snapshot(song) == before and take_of(song) == 2
    assert leftovers(song) == []


def test_a_full_disk_on_a_first_write_leaves_nothing(tmp_path, small_disk):
    target = tmp_path / "out" / "report.json"
    with pytest.raises(SongFolderError) as caught:
        write_atomic(target, fill_then_fail(RuntimeError("System error.")))
    assert str(caught.value) == (f"{target}: could not be written (the disk is full: 5.0 MB free, the file needs "
                                 "more than 5.0 MB); no partial file was left")
    assert list(target.parent.iterdir()) == []


def test_a_full_disk_before_the_staged_file_is_created_names_the_song_folder(song, monkeypatch):
    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(composer.files.tempfile, "mkstemp", no_space)
    with pytest.raises(SongFolderError) as caught:
        write_atomic(song / ".incoming" / "song.wav", lambda tmp: None)
    assert str(caught.value).startswith(f"{song}: cannot write here (the disk is full")


def test_a_take_that_moves_in_while_evaluate_measures_gets_no_stale_evaluation(song, tiny_random, monkeypatch):
    """`composer regenerate` finishing during `composer evaluate`: take 2's measures are not written beside
    take 3 (nor archived with take 2, which was never evaluated)."""
    import composer.analysis.tempo
    from composer.song import regenerate_section

    real = composer.analysis.tempo.track_beats_s

    def regenerate_meanwhile(*args, **kwargs):
        regenerate_section(song, "a", tiny_random, seed=11, prompt=None, denoising=None, device="cpu")
        return real(*args, **kwargs)

    monkeypatch.setattr(composer.analysis.tempo, "track_beats_s", regenerate_meanwhile)
    result = invoke("evaluate", song)
    assert result.exit_code == 5, result.output
    assert (f"{song}: take 3 became current while take 2 was being measured, so evaluation.json was not "
            f"written; run `composer evaluate {song}` again") in result.output
    assert take_of(song) == 3
    assert not (song / "evaluation.json").exists()
    assert not (song / "takes" / "take-002" / "evaluation.json").exists()


def test_evaluate_reads_the_manifest_and_song_wav_of_one_take(song, tiny_random, monkeypatch):
    """A regenerate that would finish between evaluate's reads of manifest.json and song.wav is refused."""
    import composer.evaluation
    from composer.song import regenerate_section

    real = composer.evaluation._read
    refused = []

    def regenerate_between_reads(path):
        if Path(path).name == "song.wav":
            with pytest.raises(SongFolderError, match="another composer process is writing this song folder"):
                regenerate_section(song, "a", tiny_random, seed=12, prompt=None, denoising=None, device="cpu")
            refused.append(path)
        return real(path)

    monkeypatch.setattr(composer.evaluation, "_read", regenerate_between_reads)
    result = invoke("evaluate", song)
    assert result.exit_code == 0, result.output
    assert refused and take_of(song) == 2
    assert json.loads((song / "evaluation.json").read_text())["take"] == 2


def test_evaluate_fails_clearly_while_another_process_writes_the_folder(song):
    before = snapshot(song)
    with folder_lock(song):
        result = invoke("evaluate", song)
    assert result.exit_code == 5, result.output
    assert f"{song}: another composer process is writing this song folder; wait for it to finish" in result.output
    assert not (song / "evaluation.json").exists() and snapshot(song) == before


def test_evaluating_an_archived_take_locks_its_song(song):
    """An archived take is guarded by its song's lock; a .lock of its own would set it apart from its copies."""
    archived = song / "takes" / "take-001"
    with folder_lock(song):
        assert invoke("evaluate", archived).exit_code == 5
    result = invoke("evaluate", archived)
    assert result.exit_code == 0, result.output
    assert (archived / "evaluation.json").is_file() and not (archived / ".lock").exists()


def test_a_song_folder_whose_lock_cannot_be_written_is_named_as_such(song):
    """Not "cannot create the song folder": it exists (a read-only folder fails alike; root ignores modes)."""
    (song / ".lock").unlink(missing_ok=True)
    (song / ".lock").mkdir()
    result = invoke("evaluate", song)
    assert result.exit_code == 5, result.output
    assert f"{song}: cannot write its .lock file (Is a directory)" in result.output
    assert not (song / "evaluation.json").exists()
