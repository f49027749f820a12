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


def _write_groove(path, *, kind="drums", rate=44100):
    """A 1-s groove file: drums (a decaying 60 Hz kick every half second), or a broken one."""
    t = np.arange(rate) / rate
    x = (0.8 * np.sin(2 * np.pi * 60 * t) * np.exp(-(t % 0.5) / 0.02)).astype(np.float32)
    if kind == "nan":
        x[100] = np.nan
    if kind == "silent":
        x[:] = 0
    if kind == "mp3":
        sf.write(str(path), x, rate, format="MP3", subtype="MPEG_LAYER_III")
    else:
        sf.write(str(path), x, rate, subtype="FLOAT")


class FakeTinyRandom(FlakyBackend):
    """Stands in for the tiny-random model (its name and rate) without loading anything."""

    name = "tiny-random"

    def __init__(self) -> None:
        super().__init__(bad="nan", failures=0)

    @property
    def sample_rate_hz(self) -> int:
        return 44100


def _groove_song(tmp_path, *, kind="drums", loop="loop.wav"):
    _write_groove(tmp_path / loop, kind=kind)
    path = tmp_path / "song.yaml"
    path.write_text(OUTLINE.replace("prompt: two}", f"prompt: two, groove: {loop}}}"))
    return path


def _line_of(outline, text: str) -> int:
    return next(i for i, line in enumerate(outline.read_text().splitlines(), 1) if text in line)


@pytest.mark.parametrize("backend", ["tiny-random", "builtin", "riffusion"])
@pytest.mark.parametrize("kind, loop, message", [
    ("nan", "loop.wav", "has NaN or infinite samples"),
    ("silent", "loop.wav", "is silent"),
    ("mp3", "loop.mp3", "MP3 is not accepted as a groove"),
])
def test_a_broken_groove_file_is_exit_2_naming_it_on_every_backend(tmp_path, monkeypatch, backend, kind, loop,
                                                                     message):
    from typer.testing import CliRunner

    from composer.backends import registry
    from composer.cli import app

    try:
        registry.backend_info(backend)
    except Exception:
        pytest.skip(f"no {backend} backend here")

    def load_backend(*args, **kwargs):
        raise AssertionError("the model loaded before the groove file was checked")

    monkeypatch.setattr(registry, "load_backend", load_backend)
    outline = _groove_song(tmp_path, kind=kind, loop=loop)
    result = CliRunner().invoke(app, ["render", str(outline), "-o", str(tmp_path / "song"), "--backend", backend])
    said = " ".join(result.output.split())
    assert result.exit_code == 2, result.output
    assert f"song.yaml:{_line_of(outline, loop)}: sections.b.groove:" in said, said  # the outline's line and field
    assert f"{tmp_path / loop}: {message}" in said or f"{tmp_path / loop} {message}" in said, said
    assert "Traceback" not in result.output and not (tmp_path / "song").exists()


def test_render_and_regenerate_read_a_groove_file_once(tmp_path, monkeypatch):
    """The CLI's early check, the song's own check, the regenerate staleness check and the clip requests share
    one read: a long file costs seconds and hundreds of MB each time it is read and resampled."""
    from typer.testing import CliRunner

    import composer.render
    from composer.backends import registry
    from composer.cli import app

    reads = []
    load_loop = composer.render._load_loop
    monkeypatch.setattr(composer.render, "_load_loop", lambda path, **kw: reads.append(path) or load_loop(path, **kw))
    monkeypatch.setattr(registry, "load_backend", lambda *args, **kwargs: FakeTinyRandom())
    outline, folder = _groove_song(tmp_path), tmp_path / "song"
    result = CliRunner().invoke(app, ["render", str(outline), "-o", str(folder), "--backend", "tiny-random"])
    assert result.exit_code == 0, result.output
    assert reads == [tmp_path / "loop.wav"]
    assert composer.render._checked_loops == {}  # freed once the clips have their windows
    reads.clear()
    result = CliRunner().invoke(app, ["regenerate", str(folder), "--section", "a", "--seed", "9"])
    assert result.exit_code == 0, result.output
    assert reads == [tmp_path / "loop.wav"]


