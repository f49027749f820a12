"""Render -> regenerate -> takes through the CLI with the real tiny random-weight pipeline."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import mido
import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from composer.cli import app

OUTLINE = """\
title: End to end
bpm: 120
time_signature: "4/4"
seed: 11
render: {steps: 4, crossfade_beats: 1}
sections:
  intro: {bars: 2, prompt: soft piano, gain_db: -3}
  verse: {bars: 2, prompt: funk groove with bass, transition: cut}
  chorus: {bars: 2, prompt: full chorus with brass, groove: none}
form: [intro, verse, chorus, verse, chorus]
"""

runner = CliRunner()


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e")
    outline = root / "song.yaml"
    outline.write_text(OUTLINE)
    folder = root / "song"
    result = runner.invoke(app, ["render", str(outline), "-o", str(folder), "--backend", "tiny-random"])
    assert result.exit_code == 0, result.output
    return root, result.output


@pytest.fixture
def song(rendered, tmp_path):
    """A private copy of the rendered folder: no test sees another test's regenerations."""
    root, output = rendered
    shutil.copytree(root, tmp_path / "e2e")
    return tmp_path / "e2e" / "song.yaml", tmp_path / "e2e" / "song", output


def _wav(path: Path) -> tuple[np.ndarray, int]:
    audio, rate = sf.read(str(path), dtype="int16")
    return audio, rate


def test_song_folder_is_complete(song):
    _, folder, output = song
    for name in ("song.wav", "song.mid", "spectrogram.png", "manifest.json"):
        assert (folder / name).is_file(), name
    assert "noise" in output and "not music" in output
    manifest = json.loads((folder / "manifest.json").read_text())
    for key in ("schema_version", "sample_rate", "bpm", "time_signature", "backend", "outline", "sections"):
        assert key in manifest
    assert manifest["backend"]["name"] == "tiny-random" and manifest["backend"]["makes_music"] is False
    names = [(s["name"], s["occurrence"]) for s in manifest["sections"]]
    assert names == [("intro", 1), ("verse", 1), ("chorus", 1), ("verse", 2), ("chorus", 2)]
    audio, rate = _wav(folder / "song.wav")
    assert rate == manifest["sample_rate"] and audio.size == manifest["total_samples"]
    assert manifest["total_samples"] == round(10 * 2.0 * rate)  # 10 bars of 2 s
    for section in manifest["sections"]:
        assert section["start_sample"] == round(section["start_s"] * rate)
        assert all(len(c["cache_key"]) == 32 for c in section["clips"])
        assert (folder / "clips" / f"{section['clips'][0]['cache_key']}.npy").is_file()
    assert np.abs(audio).max() > 1000  # not silent
    # repeats reuse their clips: the second verse is the first verse
    verses = [s for s in manifest["sections"] if s["name"] == "verse"]
    assert verses[0]["clips"][0]["cache_key"] == verses[1]["clips"][0]["cache_key"]


def test_midi_has_tempo_and_markers(song):
    _, folder, _ = song
    midi = mido.MidiFile(str(folder / "song.mid"))
    tempos = [m.tempo for t in midi.tracks for m in t if m.type == "set_tempo"]
    markers = [m.text for t in midi.tracks for m in t if m.type == "marker"]
    assert tempos and abs(mido.tempo2bpm(tempos[0]) - 120) < 1e-6
    assert markers == ["intro", "verse", "chorus", "verse 2", "chorus 2"]


def test_rerender_uses_the_cache_and_is_bit_identical(song, tmp_path):
    outline, folder, _ = song
    before = (folder / "song.wav").read_bytes()
    result = runner.invoke(app, ["render", str(outline), "-o", str(folder), "--backend", "tiny-random"])
    assert result.exit_code == 0, result.output
    assert "0 rendered" in result.output
    assert (folder / "song.wav").read_bytes() == before
    # a fresh folder renders from scratch and still gives the same samples (determinism on CPU)
    fresh = tmp_path / "fresh"
    result = runner.invoke(app, ["render", str(outline), "-o", str(fresh), "--backend", "tiny-random"])
    assert result.exit_code == 0, result.output
    assert np.array_equal(_wav(fresh / "song.wav")[0], _wav(folder / "song.wav")[0])


