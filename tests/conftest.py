"""Shared test settings: one torch thread (deterministic and fair on a 2-core machine) and a private cache."""

from __future__ import annotations

import gc
import os
import shutil
from pathlib import Path

import pytest

#: the song of the song-folder fixtures: two sections of two bars, rendered by tiny-random in seconds
TWO_SECTION_OUTLINE = """\
title: Folder
bpm: 120
seed: 9
render: {steps: 2}
sections:
  a: {bars: 2, prompt: piano}
  b: {bars: 2, prompt: strings}
form: [a, b]
"""


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory):
    """Keep the tiny model folder and other caches out of the user's home directory."""
    previous = os.environ.get("COMPOSER_CACHE_DIR")
    os.environ["COMPOSER_CACHE_DIR"] = str(tmp_path_factory.mktemp("composer-cache"))
    yield
    if previous is None:
        os.environ.pop("COMPOSER_CACHE_DIR", None)
    else:
        os.environ["COMPOSER_CACHE_DIR"] = previous


@pytest.fixture(scope="session", autouse=True)
def _one_torch_thread():
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(autouse=True)
def _unfrozen_collector():
    """Commands that load a model freeze the collector's view of what the load made, for the rest of their
    process (``composer.cli._load_backend``); the test process goes on, so each test ends unfrozen."""
    yield
    gc.unfreeze()


@pytest.fixture(scope="module")
def two_takes(tmp_path_factory) -> Path:
    """A song folder with take 1 archived and take 2 current (section b regenerated), built once per module."""
    from typer.testing import CliRunner

    from composer.cli import app

    root = tmp_path_factory.mktemp("song")
    (root / "song.yaml").write_text(TWO_SECTION_OUTLINE)
    folder = root / "song"
    runner = CliRunner()
    for args in (["render", str(root / "song.yaml"), "-o", str(folder), "--backend", "tiny-random"],
                 ["regenerate", str(folder), "--section", "b", "--seed", "5"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
    return folder


@pytest.fixture
def song(two_takes, tmp_path) -> Path:
    """A copy of ``two_takes`` (with its outline beside it) for a test to change."""
    shutil.copytree(two_takes.parent, tmp_path / "copy")
    return tmp_path / "copy" / "song"