def test_regenerate_checks_groove_files_before_loading_the_model(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from composer.backends import registry
    from composer.cli import app

    outline, folder = _groove_song(tmp_path), tmp_path / "song"
    render_outline(outline, folder, FakeTinyRandom(), model=None, device="cpu")
    (tmp_path / "loop.wav").unlink()

    def load_backend(*args, **kwargs):
        raise AssertionError("the model loaded before the groove file was checked")

    monkeypatch.setattr(registry, "load_backend", load_backend)
    result = CliRunner().invoke(app, ["regenerate", str(folder), "--section", "a", "--seed", "9"])
    assert result.exit_code == 2, result.output
    assert f"groove file {tmp_path / 'loop.wav'} does not exist" in " ".join(result.output.split())


def test_a_groove_file_changed_after_a_check_is_read_again(tmp_path):
    """The loops a check keeps are for the same command only: an edited file (here the same size, and later, as
    any edit is) is read again, so regenerate still sees that it changed, and that it was put back."""
    import os

    from composer.errors import SongFolderError
    from composer.song import regenerate_section

    outline, folder = _groove_song(tmp_path), tmp_path / "song"
    render_outline(outline, folder, FakeTinyRandom(), model=None, device="cpu")
    loop, reversed_loop = tmp_path / "loop.wav", tmp_path / "reversed.wav"
    audio, rate = sf.read(str(loop), dtype="float32")
    sf.write(str(reversed_loop), audio[::-1].copy(), rate, subtype="FLOAT")
    original, edited = loop.read_bytes(), reversed_loop.read_bytes()
    assert len(edited) == len(original) and edited != original

    def rewrite(data, *, later_s):
        loop.write_bytes(data)
        stat = loop.stat()
        os.utime(loop, ns=(stat.st_atime_ns, stat.st_mtime_ns + int(later_s * 1e9)))

    rewrite(edited, later_s=1)
    with pytest.raises(SongFolderError, match="loop.wav .section 'b'. has changed"):
        regenerate_section(folder, "a", FakeTinyRandom(), seed=9, prompt=None, denoising=None, device="cpu")
    rewrite(original, later_s=2)  # the failed regenerate left its check's loops waiting: they must not be used
    regenerate_section(folder, "a", FakeTinyRandom(), seed=9, prompt=None, denoising=None, device="cpu")


def test_plan_and_render_name_the_outline_line_of_a_bad_groove_file(tmp_path):
    from typer.testing import CliRunner

    from composer.cli import app

    path = tmp_path / "song.yaml"
    path.write_text(OUTLINE.replace("prompt: two}", "prompt: two, groove: loops/beat.wav}"))
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if "loops/beat.wav" in text)
    sf.write(str(tmp_path / "short.wav"), np.full(100, 0.5, dtype=np.float32), 22050)
    for command in (["plan", str(path)], ["render", str(path), "-o", str(tmp_path / "song"), "--backend", "tiny-random"]):
        result = CliRunner().invoke(app, command)
        assert result.exit_code == 2, result.output
        assert f"song.yaml:{line}: sections.b.groove: groove file" in result.output and "does not exist" in result.output
        assert not (tmp_path / "song").exists()
    path.write_text(OUTLINE.replace("prompt: two}", "prompt: two, groove: short.wav}"))
    result = CliRunner().invoke(app, ["plan", str(path)])
    assert result.exit_code == 2 and "shorter than 0.1 s (0.005 s)" in result.output, result.output


@pytest.mark.parametrize("groove,message", [("AUTO", "'AUTO' is not a file; did you mean 'auto'?"),
                                            (" None", "did you mean 'none'?"), ("''", "is empty")])
def test_a_groove_word_in_the_wrong_case_or_empty_is_an_outline_error(tmp_path, groove, message):
    from composer.outline import parse_outline

    with pytest.raises(OutlineError, match=f"sections.b.groove: .*{message}".replace("?", r"\?").replace("(", r"\(")):
        parse_outline(OUTLINE.replace("prompt: two}", f"prompt: two, groove: {groove}}}"))


def test_a_loop_that_is_not_whole_beats_gets_a_warning(tmp_path):
    from typer.testing import CliRunner

    from composer.cli import app
    from composer.plan import Plan
    from composer.render import loop_length_warning

    path = tmp_path / "song.yaml"
    path.write_text(OUTLINE.replace("prompt: two}", "prompt: two, groove: loop.wav}"))  # 120 bpm, 4/4
    click = np.zeros(22050, dtype=np.float32)
    click[:200] = 0.5
    said = {}
    for seconds, drifts in ((2.0, False), (1.85, True), (0.5, False)):
        sf.write(str(tmp_path / "loop.wav"), np.tile(click, 4)[:round(seconds * 22050)], 22050)
        result = CliRunner().invoke(app, ["plan", str(path)])
        said[seconds] = " ".join(result.output.split())
        assert result.exit_code == 0, result.output
        assert ("not a whole number of beats" in said[seconds]) == drifts, (seconds, said[seconds])
    said = said[1.85]
    assert "lasts 1.850 s = 3.70 beats at 120 bpm" in said
    assert "cut or extend it to whole bars (1 bar = 2.000 s)" in said
    plan = Plan.__new__(Plan)  # only rate, bpm and metre are read
    object.__setattr__(plan, "sample_rate_hz", 44100)
    object.__setattr__(plan, "bpm", 90.0)
    object.__setattr__(plan, "beats_per_bar", 3)
    assert loop_length_warning("x.wav", num_samples=round(44100 * 6 * 60 / 90) + 3, plan=plan) is None
    assert "trim it to whole bars (2 bars = 4.000 s)" in loop_length_warning(
        "x.wav", num_samples=round(44100 * 6.4 * 60 / 90), plan=plan)
    assert "cut or extend it to whole bars (1 bar" in loop_length_warning("x.wav", num_samples=4410, plan=plan)
