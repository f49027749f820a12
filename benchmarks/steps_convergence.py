"""How far the built-in model's clips move when DPM-Solver++ runs fewer steps.

For the first ``--clips`` distinct clips of each template (the song renderer's own requests: groove
init, the outline's denoising and guidance), the clip is rendered at ``--reference-steps`` (the
converged sample) and at each of ``--steps``, and the decoded mel spectrograms are compared in dB
(mean absolute difference over bins louder than -60 dB of the clip's peak). The scale beside it is
the same distance between two seeds of the same clip at the model's default steps: what "another
sample of this prompt" measures. A step count whose error is small against that scale renders the
same music as the converged sampler; one whose error approaches it renders something else.

    python benchmarks/steps_convergence.py --templates pop,ambient,edm,lofi --clips 6 --steps 20,14,12,10
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path
from typing import Callable

import numpy as np

from composer.backends.base import ClipRequest
from composer.backends.builtin import BuiltinBackend
from composer.outline import load_outline
from composer.planner import plan_song
from composer.render import clip_requests
from composer.templates_catalog import template_path

FLOOR_DB = -60.0


def mel_db(mel: np.ndarray) -> np.ndarray:
    """Mel magnitude -> power in dB relative to the clip's peak, floored at ``FLOOR_DB``."""
    power = np.square(mel.astype(np.float64))
    return np.maximum(10 * np.log10(power / power.max() + 1e-12), FLOOR_DB)


def mel_distance_db(a: np.ndarray, b: np.ndarray) -> float:
    """Mean |dB difference| over the bins where either clip is above the floor."""
    da, db = mel_db(a), mel_db(b)
    loud = (da > FLOOR_DB) | (db > FLOOR_DB)
    return float(np.mean(np.abs(da - db)[loud]))


def mel_renderer(backend: BuiltinBackend) -> Callable[[ClipRequest], np.ndarray]:
    """request -> the decoded mel the backend hands to Griffin-Lim (before inversion adds its own error)."""
    mels: list[np.ndarray] = []
    original = backend.codec.mel_to_audio

    def capture(mel, **kwargs):
        mels.append(mel.detach().float().cpu().numpy().copy())
        return original(mel, **kwargs)

    backend.codec.mel_to_audio = capture

    def render_mel(request: ClipRequest) -> np.ndarray:
        mels.clear()
        backend.render([request])
        return mels[-1]

    return render_mel


def distinct_requests(backend: BuiltinBackend, template: str, *, clips: int) -> list[ClipRequest]:
    """The first ``clips`` distinct clip requests of a template's song, as the renderer builds them."""
    outline = load_outline(template_path(template))
    plan = plan_song(outline, sample_rate_hz=backend.sample_rate_hz, max_clip_s=backend.preferred_clip_s,
                     default_steps=backend.default_steps)
    seen, picked = set(), []
    for request in clip_requests(plan, groove_root=template_path(template).parent):
        key = (request.prompt_a, request.prompt_b, request.seed_a, request.seed_b, request.alpha, request.num_samples)
        if key not in seen:
            seen.add(key)
            picked.append(request)
    return picked[:clips]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--templates", default="pop,ambient,edm,lofi")
    parser.add_argument("--clips", type=int, default=6, help="distinct clips per template")
    parser.add_argument("--steps", default="20,14,12,10", help="step counts to compare")
    parser.add_argument("--reference-steps", type=int, default=50)
    parser.add_argument("--precision", default="auto", help="auto, float32 or bfloat16 (composer --precision)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    backend = BuiltinBackend(precision=args.precision)
    render_mel = mel_renderer(backend)
    candidates = [int(s) for s in args.steps.split(",")]
    rows = []
    for name in args.templates.split(","):
        for index, request in enumerate(distinct_requests(backend, name, clips=args.clips)):
            reference = render_mel(dataclasses.replace(request, steps=args.reference_steps))
            other_seed = render_mel(dataclasses.replace(request, steps=backend.default_steps,
                                                        seed_a=request.seed_a + 1, seed_b=request.seed_b + 1))
            renders: dict[int, tuple[np.ndarray, float]] = {}
            for steps in dict.fromkeys([backend.default_steps, *candidates]):  # the default once, not twice
                start = time.perf_counter()
                renders[steps] = render_mel(dataclasses.replace(request, steps=steps)), time.perf_counter() - start
            default = renders[backend.default_steps][0]
            row = {"template": name, "clip": index, "denoising": request.denoising,
                   "seed_distance_db": mel_distance_db(default, other_seed), "error_db": {}, "seconds": {}}
            for steps in candidates:
                mel, row["seconds"][steps] = renders[steps]
                row["error_db"][steps] = mel_distance_db(mel, reference)
            rows.append(row)
            print(f"{name} clip {index}: seed distance {row['seed_distance_db']:.2f} dB; error vs "
                  f"{args.reference_steps} steps " + ", ".join(f"{s}: {row['error_db'][s]:.2f}" for s in candidates),
                  flush=True)

    seed_scale = float(np.mean([r["seed_distance_db"] for r in rows]))
    summary = {
        "clips": len(rows),
        "reference_steps": args.reference_steps,
        "mean_seed_distance_db": seed_scale,
        "mean_error_db": {s: float(np.mean([r["error_db"][s] for r in rows])) for s in candidates},
        "max_error_db": {s: float(np.max([r["error_db"][s] for r in rows])) for s in candidates},
        "mean_render_s": {s: float(np.mean([r["seconds"][s] for r in rows])) for s in candidates},
    }
    print(f"{len(rows)} clips; another seed differs by {seed_scale:.2f} dB on average")
    for s in candidates:
        print(f"  {s:>3} steps: error {summary['mean_error_db'][s]:.2f} dB mean, {summary['max_error_db'][s]:.2f} "
              f"max ({summary['mean_error_db'][s] / seed_scale:.0%} of the seed distance), "
              f"{summary['mean_render_s'][s]:.2f} s per clip")
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
