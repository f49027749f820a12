"""The Riffusion reference loop, re-implemented over any backend's weights: `composer bench`'s baseline.

Riffusion (riffusion-inference's server and its ``RiffusionPipeline.riffuse``) renders a song as
independent clips of the model's native width (512 px = 5.11 s for riffusion-model-v1), one call per
clip: encode the prompts with the text encoder, img2img the seed image with 50 PNDM steps (img2img
strength = the denoising), decode the latents with the VAE, invert the spectrogram with Griffin-Lim.
Nothing is batched or cached; the clips are concatenated (hard cuts) and cut to the song length.
fp16 on CUDA, fp32 on CPU (the backends' own dtypes).

This module only decides the clips and runs that loop; the per-clip maths is the backend's own code
path (``render_reference_clip``) with a PNDM scheduler of the model's noise schedule, prompts encoded
and init latents computed anew for every clip. So the baseline runs on exactly the weights under test.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Optional, Protocol, Sequence, cast

import numpy as np

from composer.backends.base import ClipRequest, SpectrogramBackend
from composer.errors import BackendError
from composer.plan import Plan
from composer.seeds import derive_seed

#: scheduler steps of the reference loop (riffusion-inference's default num_inference_steps)
REFERENCE_STEPS = 50

#: PNDM as riffusion-model-v1 ships it (PLMS only, SD's step offset)
REFERENCE_PNDM = {"skip_prk_steps": True, "steps_offset": 1, "set_alpha_to_one": False}


class ReferenceBackend(Protocol):
    """What the loop needs from a backend (builtin and riffusion both provide it)."""

    def render_reference_clip(self, request: ClipRequest, *, scheduler: Any) -> np.ndarray: ...

    @property
    def noise_schedule(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class ReferenceResult:
    """What the reference loop did; times in seconds."""

    # clips of the native width that cover the song
    clips: int
    # clips actually rendered and timed (fewer than ``clips`` when extrapolated)
    timed_clips: int
    # untimed clips rendered first (CUDA/allocator warm-up; makes the baseline faster, not slower)
    warmup_clips: int
    # samples per clip (the model's native width)
    clip_samples: int
    # wall time of the timed clips
    clip_loop_s: float
    # building the requests (groove init audio), concatenating, writing the WAV
    stages_s: dict[str, float] = field(default_factory=dict)
    # the backend's own stages over the timed clips (text, vae_encode, denoise, vae_decode, inversion)
    backend_stages_s: dict[str, float] = field(default_factory=dict)
    # the hard-cut song (only the timed clips when extrapolated)
    audio: Optional[np.ndarray] = field(default=None, repr=False)

    @property
    def extrapolated(self) -> bool:
        return self.timed_clips < self.clips

    @property
    def per_clip_s(self) -> float:
        return self.clip_loop_s / max(self.timed_clips, 1)

    @property
    def song_s(self) -> float:
        """Time for the whole song: measured, or per-clip time x clips plus the measured other stages."""
        return self.per_clip_s * self.clips + sum(self.stages_s.values())

    def to_dict(self) -> dict[str, Any]:
        scale = self.clips / max(self.timed_clips, 1)
        return {
            "method": (f"Riffusion reference loop: one native-width clip per call, {REFERENCE_STEPS} PNDM steps "
                       "(img2img strength = denoising), no negative prompt, per-clip text encoding, VAE decode "
                       "and Griffin-Lim, each clip peak-normalised, no batching or caching, hard cuts"),
            # where it is faster than Riffusion's own code, so ours / baseline understates the speed-up
            "differences": ("spectrogram inversion is composer's codec (Riffusion ran 200 SGD steps of "
                            "InverseMelScale, then Griffin-Lim); attention is the installed diffusers' default "
                            "(fused SDPA), not Riffusion's diffusers 0.9; no MP3/JPEG export per clip"),
            "clips": self.clips,
            "timed_clips": self.timed_clips,
            "warmup_clips": self.warmup_clips,
            "extrapolated": self.extrapolated,
            "extrapolation": (f"per-clip time of {self.timed_clips} timed clips x {self.clips} clips"
                              if self.extrapolated else None),
            "clip_samples": self.clip_samples,
            "steps": REFERENCE_STEPS,
            "per_clip_s": self.per_clip_s,
            "clip_loop_s": self.clip_loop_s,
            "song_s": self.song_s,
            "stages_s": dict(self.stages_s),
            "backend_stages_s": dict(self.backend_stages_s),
            "song_backend_stages_s": {k: v * scale for k, v in self.backend_stages_s.items()},
        }


def reference_scheduler(noise_schedule: Mapping[str, Any]) -> Any:
    """A fresh PNDM scheduler (PLMS, 50 steps in the loop) on the model's own beta schedule."""
    from composer.backends.schedulers import pndm_scheduler

    return pndm_scheduler(noise_schedule, overrides=REFERENCE_PNDM)


