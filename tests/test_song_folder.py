"""The song folder never loses a take: damaged manifests, foreign files, interrupted writes, restores."""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from composer.cli import app
from composer.errors import SongFolderError
from composer.files import interrupts_deferred, replace_together, write_text_atomic
from composer.song_folder import list_takes
from conftest import TWO_SECTION_OUTLINE

runner = CliRunner()

OUTLINE = TWO_SECTION_OUTLINE

SONG_FILES = ("song.wav", "song.mid", "spectrogram.png", "manifest.json")


def invoke(*args: str):
    result = runner.invoke(app, [str(a) for a in args])
    assert "Traceback" not in result.output
    return result


def snapshot(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in SONG_FILES if (folder / name).is_file()}


@pytest.mark.parametrize("damage", ["no manifest", "truncated manifest", "take is text"])
def test_render_never_overwrites_a_song_it_cannot_keep(song, damage):
    manifest = song / "manifest.json"
    if damage == "no manifest":
        manifest.unlink()
    elif damage == "truncated manifest":
        manifest.write_bytes(manifest.read_bytes()[:500])
    else:
        manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "take": "one"}))
    shutil.rmtree(song / "takes")
    before = snapshot(song)
    result = invoke("render", song.parent / "song.yaml", "-o", song, "--backend", "tiny-random")
    assert result.exit_code == 5 and "another folder" in result.output
    assert snapshot(song) == before and not (song / "takes").exists()


def test_interrupt_while_writing_keeps_the_previous_take_whole(song, monkeypatch):
    import composer.song_picture

    before = snapshot(song)

    def ctrl_c(*args, **kwargs):
        raise KeyboardInterrupt  # after song.wav and song.mid of the new take are written

    monkeypatch.setattr(composer.song_picture, "save_png", ctrl_c)
    result = invoke("regenerate", song, "--section", "a", "--seed", "6")
    assert result.exit_code == 130 and "the song folder is as it was" in result.output
    assert snapshot(song) == before and not (song / ".incoming").exists()


@pytest.fixture
def ctrl_c_enabled():
    """SIGINT at Python's default, as in a terminal (a background job such as nohup starts with it ignored)."""
    handler = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, handler)


def test_ctrl_c_during_the_renames_lands_after_all_of_them(tmp_path, ctrl_c_enabled):
    _renames_under_ctrl_c(tmp_path)


def test_an_ignored_ctrl_c_stays_ignored(tmp_path):
    handler = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        (tmp_path / "a.new").write_text("a")
        with interrupts_deferred():
            os.kill(os.getpid(), signal.SIGINT)
        replace_together([(tmp_path / "a.new", tmp_path / "a")])
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN and (tmp_path / "a").read_text() == "a"
    finally:
        signal.signal(signal.SIGINT, handler)