def test_regenerate_changes_only_that_section(song):
    _, folder, _ = song
    before, rate = _wav(folder / "song.wav")
    manifest = json.loads((folder / "manifest.json").read_text())
    result = runner.invoke(app, ["regenerate", str(folder), "--section", "chorus:2", "--seed", "5"])
    assert result.exit_code == 0, result.output
    after, _ = _wav(folder / "song.wav")
    section = next(s for s in manifest["sections"] if (s["name"], s["occurrence"]) == ("chorus", 2))
    fade = manifest["joint_fade_samples"]
    lo, hi = section["start_sample"] - fade, section["end_sample"] + fade
    assert np.array_equal(before[:lo], after[:lo]) and np.array_equal(before[hi:], after[hi:])
    assert not np.array_equal(before[lo:hi], after[lo:hi])
    new_manifest = json.loads((folder / "manifest.json").read_text())
    assert new_manifest["overrides"] == [{"section": "chorus", "occurrence": 2, "seed": 5}]
    assert new_manifest["take"] > manifest["take"]
    # the first chorus keeps its seed
    firsts = [s for s in new_manifest["sections"] if s["name"] == "chorus"]
    assert firsts[0]["seed"] != 5 and firsts[1]["seed"] == 5
    # the new take was checked against the previous one outside the span, and matched
    assert "changed_outside_span" not in new_manifest["change"] and "warning" not in result.output


@pytest.mark.parametrize(("version", "expected"), [("0.0.1", "which composer 0.0.1 made"),
                                                   (None, "the regeneration guarantee failed")])
def test_regenerate_reports_samples_that_changed_outside_the_span(song, version, expected):
    """A take stitched differently (another composer version) cannot match outside the span: say so, and
    record it, rather than claim bit-identity."""
    _, folder, _ = song
    audio, rate = _wav(folder / "song.wav")
    audio[:100] = np.clip(audio[:100].astype(np.int32) + 7, -32768, 32767).astype(np.int16)  # the intro
    sf.write(str(folder / "song.wav"), audio, rate, subtype="PCM_16")
    manifest = json.loads((folder / "manifest.json").read_text())
    if version:
        manifest["composer_version"] = version
        (folder / "manifest.json").write_text(json.dumps(manifest))
    result = runner.invoke(app, ["regenerate", str(folder), "--section", "chorus:2", "--seed", "5"])
    assert result.exit_code == 0, result.output
    assert "warning: 100 samples outside that span differ" in result.output and expected in result.output
    assert json.loads((folder / "manifest.json").read_text())["change"]["changed_outside_span"] == 100


def test_a_song_records_its_crossfade_law(song):
    _, folder, _ = song
    assert json.loads((folder / "manifest.json").read_text())["joint_fades"] == "matched"


