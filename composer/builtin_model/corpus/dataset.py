"""Corpus layout: ids, seeds, splits, per-arrangement work, metadata rows and the recipe.

Layout (the training code depends on it):
``<out>/clips/<split>/<clip_id>.wav``, ``<out>/metadata.jsonl``, ``<out>/recipe.json``.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .arrangement import Arrangement, compose_arrangement
from .captions import caption
from .instruments import DRUM_KITS, INSTRUMENTS
from .render import Loudness, Soundfont, render_clips, write_wav_atomic
from .seeds import derive_seed, unit_interval
from .styles import STYLES
from .tags import clip_tags, families, gm_names

GENERATOR_VERSION = "1.0"
SPLITS = ("train", "validation", "test")


@dataclass(frozen=True)
class CorpusConfig:
    """Fixed audio and layout parameters of a corpus."""

    # sample rate of every clip
    sample_rate_hz: int = 22050
    # samples per clip: 2**17 = 5.944 s, a whole number of hops for any power-of-two hop
    clip_samples: int = 131072
    # clips cut from each arrangement (back to back, bar-aligned)
    clips_per_arrangement: int = 2
    # fractions of arrangements in train / validation / test
    split_fractions: tuple[float, float, float] = (0.90, 0.05, 0.05)
    # how clips are levelled
    loudness: Loudness = field(default_factory=Loudness)

    @property
    def clip_s(self) -> float:
        return self.clip_samples / self.sample_rate_hz


def arrangement_id(index: int) -> str:
    """Id of the index-th arrangement; styles take turns so counts stay balanced."""
    style = STYLES[index % len(STYLES)]
    return f"a{index:06d}-{style.name.replace(' ', '-')}"


def arrangement_seed(*, corpus_seed: int, arrangement_index: int) -> int:
    """Seed of one arrangement, from the corpus seed and its id."""
    return derive_seed("corpus", corpus_seed, arrangement_id(arrangement_index))


def split_of(arrangement: str, *, fractions: tuple[float, float, float] = (0.90, 0.05, 0.05)) -> str:
    """train / validation / test from a hash of the arrangement id (never the clip)."""
    u = unit_interval("split", arrangement)
    if u < fractions[0]:
        return "train"
    return "validation" if u < fractions[0] + fractions[1] else "test"


def n_arrangements(n_clips: int, config: CorpusConfig) -> int:
    return math.ceil(n_clips / config.clips_per_arrangement)


def compose_indexed(index: int, *, corpus_seed: int, config: CorpusConfig) -> Arrangement:
    """The index-th arrangement of a corpus."""
    return compose_arrangement(
        arrangement_id=arrangement_id(index), style=STYLES[index % len(STYLES)],
        seed=arrangement_seed(corpus_seed=corpus_seed, arrangement_index=index),
        clip_s=config.clip_s, n_clips=config.clips_per_arrangement,
    )


def clip_rows(arrangement: Arrangement, *, config: CorpusConfig, n_clips: int) -> list[dict]:
    """Metadata rows of the arrangement's first ``n_clips`` clips."""
    split = split_of(arrangement.arrangement_id, fractions=config.split_fractions)
    rows = []
    for plan in arrangement.clips[:n_clips]:
        clip_id = f"{arrangement.arrangement_id}-c{plan.index}"
        clip_seed = derive_seed(arrangement.seed, "clip", plan.index)
        tags = clip_tags(arrangement, plan, clip_seed=clip_seed)
        lead = INSTRUMENTS[tags.lead_key]
        rows.append({
            "id": clip_id,
            "arrangement_id": arrangement.arrangement_id,
            "split": split,
            "path": f"clips/{split}/{clip_id}.wav",
            "style": tags.style,
            "bpm": tags.bpm,
            "time_signature": tags.time_signature,
            "key": tags.key,
            "instruments": gm_names(tags),
            "instrument_families": families(tags),
            "lead_instrument": lead.gm_name,
            "lead_family": lead.family,
            "density": tags.density,
            "caption": caption(tags, rng=np.random.default_rng(derive_seed(clip_seed, "caption"))),
            "sample_rate_hz": config.sample_rate_hz,
            "num_samples": config.clip_samples,
            "seed": clip_seed,
            "clip_index": plan.index,
            "start_s": round(plan.start_bar * arrangement.bar_s, 6),
            "mood": tags.mood,
            "tempo_word": tags.tempo_word,
            "has_drums": tags.has_drums,
            "drum_kit": DRUM_KITS[tags.drum_kit][0] if tags.drum_kit is not None else None,
            "groove": arrangement.groove if tags.has_drums else None,
            "parts": {role: INSTRUMENTS[key].gm_name for role, key in tags.roles},
            "progression": list(arrangement.progression),
        })
    return rows