def _renames_under_ctrl_c(tmp_path):
    moves = []
    for name in ("one", "two", "three"):
        (tmp_path / f"{name}.new").write_text(name)
        moves.append((tmp_path / f"{name}.new", tmp_path / name))

    def interrupted_rename(source, target, real=os.replace):
        os.kill(os.getpid(), signal.SIGINT)  # what Ctrl-C does, mid-way through the moves
        real(source, target)

    with pytest.raises(KeyboardInterrupt):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(os, "replace", interrupted_rename)
            replace_together(moves)
    assert all((tmp_path / name).read_text() == name for name in ("one", "two", "three"))
    with pytest.raises(KeyboardInterrupt):
        with interrupts_deferred():
            os.kill(os.getpid(), signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


@pytest.mark.parametrize("damage, expected", [
    (lambda m: [], "expected a JSON object"),
    (lambda m: {k: v for k, v in m.items() if k != "backend"}, "backend: Field required"),
    (lambda m: {**m, "backend": {k: v for k, v in m["backend"].items() if k != "name"}}, "backend.name"),
    (lambda m: {k: v for k, v in m.items() if k != "outline"}, "outline: Field required"),
    (lambda m: {k: v for k, v in m.items() if k != "sections"}, "sections: Field required"),
    (lambda m: {**m, "time_signature": "x"}, "time_signature"),
    (lambda m: {**m, "overrides": "abc"}, "overrides"),
    (lambda m: {**m, "overrides": [{"section": "b", "occurrence": 1, "seed": "x"}]}, "overrides.0.seed"),
    (lambda m: {**m, "take": None}, "take"),
    (None, "unreadable"),  # a byte that is not UTF-8
])
@pytest.mark.parametrize("command", ["regenerate", "evaluate", "takes"])
def test_damaged_manifest_is_a_clear_error(song, damage, expected, command):
    path = song / "manifest.json"
    if damage is None:
        path.write_bytes(path.read_bytes() + b"\xff")
    else:
        path.write_text(json.dumps(damage(json.loads(path.read_text()))))
    args = {"regenerate": ["--section", "a"], "evaluate": [], "takes": []}[command]
    result = invoke(command, song, *args)
    assert result.exit_code == 5 and expected in result.output and "manifest.json" in result.output


def test_a_damaged_archived_take_is_listed_and_cannot_be_restored(song):
    (song / "takes" / "take-001" / "manifest.json").write_text("{bad")
    listing = invoke("takes", song)
    assert listing.exit_code == 0 and "damaged" in listing.output
    before = snapshot(song)
    result = invoke("restore", song, "--take", "1")
    assert result.exit_code == 5 and "take-001" in result.output
    assert snapshot(song) == before


def test_restore_refuses_an_incomplete_take(song):
    (song / "takes" / "take-001" / "song.wav").unlink()
    before = snapshot(song)
    result = invoke("restore", song, "--take", "1")
    assert result.exit_code == 5 and "song.wav missing" in result.output
    assert snapshot(song) == before


def test_restore_brings_back_every_file_of_the_take(song):
    archived = {name: (song / "takes" / "take-001" / name).read_bytes() for name in SONG_FILES}
    assert invoke("restore", song, "--take", "1").exit_code == 0
    assert snapshot(song) == archived
    assert (song / "takes" / "take-002" / "song.wav").is_file()  # the take it replaced is kept


def test_a_restored_take_is_listed_once_as_current(song):
    import composer.song_folder as song_folder

    assert invoke("restore", song, "--take", "1").exit_code == 0
    assert [(t["take"], t["current"]) for t in song_folder.list_takes(song)] == [(1, True), (2, False)]
    rows = [line for line in invoke("takes", song).output.splitlines() if line.startswith("│ ")]
    assert [row.split("│")[1].strip() for row in rows] == ["1", "2"]


def test_takes_and_restore_need_a_song_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    assert invoke("takes", tmp_path / "empty").exit_code == 5
    assert invoke("takes", tmp_path / "missing").exit_code == 5
    result = invoke("restore", tmp_path / "missing", "--take", "1")
    assert result.exit_code == 5 and not (tmp_path / "missing").exists()
    result = invoke("restore", tmp_path / "empty", "--take", "1")
    assert result.exit_code == 5 and "not a song folder" in result.output
    assert list((tmp_path / "empty").iterdir()) == []  # no .lock left behind


def test_evaluate_names_a_missing_or_cut_song_file(song):
    audio = (song / "song.wav").read_bytes()
    (song / "song.wav").write_bytes(audio[:2000])
    result = invoke("evaluate", song)
    assert result.exit_code == 5 and "samples but the manifest says" in result.output
    (song / "song.wav").unlink()
    result = invoke("evaluate", song)
    assert result.exit_code == 5 and "no such file" in result.output


def test_regenerate_refuses_an_empty_prompt_and_a_seed_past_64_bits(song):
    before = snapshot(song)
    assert invoke("regenerate", song, "--section", "a", "--prompt", " ").exit_code == 2
    assert invoke("regenerate", song, "--section", "a", "--seed", str(2**63)).exit_code == 2
    assert snapshot(song) == before


def test_written_files_get_the_users_usual_mode(song, tmp_path):
    import composer.files

    mask = os.umask(0o027)
    composer.files._umask.cache_clear()
    try:
        write_text_atomic(tmp_path / "note.txt", "x")
        assert stat.S_IMODE((tmp_path / "note.txt").stat().st_mode) == 0o640
    finally:
        os.umask(mask)
        composer.files._umask.cache_clear()
    for name in SONG_FILES:  # rendered under the test process's own umask
        assert stat.S_IMODE((song / name).stat().st_mode) == 0o666 & ~mask


def test_a_relative_model_folder_is_recorded_absolute(tmp_path, monkeypatch):
    from composer.backends.tiny_pipeline import build_tiny_pipeline_folder

    build_tiny_pipeline_folder(tmp_path / "models" / "tiny", seed=0)
    (tmp_path / "song.yaml").write_text(OUTLINE)
    monkeypatch.chdir(tmp_path)
    result = invoke("render", "song.yaml", "-o", "song", "--backend", "riffusion", "--model", "models/tiny")
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "song" / "manifest.json").read_text())
    assert manifest["backend"]["model"] == str(tmp_path / "models" / "tiny")
    monkeypatch.chdir("/")
    shutil.move(tmp_path / "models", tmp_path / "moved")
    assert invoke("regenerate", tmp_path / "song", "--section", "b").exit_code == 3  # the folder moved
    moved = invoke("regenerate", tmp_path / "song", "--section", "b", "--model", tmp_path / "moved" / "tiny")
    assert moved.exit_code == 0, moved.output
    manifest = json.loads((tmp_path / "song" / "manifest.json").read_text())
    assert manifest["backend"]["model"] == str(tmp_path / "moved" / "tiny")


