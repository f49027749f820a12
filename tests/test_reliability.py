"""Interrupted renders resume bit-identically, folders are locked, failed writes lose nothing."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from composer.cli import app
from composer.files import folder_lock

runner = CliRunner()

OUTLINE = """\
title: Reliability
bpm: 120
seed: 4
render: {steps: 3}
sections:
  a: {bars: 4, prompt: piano}
  b: {bars: 4, prompt: strings}
  c: {bars: 4, prompt: organ}
  d: {bars: 4, prompt: brass}
  e: {bars: 4, prompt: flute}
form: [a, b, c, d, e, b]  # ten distinct clips: a render is still running after the first two
"""


def _render_cmd(outline: Path, folder: Path) -> list[str]:
    return [sys.executable, "-m", "composer", "render", str(outline), "-o", str(folder),
            "--backend", "tiny-random", "--batch-size", "1"]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    root = tmp_path_factory.mktemp("ref")
    outline = root / "song.yaml"
    outline.write_text(OUTLINE)
    folder = root / "song"
    result = runner.invoke(app, ["render", str(outline), "-o", str(folder), "--backend", "tiny-random"])
    assert result.exit_code == 0, result.output
    return outline, folder


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL])
def test_interrupted_render_resumes_bit_identical(reference, tmp_path, sig):
    outline, ref_folder = reference
    folder = tmp_path / "song"
    # a user's shell starts composer with Ctrl-C at its default; some library loaded earlier in this
    # pytest process may have left SIGINT ignored, which a child would inherit
    proc = subprocess.Popen(_render_cmd(outline, folder), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.time() + 120
    while time.time() < deadline and len(list((folder / "clips").glob("*.npy"))) < 2:
        time.sleep(0.05)
    proc.send_signal(sig)
    output = proc.communicate(timeout=60)[0].decode()
    clips = len(list((folder / "clips").glob("*.npy")))
    assert proc.returncode != 0, f"the render was not interrupted ({clips} clips, signal {sig}): {output[-2000:]}"
    if sig == signal.SIGINT:
        assert "interrupted" in output and "Traceback" not in output
    # no half-written file under a final name
    assert not (folder / "manifest.json").exists()
    for path in (folder / "clips").glob("*.npy"):
        assert np.all(np.isfinite(np.load(path)))
    done = subprocess.run(_render_cmd(outline, folder), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert (folder / "song.wav").read_bytes() == (ref_folder / "song.wav").read_bytes()


def test_second_process_is_refused_while_locked(reference, tmp_path):
    outline, _ = reference
    folder = tmp_path / "locked"
    with folder_lock(folder):
        result = runner.invoke(app, ["render", str(outline), "-o", str(folder), "--backend", "tiny-random"])
    assert result.exit_code == 5 and "another composer process" in result.output
    assert not (folder / "song.wav").exists()


def test_full_disk_keeps_previous_take(reference, tmp_path, monkeypatch):
    outline, ref_folder = reference
    folder = tmp_path / "song"
    assert runner.invoke(app, ["render", str(outline), "-o", str(folder), "--backend", "tiny-random"]).exit_code == 0
    before = {name: (folder / name).read_bytes() for name in ("song.wav", "manifest.json")}

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    import composer.audio_io

    monkeypatch.setattr(composer.audio_io.sf, "write", disk_full)
    result = runner.invoke(app, ["regenerate", str(folder), "--section", "b:2", "--seed", "3"])
    assert result.exit_code == 5 and "disk is full" in result.output
    for name, data in before.items():
        assert (folder / name).read_bytes() == data
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp.wav")]


def test_unwritable_output_is_a_clear_error(reference, tmp_path):
    outline, _ = reference
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = runner.invoke(app, ["render", str(outline), "-o", str(blocker / "song"), "--backend", "tiny-random"])
    assert result.exit_code == 5 and "cannot create the song folder" in result.output


def test_manifest_records_what_reproduces_the_song(reference):
    _, folder = reference
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["outline"]["seed"] == 4
    assert manifest["backend"]["identity"] and manifest["environment"]["torch"]
    assert all("seed_a" in c for s in manifest["sections"] for c in s["clips"])
