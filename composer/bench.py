"""`composer bench`: end-to-end song timing per stage, real-time factor and peak memory.

A benchmark, not a test: it renders real songs into a throwaway folder with an
empty clip cache and reports what each stage cost.
"""

from __future__ import annotations

import gc
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Optional

import yaml

from composer.errors import PlanError, RenderError
from composer.outline import outline_to_dict
from composer.outline_model import MAX_SONG_S, Outline
from composer.timing import parse_time_signature


def scaled_outline(outline: Outline, *, duration_s: float) -> dict[str, Any]:
    """The outline with its form cycled (or cut) to about ``duration_s``: same sections, longer or shorter song."""
    if outline.form == "learned":
        raise PlanError("bench cycles an outline's form to each length: it needs an explicit form list, "
                        "not form: learned")
    beats_per_bar, _ = parse_time_signature(outline.time_signature)
    bar_s = beats_per_bar * 60.0 / float(outline.bpm)
    form: list[str] = []
    total = 0.0
    while total < duration_s - 1e-9:
        name = outline.form[len(form) % len(outline.form)]
        section_s = outline.sections[name].bars * bar_s
        if form and total + section_s > MAX_SONG_S:  # the longest song an outline may describe
            break
        form.append(name)
        total += section_s
    data = outline_to_dict(outline)
    data["form"] = form
    return data


def bench_song(
    outline: Outline,
    *,
    backend_name: str,
    model: Optional[str],
    device: str,
    duration_s: float,
    regenerate: Optional[str],
    batch_size: int,
    compile: bool = False,
    scheduler: str = "folder",
    precision: str = "auto",
) -> dict[str, Any]:
    """One render (fresh backend, empty cache; the process warmed up by an earlier untimed run, see
    ``warm_up``) and optionally one section regeneration, timed twice: on the loaded backend (``total_s``) and
    as a user runs it, ``composer regenerate`` in a fresh process (``cold_s``: Python start, imports, model
    load, render, write).

    ``total_s`` includes loading the model; ``song_s`` does not (it is what the baseline is compared with).
    Peak host memory is this run's own (the kernel's high-water mark is reset first, where Linux allows).
    """
    from composer.backends.registry import load_backend
    from composer.outline import outline_from_dict
    from composer.song import plan_for_backend, regenerate_section, render_outline

    scaled = scaled_outline(outline, duration_s=duration_s)
    gc.collect()  # a previous run's backend, held in a reference cycle, must not count here
    reset_gpu_peak()
    host_peak_scope = reset_host_peak()
    if regenerate:  # fail before minutes of rendering, not after
        plan = plan_for_backend(outline_from_dict(scaled), backend_name)
        regenerate = pick_regenerate_section(plan) if regenerate == "auto" else regenerate
        plan.section_for(regenerate)
    with tempfile.TemporaryDirectory(prefix="composer-bench-") as tmp:
        path = Path(tmp) / "bench.yaml"
        path.write_text(yaml.safe_dump(scaled, sort_keys=False))
        started = time.perf_counter()
        backend = load_backend(backend_name, model=model, device=device, compile=compile, scheduler=scheduler,
                               precision=precision)
        load_s = time.perf_counter() - started
        result = render_outline(path, Path(tmp) / "song", backend, model=model, device=device, batch_size=batch_size)
        total_s = time.perf_counter() - started
        report: dict[str, Any] = {
            "duration_s": result.plan.duration_s,
            "clips": len(result.plan.clips),
            "rendered_clips": result.rendered_clips,
            "total_s": total_s,
            "song_s": total_s - load_s,
            "real_time_factor": result.plan.duration_s / total_s,
            "stages_s": with_render_other({"load": load_s, **result.stage_s}, backend.stage_times_s),
            "backend_stages_s": dict(backend.stage_times_s),
            "dtype": backend.describe().get("dtype"),
        }
        if regenerate:
            before = dict(backend.stage_times_s)
            tick = time.perf_counter()
            regen = regenerate_section(Path(tmp) / "song", regenerate, backend, seed=None, prompt=None,
                                       denoising=None, device=device, batch_size=batch_size)
            regen_backend = {k: v - before.get(k, 0.0) for k, v in backend.stage_times_s.items()}
            report["regenerate"] = {
                "section": regenerate, "total_s": time.perf_counter() - tick,
                "rendered_clips": regen.rendered_clips, "stages_s": with_render_other(regen.stage_s, regen_backend),
                "backend_stages_s": regen_backend,
            }
            report["peak_host_memory_mb"] = peak_host_memory_mb()  # before the subprocess: this run's own
            report["regenerate"]["cold_s"] = cold_regenerate_s(Path(tmp) / "song", regenerate, device=device,
                                                               model=model)
    report.setdefault("peak_host_memory_mb", peak_host_memory_mb())
    report["peak_host_memory_scope"] = host_peak_scope
    report["peak_gpu_memory_mb"] = peak_gpu_memory_mb()
    return report