def test_a_bad_groove_file_fails_before_any_model_or_folder(tmp_path):
    (tmp_path / "loop.wav").write_text("not audio")
    (tmp_path / "song.yaml").write_text(OUTLINE.replace("a: {bars: 2, prompt: piano}",
                                                        "a: {bars: 2, prompt: piano, groove: loop.wav}"))
    result = invoke("render", tmp_path / "song.yaml", "-o", tmp_path / "out", "--backend", "tiny-random")
    assert result.exit_code == 2 and "sections.a.groove" in result.output and "loop.wav" in result.output
    assert not (tmp_path / "out").exists()


def test_builtin_on_cuda_without_a_gpu_is_a_clear_error(tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("needs a machine without CUDA")
    (tmp_path / "song.yaml").write_text(OUTLINE)
    result = invoke("render", tmp_path / "song.yaml", "-o", tmp_path / "out", "--backend", "builtin",
                    "--device", "cuda")
    assert result.exit_code == 3 and "no usable CUDA GPU" in result.output


@pytest.mark.parametrize("minutes", ["inf", "nan", "0", "-1", "61"])
def test_bench_refuses_lengths_it_cannot_time(minutes):
    result = invoke("bench", "--minutes", minutes, "--no-baseline")
    assert result.exit_code == 2 and "--minutes" in result.output


def test_bench_checks_its_options_before_timing(tmp_path):
    result = invoke("bench", "--minutes", "0.1", "--json", tmp_path)
    assert result.exit_code == 2 and "--json" in result.output
    result = invoke("bench", "--minutes", "0.1", "--backend", "builtin", "--scheduler", "dpm++")
    assert result.exit_code == 3 and "one sampler" in result.output


def test_evaluate_templates_into_a_file_fails_before_loading(tmp_path):
    (tmp_path / "file").write_text("x")
    result = invoke("evaluate-templates", "-o", tmp_path / "file", "--templates", "pop", "--backend", "tiny-random")
    assert result.exit_code == 5 and "cannot create this folder" in result.output


def test_manifest_errors_are_song_folder_errors(song):
    from composer.song_folder import read_manifest

    (song / "manifest.json").write_text("[]")
    with pytest.raises(SongFolderError):
        read_manifest(song)


@pytest.mark.parametrize("leftover", ["folder", "file"])
def test_a_stale_incoming_entry_does_not_block_the_next_take(song, leftover):
    stale = song / ".incoming"
    if leftover == "folder":
        stale.mkdir()
        (stale / "song.wav").write_bytes(b"half-written")
    else:
        stale.write_text("x")
    result = invoke("regenerate", song, "--section", "a", "--seed", "6")
    assert result.exit_code == 0, result.output
    assert not stale.exists() and json.loads((song / "manifest.json").read_text())["take"] == 3


def test_a_full_disk_in_the_audio_library_is_a_clear_error(song, monkeypatch):
    import soundfile

    import composer.files

    def libsndfile_full(*args, **kwargs):
        raise soundfile.LibsndfileError(2, "System error.")  # what libsndfile raises on ENOSPC

    monkeypatch.setattr(soundfile, "write", libsndfile_full)
    monkeypatch.setattr(composer.files.shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(10, 10, 0))
    before = snapshot(song)
    result = invoke("regenerate", song, "--section", "a", "--seed", "6")
    assert result.exit_code == 5 and "the disk is full" in result.output
    assert snapshot(song) == before


def test_ctrl_c_while_the_take_moves_in_says_it_moved(song, monkeypatch, ctrl_c_enabled):
    import composer.files

    real = os.replace

    def interrupted_rename(source, target):
        if Path(source).parent.name == ".incoming" != Path(target).parent.name:  # moving into the song folder
            os.kill(os.getpid(), signal.SIGINT)
        real(source, target)

    monkeypatch.setattr(composer.files.os, "replace", interrupted_rename)
    result = invoke("regenerate", song, "--section", "a", "--seed", "6")
    assert result.exit_code == 130 and "they are in place" in result.output
    assert json.loads((song / "manifest.json").read_text())["take"] == 3


def test_ctrl_c_while_the_take_moves_in_leaves_no_evaluation_of_the_old_take(song, monkeypatch, ctrl_c_enabled):
    import composer.files

    assert invoke("evaluate", song).exit_code == 0
    old_evaluation = json.loads((song / "evaluation.json").read_text())
    real = os.replace

    def interrupted_rename(source, target):
        if Path(source).parent.name == ".incoming" != Path(target).parent.name:
            os.kill(os.getpid(), signal.SIGINT)
        real(source, target)

    monkeypatch.setattr(composer.files.os, "replace", interrupted_rename)
    result = invoke("regenerate", song, "--section", "a", "--seed", "6")
    assert result.exit_code == 130 and json.loads((song / "manifest.json").read_text())["take"] == 3
    assert not (song / "evaluation.json").exists()  # it measured take 2, which is now archived with it
    assert json.loads((song / "takes" / "take-002" / "evaluation.json").read_text()) == old_evaluation


def test_a_folder_in_a_song_files_place_stops_the_take_before_anything_moves(song):
    (song / "spectrogram.png").unlink()
    (song / "spectrogram.png").mkdir()
    before = snapshot(song)
    result = invoke("regenerate", song, "--section", "a", "--seed", "6")
    assert result.exit_code == 5 and "is a folder" in result.output
    assert snapshot(song) == before


def test_an_incomplete_take_folder_under_the_current_number_is_replaced(song):
    import composer.song_folder as song_folder

    shutil.rmtree(song / "takes" / "take-001")
    current = snapshot(song)
    (song / "takes" / "take-002").mkdir()  # take 2 is current; a stray empty folder has its name
    assert song_folder.archive_current_take(song) == (2, None)
    assert {name: (song / "takes" / "take-002" / name).read_bytes() for name in SONG_FILES} == current
    assert (song / "takes" / "take-002.superseded-1").is_dir()  # set aside, never deleted
    assert [(t["take"], t["current"]) for t in song_folder.list_takes(song)] == [(2, True)]


def test_restore_refuses_a_take_whose_audio_was_cut(song):
    path = song / "takes" / "take-001" / "song.wav"
    path.write_bytes(path.read_bytes()[:1000])
    before = snapshot(song)
    result = invoke("restore", song, "--take", "1")
    assert result.exit_code == 5 and "samples" in result.output
    assert snapshot(song) == before


def test_restoring_the_current_take_says_so(song):
    result = invoke("restore", song, "--take", "2")
    assert result.exit_code == 5 and "already the current one" in result.output


def test_a_folder_named_like_a_take_but_not_numbered_is_ignored(song):
    (song / "takes" / "take-\u00b2").mkdir()
    (song / "takes" / "take-9-old").mkdir()
    assert invoke("regenerate", song, "--section", "a", "--seed", "6").exit_code == 0
    assert json.loads((song / "manifest.json").read_text())["take"] == 3


@pytest.mark.parametrize("field, value", [("bpm", 0.001), ("bpm", 1e300), ("bpm", 330), ("time_signature", "7/3"),
                                          ("time_signature", "64/4"), ("take", True), ("joint_fades", "cosine")])
def test_manifest_values_out_of_range_are_named(song, field, value):
    path = song / "manifest.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), field: value}))
    result = invoke("evaluate", song)
    assert result.exit_code == 5 and field in result.output and "manifest.json" in result.output


def test_regenerate_checks_prompt_length_and_model(song):
    assert invoke("regenerate", song, "--section", "a", "--prompt", "x" * 1001).exit_code == 2
    assert invoke("regenerate", song, "--section", "a", "--model", "").exit_code == 2


def test_tiny_random_refuses_a_model_folder(tmp_path):
    (tmp_path / "song.yaml").write_text(OUTLINE)
    result = invoke("render", tmp_path / "song.yaml", "-o", tmp_path / "out", "--backend", "tiny-random",
                    "--model", "not/a/dir")
    assert result.exit_code == 3 and "takes no --model" in result.output


def test_takes_names_the_intact_archives_when_the_current_manifest_is_damaged(song):
    (song / "manifest.json").write_text("{bad")
    result = invoke("takes", song)
    assert result.exit_code == 5 and "unreadable" in result.output and "take-001" in result.output


# --- audit of session 9: archived take folders, damaged current takes, leftovers, lost updates ---------------

def test_an_archived_take_folder_is_never_written_as_a_song(song):
    archived = song / "takes" / "take-001"
    before = {p.name: p.read_bytes() for p in archived.iterdir() if p.is_file()}
    regenerate = invoke("regenerate", archived, "--section", "a", "--seed", "6")
    assert regenerate.exit_code == 5 and "keeps its takes, not a song folder" in regenerate.output
    assert f"composer restore {song.resolve()} --take N" in regenerate.output.replace("\n", "")
    render = invoke("render", song.parent / "song.yaml", "-o", song / "takes" / "take-009", "--backend",
                    "tiny-random")
    assert render.exit_code == 5 and not (song / "takes" / "take-009").exists()
    assert invoke("restore", archived, "--take", "1").exit_code == 5
    assert {p.name: p.read_bytes() for p in archived.iterdir() if p.is_file()} == before  # no .lock either
    assert [t["take"] for t in list_takes(song)] == [1, 2]


def test_a_folder_named_takes_outside_a_song_is_an_ordinary_output(two_takes, tmp_path):
    output = tmp_path / "takes" / "take-1"  # a user's own folder layout, not inside a song folder
    result = invoke("render", two_takes.parent / "song.yaml", "-o", output, "--backend", "tiny-random")
    assert result.exit_code == 0 and (output / "song.wav").is_file()


def test_restore_refuses_an_archive_holding_another_takes_manifest(song):
    shutil.copyfile(song / "manifest.json", song / "takes" / "take-001" / "manifest.json")  # take 2's manifest
    result = invoke("restore", song, "--take", "1")
    assert result.exit_code == 5 and "its manifest is take 2's, not take 1's" in result.output


def test_a_damaged_current_take_never_replaces_its_whole_archived_copy(song):
    assert invoke("restore", song, "--take", "1").exit_code == 0  # take 1 is current, and archived
    archived = song / "takes" / "take-001"
    kept = {name: (archived / name).read_bytes() for name in SONG_FILES}
    (song / "song.wav").unlink()
    result = invoke("regenerate", song, "--section", "b", "--seed", "9")
    assert result.exit_code == 0
    assert "warning: the previous take: incomplete: song.wav missing; take 1 is kept as it was archived" in \
        result.output.replace("\n", " ")
    assert {name: (archived / name).read_bytes() for name in SONG_FILES} == kept
    assert not list((song / "takes").glob("*superseded*"))
    assert invoke("restore", song, "--take", "1").exit_code == 0


def test_a_damaged_current_take_without_an_archived_copy_is_kept_and_listed_as_such(song):
    (song / "song.wav").write_bytes((song / "song.wav").read_bytes()[:50_000])  # cut short
    assert "song.wav holds" in {t["take"]: t["change"] for t in list_takes(song)}[2]  # marked while current too
    result = invoke("regenerate", song, "--section", "a", "--seed", "3")
    assert result.exit_code == 0 and "warning: the previous take: song.wav holds" in result.output
    listing = {t["take"]: t["change"] for t in list_takes(song)}
    assert "song.wav holds" in listing[2] and "its manifest says" in listing[2]


def test_leftovers_of_interrupted_commands_are_swept_under_the_lock(song):
    (song / "takes" / ".take-002.partial").mkdir()
    (song / "takes" / ".take-002.partial" / "song.wav").write_bytes(b"half")
    stray = song / "clips" / ".abc.npy.x1y2.tmp.npy"
    stray.write_bytes(b"half a clip")
    (song / ".incoming").mkdir()
    clips_before = sorted(p.name for p in (song / "clips").iterdir() if p != stray)
    assert invoke("regenerate", song, "--section", "a", "--seed", "4").exit_code == 0
    assert not (song / "takes" / ".take-002.partial").exists() and not stray.exists()
    assert not (song / ".incoming").exists()
    assert set(clips_before) <= {p.name for p in (song / "clips").iterdir()}  # finished clips stay


@pytest.mark.parametrize("edit, field", [
    (lambda m: m.update(change="x"), "change"),
    (lambda m: m["outline"].update(sections=[1, 2]), "outline"),
    (lambda m: m["sections"][0]["clips"][0].pop("cache_key"), "cache_key"),
    (lambda m: m.update(groove_root=3), "groove_root"),
    (lambda m: m.update(sections=[]), "sections"),
])
@pytest.mark.parametrize("command", [("regenerate", "--section", "a", "--seed", "3"), ("evaluate",), ("takes",)])
def test_hand_edited_manifest_fields_are_named_not_tracebacks(song, edit, field, command):
    path = song / "manifest.json"
    manifest = json.loads(path.read_text())
    edit(manifest)
    path.write_text(json.dumps(manifest))
    result = invoke(command[0], song, *command[1:])
    assert result.exit_code == 5 and "manifest.json: damaged" in result.output and field in result.output


def test_a_take_made_while_regenerate_was_planning_is_not_dropped(song, monkeypatch):
    import composer.song as song_module
    from composer.backends.riffusion import TinyRandomBackend
    from composer.song_folder import restore_take

    original = song_module.check_groove_files

    def another_process_restores(*args, **kwargs):
        restore_take(song, 1)  # what a second composer process could do between planning and the lock
        return original(*args, **kwargs)

    monkeypatch.setattr(song_module, "check_groove_files", another_process_restores)
    with pytest.raises(SongFolderError, match="take 1 was made by another composer process while this one was "
                                              "planning from take 2"):
        song_module.regenerate_section(song, "a", TinyRandomBackend(device="cpu"), seed=3, prompt=None,
                                       denoising=None, device="cpu")
    assert json.loads((song / "manifest.json").read_text())["take"] == 1


def test_the_picture_carries_each_sections_seed_and_prompt_of_its_take(song):
    from PIL import Image

    assert invoke("regenerate", song, "--section", "a", "--prompt", "solo cello", "--seed", "77").exit_code == 0
    manifest = json.loads((song / "manifest.json").read_text())
    with Image.open(song / "spectrogram.png") as picture:
        text = dict(picture.text)
    assert text["take"] == str(manifest["take"]) == "3"
    assert text["bpm"] == "120"  # as the outline writes it, not "120.0"
    sections = {s["name"] if s["occurrence"] == 1 else f"{s['name']} {s['occurrence']}": s
                for s in manifest["sections"]}
    assert json.loads(text["section_seeds"]) == {label: s["seed"] for label, s in sections.items()}
    assert json.loads(text["section_prompts"]) == {label: s["prompt"] for label, s in sections.items()}
    assert json.loads(text["section_seeds"])["a"] == 77
    assert json.loads(text["section_prompts"])["a"] == "solo cello, 120 bpm"  # the tempo goes into every prompt


@pytest.mark.parametrize("selector", ["nosuch", "a:9", "b:0"])
def test_a_section_typo_fails_before_the_model_loads(song, selector, monkeypatch):
    import composer.backends.registry as registry

    def no_loading(*args, **kwargs):
        raise AssertionError("the model must not load for a typo")

    monkeypatch.setattr(registry, "load_backend", no_loading)
    result = invoke("regenerate", song, "--section", selector, "--seed", "3")
    assert result.exit_code == 2 and "section" in result.output


def test_a_selector_with_spaces_around_the_colon_names_the_section(song):
    result = invoke("regenerate", song, "--section", " b : 1 ", "--seed", "12")
    assert result.exit_code == 0, result.output
    assert json.loads((song / "manifest.json").read_text())["change"]["section"] == "b"


def test_an_override_seed_written_as_text_is_damage_not_a_seed(song):
    path = song / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["overrides"][0]["seed"] = "5"
    path.write_text(json.dumps(manifest))
    result = invoke("regenerate", song, "--section", "a", "--seed", "3")
    assert result.exit_code == 5 and "overrides.0.seed" in result.output


def test_restore_refuses_a_take_whose_audio_was_edited_to_the_same_length(song):
    import soundfile

    archived = song / "takes" / "take-001"
    manifest = json.loads((archived / "manifest.json").read_text())
    assert len(manifest["audio_sha256"]) == 64
    audio, rate = soundfile.read(str(archived / "song.wav"), dtype="int16")
    audio[1000] = audio[1000] // 2 + 1  # one sample changed, the length kept
    soundfile.write(str(archived / "song.wav"), audio, rate, subtype="PCM_16")
    result = invoke("restore", song, "--take", "1")
    assert result.exit_code == 5 and "song.wav was changed after this take was written" in result.output
    assert "SHA-256" in {t["take"]: t["change"] for t in list_takes(song)}[1]


@pytest.mark.parametrize("damage", ["truncated manifest", "no manifest"])
def test_restore_sets_unreadable_current_files_aside_and_brings_a_take_back(song, damage):
    manifest = song / "manifest.json"
    if damage == "no manifest":
        manifest.unlink()
    else:
        manifest.write_bytes(manifest.read_bytes()[:300])
    damaged = snapshot(song)
    listing = invoke("takes", song)
    if damage == "truncated manifest":  # it says how to get out of this
        assert listing.exit_code == 5 and "sets the current files aside" in listing.output.replace("\n", "")
    result = invoke("restore", song, "--take", "1")
    assert result.exit_code == 0, result.output
    aside = song / "takes" / "unreadable-1"
    assert f"set aside in {aside}" in result.output.replace("\n", "")
    assert {name: (aside / name).read_bytes() for name in damaged} == damaged  # nothing lost
    assert json.loads(manifest.read_text())["take"] == 1
    assert [(t["take"], t["current"]) for t in list_takes(song)] == [(1, True)]
