"""`composer bench`: end-to-end song timing per stage, real-time factor and peak memory.

A benchmark, not a test: it renders real songs into a throwaway folder with an
empty clip cache and reports what each stage cost.
"""

from __future__ import annotations

import resource
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, Optional

import yaml

from composer.outline import outline_to_dict
from composer.outline_model import Outline
from composer.timing import parse_time_signature


def scaled_outline(outline: Outline, *, duration_s: float) -> dict[str, Any]:
    """The outline with its form cycled (or cut) to about ``duration_s``: same sections, longer or shorter song."""
    if outline.form == "learned":
        raise ValueError("bench needs an outline with an explicit form")
    beats_per_bar, _ = parse_time_signature(outline.time_signature)
    bar_s = beats_per_bar * 60.0 / float(outline.bpm)
    form: list[str] = []
    total = 0.0
    while total < duration_s - 1e-9:
        name = outline.form[len(form) % len(outline.form)]
        form.append(name)
        total += outline.sections[name].bars * bar_s
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
) -> dict[str, Any]:
    """One cold render (fresh backend, empty cache) and optionally one section regeneration."""
    from composer.backends.registry import load_backend
    from composer.outline import outline_from_dict
    from composer.song import plan_for_backend, regenerate_section, render_outline

    scaled = scaled_outline(outline, duration_s=duration_s)
    if regenerate:  # fail before minutes of rendering, not after
        plan_for_backend(outline_from_dict(scaled), backend_name).section_for(regenerate)
    with tempfile.TemporaryDirectory(prefix="composer-bench-") as tmp:
        path = Path(tmp) / "bench.yaml"
        path.write_text(yaml.safe_dump(scaled, sort_keys=False))
        started = time.perf_counter()
        backend = load_backend(backend_name, model=model, device=device)
        load_s = time.perf_counter() - started
        result = render_outline(path, Path(tmp) / "song", backend, model=model, device=device, batch_size=batch_size)
        total_s = time.perf_counter() - started
        report: dict[str, Any] = {
            "duration_s": result.plan.duration_s,
            "clips": len(result.plan.clips),
            "rendered_clips": result.rendered_clips,
            "total_s": total_s,
            "real_time_factor": result.plan.duration_s / total_s,
            "stages_s": {"load": load_s, **result.stage_s},
            "backend_stages_s": dict(backend.stage_times_s),
        }
        if regenerate:
            before = dict(backend.stage_times_s)
            tick = time.perf_counter()
            regen = regenerate_section(Path(tmp) / "song", regenerate, backend, seed=None, prompt=None,
                                       denoising=None, device=device, batch_size=batch_size)
            report["regenerate"] = {
                "section": regenerate, "total_s": time.perf_counter() - tick,
                "rendered_clips": regen.rendered_clips, "stages_s": regen.stage_s,
                "backend_stages_s": {k: v - before.get(k, 0.0) for k, v in backend.stage_times_s.items()},
            }
    report["peak_host_memory_mb"] = peak_host_memory_mb()
    report["peak_gpu_memory_mb"] = peak_gpu_memory_mb()
    return report


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians over repeated runs of the numbers that matter."""
    summary = {
        "runs": len(runs),
        "median_total_s": statistics.median(r["total_s"] for r in runs),
        "median_real_time_factor": statistics.median(r["real_time_factor"] for r in runs),
        "peak_host_memory_mb": max(r["peak_host_memory_mb"] for r in runs),
    }
    stages = sorted({k for r in runs for k in {**r["stages_s"], **r["backend_stages_s"]}})
    summary["median_stage_s"] = {
        k: statistics.median({**r["stages_s"], **r["backend_stages_s"]}.get(k, 0.0) for r in runs) for k in stages
    }
    regens = [r["regenerate"]["total_s"] for r in runs if "regenerate" in r]
    if regens:
        summary["median_regenerate_s"] = statistics.median(regens)
    return summary


def peak_host_memory_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def peak_gpu_memory_mb() -> Optional[float]:
    try:
        import torch
    except ImportError:  # pragma: no cover
        return None
    if not torch.cuda.is_available():
        return None
    return torch.cuda.max_memory_allocated() / 2**20
