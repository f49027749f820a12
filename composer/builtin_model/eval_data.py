"""Corpus access for the evaluation: checked metadata rows, clip audio, test halves, clip features."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import soundfile

from composer.builtin_model.dataset import read_corpus
from composer.builtin_model.quality import mel_features
from composer.errors import ComposerError

#: metadata fields the evaluation reads beyond the corpus reader's own
EVAL_FIELDS = ("arrangement_id", "style", "lead_family", "bpm", "time_signature")


def load_rows(corpus_dir: Path, *, split: str) -> list[dict[str, Any]]:
    """Metadata rows of one split, every evaluation field present; a missing folder or empty split is an error."""
    corpus_dir = Path(corpus_dir)
    if not corpus_dir.is_dir():
        raise ComposerError(f"corpus folder {corpus_dir} does not exist: build it with "
                            f"python -m composer.builtin_model.corpus.build --out {corpus_dir}")
    rows = read_corpus(corpus_dir, split=split)
    if not rows:
        raise ComposerError(f"{corpus_dir / 'metadata.jsonl'} has no clips in the {split!r} split")
    for row in rows:
        missing = [name for name in EVAL_FIELDS if name not in row]
        if missing:
            raise ComposerError(f"{corpus_dir / 'metadata.jsonl'}: clip {row['id']!r} lacks field(s) "
                                f"{', '.join(missing)}")
    return rows


def read_clip(corpus_dir: Path, row: dict[str, Any], *, sample_rate_hz: int) -> np.ndarray:
    """A corpus clip as mono float32 at ``sample_rate_hz`` (resampled when the corpus differs)."""
    path = Path(corpus_dir) / row["path"]
    try:
        audio, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, OSError) as exc:
        raise ComposerError(f"{path} (clip {row['id']!r}): cannot read audio: {exc}") from None
    mono = audio.mean(axis=1)
    if mono.size == 0:
        raise ComposerError(f"{path} (clip {row['id']!r}) is empty")
    if rate != sample_rate_hz:
        import librosa

        mono = librosa.resample(mono, orig_sr=rate, target_sr=sample_rate_hz)
    return mono.astype(np.float32)


def split_halves(rows: list[dict[str, Any]], *, seed: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(half A, half B) by arrangement (clips of one arrangement never straddle), each shuffled by ``seed``."""
    rng = np.random.default_rng(seed)
    arrangements = sorted({row["arrangement_id"] for row in rows})
    if len(arrangements) < 2:
        raise ComposerError(f"the evaluated split needs at least two arrangements, it has {len(arrangements)}")
    order = rng.permutation(len(arrangements))
    in_a = {arrangements[i] for i in order[: (len(arrangements) + 1) // 2]}
    half_a = [row for row in rows if row["arrangement_id"] in in_a]
    half_b = [row for row in rows if row["arrangement_id"] not in in_a]
    return [half_a[i] for i in rng.permutation(len(half_a))], [half_b[i] for i in rng.permutation(len(half_b))]


class ClipFeaturizer:
    """Audio -> classifier features and sheet pictures, through the model's own codec."""

    def __init__(self, codec: Any) -> None:
        self.codec = codec
        self.frames_per_minute = 60.0 * codec.params.sample_rate_hz / codec.params.hop_length

    def __call__(self, audio: np.ndarray) -> np.ndarray:
        mel = self.codec.audio_to_mel(np.asarray(audio, dtype=np.float32)).cpu().numpy()
        return mel_features(mel, frames_per_minute=self.frames_per_minute)

    def round_trip(self, audio: np.ndarray, *, seed: int) -> np.ndarray:
        """Audio -> mel -> Griffin-Lim audio: what the codec alone does to a clip (no diffusion)."""
        import torch

        mel = self.codec.audio_to_mel(np.asarray(audio, dtype=np.float32))
        return self.codec.mel_to_audio(mel, generator=torch.Generator().manual_seed(seed), num_samples=len(audio))

    def unit_image(self, audio: np.ndarray) -> np.ndarray:
        """[n_mels, frames] in [-1, 1] (1 = silence, row 0 = highest band), as the model sees it."""
        return self.codec.mel_to_unit(self.codec.audio_to_mel(np.asarray(audio, dtype=np.float32))).cpu().numpy()