def reference_requests(plan: Plan, *, clip_samples: int, groove_root: Path) -> list[ClipRequest]:
    """The clips of the reference loop: ``ceil(total / clip_samples)`` clips of the native width.

    Clip k starts at ``k * clip_samples`` and takes prompt, interpolation, denoising, guidance and
    groove from the planned clip playing there, with a seed derived from that clip's seed and k. Its
    init is that clip's groove (whole bars, looped) from the song position where clip k starts: one
    native-width seed image per call, as Riffusion used, on the song's bar grid. The negative prompt
    is empty: Riffusion's ``riffuse`` never passed one.
    """
    from composer.render import clip_requests

    planned = clip_requests(plan, groove_root=groove_root)
    count = math.ceil(plan.total_samples / clip_samples)
    requests = []
    for k in range(count):
        start = k * clip_samples
        index = next((i for i, c in enumerate(plan.clips) if c.start_sample <= start < c.end_sample),
                     len(plan.clips) - 1)
        source = planned[index]
        seed_a = derive_seed(source.seed_a, "reference-loop", k)
        seed_b = seed_a if source.seed_b == source.seed_a else derive_seed(source.seed_b, "reference-loop", k)
        init = None if source.init_audio is None else _groove_window(
            source.init_audio, clip=plan.clips[index], pad_samples=plan.pad_samples, start_sample=start,
            num_samples=clip_samples)
        requests.append(ClipRequest(
            prompt_a=source.prompt_a, prompt_b=source.prompt_b, alpha=source.alpha, seed_a=seed_a, seed_b=seed_b,
            num_samples=clip_samples, denoising=source.denoising, guidance=source.guidance,
            steps=REFERENCE_STEPS, negative_prompt="", init_audio=init,
        ))
    return requests


def _groove_window(init_audio: np.ndarray, *, clip: Any, pad_samples: int, start_sample: int,
                   num_samples: int) -> np.ndarray:
    """``num_samples`` of a planned clip's groove from song sample ``start_sample``: its bars (the init
    without the crossfade pads) looped, so the window stays on the song's bar grid wherever it wraps."""
    bars = init_audio[pad_samples:pad_samples + clip.end_sample - clip.start_sample]
    offset = (start_sample - clip.start_sample) % bars.shape[0]
    return np.resize(np.roll(bars, -offset), num_samples).astype(np.float32)


def peak_normalised(audio: np.ndarray, *, peak_db: float = -0.1) -> np.ndarray:
    """Audio scaled so its largest sample is ``peak_db`` dBFS (silence unchanged), as Riffusion's
    ``apply_filters`` left every clip: its decoded level depends on the picture, not on the song."""
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    return audio if peak == 0.0 else (audio * (10 ** (peak_db / 20) / peak)).astype(np.float32)


def native_clip_samples(backend: SpectrogramBackend) -> int:
    """Samples of one clip at the model's native width (riffusion: 512 px = 5.11 s)."""
    return int(round(backend.preferred_clip_s * backend.sample_rate_hz))


def render_reference_song(
    backend: SpectrogramBackend, plan: Plan, *, groove_root: Path, clips: Optional[int] = None,
    warmup_clips: int = 1, wav_path: Optional[Path] = None,
) -> ReferenceResult:
    """Run the reference loop over ``plan``; with ``clips`` only the first ``clips`` are rendered and
    timed (``ReferenceResult.song_s`` then extrapolates). ``wav_path`` gets the hard-cut audio."""
    if not hasattr(backend, "render_reference_clip"):
        raise BackendError(f"backend {backend.name!r} has no reference loop (render_reference_clip)")
    if plan.sample_rate_hz != backend.sample_rate_hz:
        raise BackendError(f"plan is at {plan.sample_rate_hz} Hz but the backend renders {backend.sample_rate_hz} Hz")
    stages: dict[str, float] = {}
    tick = time.perf_counter()
    clip_samples = native_clip_samples(backend)
    requests = reference_requests(plan, clip_samples=clip_samples, groove_root=groove_root)
    stages["requests"] = time.perf_counter() - tick
    timed: Sequence[ClipRequest] = requests if clips is None else requests[:max(1, clips)]
    ref = cast(ReferenceBackend, backend)  # checked above
    for request in requests[:warmup_clips]:
        ref.render_reference_clip(request, scheduler=reference_scheduler(ref.noise_schedule))
    before = dict(backend.stage_times_s)
    tick = time.perf_counter()
    parts = [peak_normalised(ref.render_reference_clip(r, scheduler=reference_scheduler(ref.noise_schedule)))
             for r in timed]
    clip_loop_s = time.perf_counter() - tick
    backend_stages = {k: v - before.get(k, 0.0) for k, v in backend.stage_times_s.items()}
    tick = time.perf_counter()
    audio = np.concatenate(parts)[:plan.total_samples]  # hard cuts, like Riffusion's clip after clip
    stages["stitch"] = time.perf_counter() - tick
    if wav_path is not None:
        from composer.audio_io import write_wav_16bit

        tick = time.perf_counter()
        write_wav_16bit(wav_path, audio, sample_rate_hz=plan.sample_rate_hz)
        stages["write"] = time.perf_counter() - tick
    return ReferenceResult(clips=len(requests), timed_clips=len(timed), warmup_clips=min(warmup_clips, len(requests)),
                           clip_samples=clip_samples, clip_loop_s=clip_loop_s, stages_s=stages,
                           backend_stages_s=backend_stages, audio=audio)
