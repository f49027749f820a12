"""Render independent clips side by side on a CPU, one torch thread per clip.

The built-in model's UNet is small (a clip's latents are 16 x 56): two OpenMP
threads on one clip leave much of each core idle between the small ops, while
two clips in two threads, one thread each, keep both busy (measured on the
2-core machine: 77 ms per UNet call with two threads on one clip, 56 ms per
call with one thread on each of two). Each clip is computed with exactly one
intra-op thread whatever the worker count, so its bits do not depend on how
many clips render beside it, nor on how many cores the machine has.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import threading
import time
from dataclasses import dataclass
from typing import Callable, Iterator, Sequence, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

_stage_sink = threading.local()


@dataclass(frozen=True)
class WorkerTiming:
    """What a worker spent on one item, for stage accounting."""

    # seconds per backend stage measured inside the item (``SpectrogramBackend.timed`` blocks)
    stages_s: dict[str, float]
    # wall seconds of the whole item on its worker
    busy_s: float


def stage_sink() -> dict[str, float] | None:
    """The current worker's stage dictionary, or None outside ``map_single_threaded`` items."""
    return getattr(_stage_sink, "times", None)


@contextlib.contextmanager
def one_torch_thread() -> Iterator[None]:
    """Run the block's torch ops on one intra-op thread (the clip workers' count), then restore the count."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def map_single_threaded(function: Callable[[Item], Result], items: Sequence[Item], *,
                        workers: int) -> tuple[list[Result], list[WorkerTiming]]:
    """``[function(item) for item in items]`` on ``workers`` threads, each running torch with one intra-op
    thread; results in the order of ``items``. The process's torch thread count is restored afterwards.

    An exception in any item is raised here once the items already running have finished; the items not yet
    started are cancelled.
    """
    import torch

    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")

    def run(item: Item) -> tuple[Result, WorkerTiming]:
        # per thread under OpenMP: a new thread would otherwise start a team of the process's thread count,
        # and two such teams on two cores spin against each other
        torch.set_num_threads(1)
        _stage_sink.times = {}
        started = time.perf_counter()
        try:
            result = function(item)
            return result, WorkerTiming(stages_s=_stage_sink.times, busy_s=time.perf_counter() - started)
        finally:
            _stage_sink.times = None

    # the workers' set_num_threads changes the count new threads start with: one_torch_thread restores it
    with one_torch_thread():
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=min(workers, max(len(items), 1)),
                                                     thread_name_prefix="composer-clip")
        try:
            done = [future.result() for future in [pool.submit(run, item) for item in items]]
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    return [result for result, _ in done], [timing for _, timing in done]


def wall_stage_times(timings: Sequence[WorkerTiming], *, wall_s: float) -> dict[str, float]:
    """Stage seconds as shares of the batch's wall time: with several workers a stage's worker seconds add up
    to more than the wall clock, so each stage gets ``wall_s`` x its worker seconds / all workers' busy seconds.
    One worker: the measured seconds themselves (busy time equals the wall time)."""
    busy_s = sum(t.busy_s for t in timings)
    if busy_s <= 0.0:
        return {}
    scale = min(1.0, wall_s / busy_s)
    totals: dict[str, float] = {}
    for timing in timings:
        for stage, seconds in timing.stages_s.items():
            totals[stage] = totals.get(stage, 0.0) + seconds * scale
    return totals