def build_arrangement(
    index: int, *, corpus_seed: int, out_dir: Path, soundfont: Soundfont, config: CorpusConfig, n_clips: int
) -> tuple[list[dict], int]:
    """Compose one arrangement, render and write its missing clips; returns (rows, clips rendered)."""
    arrangement = compose_indexed(index, corpus_seed=corpus_seed, config=config)
    rows = clip_rows(arrangement, config=config, n_clips=n_clips)
    missing = [row for row in rows if not (out_dir / row["path"]).is_file()]
    if not missing:
        return rows, 0
    clips = render_clips(
        arrangement, soundfont=soundfont, sample_rate_hz=config.sample_rate_hz,
        clip_samples=config.clip_samples, loudness=config.loudness,
    )
    for row in missing:
        write_wav_atomic(out_dir / row["path"], clips[row["clip_index"]], sample_rate_hz=config.sample_rate_hz)
    return rows, len(missing)


def write_json_atomic(path: Path, text: str) -> None:
    """Write text through a temporary file in the same folder, then rename."""
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    with os.fdopen(handle, "w") as stream:
        stream.write(text)
    os.replace(temp, path)


def write_metadata(out_dir: Path, rows: list[dict]) -> None:
    """metadata.jsonl, one clip per line, sorted by id."""
    lines = [json.dumps(row, sort_keys=False) for row in sorted(rows, key=lambda r: r["id"])]
    write_json_atomic(out_dir / "metadata.jsonl", "\n".join(lines) + "\n")


def recipe(
    rows: list[dict], *, corpus_seed: int, config: CorpusConfig, soundfont: Soundfont, soundfont_sha256: str
) -> dict:
    """The corpus recipe: parameters, soundfont identity and counts."""

    def count(key: str) -> dict:
        return dict(sorted(Counter(r[key] for r in rows).items()))

    def count_lists(key: str) -> dict:
        return dict(sorted(Counter(v for r in rows for v in r[key]).items()))

    arrangements_per_split = Counter(split for _, split in {(r["arrangement_id"], r["split"]) for r in rows})
    return {
        "generator_version": GENERATOR_VERSION,
        "seed": corpus_seed,
        "clips": len(rows),
        "arrangements": len({r["arrangement_id"] for r in rows}),
        "clips_per_arrangement": config.clips_per_arrangement,
        "sample_rate_hz": config.sample_rate_hz,
        "clip_samples": config.clip_samples,
        "clip_s": config.clip_s,
        "audio_format": "mono 16-bit PCM WAV",
        "loudness": asdict(config.loudness),
        "soundfont": {
            "file": soundfont.path.name, "path": str(soundfont.path), "engine": soundfont.engine,
            "sha256": soundfont_sha256, "size_bytes": soundfont.path.stat().st_size,
        },
        "split_rule": "sha256('split', arrangement_id) -> [0,1): train < {0}, validation < {0}+{1}, else test".format(*config.split_fractions),
        "split_fractions": list(config.split_fractions),
        "styles_defined": [s.name for s in STYLES],
        "instruments_defined": len(INSTRUMENTS),
        "counts": {
            "per_split": count("split"),
            "arrangements_per_split": dict(sorted(arrangements_per_split.items())),
            "per_style": count("style"),
            "per_lead_family": count("lead_family"),
            "per_lead_instrument": count("lead_instrument"),
            "per_instrument": count_lists("instruments"),
            "per_family": count_lists("instrument_families"),
            "per_density": count("density"),
            "per_time_signature": count("time_signature"),
            "per_tempo_word": count("tempo_word"),
            "with_drums": sum(1 for r in rows if r["has_drums"]),
        },
    }
