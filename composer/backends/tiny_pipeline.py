"""A tiny random-weight Stable Diffusion folder of the real classes, built in code.

It has Riffusion's layout (unet/, vae/, text_encoder/, tokenizer/, scheduler/)
and the Riffusion codec, so it exercises the whole riffusion path in a second
on a CPU. It makes noise, not music. Nothing is downloaded.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import torch

from composer.codec.params import SpectrogramParams

#: bump when the architecture or initialisation changes (names the cache folder)
TINY_FORMAT_VERSION = 2

#: codec file composer reads from a model folder root (absent: Riffusion defaults)
SPECTROGRAM_PARAMS_FILE = "spectrogram_params.json"

#: Riffusion's codec, except far fewer Griffin-Lim iterations: the tiny model
#: makes noise, and 32 iterations over 17,640-point FFTs cost ~4 s per clip here
TINY_CODEC = SpectrogramParams(griffin_lim_iters=4)

#: words whose BPE merges the tiny vocabulary carries (exercises the merge path)
TINY_VOCAB_WORDS = ("ambient", "bass", "beat", "drum", "funk", "guitar", "jazz", "piano", "rock", "synth")

#: Riffusion's scheduler (PNDM as shipped with riffusion-model-v1)
RIFFUSION_SCHEDULER_CONFIG = {
    "beta_start": 0.00085,
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "num_train_timesteps": 1000,
    "skip_prk_steps": True,
    "steps_offset": 1,
    "set_alpha_to_one": False,
}


#: model shapes the builder knows: "tiny" (seconds on a CPU) and "sd15" (Stable Diffusion 1.5's
#: UNet, VAE and CLIP text encoder at full size, random weights: Riffusion's compute for timing)
SHAPES = ("tiny", "sd15")


def build_tiny_pipeline_folder(path: str | Path, *, seed: int, shape: str = "tiny") -> Path:
    """Write a random-weight model folder of ``shape`` at ``path``; the same seed gives the same weights.

    ``shape="sd15"`` writes SD 1.5's architecture (about 1.07 G parameters, stored in fp16, ~2 GB,
    like riffusion-model-v1) with the tiny tokenizer and Riffusion's full codec: the same compute as
    Riffusion, no download, noise out.
    """
    from diffusers import PNDMScheduler
    from transformers import CLIPTextModel

    if shape not in SHAPES:
        raise ValueError(f"unknown shape {shape!r}; expected one of {', '.join(SHAPES)}")
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    vocab, merges = tiny_clip_vocabulary()
    # diffusers/transformers initialise from torch's global RNG; fork it so the
    # caller's RNG state is untouched, then overwrite every weight from `generator`
    with torch.random.fork_rng(devices=[]):
        if shape == "sd15":
            unet, vae, text_config = _sd15_models(vocab)
        else:
            unet, vae, text_config = _tiny_models(vocab)
        text_encoder = CLIPTextModel(text_config)
    generator = torch.Generator().manual_seed(seed)
    for model in (unet, vae, text_encoder):
        initialise_weights(model, generator=generator)
    if shape == "sd15":  # half the disk and load time; the loader casts to the run's dtype
        for model in (unet, vae, text_encoder):
            model.to(torch.float16)
    unet.save_pretrained(folder / "unet")
    vae.save_pretrained(folder / "vae")
    text_encoder.save_pretrained(folder / "text_encoder")
    PNDMScheduler(**RIFFUSION_SCHEDULER_CONFIG).save_pretrained(folder / "scheduler")
    write_tokenizer_folder(folder / "tokenizer", vocab=vocab, merges=merges)
    codec = TINY_CODEC if shape == "tiny" else SpectrogramParams()
    (folder / SPECTROGRAM_PARAMS_FILE).write_text(json.dumps(codec.to_dict(), indent=2, sort_keys=True))
    (folder / "model_index.json").write_text(json.dumps(_model_index(), indent=2))
    return folder


def _tiny_models(vocab: dict[str, int]) -> tuple[object, object, object]:
    """(UNet, VAE, CLIP text config) at toy width."""
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig

    # SD's shape (four blocks, three downsamplings) at toy width; text enters
    # through the mid block's cross-attention only. sample_size 8 ("trained" on 64-px images) keeps the
    # riffusion backend's trained-width floor cheap for the tests' short clips
    unet = UNet2DConditionModel(
        sample_size=8,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D",) * 4,
        up_block_types=("UpBlock2D",) * 4,
        block_out_channels=(8, 16, 32, 32),
        layers_per_block=1,
        norm_num_groups=4,
        cross_attention_dim=32,
        attention_head_dim=8,
    )
    # four blocks = 8x downsampling like SD's VAE; no attention at all
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        block_out_channels=(4, 8, 8, 16),
        layers_per_block=1,
        latent_channels=4,
        norm_num_groups=4,
        sample_size=512,
        scaling_factor=0.18215,
        mid_block_add_attention=False,
    )
    text_config = CLIPTextConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        max_position_embeddings=77,
        projection_dim=32,
        bos_token_id=vocab["<|startoftext|>"],
        eos_token_id=vocab["<|endoftext|>"],
        pad_token_id=vocab["<|endoftext|>"],
    )
    return unet, vae, text_config


def _sd15_models(vocab: dict[str, int]) -> tuple[object, object, object]:
    """(UNet, VAE, CLIP text config) with Stable Diffusion 1.5's configs (runwayml/stable-diffusion-v1-5)."""
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig

    unet = UNet2DConditionModel(
        sample_size=64,
        in_channels=4,
        out_channels=4,
        down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
        up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
        block_out_channels=(320, 640, 1280, 1280),
        layers_per_block=2,
        norm_num_groups=32,
        cross_attention_dim=768,
        attention_head_dim=8,
    )
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        block_out_channels=(128, 256, 512, 512),
        layers_per_block=2,
        latent_channels=4,
        norm_num_groups=32,
        sample_size=512,
        scaling_factor=0.18215,
    )
    # CLIP ViT-L/14's text tower; the embedding table keeps CLIP's 49,408 rows (same memory),
    # the tiny tokenizer only ever uses the first few hundred
    text_config = CLIPTextConfig(
        vocab_size=49408,
        hidden_size=768,
        intermediate_size=3072,
        num_hidden_layers=12,
        num_attention_heads=12,
        max_position_embeddings=77,
        projection_dim=768,
        hidden_act="quick_gelu",
        bos_token_id=vocab["<|startoftext|>"],
        eos_token_id=vocab["<|endoftext|>"],
        pad_token_id=vocab["<|endoftext|>"],
    )
    return unet, vae, text_config