def cold_regenerate_s(folder: Path, section: str, *, device: str, model: Optional[str]) -> float:
    """Wall seconds of ``composer regenerate FOLDER --section SECTION`` in a fresh Python process (it loads the
    sampler the manifest records)."""
    command = [sys.executable, "-m", "composer", "regenerate", str(folder), "--section", section,
               "--device", device, *(["--model", model] if model else [])]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    wall_s = time.perf_counter() - started
    if done.returncode != 0:
        raise RenderError(f"the fresh-process regenerate ({' '.join(command[1:])}) failed with exit code "
                          f"{done.returncode}: {(done.stdout + done.stderr)[-2000:]}")
    return wall_s


def warm_up(outline: Outline, *, backend_name: str, model: Optional[str], device: str, batch_size: int,
            compile: bool = False, scheduler: str = "folder", precision: str = "auto") -> None:
    """An untimed render of the outline's first section: imports, first torch calls and first writes are paid
    once per process, and would otherwise land on whichever timed run came first."""
    bench_song(outline, backend_name=backend_name, model=model, device=device, duration_s=1e-3, regenerate=None,
               batch_size=batch_size, compile=compile, scheduler=scheduler, precision=precision)


def pick_regenerate_section(plan: Any, *, bars: int = 8) -> str:
    """``auto``: the section occurrence closest to ``bars`` bars long, nearest the middle of the song
    (neighbours on both sides, as in real use), as ``name:occurrence``."""
    middle = plan.total_samples / 2
    best = min(plan.sections, key=lambda s: (abs(s.bars - bars), abs((s.start_sample + s.end_sample) / 2 - middle)))
    return f"{best.name}:{best.occurrence}"


def with_render_other(stages: dict[str, float], backend_stages: dict[str, float]) -> dict[str, float]:
    """``stages`` plus ``render_other``: the render stage minus the backend's own stages, i.e. groove
    init audio, the clip cache and waiting for the stitch worker (stitching is its own stage)."""
    if "render" not in stages:
        return dict(stages)
    return {**stages, "render_other": max(stages["render"] - sum(backend_stages.values()), 0.0)}


