"""How far the built-in model's clips move in bfloat16, and how much faster they render.

For the first ``--clips`` distinct clips of each template (the song renderer's own requests), the clip is
rendered by a float32 and a bfloat16 backend, and the decoded mels are compared in dB as in
``steps_convergence.py`` (mean absolute difference over bins louder than -60 dB of the peak), beside the
distance between two seeds of the same clip in float32: "another sample of this prompt". Each clip renders
on one torch thread, as a song's clips do on a CPU. Also times one UNet call and one VAE decode at the
song's clip shape in each precision.

    python benchmarks/precision_check.py --templates pop,ambient,edm,lofi --clips 2
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from composer.backends.base import ClipRequest
from composer.backends.builtin import BuiltinBackend
from composer.builtin_model.sampling import decode_latents, latent_shape
from steps_convergence import distinct_requests, mel_distance_db, mel_renderer


def call_ms(backend: BuiltinBackend, *, repeats: int = 20) -> dict[str, float]:
    """Milliseconds of one guided UNet call (batch 2) and one VAE decode at the model's clip width."""
    shape = latent_shape(backend.model, frames=backend.model.train_frames)
    dtype = backend.dtype
    states, pooled = backend._embed("a clip-shaped call")
    latents = torch.randn(2, *shape, dtype=dtype)
    context, pooled = states.repeat(2, 1, 1).to(dtype), pooled.repeat(2, 1).to(dtype)
    timings = {}
    with torch.inference_mode():
        for name, call in (("unet_ms", lambda: backend.model.unet(latents, 500, encoder_hidden_states=context,
                                                                    class_labels=pooled)),
                           ("vae_decode_ms", lambda: decode_latents(backend.model, latents[:1].float()))):
            for _ in range(3):
                call()
            start = time.perf_counter()
            for _ in range(repeats):
                call()
            timings[name] = (time.perf_counter() - start) / repeats * 1000
    return timings


def timed(render: Callable[[ClipRequest], np.ndarray], request: ClipRequest) -> tuple[np.ndarray, float]:
    """(the clip's decoded mel, wall seconds of its render)."""
    start = time.perf_counter()
    mel = render(request)
    return mel, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--templates", default="pop,ambient,edm,lofi")
    parser.add_argument("--clips", type=int, default=2, help="distinct clips per template")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    torch.set_num_threads(1)
    full, half = BuiltinBackend(precision="float32"), BuiltinBackend(precision="bfloat16")
    calls = {"float32": call_ms(full), "bfloat16": call_ms(half)}
    render_full, render_half = mel_renderer(full), mel_renderer(half)
    rows = []
    for name in args.templates.split(","):
        for index, request in enumerate(distinct_requests(full, name, clips=args.clips)):
            reference, seconds_full = timed(render_full, request)
            mel, seconds_half = timed(render_half, request)
            seconds = {"float32": seconds_full, "bfloat16": seconds_half}
            other_seed = render_full(dataclasses.replace(request, seed_a=request.seed_a + 1,
                                                         seed_b=request.seed_b + 1))
            row = {"template": name, "clip": index, "bfloat16_distance_db": mel_distance_db(mel, reference),
                   "seed_distance_db": mel_distance_db(other_seed, reference), "seconds": seconds}
            rows.append(row)
            print(f"{name} clip {index}: bfloat16 {row['bfloat16_distance_db']:.2f} dB from float32, another seed "
                  f"{row['seed_distance_db']:.2f} dB; {seconds['float32']:.2f} s float32, "
                  f"{seconds['bfloat16']:.2f} s bfloat16", flush=True)
    summary = {
        "clips": len(rows),
        "mean_bfloat16_distance_db": float(np.mean([r["bfloat16_distance_db"] for r in rows])),
        "max_bfloat16_distance_db": float(np.max([r["bfloat16_distance_db"] for r in rows])),
        "mean_seed_distance_db": float(np.mean([r["seed_distance_db"] for r in rows])),
        # the first clip pays each backend's first calls: left out of the times
        "mean_clip_s": {p: float(np.mean([r["seconds"][p] for r in rows[1:] or rows])) for p in calls},
        "calls_ms": calls,
    }
    print(f"{len(rows)} clips: bfloat16 moves the mel {summary['mean_bfloat16_distance_db']:.2f} dB on average "
          f"(max {summary['max_bfloat16_distance_db']:.2f}), another seed {summary['mean_seed_distance_db']:.2f} dB; "
          f"per clip {summary['mean_clip_s']['float32']:.2f} s float32, {summary['mean_clip_s']['bfloat16']:.2f} s "
          "bfloat16")
    for precision, timing in calls.items():
        print(f"  {precision}: UNet call {timing['unet_ms']:.1f} ms, VAE decode {timing['vae_decode_ms']:.1f} ms")
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