def ensure_tiny_pipeline_folder(
    *, seed: int = 0, cache_dir: str | Path | None = None, shape: str = "tiny"
) -> Path:
    """The cached folder of ``shape`` for ``seed``, built on first use (atomically, safe across processes)."""
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    prefix = "tiny-random" if shape == "tiny" else f"{shape}-random"
    folder = root / f"{prefix}-v{TINY_FORMAT_VERSION}-seed{seed}"
    if folder.is_dir():
        return folder
    root.mkdir(parents=True, exist_ok=True)
    staging = root / f".{folder.name}.building-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    build_tiny_pipeline_folder(staging, seed=seed, shape=shape)
    try:
        staging.rename(folder)
    except OSError:
        # another process finished first; its folder is identical
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def default_cache_dir() -> Path:
    """$COMPOSER_CACHE_DIR, else ~/.cache/composer."""
    configured = os.environ.get("COMPOSER_CACHE_DIR")
    return Path(configured) if configured else Path.home() / ".cache" / "composer"


def initialise_weights(model: torch.nn.Module, *, generator: torch.Generator) -> None:
    """Deterministic init independent of library versions: norms 1, biases 0,
    other tensors N(0, 1 / fan_in) (fan_in = elements per output row)."""
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if name.endswith("bias"):
                parameter.zero_()
            elif parameter.ndim == 1:
                parameter.fill_(1.0)
            else:
                fan_in = parameter[0].numel()
                values = torch.randn(parameter.shape, generator=generator) / fan_in**0.5
                parameter.copy_(values)


def tiny_clip_vocabulary() -> tuple[dict[str, int], list[str]]:
    """CLIP-style byte-level BPE vocabulary: 256 bytes, the same with '</w>', a few merges, specials."""
    byte_chars = list(byte_to_unicode().values())
    tokens = byte_chars + [char + "</w>" for char in byte_chars]
    merges: list[str] = []
    for word in TINY_VOCAB_WORDS:
        symbols = [*word[:-1], word[-1] + "</w>"]
        merged = symbols[0]
        for symbol in symbols[1:]:
            merge = f"{merged} {symbol}"
            merged += symbol
            if merge not in merges:
                merges.append(merge)
                tokens.append(merged)
    tokens += ["<|startoftext|>", "<|endoftext|>"]
    return {token: index for index, token in enumerate(tokens)}, merges


def byte_to_unicode() -> dict[int, str]:
    """GPT-2/CLIP's reversible byte -> printable character map."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    mapping = {byte: chr(byte) for byte in printable}
    extra = 0
    for byte in range(256):
        if byte not in mapping:
            mapping[byte] = chr(256 + extra)
            extra += 1
    return dict(sorted(mapping.items()))


def write_tokenizer_folder(folder: Path, *, vocab: dict[str, int], merges: list[str]) -> None:
    """vocab.json, merges.txt and tokenizer_config.json, as in SD 1.5's tokenizer/ folder."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n" + "".join(m + "\n" for m in merges), encoding="utf-8")
    config = {
        "tokenizer_class": "CLIPTokenizer",
        "model_max_length": 77,
        "bos_token": "<|startoftext|>",
        "eos_token": "<|endoftext|>",
        "unk_token": "<|endoftext|>",
        "pad_token": "<|endoftext|>",
        "do_lower_case": True,
    }
    (folder / "tokenizer_config.json").write_text(json.dumps(config, indent=2))


def _model_index() -> dict[str, object]:
    """diffusers' pipeline index, so StableDiffusionPipeline.from_pretrained opens the folder too."""
    import diffusers

    return {
        "_class_name": "StableDiffusionPipeline",
        "_diffusers_version": diffusers.__version__,
        "feature_extractor": [None, None],
        "requires_safety_checker": False,
        "safety_checker": [None, None],
        "scheduler": ["diffusers", "PNDMScheduler"],
        "text_encoder": ["transformers", "CLIPTextModel"],
        "tokenizer": ["transformers", "CLIPTokenizer"],
        "unet": ["diffusers", "UNet2DConditionModel"],
        "vae": ["diffusers", "AutoencoderKL"],
    }


def main(argv: list[str] | None = None) -> None:
    """``python -m composer.backends.tiny_pipeline --shape sd15 --out runs/sd15_random``"""
    import argparse

    parser = argparse.ArgumentParser(description="Write a random-weight Stable Diffusion-layout model folder.")
    parser.add_argument("--shape", choices=SHAPES, default="tiny")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True, help="folder to write (load it with --model PATH)")
    args = parser.parse_args(argv)
    folder = build_tiny_pipeline_folder(args.out, seed=args.seed, shape=args.shape)
    print(folder)


if __name__ == "__main__":  # pragma: no cover
    main()
