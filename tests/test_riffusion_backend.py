"""Riffusion backend on the tiny random-weight folder, loaded like a real checkpoint."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from composer.backends.base import ClipRequest
from composer.backends.interpolation import lerp, slerp
from composer.backends.model_folder import weights_fingerprint
from composer.backends.riffusion import (
    RiffusionBackend,
    TinyRandomBackend,
    batch_requests,
    img2img_start,
    load_backend_from_folder,
)
from composer.backends.tiny_pipeline import build_tiny_pipeline_folder, ensure_tiny_pipeline_folder
from composer.errors import BackendError, ModelFolderError

SAMPLE_RATE_HZ = 44_100
HALF_SECOND = SAMPLE_RATE_HZ // 2


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_pipeline_folder(tmp_path_factory.mktemp("tiny") / "model", seed=0)


@pytest.fixture(scope="module")
def backend(tiny_folder: Path) -> RiffusionBackend:
    return load_backend_from_folder(tiny_folder, device="cpu")


def request(**changes: object) -> ClipRequest:
    fields: dict[str, object] = dict(
        prompt_a="jazz piano", prompt_b="rock drums", alpha=0.0, seed_a=11, seed_b=22,
        num_samples=HALF_SECOND, steps=6,
    )
    fields.update(changes)
    return ClipRequest(**fields)  # type: ignore[arg-type]


def click_track(num_samples: int) -> np.ndarray:
    audio = np.zeros(num_samples, dtype=np.float32)
    audio[:: SAMPLE_RATE_HZ // 2] = 1.0
    t = np.arange(num_samples) / SAMPLE_RATE_HZ
    return audio + (0.3 * np.sin(2 * np.pi * 110 * t)).astype(np.float32)


def test_slerp_keeps_endpoints_and_norm() -> None:
    generator = torch.Generator().manual_seed(0)
    a, b = torch.randn(4, 8, 8, generator=generator), torch.randn(4, 8, 8, generator=generator)
    assert torch.equal(slerp(0.0, a, b), a)
    torch.testing.assert_close(slerp(1.0, a, b), b)
    halfway = slerp(0.5, a, b)
    # lerp would shrink independent Gaussians' norm by ~1/sqrt(2); slerp keeps it
    assert float(halfway.norm()) == pytest.approx(float(a.norm() + b.norm()) / 2, rel=0.05)
    assert float(lerp(0.5, a, b).norm()) < 0.8 * float(halfway.norm())
    torch.testing.assert_close(slerp(0.5, a, a * 1.0001), lerp(0.5, a, a * 1.0001))


def test_tiny_folder_is_deterministic_in_its_seed(tiny_folder: Path, tmp_path: Path) -> None:
    weights = Path("unet") / "diffusion_pytorch_model.safetensors"
    again = build_tiny_pipeline_folder(tmp_path / "again", seed=0)
    other = build_tiny_pipeline_folder(tmp_path / "other", seed=1)
    assert (again / weights).read_bytes() == (tiny_folder / weights).read_bytes()
    assert (other / weights).read_bytes() != (tiny_folder / weights).read_bytes()
    # same architecture, other weights: the identity hash must tell them apart
    assert weights_fingerprint(again) == weights_fingerprint(tiny_folder) != weights_fingerprint(other)
    for part in ("unet", "vae", "text_encoder", "tokenizer", "scheduler"):
        assert (tiny_folder / part).is_dir()


def test_width_rounds_up_to_the_vae_factor_and_never_below_the_trained_width(backend: RiffusionBackend) -> None:
    assert backend.vae_scale_factor == 8
    # the UNet config's latent sample_size times the VAE factor: 8 x 8 for the tiny folder, 64 x 8 = 512 (5.11 s)
    # for riffusion-model-v1, whose fine-tune saw only 512x512 spectrograms
    assert backend.trained_width_px == 64
    assert backend.width_for_samples(225_351) == 512
    assert backend.width_for_samples(30_000) == 72  # 69 frames -> 72 px
    assert backend.width_for_samples(HALF_SECOND) == 64  # 51 frames -> 56 px, raised to the trained 64
    assert backend.width_for_samples(10) == 64


def test_a_short_clip_is_denoised_at_the_trained_width_and_trimmed(tiny_folder: Path) -> None:
    backend = load_backend_from_folder(tiny_folder, device="cpu")
    seen: list[tuple[int, ...]] = []
    unet = backend._unet

    def recording_unet(sample: torch.Tensor, *args: object, **kwargs: object) -> object:
        seen.append(tuple(sample.shape))
        return unet(sample, *args, **kwargs)

    backend._unet = recording_unet
    audio = backend.render([request(num_samples=10_000, init_audio=click_track(10_000), denoising=0.6)])[0]
    assert audio.shape == (10_000,) and np.all(np.isfinite(audio))
    assert seen and all(shape[-1] == 64 // 8 for shape in seen)  # 23 frames would be 24 px; the UNet saw 64


def test_renders_exact_lengths_with_and_without_init_audio(backend: RiffusionBackend) -> None:
    requests = [
        request(),
        request(num_samples=17_000, alpha=0.5, init_audio=click_track(17_000), denoising=0.6),
        request(num_samples=225_351, alpha=1.0, steps=2),
    ]
    outputs = backend.render(requests)
    for clip, audio in zip(requests, outputs):
        assert audio.dtype == np.float32 and audio.shape == (clip.num_samples,)
        assert np.all(np.isfinite(audio)) and np.abs(audio).max() > 0


def test_same_request_gives_identical_audio(backend: RiffusionBackend, tiny_folder: Path) -> None:
    clip = request(alpha=0.5, init_audio=click_track(HALF_SECOND), denoising=0.7)
    first = backend.render([clip])[0]
    assert np.array_equal(first, backend.render([clip])[0])
    assert np.array_equal(first, load_backend_from_folder(tiny_folder, device="cpu").render([clip])[0])


def test_alpha_zero_is_the_pure_prompt_a_seed_a_render(backend: RiffusionBackend) -> None:
    interpolated, pure, halfway, other_seed = backend.render([
        request(alpha=0.0),
        request(prompt_b="jazz piano", seed_b=11, alpha=0.0),
        request(alpha=0.5),
        request(seed_a=12),
    ])
    assert np.array_equal(interpolated, pure)
    assert not np.allclose(interpolated, halfway)
    assert not np.allclose(interpolated, other_seed)


def riffusion_start(steps: int, strength: float, *, steps_offset: int, num_timesteps: int) -> tuple[int, int]:
    """Riffusion's interpolate_img2img, restated: (index of the timestep the seed image is noised at, index of the
    first timestep run)."""
    init_timestep = min(int(steps * strength) + steps_offset, steps)
    return num_timesteps - init_timestep, max(steps - init_timestep + steps_offset, 0)


@pytest.mark.parametrize("strength", [round(0.01 * n, 2) for n in range(1, 101)])
def test_img2img_starts_where_riffusion_starts_with_pndm(strength: float) -> None:
    # PNDM (skip_prk_steps, as riffusion-model-v1) has 51 timesteps for 50 steps: the two indices agree
    noised_at, first_run = riffusion_start(50, strength, steps_offset=1, num_timesteps=51)
    assert img2img_start(50, strength, steps_offset=1) == first_run == noised_at


def test_img2img_start_at_the_ends_of_the_range() -> None:
    assert img2img_start(50, 1.0, steps_offset=1) == 1  # t=961: the seed image keeps 8.5% of its amplitude
    assert img2img_start(50, 0.75, steps_offset=1) == 13
    assert img2img_start(50, 0.01, steps_offset=1) == 50  # PNDM's last timestep alone
    assert img2img_start(50, 1.0, steps_offset=0) == 0


def test_init_audio_steers_img2img_even_at_strength_one(backend: RiffusionBackend) -> None:
    # as in Riffusion, strength 1.0 noises the seed image at the second timestep rather than starting from
    # pure noise, so the image still shows through; without init audio a clip starts from pure noise
    text_only, strength_one, other_init, img2img = backend.render([
        request(alpha=0.5),
        request(alpha=0.5, init_audio=click_track(HALF_SECOND), denoising=1.0),
        request(alpha=0.5, init_audio=click_track(HALF_SECOND)[::-1].copy(), denoising=1.0),
        request(alpha=0.5, init_audio=click_track(HALF_SECOND), denoising=0.4),
    ])
    assert not np.allclose(text_only, strength_one)
    assert not np.allclose(strength_one, other_init)
    assert not np.allclose(text_only, img2img)


def unet_calls(backend: RiffusionBackend, monkeypatch: pytest.MonkeyPatch, clip: ClipRequest) -> int:
    calls = []
    unet = backend._unet
    monkeypatch.setattr(backend, "_unet", lambda *args, **kwargs: calls.append(1) or unet(*args, **kwargs))
    backend.render([clip])
    monkeypatch.setattr(backend, "_unet", unet)
    return len(calls)


def test_pndm_steps_run_as_in_riffusion(backend: RiffusionBackend, monkeypatch: pytest.MonkeyPatch) -> None:
    init = click_track(HALF_SECOND)
    assert unet_calls(backend, monkeypatch, request()) == 7  # text only: PNDM's 6 + 1 timesteps
    assert unet_calls(backend, monkeypatch, request(init_audio=init, denoising=1.0)) == 6
    assert unet_calls(backend, monkeypatch, request(init_audio=init, denoising=0.5)) == 4  # int(3) + offset 1
    assert unet_calls(backend, monkeypatch, request(init_audio=init, denoising=0.05)) == 1


def test_guidance_at_or_below_one_follows_the_prompt_alone(backend: RiffusionBackend) -> None:
    # Riffusion (like diffusers) applies classifier-free guidance only above 1
    weak, one, guided = backend.render([request(guidance=0.5), request(guidance=1.0), request(guidance=3.0)])
    np.testing.assert_allclose(weak, one, atol=1e-6 * np.abs(one).max())
    assert not np.allclose(one, guided)
    # mixed in one batch, the weak clip is still unguided
    batched = RiffusionBackend(backend.folder, device="cpu", max_batch_size=2)
    together = batched.render([request(guidance=0.5), request(guidance=3.0)])
    np.testing.assert_allclose(together[0], one, atol=1e-3 * np.abs(one).max())


def test_batching_groups_by_schedule_and_keeps_order(tiny_folder: Path) -> None:
    batched = RiffusionBackend(tiny_folder, device="cpu", max_batch_size=2)
    requests = [request(seed_a=1), request(num_samples=40_000), request(seed_a=2), request(seed_a=3)]
    groups = batch_requests(requests, key=batched._schedule_key, max_batch_size=2)
    assert groups == [[0, 2], [3], [1]]
    alone = [batched.render([clip])[0] for clip in requests]
    together = batched.render(requests)
    for single, grouped in zip(alone, together):
        # batching changes float rounding only
        np.testing.assert_allclose(grouped, single, atol=1e-3 * np.abs(single).max())


def test_describe_is_json_and_names_what_changes_output(backend: RiffusionBackend) -> None:
    identity = backend.describe()
    assert json.loads(json.dumps(identity)) == identity
    assert identity["backend"] == "riffusion" and identity["scheduler"] == "PNDMScheduler"
    assert identity["codec"] == backend.codec.params.to_dict()
    assert identity["codec"]["n_mels"] == 512 and identity["codec"]["sample_rate_hz"] == SAMPLE_RATE_HZ
    assert identity["dtype"] == "float32" and identity["device"] == "cpu"
    assert identity["weights"] == weights_fingerprint(backend.folder)


def test_tiny_random_backend_builds_its_cache_once(tmp_path: Path) -> None:
    tiny = TinyRandomBackend(seed=3, cache_dir=tmp_path, device="cpu")
    assert tiny.name == "tiny-random" and tiny.makes_music is False
    assert tiny.sample_rate_hz == SAMPLE_RATE_HZ and tiny.preferred_clip_s == pytest.approx(5.11)
    folder = ensure_tiny_pipeline_folder(seed=3, cache_dir=tmp_path)
    assert tiny.folder == folder and [p.name for p in tmp_path.iterdir()] == [folder.name]
    stamp = (folder / "unet" / "config.json").stat().st_mtime_ns
    assert ensure_tiny_pipeline_folder(seed=3, cache_dir=tmp_path) == folder
    assert (folder / "unet" / "config.json").stat().st_mtime_ns == stamp


@pytest.mark.parametrize(
    ("remove", "named"),
    [("vae", "vae/"), ("unet/diffusion_pytorch_model.safetensors", "unet/diffusion_pytorch_model"),
     ("scheduler/scheduler_config.json", "scheduler/scheduler_config.json")],
)
def test_incomplete_folder_names_the_path_and_the_layout(
    tiny_folder: Path, tmp_path: Path, remove: str, named: str
) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(tiny_folder, broken)
    target = broken / remove
    shutil.rmtree(target) if target.is_dir() else target.unlink()
    with pytest.raises(ModelFolderError) as caught:
        load_backend_from_folder(broken, device="cpu")
    message = str(caught.value)
    assert str(broken) in message and named in message and "text_encoder/" in message


def test_missing_folder_is_a_model_folder_error(tmp_path: Path) -> None:
    with pytest.raises(ModelFolderError, match="does not exist"):
        load_backend_from_folder(tmp_path / "nowhere", device="cpu")


def test_very_low_strength_still_denoises_one_step(backend: RiffusionBackend) -> None:
    audio = backend.render([request(init_audio=click_track(HALF_SECOND), denoising=0.05)])[0]
    assert audio.shape == (HALF_SECOND,) and np.all(np.isfinite(audio))


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_without_a_gpu_is_a_backend_error(tiny_folder: Path) -> None:
    with pytest.raises(BackendError, match="CUDA"):
        load_backend_from_folder(tiny_folder, device="cuda")


def test_half_precision_loop_matches_fp32_up_to_rounding(tiny_folder: Path, backend: RiffusionBackend,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    # the CUDA path's dtype plumbing (fp16 weights, latents and guidance; SDPA + channels_last; float32
    # audio out), run on the CPU, which computes fp16 too: a dtype slip fails here, not on a rare GPU
    from composer.backends import riffusion

    monkeypatch.setattr(riffusion, "resolve_device", lambda device: (torch.device("cpu"), torch.float16))
    half = RiffusionBackend(tiny_folder, device="cpu", max_batch_size=3)
    riffusion.optimize_for_cuda(half.components)
    assert half.describe()["dtype"] == "float16" and half.components.unet.dtype == torch.float16
    clips = [request(), request(alpha=0.5, init_audio=click_track(HALF_SECOND), denoising=0.7),
             request(alpha=0.5, seed_a=3)]
    for full, rounded in zip(backend.render(clips), half.render(clips)):
        assert rounded.dtype == np.float32 and rounded.shape == full.shape
        assert np.corrcoef(full, rounded)[0, 1] > 0.999


@pytest.mark.slow
def test_compiled_unet_matches_eager_on_cpu(tiny_folder: Path, backend: RiffusionBackend) -> None:
    # torch.compile through inductor's CPU code path (about 40 s of compiling); the GPU test runs the CUDA one
    compiled = RiffusionBackend(tiny_folder, device="cpu", compile=True)
    clip = request(alpha=0.5, init_audio=click_track(HALF_SECOND), denoising=0.7)
    assert np.corrcoef(backend.render([clip])[0], compiled.render([clip])[0])[0, 1] > 0.999


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_tiny_folder_renders_on_cuda_in_fp16(tiny_folder: Path) -> None:
    gpu = load_backend_from_folder(tiny_folder, device="auto")
    assert gpu.describe()["device"] == "cuda" and gpu.describe()["dtype"] == "float16"
    clip = request(alpha=0.5, init_audio=click_track(HALF_SECOND), denoising=0.7)
    first = gpu.render([clip])[0]
    assert first.shape == (HALF_SECOND,) and np.all(np.isfinite(first))
    assert np.array_equal(first, gpu.render([clip])[0])


def test_preferred_batch_is_what_one_unet_call_takes_and_at_least_four(tiny_folder: Path) -> None:
    assert RiffusionBackend(tiny_folder, device="cpu").preferred_batch_size == 4  # a CPU renders one at a time
    assert RiffusionBackend(tiny_folder, device="cpu", max_batch_size=32).preferred_batch_size == 32
