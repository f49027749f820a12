"""The clips the evaluation generates, built exactly as users get them.

Text-to-audio uses the outline's default render settings (guidance) with denoising 1.0 and the
backend's default steps. The tempo probe goes through the real planner and renderer request path
(``plan_song`` + ``clip_requests``): a one-section song whose single clip holds as many whole
bars as the backend renders well, with the auto groove as img2img init at the default denoising.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from composer.backends.base import ClipRequest, SpectrogramBackend
from composer.outline_model import Outline, RenderSettings
from composer.planner import plan_song
from composer.render import clip_requests
from composer.timing import BarGrid, parse_time_signature


@dataclass(frozen=True)
class GrooveProbe:
    """A groove-init clip request and where its nominal bars sit in the rendered audio."""

    # the request the song renderer would send for this clip
    request: ClipRequest
    # first sample of the clip's first bar in the rendered audio (the renderer's pad)
    start_sample: int
    # samples of the clip's whole bars (rendered audio minus the pads)
    num_samples: int


def text_request(*, caption: str, seed: int, num_samples: int, backend: SpectrogramBackend) -> ClipRequest:
    """Pure text-to-audio: denoising 1.0, the outline's default guidance, the backend's default steps."""
    return ClipRequest(prompt_a=caption, prompt_b=caption, alpha=0.0, seed_a=seed, seed_b=seed,
                       num_samples=num_samples, denoising=1.0, guidance=float(RenderSettings().guidance),
                       steps=backend.default_steps)


def groove_probe(*, caption: str, bpm: float, time_signature: str, groove_style: str, seed: int,
                 backend: SpectrogramBackend) -> GrooveProbe:
    """The one clip of a 'verse' section at ``bpm`` with groove: auto, as ``composer render`` plans it."""
    beats_per_bar, beat_unit = parse_time_signature(time_signature)
    grid = BarGrid(bpm=float(bpm), beats_per_bar=beats_per_bar, beat_unit=beat_unit,
                   sample_rate_hz=backend.sample_rate_hz)
    bars = max(1, math.floor(backend.preferred_clip_s / grid.bar_s + 1e-9))  # the planner's longest clip
    outline = Outline.model_validate({
        "title": "tempo probe", "bpm": bpm, "time_signature": time_signature, "seed": seed,
        "groove_style": groove_style, "form": ["verse"],
        "sections": {"verse": {"bars": bars, "prompt": caption}},
    })
    plan = plan_song(outline, sample_rate_hz=backend.sample_rate_hz, max_clip_s=backend.preferred_clip_s,
                     default_steps=backend.default_steps)
    requests = clip_requests(plan, groove_root=Path("."))
    if len(requests) != 1:  # cannot happen while bars fit max_clip_s; guards a planner change
        raise AssertionError(f"tempo probe planned {len(requests)} clips, expected 1")
    clip = plan.clips[0]
    return GrooveProbe(request=requests[0], start_sample=plan.pad_samples,
                       num_samples=clip.end_sample - clip.start_sample)


def nominal(audio: np.ndarray, probe: GrooveProbe) -> np.ndarray:
    """The clip's whole bars out of rendered (or init) audio."""
    return np.asarray(audio)[probe.start_sample:probe.start_sample + probe.num_samples]
