"""Bad model output is caught: NaN/inf/silent clips are re-rendered with a derived seed or stop the render."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from composer.backends.base import ClipRequest, SpectrogramBackend
from composer.errors import OutlineError, RenderError
from composer.song import render_outline

OUTLINE = """\
title: Checks
bpm: 120
seed: 2
sections:
  a: {bars: 2, prompt: one}
  b: {bars: 2, prompt: two}
form: [a, b]
"""


class FlakyBackend(SpectrogramBackend):
    """Test double: returns ``bad`` audio for the first ``failures`` calls of prompt 'two', then a sine."""

    name = "flaky"

    def __init__(self, *, bad: str, failures: int) -> None:
        self.bad, self.failures, self.seeds = bad, failures, []

    @property
    def sample_rate_hz(self) -> int:
        return 8000

    def describe(self):
        return {"name": self.name}  # the same model whether or not it misbehaves this time

    def render(self, requests):
        return [self._one(r) for r in requests]

    def _one(self, request: ClipRequest) -> np.ndarray:
        sine = 0.3 * np.sin(np.arange(request.num_samples) * 0.05).astype(np.float32)
        if "two" not in request.prompt_a:
            return sine
        self.seeds.append(request.seed_a)
        if self.failures > 0:
            self.failures -= 1
            return {"nan": np.full_like(sine, np.nan), "inf": np.full_like(sine, np.inf),
                    "silent": np.zeros_like(sine)}[self.bad]
        return sine


@pytest.fixture
def outline(tmp_path):
    path = tmp_path / "song.yaml"
    path.write_text(OUTLINE)
    return path


@pytest.mark.parametrize("bad", ["nan", "inf", "silent"])
def test_bad_clip_is_rerendered_with_a_recorded_derived_seed(outline, tmp_path, bad):
    backend = FlakyBackend(bad=bad, failures=1)
    render_outline(outline, tmp_path / "song", backend, model=None, device="cpu")
    assert len(backend.seeds) == 2 and backend.seeds[0] != backend.seeds[1]
    manifest = json.loads((tmp_path / "song" / "manifest.json").read_text())
    clip = manifest["sections"][1]["clips"][0]
    assert clip["seed_a"] == backend.seeds[1] and clip["planned_seed_a"] == backend.seeds[0]
    audio, _ = sf.read(str(tmp_path / "song" / "song.wav"))
    assert np.all(np.isfinite(audio))
    # a second render comes from the cache and still records the seed that was really used
    render_outline(outline, tmp_path / "song", FlakyBackend(bad=bad, failures=0), model=None, device="cpu")
    again = json.loads((tmp_path / "song" / "manifest.json").read_text())
    assert again["sections"][1]["clips"][0]["seed_a"] == backend.seeds[1]


def test_persistently_bad_model_stops_with_a_clear_error(outline, tmp_path):
    with pytest.raises(RenderError, match="NaN/inf audio 3 times"):
        render_outline(outline, tmp_path / "song", FlakyBackend(bad="nan", failures=99), model=None, device="cpu")
    assert not (tmp_path / "song" / "song.wav").exists()


def test_missing_groove_file_fails_before_rendering(tmp_path):
    path = tmp_path / "song.yaml"
    path.write_text(OUTLINE.replace("prompt: two}", "prompt: two, groove: loops/beat.wav}"))
    backend = FlakyBackend(bad="nan", failures=0)
    with pytest.raises(OutlineError, match="loops/beat.wav does not exist"):
        render_outline(path, tmp_path / "song", backend, model=None, device="cpu")
    assert backend.seeds == [] and not (tmp_path / "song").exists()


def test_groove_loop_file_is_used_on_the_song_grid(tmp_path):
    loop = (0.5 * np.sin(np.arange(6000) * 0.01)).astype(np.float32)  # 0.75 s: not a whole bar
    sf.write(str(tmp_path / "loop.wav"), loop, 8000, subtype="FLOAT")
    path = tmp_path / "song.yaml"
    path.write_text(OUTLINE.replace("prompt: two}", "prompt: two, groove: loop.wav}"))
    seen = []

    class Echo(FlakyBackend):
        def _one(self, request):
            seen.append(request.init_audio)
            return super()._one(request)

    render_outline(path, tmp_path / "song", Echo(bad="nan", failures=0), model=None, device="cpu")
    manifest = json.loads((tmp_path / "song" / "manifest.json").read_text())
    start, pad = manifest["sections"][1]["start_sample"], manifest["pad_samples"]
    # the loop repeats from the song's first downbeat, so section b (bar 2) sees it mid-cycle
    expected = loop[(np.arange(seen[1].size) + start - pad) % loop.size] / np.abs(loop).max() * 0.5
    np.testing.assert_allclose(seen[1], expected, atol=1e-6)
    assert seen[0] is not None and not np.allclose(seen[0][:1000], expected[:1000])  # section a: auto groove


def test_regenerate_refuses_when_the_model_changed(outline, tmp_path):
    from composer.errors import SongFolderError
    from composer.song import regenerate_section

    render_outline(outline, tmp_path / "song", FlakyBackend(bad="nan", failures=0), model=None, device="cpu")

    class Retrained(FlakyBackend):
        def describe(self):
            return {"name": self.name, "weights": "v2"}

    with pytest.raises(SongFolderError, match="different model"):
        regenerate_section(tmp_path / "song", "b", Retrained(bad="nan", failures=0), seed=1, prompt=None,
                           denoising=None, device="cpu")