@pytest.mark.parametrize("recorded", [None, "matched"])
def test_a_take_stitched_with_the_fixed_fades_regenerates_with_them(song, tmp_path, monkeypatch, recorded):
    """A take made before the matched crossfades (its manifest names none) keeps every joint outside the
    regenerated section; recording the wrong law (the control) changes joints elsewhere."""
    import composer.song

    outline, _, _ = song
    folder = tmp_path / "old"
    take = composer.song._render_take
    with monkeypatch.context() as patch:
        patch.setattr(composer.song, "_render_take", lambda *a, **k: take(*a, **{**k, "fade_law": "fixed"}))
        result = runner.invoke(app, ["render", str(outline), "-o", str(folder), "--backend", "tiny-random"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest.pop("joint_fades") == "fixed"
    if recorded:
        manifest["joint_fades"] = recorded
    (folder / "manifest.json").write_text(json.dumps(manifest))
    result = runner.invoke(app, ["regenerate", str(folder), "--section", "chorus:2", "--seed", "5"])
    assert result.exit_code == 0, result.output
    change = json.loads((folder / "manifest.json").read_text())["change"]
    if recorded is None:
        assert "changed_outside_span" not in change and "warning" not in result.output
        assert json.loads((folder / "manifest.json").read_text())["joint_fades"] == "fixed"
    else:
        assert change["changed_outside_span"] > 0


def test_joint_levels_benchmark_reads_a_song_and_the_matched_fades_hold_its_level(song):
    """benchmarks/joint_levels.py on a real (tiny-random) render: its clips share grooves, so some joints
    correlate; the take's matched fades keep them level where the fixed fades swell."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from joint_levels import song_joints

    _, folder, _ = song
    matched, fixed = song_joints(folder), song_joints(folder, law="fixed")
    assert [r["law"] for r in matched] == ["matched"] * len(matched) and len(matched) >= 3
    assert max(abs(r["level_db"]) for r in matched) < 0.3
    correlated = max(range(len(fixed)), key=lambda i: fixed[i]["correlation"])
    assert fixed[correlated]["correlation"] > 0.1
    assert fixed[correlated]["level_db"] > matched[correlated]["level_db"] + 0.3


def test_takes_and_restore(song):
    _, folder, _ = song
    result = runner.invoke(app, ["regenerate", str(folder), "--section", "chorus:2", "--seed", "5"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["takes", str(folder)])
    assert result.exit_code == 0 and "regenerate chorus:2" in result.output
    first = folder / "takes" / "take-001" / "song.wav"
    assert first.is_file()
    result = runner.invoke(app, ["restore", str(folder), "--take", "1"])
    assert result.exit_code == 0, result.output
    assert (folder / "song.wav").read_bytes() == first.read_bytes()
    result = runner.invoke(app, ["restore", str(folder), "--take", "99"])
    assert result.exit_code == 5 and "there is no take 99" in result.output


def test_regenerate_refuses_when_another_sections_groove_file_changed(tmp_path):
    """A groove WAV edited after the render would re-render the sections that use it: refuse, name the file,
    write nothing, and regenerate as usual once the file is back."""
    rate = 8000
    loop = tmp_path / "loop.wav"
    original = (0.5 * np.sin(2 * np.pi * 110 * np.arange(rate) / rate)).astype(np.float32)
    sf.write(str(loop), original, rate)
    outline = tmp_path / "g.yaml"
    outline.write_text("bpm: 120\nrender: {steps: 2}\nsections:\n  a: {bars: 2, prompt: x, groove: loop.wav}\n"
                       "  b: {bars: 2, prompt: y}\n")
    folder = tmp_path / "song"
    assert runner.invoke(app, ["render", str(outline), "-o", str(folder), "--backend", "tiny-random"]).exit_code == 0
    before = (folder / "manifest.json").read_bytes()
    sf.write(str(loop), original[::-1].copy(), rate)
    result = runner.invoke(app, ["regenerate", str(folder), "--section", "b", "--seed", "3"])
    assert result.exit_code != 0 and "loop.wav (section 'a') has changed" in " ".join(result.output.split())
    assert (folder / "manifest.json").read_bytes() == before and not (folder / "takes").exists()
    sf.write(str(loop), original, rate)
    result = runner.invoke(app, ["regenerate", str(folder), "--section", "b", "--seed", "3"])
    assert result.exit_code == 0 and "warning" not in result.output, result.output


def test_regenerate_finds_moved_groove_files_with_groove_root(tmp_path):
    rate = 8000
    project = tmp_path / "project"
    project.mkdir()
    sf.write(str(project / "loop.wav"), (0.5 * np.sin(2 * np.pi * 110 * np.arange(rate) / rate)).astype(np.float32),
             rate)
    (project / "g.yaml").write_text("bpm: 120\nrender: {steps: 2}\nsections:\n"
                                    "  a: {bars: 2, prompt: x, groove: loop.wav}\n  b: {bars: 2, prompt: y}\n")
    result = runner.invoke(app, ["render", str(project / "g.yaml"), "-o", str(project / "song"),
                                 "--backend", "tiny-random"])
    assert result.exit_code == 0, result.output
    moved = tmp_path / "moved"
    project.rename(moved)
    lost = runner.invoke(app, ["regenerate", str(moved / "song"), "--section", "b", "--seed", "3"])
    assert lost.exit_code == 2 and "--groove-root" in " ".join(lost.output.split())
    found = runner.invoke(app, ["regenerate", str(moved / "song"), "--section", "b", "--seed", "3",
                                "--groove-root", str(moved)])
    assert found.exit_code == 0 and "warning" not in found.output, found.output
    manifest = json.loads((moved / "song" / "manifest.json").read_text())
    assert manifest["groove_root"] == str(moved.resolve())  # the next regenerate needs no option


def test_a_folder_that_cannot_take_the_new_files_fails_before_any_clip_renders(song, monkeypatch):
    _, folder, _ = song
    clips = sorted((folder / "clips").iterdir())
    before = (folder / "manifest.json").read_bytes()
    real_mkdir = Path.mkdir

    def mkdir(self, *args, **kwargs):  # as a read-only folder would (root ignores chmod, so simulate it)
        if self.name == ".incoming":
            raise PermissionError(13, "Permission denied", str(self))
        return real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", mkdir)
    result = runner.invoke(app, ["regenerate", str(folder), "--section", "chorus:2", "--seed", "123"])
    assert result.exit_code != 0 and "cannot write here" in result.output and "nothing was changed" in result.output
    assert sorted((folder / "clips").iterdir()) == clips  # no clip was rendered (or cached) first
    assert (folder / "manifest.json").read_bytes() == before
