"""Clips rendered side by side on a CPU: one torch thread each, same bits however many workers run."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from composer.backends.builtin import BuiltinBackend
from composer.backends.clip_workers import WorkerTiming, map_single_threaded, stage_sink, wall_stage_times


@pytest.fixture(autouse=True, scope="module")
def plain_cpu_kernels():
    """As in test_builtin_model: oneDNN compiles kernels per new shape, and tiny models run faster without it."""
    with torch.backends.mkldnn.flags(enabled=False):
        yield


@pytest.fixture
def two_torch_threads():
    """The suite runs torch on one thread (conftest); these tests need the count a 2-core user has."""
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def test_items_run_on_one_thread_each_and_come_back_in_order(two_torch_threads):
    seen: list[tuple[int, int, str]] = []

    def work(item: int) -> int:
        time.sleep(0.01 * (3 - item % 3))  # later items can finish first
        seen.append((item, torch.get_num_threads(), threading.current_thread().name))
        return item * item

    results, timings = map_single_threaded(work, list(range(6)), workers=2)
    assert results == [i * i for i in range(6)]
    assert {threads for _, threads, _ in seen} == {1}
    assert len({name for _, _, name in seen}) == 2 and all(name.startswith("composer-clip") for _, _, name in seen)
    assert len(timings) == 6 and all(t.busy_s > 0 for t in timings)
    assert torch.get_num_threads() == 2  # the caller's count is back


def test_an_item_error_reaches_the_caller_and_the_thread_count_is_restored(two_torch_threads):
    def work(item: int) -> int:
        if item == 1:
            raise ValueError("clip 1 failed")
        return item

    with pytest.raises(ValueError, match="clip 1 failed"):
        map_single_threaded(work, [0, 1, 2, 3], workers=2)
    assert torch.get_num_threads() == 2


def test_workers_must_be_positive():
    with pytest.raises(ValueError, match="workers must be >= 1"):
        map_single_threaded(lambda item: item, [1], workers=0)


def test_stage_times_inside_a_worker_go_to_that_worker():
    assert stage_sink() is None

    def work(item: int) -> dict[str, float] | None:
        sink = stage_sink()
        sink["denoise"] = 0.5 + item
        return dict(sink)

    results, timings = map_single_threaded(work, [0, 1], workers=2)
    assert results == [{"denoise": 0.5}, {"denoise": 1.5}]
    assert [t.stages_s for t in timings] == [{"denoise": 0.5}, {"denoise": 1.5}]
    assert stage_sink() is None


def test_wall_stage_times_share_the_wall_clock():
    one = [WorkerTiming(stages_s={"denoise": 2.0, "inversion": 0.5}, busy_s=3.0)]
    assert wall_stage_times(one, wall_s=3.1) == {"denoise": 2.0, "inversion": 0.5}  # measured as they were
    two = [WorkerTiming(stages_s={"denoise": 2.0}, busy_s=2.5), WorkerTiming(stages_s={"denoise": 1.0}, busy_s=1.5)]
    shared = wall_stage_times(two, wall_s=2.0)  # 4 worker seconds in 2 wall seconds
    assert shared == pytest.approx({"denoise": 1.5})
    assert wall_stage_times([], wall_s=1.0) == {}


def test_builtin_clips_match_whatever_renders_beside_them(tmp_path: Path, two_torch_threads):
    """The built-in backend renders a batch on two workers; each clip equals the same request rendered alone,
    and a reversed batch gives every clip the same bits."""
    from test_builtin_model import request, tiny_folder

    backend = BuiltinBackend(tiny_folder(tmp_path / "weights"), device="cpu")
    assert backend.preferred_batch_size == 4  # two clips per worker
    batch = [request(seed_a=seed, prompt_a=f"funk groove {seed}") for seed in range(4)]
    together = backend.render(batch)
    alone = [backend.render([r])[0] for r in batch]
    reversed_ = backend.render(batch[::-1])[::-1]
    for a, b, c in zip(together, alone, reversed_):
        assert np.array_equal(a, b) and np.array_equal(a, c)
    assert not np.array_equal(together[0], together[1])
    assert {"text", "denoise", "vae_decode", "inversion"} <= set(backend.stage_times_s)
    assert torch.get_num_threads() == 2


def test_builtin_stage_times_do_not_exceed_the_wall_clock(tmp_path: Path, two_torch_threads):
    from test_builtin_model import request, tiny_folder

    backend = BuiltinBackend(tiny_folder(tmp_path / "weights"), device="cpu")
    batch = [request(seed_a=seed) for seed in range(4)]
    backend.render(batch[:1])  # first calls pay one-off setup
    backend.stage_times_s.clear()
    started = time.perf_counter()
    backend.render(batch)
    wall_s = time.perf_counter() - started
    assert 0 < sum(backend.stage_times_s.values()) <= wall_s


def test_builtin_prompts_are_encoded_on_the_calling_thread_with_one_torch_thread(tmp_path: Path, two_torch_threads,
                                                                                 monkeypatch):
    import composer.builtin_model.text_encoder as text_encoder
    from test_builtin_model import request, tiny_folder

    backend = BuiltinBackend(tiny_folder(tmp_path / "weights"), device="cpu")
    seen: list[tuple[int, bool]] = []
    real = text_encoder.encode_prompts

    def recording(*args, **kwargs):
        seen.append((torch.get_num_threads(), threading.current_thread() is threading.main_thread()))
        return real(*args, **kwargs)

    monkeypatch.setattr(text_encoder, "encode_prompts", recording)
    backend.render([request(seed_a=1), request(seed_a=2, prompt_a="slow blues shuffle")])
    assert len(seen) == 4  # three prompts of the first clip, one new of the second (the rest are cached)
    assert set(seen) == {(1, True)}
    assert torch.get_num_threads() == 2