def bench_baseline(
    outline: Outline,
    *,
    backend_name: str,
    model: Optional[str],
    device: str,
    duration_s: float,
    clips: Optional[int] = None,
) -> dict[str, Any]:
    """The Riffusion reference loop (``composer.baseline``) on the same weights, for the same song.

    A fresh, plain backend (no batching, no CUDA layout tweaks, no compile; fp16 on CUDA, fp32 on
    CPU, the builtin model in float32 everywhere); with ``clips`` only that many clips are timed and the song
    time is extrapolated.
    """
    import gc

    from composer.backends.registry import load_backend
    from composer.baseline import render_reference_song
    from composer.outline import outline_from_dict
    from composer.planner import plan_song

    gc.collect()
    reset_gpu_peak()
    host_peak_scope = reset_host_peak()
    started = time.perf_counter()
    precision = {"precision": "float32"} if backend_name == "builtin" else {}  # never bfloat16 on AMX
    backend = load_backend(backend_name, model=model, device=device, optimize=False, max_batch_size=1, **precision)
    load_s = time.perf_counter() - started
    plan = plan_song(outline_from_dict(scaled_outline(outline, duration_s=duration_s)),
                     sample_rate_hz=backend.sample_rate_hz, max_clip_s=backend.preferred_clip_s,
                     default_steps=backend.default_steps)
    with tempfile.TemporaryDirectory(prefix="composer-baseline-") as tmp:
        result = render_reference_song(backend, plan, groove_root=Path(tmp), clips=clips,
                                       wav_path=Path(tmp) / "baseline.wav")
    report = {"load_s": load_s, "duration_s": plan.duration_s, "dtype": backend.describe().get("dtype"),
              **result.to_dict(),
              "peak_host_memory_mb": peak_host_memory_mb(), "peak_host_memory_scope": host_peak_scope,
              "peak_gpu_memory_mb": peak_gpu_memory_mb()}
    del backend
    gc.collect()
    return report


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians over repeated runs of the numbers that matter."""
    summary = {
        "runs": len(runs),
        "median_total_s": statistics.median(r["total_s"] for r in runs),
        "median_song_s": statistics.median(r.get("song_s", r["total_s"]) for r in runs),
        "median_real_time_factor": statistics.median(r["real_time_factor"] for r in runs),
        "peak_host_memory_mb": max(r["peak_host_memory_mb"] for r in runs),
    }
    stages = sorted({k for r in runs for k in {**r["stages_s"], **r["backend_stages_s"]}}, key=stage_order)
    summary["median_stage_s"] = {
        k: statistics.median({**r["stages_s"], **r["backend_stages_s"]}.get(k, 0.0) for r in runs) for k in stages
    }
    regens = [r["regenerate"] for r in runs if "regenerate" in r]
    if regens:
        summary["median_regenerate_s"] = statistics.median(r["total_s"] for r in regens)
        summary["median_regenerate_cold_s"] = statistics.median(r["cold_s"] for r in regens)
    gpu = [r["peak_gpu_memory_mb"] for r in runs if r.get("peak_gpu_memory_mb") is not None]
    summary["peak_gpu_memory_mb"] = max(gpu) if gpu else None
    return summary


#: the order stages happen in (unknown stages sort after these, alphabetically)
STAGE_ORDER = ("load", "plan", "text", "vae_encode", "denoise", "vae_decode", "inversion", "render_other", "render",
               "stitch_overlapped", "stitch", "write")


def stage_order(stage: str) -> tuple[int, str]:
    return (STAGE_ORDER.index(stage) if stage in STAGE_ORDER else len(STAGE_ORDER), stage)


def speedup(summary: dict[str, Any], baseline: dict[str, Any]) -> float:
    """Baseline song time / our median song time (both without model loading)."""
    return baseline["song_s"] / summary["median_song_s"]


def environment() -> dict[str, Any]:
    """What the numbers were measured on."""
    import os
    import platform

    import torch

    from composer.backends.precision import cpu_has_bf16_matrix_units

    return {
        "platform": platform.platform(), "python": platform.python_version(), "torch": torch.__version__,
        "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "cpu_bf16_matrix_units": cpu_has_bf16_matrix_units(),  # what --precision auto picks on a CPU
        "gpu": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
    }


#: the kernel's record of this process's peak resident memory, and how to restart it (Linux 4.0+)
PROC_STATUS = Path("/proc/self/status")
PROC_CLEAR_REFS = Path("/proc/self/clear_refs")


def reset_host_peak() -> str:
    """Restart the peak-RSS record (writing 5 to clear_refs), so a run reports its own peak, not the largest
    of the process so far. Returns the scope the next ``peak_host_memory_mb`` covers: "run", or "process"
    where the kernel does not allow a reset (then it is the process's lifetime peak)."""
    try:
        PROC_CLEAR_REFS.write_text("5")
        return "run"
    except OSError:
        return "process"


def peak_host_memory_mb() -> float:
    """Peak resident memory since ``reset_host_peak`` (VmHWM), or of the process so far (ru_maxrss, KiB on
    Linux) where /proc is not there."""
    try:
        for line in PROC_STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except (OSError, ValueError, IndexError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def reset_gpu_peak() -> None:
    """Free cached CUDA blocks and restart the peak counter (so the baseline's peak is its own)."""
    try:
        import torch
    except ImportError:  # pragma: no cover
        return
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def peak_gpu_memory_mb() -> Optional[float]:
    try:
        import torch
    except ImportError:  # pragma: no cover
        return None
    if not torch.cuda.is_available():
        return None
    return torch.cuda.max_memory_allocated() / 2**20
