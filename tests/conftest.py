"""Shared test settings: one torch thread (deterministic and fair on a 2-core machine) and a private cache."""

from __future__ import annotations

import os

import pytest


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
