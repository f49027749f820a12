"""Content-addressed cache of rendered clips: an unchanged clip is never rendered twice."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any, Optional

import numpy as np

from composer.backends.base import ClipRequest
from composer.files import write_atomic

#: bump when the meaning of a cached clip changes
CACHE_VERSION = 1


def clip_cache_key(request: ClipRequest, *, backend_identity: dict[str, Any]) -> str:
    """SHA-256 of everything that determines a clip's audio."""
    init_digest = _audio_digest(request.init_audio) if request.init_audio is not None else None
    payload = {
        "v": CACHE_VERSION,
        "backend": backend_identity,
        "prompt_a": request.prompt_a, "prompt_b": request.prompt_b, "alpha": request.alpha,
        "seed_a": request.seed_a, "seed_b": request.seed_b, "num_samples": request.num_samples,
        "denoising": request.denoising, "guidance": request.guidance, "steps": request.steps,
        "negative_prompt": request.negative_prompt, "init_audio_sha256": init_digest,
    }
    if request.prefix_audio is not None:  # only then, so keys of clips without one stay as they were
        payload["prefix_audio_sha256"] = _audio_digest(request.prefix_audio)
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _audio_digest(audio: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(audio, dtype=np.float32).tobytes()).hexdigest()


class ClipCache:
    """Clips stored as ``<folder>/<key>.npy`` (float32, exact)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def path(self, key: str) -> Path:
        return self.folder / f"{key}.npy"

    def get(self, key: str, *, num_samples: int) -> Optional[np.ndarray]:
        """The cached clip, or None if absent or unreadable (a damaged entry is re-rendered)."""
        path = self.path(key)
        if not path.exists():
            return None
        try:
            audio = np.load(path, allow_pickle=False)
        except (OSError, ValueError):
            return None
        if audio.shape != (num_samples,) or audio.dtype != np.float32 or not np.all(np.isfinite(audio)):
            return None
        return audio

    def put(self, key: str, audio: np.ndarray, *, retry_seed: Optional[int] = None) -> None:
        """Store a clip; ``retry_seed`` records the seed that replaced a failed render's."""
        if retry_seed is not None:  # written first: a clip file never exists without its note
            write_atomic(self._note(key), lambda tmp: tmp.write_text(json.dumps({"retry_seed": retry_seed})))
        buffer = io.BytesIO()
        np.save(buffer, np.asarray(audio, dtype=np.float32), allow_pickle=False)
        write_atomic(self.path(key), lambda tmp: tmp.write_bytes(buffer.getvalue()))

    def retry_seed(self, key: str) -> Optional[int]:
        """The seed actually used for a cached clip whose planned seed failed, else None."""
        try:
            return int(json.loads(self._note(key).read_text())["retry_seed"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _note(self, key: str) -> Path:
        return self.folder / f"{key}.json"
