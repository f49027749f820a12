"""A repeat of the song's opening section is the opening's own clip; a regeneration keeps the clips its take
recorded, even where this composer version would key them differently."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from composer.cli import app
from composer.groove import groove_audio
from conftest import TWO_SECTION_OUTLINE

runner = CliRunner()
OPENING_REPEATED = TWO_SECTION_OUTLINE.replace("form: [a, b]", "form: [a, b, a]")


def test_a_sections_first_clip_hears_the_same_lead_in_wherever_it_stands():
    common = dict(style="rock", role="verse", bpm=120.0, beats_per_bar=4, beat_unit=4, bars=2, sample_rate_hz=8000,
                  num_samples=24000, pre_roll_samples=4000, section_bars=4)
    opening = groove_audio(start_bar=0, section_start_bar=0, **common)
    later = groove_audio(start_bar=8, section_start_bar=8, **common)
    np.testing.assert_array_equal(opening, later)
    assert np.abs(opening[:4000]).max() > 0.01  # the plain groove plays before bar 0 too


def test_a_repeat_of_the_opening_section_is_the_same_clip(tmp_path):
    (tmp_path / "song.yaml").write_text(OPENING_REPEATED)
    result = runner.invoke(app, ["render", str(tmp_path / "song.yaml"), "-o", str(tmp_path / "song"),
                                 "--backend", "tiny-random"])
    assert result.exit_code == 0, result.output
    sections = json.loads((tmp_path / "song" / "manifest.json").read_text())["sections"]
    assert [c["cache_key"] for c in sections[0]["clips"]] == [c["cache_key"] for c in sections[2]["clips"]]
    assert "2 rendered" in result.output  # a and b once each (one clip per section here)


def test_regenerate_keeps_the_clips_its_take_recorded(tmp_path):
    """A take whose clip 0 an older composer keyed differently: regenerating b takes clip 0 from the cache under
    the recorded key instead of rendering it anew (which could change a section the user did not touch)."""
    (tmp_path / "song.yaml").write_text(TWO_SECTION_OUTLINE)
    folder = tmp_path / "song"
    assert runner.invoke(app, ["render", str(tmp_path / "song.yaml"), "-o", str(folder),
                               "--backend", "tiny-random"]).exit_code == 0
    manifest_path = folder / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    current = manifest["sections"][0]["clips"][0]["cache_key"]
    legacy = "0" * 64
    shutil.move(folder / "clips" / f"{current}.npy", folder / "clips" / f"{legacy}.npy")
    manifest["sections"][0]["clips"][0]["cache_key"] = legacy
    manifest_path.write_text(json.dumps(manifest))
    before = (folder / "song.wav").read_bytes()

    result = runner.invoke(app, ["regenerate", str(folder), "--section", "b", "--seed", "8"])
    assert result.exit_code == 0, result.output
    assert "1 rendered" in result.output  # b only: clip 0 came from the cache under its recorded key
    assert json.loads(manifest_path.read_text())["sections"][0]["clips"][0]["cache_key"] == legacy
    assert not (folder / "clips" / f"{current}.npy").exists()
    assert "differ from the previous take" not in result.output
    assert Path(folder / "song.wav").read_bytes() != before


@pytest.mark.parametrize("damaged", [False, True])
def test_a_regeneration_builds_the_grooves_of_the_clips_it_renders_only(tmp_path, monkeypatch, damaged):
    """Kept clips come from the cache under their recorded keys, so their grooves are never synthesised; a kept
    clip whose cache entry is damaged is rendered again, from its real groove, to the same audio."""
    import composer.render

    (tmp_path / "song.yaml").write_text(TWO_SECTION_OUTLINE)
    folder = tmp_path / "song"
    assert runner.invoke(app, ["render", str(tmp_path / "song.yaml"), "-o", str(folder),
                               "--backend", "tiny-random"]).exit_code == 0
    kept = json.loads((folder / "manifest.json").read_text())["sections"][0]["clips"][0]["cache_key"]
    first = np.load(folder / "clips" / f"{kept}.npy")
    if damaged:
        (folder / "clips" / f"{kept}.npy").write_bytes(b"not a clip")
    built = []
    real = composer.render._init_audio
    monkeypatch.setattr(composer.render, "_init_audio", lambda plan, clip, **k: built.append(clip.section_index)
                        or real(plan, clip, **k))
    result = runner.invoke(app, ["regenerate", str(folder), "--section", "b", "--seed", "8"])
    assert result.exit_code == 0, result.output
    assert built == ([0, 1] if damaged else [1])
    assert ("2 rendered" if damaged else "1 rendered") in result.output
    assert np.array_equal(np.load(folder / "clips" / f"{kept}.npy"), first)
