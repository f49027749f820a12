"""How often sampled forms put an intro after the first section or an outro before the last.

    python benchmarks/form_framing.py --seeds 40

Prints one line per case (genre, target, bpm) and the corpus's own rates for comparison.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from structure_models import shipped_model

#: (genre, target seconds, bpm) in 4/4: a typical length, then targets longer than most corpus songs
CASES = (("pop", 180, 120), ("pop", 600, 120), ("pop", 900, 120), ("pop", 480, 200),
         ("electronic", 360, 240), ("rock", 360, 240))
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "data" / "song_structures" / "structures.jsonl"


def misplaced(labels: list[str]) -> tuple[bool, bool]:
    """(an outro before the last section, an intro after the first)."""
    return "outro" in labels[:-1], "intro" in labels[1:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=40, help="seeds per case (0..N-1)")
    args = parser.parse_args()
    model = shipped_model()
    for genre, duration_s, bpm in CASES:
        tick = time.perf_counter()
        counts = [0, 0]
        for seed in range(args.seeds):
            form = model.sample_form(genre=genre, duration_s=duration_s, bpm=bpm, beats_per_bar=4, seed=seed)
            for i, flag in enumerate(misplaced([section.label for section in form])):
                counts[i] += flag
        print(f"{genre} {duration_s} s at {bpm} bpm: outro before the last {counts[0] / args.seeds:.0%}, "
              f"intro after the first {counts[1] / args.seeds:.0%} "
              f"({(time.perf_counter() - tick) / args.seeds * 1000:.0f} ms per form)")
    if CORPUS.is_file():
        songs = [json.loads(line) for line in CORPUS.read_text().splitlines() if line.strip()]
        flags = [misplaced([s["label"] for s in song["sections"]]) for song in songs]
        print(f"corpus ({len(songs)} songs): outro before the last {sum(f[0] for f in flags) / len(songs):.0%}, "
              f"intro after the first {sum(f[1] for f in flags) / len(songs):.0%}")


if __name__ == "__main__":
    main()
