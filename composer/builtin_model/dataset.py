"""Training data for the built-in model: corpus clips -> unit mel images -> latents, plus caption embeddings.

Each cache is one float16 ``.npy`` (memory-mapped while training) beside a JSON
index, written under a temporary name and renamed when complete, so an
interrupted build never leaves a cache that looks finished.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import soundfile
import torch

from composer.codec.codec import SpectrogramCodec
from composer.errors import ComposerError

SPLITS = ("train", "validation", "test")
REQUIRED_FIELDS = ("id", "split", "path", "caption", "sample_rate_hz")


@dataclass(frozen=True)
class UnitCache:
    """Unit mel images of one split, a fixed number of columns each."""

    # [clips, n_mels, frames] float16, values in [-1, 1] (1 = silence)
    images: np.ndarray
    # clip ids, row-aligned with images
    ids: list[str]
    # captions, row-aligned with images
    captions: list[str]


def read_corpus(corpus_dir: str | Path, *, split: str) -> list[dict[str, Any]]:
    """Metadata rows of one split, in file order."""
    if split not in SPLITS:
        raise ComposerError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    path = Path(corpus_dir) / "metadata.jsonl"
    if not path.is_file():
        raise ComposerError(f"missing {path}: build the corpus first (python -m composer.builtin_model.corpus.build)")
    rows = []
    for line_number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        missing = [name for name in REQUIRED_FIELDS if name not in row]
        if missing:
            raise ComposerError(f"{path}:{line_number} lacks field(s) {', '.join(missing)}")
        if row["split"] == split:
            rows.append(row)
    return rows


def clip_unit_image(audio: np.ndarray, *, codec: SpectrogramCodec, frames: int) -> np.ndarray:
    """Mono audio -> unit mel image of exactly ``frames`` columns (first columns; short clips wrap around)."""
    unit = codec.mel_to_unit(codec.audio_to_mel(audio)).cpu().numpy()
    if unit.shape[-1] < frames:
        unit = np.pad(unit, ((0, 0), (0, frames - unit.shape[-1])), mode="wrap")
    return unit[:, :frames]


def build_unit_cache(
    corpus_dir: str | Path,
    *,
    split: str,
    codec: SpectrogramCodec,
    frames: int,
    cache_dir: str | Path,
    log: Callable[[str], None] = print,
) -> UnitCache:
    """Load the split's unit cache, building it from the corpus WAVs if absent."""
    cache_dir = Path(cache_dir)
    images_path, index_path = cache_dir / f"units_{split}.npy", cache_dir / f"units_{split}.json"
    expected = {"codec": codec.params.to_dict(), "frames": frames, "corpus": str(Path(corpus_dir).resolve())}
    if index_path.is_file():
        index = json.loads(index_path.read_text())
        if {key: index.get(key) for key in expected} == expected:
            return UnitCache(np.load(images_path, mmap_mode="r"), index["ids"], index["captions"])
        log(f"{index_path} was built with other settings; rebuilding")
    rows = read_corpus(corpus_dir, split=split)
    if not rows:
        raise ComposerError(f"{Path(corpus_dir) / 'metadata.jsonl'} has no clips in split {split!r}")
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = cache_dir / f".units_{split}.partial.npy"
    images = np.lib.format.open_memmap(partial, mode="w+", dtype=np.float16,
                                       shape=(len(rows), codec.params.n_mels, frames))
    for number, row in enumerate(rows):
        audio, rate = soundfile.read(Path(corpus_dir) / row["path"], dtype="float32", always_2d=True)
        if rate != codec.params.sample_rate_hz:
            raise ComposerError(
                f"{row['path']} is {rate} Hz; the model's codec needs {codec.params.sample_rate_hz} Hz"
            )
        images[number] = clip_unit_image(audio.mean(axis=1), codec=codec, frames=frames)
        if (number + 1) % 1000 == 0 or number + 1 == len(rows):
            log(f"unit cache {split}: {number + 1}/{len(rows)} clips")
    images.flush()
    del images
    os.replace(partial, images_path)
    index = {**expected, "ids": [row["id"] for row in rows], "captions": [row["caption"] for row in rows]}
    _write_json_atomic(index_path, index)
    return UnitCache(np.load(images_path, mmap_mode="r"), index["ids"], index["captions"])


def build_caption_cache(
    captions: Sequence[str],
    *,
    encode: Callable[[Sequence[str]], tuple[torch.Tensor, torch.Tensor]],
    cache_path: str | Path,
    batch_size: int = 64,
    log: Callable[[str], None] = print,
) -> tuple[np.ndarray, np.ndarray]:
    """Token states [n, tokens, dim] and pooled vectors [n, dim] (float16) of ``captions``, cached in one .npz."""
    cache_path = Path(cache_path)
    if cache_path.is_file():
        cached = np.load(cache_path)
        if list(cached["captions"]) == list(captions):
            return cached["states"], cached["pooled"]
        log(f"{cache_path} holds other captions; rebuilding")
    states, pooled = [], []
    for start in range(0, len(captions), batch_size):
        batch_states, batch_pooled = encode(captions[start : start + batch_size])
        states.append(batch_states.cpu().numpy().astype(np.float16))
        pooled.append(batch_pooled.cpu().numpy().astype(np.float16))
        if (start // batch_size) % 50 == 0:
            log(f"caption cache: {min(start + batch_size, len(captions))}/{len(captions)}")
    result = np.concatenate(states), np.concatenate(pooled)
    partial = cache_path.with_name(f".{cache_path.stem}.partial.npz")
    np.savez(partial, states=result[0], pooled=result[1], captions=np.array(list(captions)))
    os.replace(partial, cache_path)
    return result


def build_latent_cache(
    images: np.ndarray,
    *,
    encode: Callable[[torch.Tensor], torch.Tensor],
    cache_path: str | Path,
    key: str,
    batch_size: int = 32,
    log: Callable[[str], None] = print,
) -> np.ndarray:
    """Latents of every unit image (``encode`` maps [b, 1, h, w] -> [b, c, h', w']), cached under ``key``."""
    cache_path = Path(cache_path)
    key_path = cache_path.with_suffix(".json")
    if cache_path.is_file() and key_path.is_file() and json.loads(key_path.read_text()).get("key") == key:
        return np.load(cache_path, mmap_mode="r")
    partial = cache_path.with_name(f".{cache_path.stem}.partial.npy")
    latents = None
    for start in range(0, len(images), batch_size):
        batch = torch.from_numpy(np.asarray(images[start : start + batch_size], dtype=np.float32)).unsqueeze(1)
        encoded = encode(batch).cpu().numpy().astype(np.float16)
        if latents is None:
            latents = np.lib.format.open_memmap(partial, mode="w+", dtype=np.float16,
                                                shape=(len(images), *encoded.shape[1:]))
        latents[start : start + len(encoded)] = encoded
        if (start // batch_size) % 50 == 0:
            log(f"latent cache: {min(start + batch_size, len(images))}/{len(images)}")
    latents.flush()
    del latents
    os.replace(partial, cache_path)
    _write_json_atomic(key_path, {"key": key})
    return np.load(cache_path, mmap_mode="r")


def _write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps(data))
    os.replace(partial, path)
