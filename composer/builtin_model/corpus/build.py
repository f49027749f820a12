"""Build the training corpus: ``python -m composer.builtin_model.corpus.build --out data/corpus``.

Resumable: clips already on disk are not rendered again (every file is written
through a temporary name and renamed), and metadata.jsonl / recipe.json are
rewritten from the deterministic composition at the end.
"""

from __future__ import annotations

import argparse
import functools
import json
import multiprocessing
import sys
import time
from pathlib import Path

from composer.errors import ComposerError

from .dataset import CorpusConfig, build_arrangement, n_arrangements, recipe, write_json_atomic, write_metadata
from .render import Soundfont, choose_soundfont, file_sha256


def _work(index: int, *, corpus_seed: int, out_dir: Path, soundfont: Soundfont, config: CorpusConfig, n_clips: int):
    per_arrangement = config.clips_per_arrangement
    here = min(per_arrangement, n_clips - index * per_arrangement)
    return build_arrangement(index, corpus_seed=corpus_seed, out_dir=out_dir, soundfont=soundfont, config=config, n_clips=here)


def _progress(done: int, total: int, rendered: int, started: float) -> str:
    elapsed = time.monotonic() - started
    rate = rendered / elapsed if elapsed > 0 else 0.0
    remaining = (total - done) / rate if rate > 0 else float("nan")
    eta = time.strftime("%H:%M:%S", time.gmtime(remaining)) if remaining == remaining else "--:--:--"
    return f"[corpus] {done}/{total} clips ({rendered} rendered, {done - rendered} already there) {rate:.1f} clips/s, elapsed {elapsed / 60:.1f} min, eta {eta}"


def build_corpus(*, out_dir: Path, n_clips: int, corpus_seed: int, workers: int, soundfont: Soundfont, config: CorpusConfig = CorpusConfig()) -> dict:
    """Render every missing clip, then write metadata.jsonl and recipe.json; returns the recipe."""
    if n_clips <= 0 or workers <= 0:
        raise ComposerError(f"--clips and --workers must be positive, got {n_clips} and {workers}")
    out_dir.mkdir(parents=True, exist_ok=True)
    work = functools.partial(_work, corpus_seed=corpus_seed, out_dir=out_dir, soundfont=soundfont, config=config, n_clips=n_clips)
    indices = range(n_arrangements(n_clips, config))
    rows: list[dict] = []
    rendered = 0
    started = time.monotonic()
    last_report = 0.0
    print(f"[corpus] {n_clips} clips from {len(indices)} arrangements into {out_dir} with {soundfont.engine} + {soundfont.path.name}, {workers} worker(s)", file=sys.stderr, flush=True)

    def consume(results) -> None:
        nonlocal rendered, last_report
        for clip_rows, n_rendered in results:
            rows.extend(clip_rows)
            rendered += n_rendered
            now = time.monotonic()
            if now - last_report > 30 or len(rows) == n_clips:
                print(_progress(len(rows), n_clips, rendered, started), file=sys.stderr, flush=True)
                last_report = now

    if workers == 1:
        consume(map(work, indices))
    else:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            consume(pool.imap_unordered(work, indices, chunksize=4))
    write_metadata(out_dir, rows)
    result = recipe(rows, corpus_seed=corpus_seed, config=config, soundfont=soundfont, soundfont_sha256=file_sha256(soundfont.path))
    write_json_atomic(out_dir / "recipe.json", json.dumps(result, indent=2) + "\n")
    print(f"[corpus] done: {len(rows)} clips, {rendered} rendered in {(time.monotonic() - started) / 60:.1f} min", file=sys.stderr, flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m composer.builtin_model.corpus.build", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="corpus folder (created; resumed if it exists)")
    parser.add_argument("--clips", type=int, default=20000, help="number of clips (default 20000)")
    parser.add_argument("--seed", type=int, default=0, help="corpus seed (default 0)")
    parser.add_argument("--workers", type=int, default=1, help="render processes (default 1)")
    parser.add_argument("--soundfont", type=Path, default=None, help="General MIDI .sf2 (default FluidR3_GM if installed, else pretty_midi's TimGM6mb)")
    parser.add_argument("--engine", choices=("auto", "fluidsynth", "tinysoundfont"), default="auto", help="synth engine (default auto)")
    args = parser.parse_args(argv)
    try:
        soundfont = choose_soundfont(path=args.soundfont, engine=args.engine)
        build_corpus(out_dir=args.out, n_clips=args.clips, corpus_seed=args.seed, workers=args.workers, soundfont=soundfont)
    except ComposerError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
