"""`composer bench`'s timing plumbing and the Riffusion reference-loop baseline, on tiny models built here."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from composer.backends.base import ClipRequest
from composer.backends.builtin import BuiltinBackend
from composer.backends.riffusion import RiffusionBackend
from composer.backends.tiny_pipeline import build_tiny_pipeline_folder
from composer.baseline import (
    REFERENCE_STEPS,
    native_clip_samples,
    peak_normalised,
    reference_requests,
    reference_scheduler,
    render_reference_song,
)
from composer.bench import pick_regenerate_section, scaled_outline
from composer.builtin_model.model import build_unet, build_vae, save_builtin_model
from composer.cli import app
from composer.outline import outline_from_dict
from composer.planner import plan_song
from composer.templates_catalog import load_template
from test_builtin_model import NORM, TINY

#: the stages every backend records (composer bench prints them)
BACKEND_STAGES = {"text", "vae_encode", "denoise", "vae_decode", "inversion"}

#: the tiny builtin model with clips of 160 frames (2.54 s): one pop bar (2.14 s at 112 bpm) fits
LONG_TINY = dataclasses.replace(TINY, train_frames=160)


@pytest.fixture(scope="module")
def builtin_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    with torch.random.fork_rng():
        torch.manual_seed(0)
        vae = build_vae(LONG_TINY.vae)
        unet = build_unet(LONG_TINY.unet, latent_channels=LONG_TINY.vae.latent_channels, text=LONG_TINY.text)
    return save_builtin_model(tmp_path_factory.mktemp("builtin") / "model", config=LONG_TINY, vae=vae, unet=unet,
                              latent_norm=NORM, makes_music=False, training={})


@pytest.fixture(scope="module")
def builtin(builtin_folder: Path) -> BuiltinBackend:
    return BuiltinBackend(builtin_folder, device="cpu")


@pytest.fixture(scope="module")
def riffusion(tmp_path_factory: pytest.TempPathFactory) -> RiffusionBackend:
    folder = build_tiny_pipeline_folder(tmp_path_factory.mktemp("tiny") / "model", seed=0)
    return RiffusionBackend(folder, device="cpu")


def clip(rate: int, **changes: object) -> ClipRequest:
    num_samples = rate // 2
    fields: dict[str, object] = dict(
        prompt_a="funk groove", prompt_b="ambient pad", alpha=0.0, seed_a=3, seed_b=4, num_samples=num_samples,
        denoising=0.5, guidance=3.0, steps=4,
        init_audio=np.sin(np.arange(num_samples, dtype=np.float32) * 0.05).astype(np.float32),
    )
    fields.update(changes)
    return ClipRequest(**fields)  # type: ignore[arg-type]


def short_plan(backend, *, seconds: float = 6.0):
    outline = outline_from_dict(scaled_outline(load_template("pop"), duration_s=seconds))
    return plan_song(outline, sample_rate_hz=backend.sample_rate_hz, max_clip_s=backend.preferred_clip_s,
                     default_steps=backend.default_steps)


def test_builtin_records_the_same_stages_as_riffusion(builtin: BuiltinBackend, riffusion: RiffusionBackend):
    for backend in (builtin, riffusion):
        backend.stage_times_s.clear()
        backend.render([clip(backend.sample_rate_hz)])
        assert set(backend.stage_times_s) == BACKEND_STAGES, backend.name
        assert all(seconds > 0 for seconds in backend.stage_times_s.values())


def test_init_latent_and_text_caches_do_not_change_the_audio(builtin: BuiltinBackend):
    request = clip(builtin.sample_rate_hz, seed_a=9)
    first = builtin.render([request])[0]
    cached = builtin.render([request])[0]  # text and init latents now come from the caches
    fresh = builtin._render_one(request, cached=False)
    assert np.array_equal(first, cached) and np.array_equal(first, fresh)


def test_riffusion_reference_clip_is_the_backends_own_path(riffusion: RiffusionBackend):
    # the tiny folder ships Riffusion's PNDM config, so the reference clip must equal a plain render
    request = clip(riffusion.sample_rate_hz, steps=6, prompt_a="a prompt no other test uses")
    reference = riffusion.render_reference_clip(request, scheduler=reference_scheduler(riffusion.noise_schedule))
    assert "a prompt no other test uses" not in riffusion._embeddings  # encoded anew, not cached
    assert np.array_equal(reference, riffusion.render([request])[0])


def test_reference_loop_renders_native_clips_with_50_pndm_steps_and_hard_cuts(builtin, monkeypatch):
    from diffusers import PNDMScheduler

    plan = short_plan(builtin)
    steps: list[int] = []
    original = PNDMScheduler.set_timesteps

    def spy(self, num_inference_steps, *args, **kwargs):
        steps.append(num_inference_steps)
        return original(self, num_inference_steps, *args, **kwargs)

    monkeypatch.setattr(PNDMScheduler, "set_timesteps", spy)
    result = render_reference_song(builtin, plan, groove_root=Path("."), warmup_clips=0)
    length = native_clip_samples(builtin)
    assert length == builtin.codec.samples_for_frames(LONG_TINY.train_frames)
    assert result.clips == math.ceil(plan.total_samples / length) >= 3
    assert result.timed_clips == result.clips and not result.extrapolated
    assert steps == [REFERENCE_STEPS] * result.clips
    assert result.audio.shape == (plan.total_samples,)
    assert set(result.backend_stages_s) == BACKEND_STAGES and result.to_dict()["steps"] == 50
    # hard cuts: the song is the clips one after another, each rendered alone
    requests = reference_requests(plan, clip_samples=length, groove_root=Path("."))
    second = builtin.render_reference_clip(requests[1], scheduler=reference_scheduler(builtin.noise_schedule))
    # each clip peak-normalised to -0.1 dBFS, as Riffusion's apply_filters left it
    assert np.array_equal(result.audio[length:2 * length], peak_normalised(second))
    assert float(np.abs(result.audio[length:2 * length]).max()) == pytest.approx(10 ** (-0.1 / 20), rel=1e-6)
    assert len({r.seed_a for r in requests}) == len(requests)


def test_reference_inits_follow_the_song_bar_grid_and_prompts_have_no_negative(builtin):
    from composer.render import clip_requests

    outline = outline_from_dict({**scaled_outline(load_template("pop"), duration_s=8.0), "negative_prompt": "noise"})
    plan = plan_song(outline, sample_rate_hz=builtin.sample_rate_hz, max_clip_s=builtin.preferred_clip_s,
                     default_steps=builtin.default_steps)
    planned = clip_requests(plan, groove_root=Path("."))
    length = native_clip_samples(builtin)
    requests = reference_requests(plan, clip_samples=length, groove_root=Path("."))
    assert planned[0].negative_prompt == "noise" and {r.negative_prompt for r in requests} == {""}
    bar = plan.clips[0].end_sample - plan.clips[0].start_sample
    assert length % bar, "the test needs clips that wrap mid-bar"
    for k, request in enumerate(requests):
        start = k * length
        index = next(i for i, c in enumerate(plan.clips) if c.start_sample <= start < c.end_sample)
        clip_plan, groove = plan.clips[index], planned[index].init_audio
        # where the planned clip plays, the reference init is its groove at the same song samples
        overlap = min(length, clip_plan.end_sample - start)
        offset = plan.pad_samples + start - clip_plan.start_sample
        np.testing.assert_array_equal(request.init_audio[:overlap], groove[offset:offset + overlap])
        # past it, the clip's bars loop on: the init repeats with the clip's whole-bar span
        span = clip_plan.end_sample - clip_plan.start_sample
        np.testing.assert_array_equal(request.init_audio[span:], request.init_audio[:length - span])


def test_reference_loop_extrapolates_from_a_few_clips(builtin: BuiltinBackend):
    plan = short_plan(builtin)
    result = render_reference_song(builtin, plan, groove_root=Path("."), clips=2)
    report = result.to_dict()
    assert report["timed_clips"] == 2 and report["extrapolated"] and "2 timed clips" in report["extrapolation"]
    assert result.audio.shape == (2 * native_clip_samples(builtin),)
    assert report["song_s"] == pytest.approx(report["per_clip_s"] * report["clips"] + sum(report["stages_s"].values()))


def test_batched_griffin_lim_matches_clip_by_clip(riffusion: RiffusionBackend):
    # the CUDA path inverts a whole batch at once; the same code runs here on the CPU
    requests = [clip(riffusion.sample_rate_hz, seed_a=s, num_samples=8820, init_audio=None) for s in (1, 2, 3)]
    mels = torch.stack([riffusion.codec.audio_to_mel(np.random.default_rng(s).normal(size=8820).astype(np.float32))
                        for s in (1, 2, 3)])
    together = riffusion._decode_audio_batch(mels, requests)
    for mel, request, batched in zip(mels, requests, together):
        alone = riffusion._decode_audio(mel, request)
        np.testing.assert_allclose(batched, alone, atol=1e-4 * np.abs(alone).max())
    assert not np.allclose(together[0], together[1])  # each clip its own phase


def test_cuda_layout_and_attention_settings_apply_and_keep_the_maths(riffusion: RiffusionBackend):
    # optimize_for_cuda only runs on CUDA in the backend; here it is applied by hand on the CPU
    from composer.backends.riffusion import optimize_for_cuda

    tuned = RiffusionBackend(riffusion.folder, device="cpu")
    optimize_for_cuda(tuned.components)
    assert tuned.components.unet.conv_in.weight.is_contiguous(memory_format=torch.channels_last)
    assert {type(p).__name__ for p in tuned.components.unet.attn_processors.values()} == {"AttnProcessor2_0"}
    request = clip(riffusion.sample_rate_hz, seed_a=5)
    plain = riffusion.render([request])[0]
    np.testing.assert_allclose(tuned.render([request])[0], plain, atol=1e-3 * np.abs(plain).max())


def test_riffusion_backend_can_run_dpm_solver_in_fewer_steps(riffusion: RiffusionBackend):
    from composer.errors import BackendError

    fast = RiffusionBackend(riffusion.folder, device="cpu", scheduler="dpm++")
    assert fast.default_steps == 20 and riffusion.default_steps == 50
    assert fast.describe()["scheduler"] == "DPMSolverMultistepScheduler"  # so the clip cache keys differ
    request = clip(riffusion.sample_rate_hz, steps=8, denoising=0.6)  # img2img: starts mid-schedule
    audio = fast.render([request])[0]
    assert audio.shape == (request.num_samples,) and np.all(np.isfinite(audio))
    assert not np.allclose(audio, riffusion.render([request])[0])
    with pytest.raises(BackendError, match="scheduler"):
        RiffusionBackend(riffusion.folder, device="cpu", scheduler="euler")


@pytest.mark.parametrize("minutes", [1, 3, 6, 10])
def test_auto_regenerate_picks_an_eight_bar_section_in_every_length(minutes):
    outline = outline_from_dict(scaled_outline(load_template("pop"), duration_s=minutes * 60))
    plan = plan_song(outline, sample_rate_hz=22050, max_clip_s=5.94)
    section = plan.section_for(pick_regenerate_section(plan))
    assert section.bars == 8


def test_bench_cli_times_the_baseline_and_prints_the_speedup(builtin_folder: Path, tmp_path: Path):
    out = tmp_path / "bench.json"
    args = ["bench", "--backend", "builtin", "--model", str(builtin_folder), "--minutes", "0.1", "--repeats", "1",
            "--device", "cpu", "--json", str(out)]
    result = CliRunner().invoke(app, [*args, "--baseline-clips", "2", "--regenerate", "auto"])
    assert result.exit_code == 0, result.output
    assert "EXTRAPOLATED from 2 timed clips" in result.output and "speed-up" in result.output
    entry = json.loads(out.read_text())["results"]["0.1 min"]
    baseline = entry["baseline"]
    assert baseline["extrapolated"] is True and baseline["timed_clips"] == 2 and baseline["steps"] == 50
    assert baseline["song_s"] > 0 and entry["summary"]["speedup_vs_baseline"] > 0
    run = entry["runs"][0]
    assert set(run["backend_stages_s"]) == BACKEND_STAGES
    assert {"load", "plan", "render", "render_other", "stitch", "write"} <= set(run["stages_s"])
    assert run["regenerate"]["section"] == "intro:1"
    result = CliRunner().invoke(app, [*args, "--no-baseline", "--regenerate", "none"])
    assert result.exit_code == 0, result.output
    entry = json.loads(out.read_text())["results"]["0.1 min"]
    assert "baseline" not in entry and "regenerate" not in entry["runs"][0]


def test_unknown_model_shape_is_refused(tmp_path: Path):
    with pytest.raises(ValueError, match="sd15"):
        build_tiny_pipeline_folder(tmp_path / "m", seed=0, shape="sdxl")


@pytest.mark.slow
def test_sd15_random_folder_has_sd15_shape_and_renders(tmp_path: Path):
    """About 40 s and 5 GB of memory to build, 2 GB of disk; one 2-step clip of 0.2 s on the CPU."""
    from composer.backends.registry import load_backend

    folder = build_tiny_pipeline_folder(tmp_path / "sd15", seed=0, shape="sd15")
    backend = load_backend("riffusion", model=str(folder), device="cpu")
    unet, vae, text = backend.components.unet, backend.components.vae, backend.components.text_encoder
    assert tuple(unet.config.block_out_channels) == (320, 640, 1280, 1280)
    assert unet.config.cross_attention_dim == 768 and unet.config.attention_head_dim == 8
    assert tuple(vae.config.block_out_channels) == (128, 256, 512, 512)
    assert text.config.hidden_size == 768 and text.config.num_hidden_layers == 12
    assert 855e6 < sum(p.numel() for p in unet.parameters()) < 865e6  # SD 1.5's UNet: 859.5 M
    audio = backend.render([clip(backend.sample_rate_hz, num_samples=8820, init_audio=None, denoising=1.0,
                                 steps=2)])[0]
    assert audio.shape == (8820,) and np.all(np.isfinite(audio))


cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def relative_error(got: np.ndarray, want: np.ndarray) -> float:
    return float(np.linalg.norm(got - want) / np.linalg.norm(want))


@pytest.mark.gpu
@cuda
def test_cuda_optimisations_change_rounding_only(riffusion: RiffusionBackend):
    plain = RiffusionBackend(riffusion.folder, device="cuda", optimize=False)
    fast = RiffusionBackend(riffusion.folder, device="cuda")
    assert fast.components.unet.conv_in.weight.is_contiguous(memory_format=torch.channels_last)
    assert {type(p).__name__ for p in fast.components.unet.attn_processors.values()} == {"AttnProcessor2_0"}
    request = clip(riffusion.sample_rate_hz)
    a, b = plain.render([request])[0], fast.render([request])[0]
    assert relative_error(b, a) < 0.05  # fp16 kernels round differently, nothing more


@pytest.mark.gpu
@cuda
def test_cuda_batches_every_clip_of_one_shape(riffusion: RiffusionBackend):
    from composer.backends.registry import load_backend

    batched = load_backend("tiny-random", device="cuda")
    assert batched.max_batch_size > 1
    requests = [clip(riffusion.sample_rate_hz, seed_a=s) for s in range(6)]
    calls = []
    original = batched._render_batch
    batched._render_batch = lambda reqs, **kw: calls.append(len(reqs)) or original(reqs, **kw)
    together = batched.render(requests)
    assert calls == [6]
    alone = [batched._render_batch([r])[0] for r in requests]
    for one, many in zip(alone, together):
        assert relative_error(many, one) < 0.05


@pytest.mark.gpu
@cuda
def test_compiled_unet_renders(riffusion: RiffusionBackend):
    compiled = RiffusionBackend(riffusion.folder, device="cuda", compile=True)
    audio = compiled.render([clip(riffusion.sample_rate_hz)])[0]
    assert audio.shape == (riffusion.sample_rate_hz // 2,) and np.all(np.isfinite(audio))
