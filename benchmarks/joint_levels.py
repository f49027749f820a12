"""How much the level moves across each crossfade of rendered songs, against a fade that holds the power.

For every clip joint of each song folder, the two clips are read back from the song's clip cache (with
the gains the manifest records) and mixed with the fades the take was stitched with (its manifest's
``joint_fades``: ``matched``, or ``fixed`` for takes made before composer 0.6), or with ``--law``.
Over the middle half of each fade this prints the two clips' correlation and the mix's level against the
equal-power interpolation of their powers (``cos**2 * x**2 + sin**2 * y**2``: the mix's expected power
for unrelated clips, and the clip's own power for identical ones), and the worst of the fade's eight
blocks. 0 dB means the joint neither dips nor swells; an equal-power fade of identical clips reads
+3 dB at its middle, a linear fade of unrelated ones -3 dB. Joints are grouped by whether the incoming
clip continues the outgoing one (``render.continuation``).

    python benchmarks/joint_levels.py out/edm out/ambient --json runs/joint_levels.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from composer.clip_cache import ClipCache
from composer.dsp.stitch import (
    FADE_LAWS, ClipPlacement, equal_power_fade, fade_window, fade_window_samples, joint_ramps,
)
from composer.outline import outline_from_dict
from composer.render import joint_fades
from composer.song import _overrides_from_manifest, plan_for_backend
from composer.song_folder import read_manifest


def song_joints(folder: Path, *, law: str | None = None) -> list[dict]:
    """One row per joint of the song in ``folder``: clip indices, fade kind, correlation, levels in dB."""
    manifest = read_manifest(folder)
    law = law or manifest.get("joint_fades", "fixed")
    outline = outline_from_dict(manifest["outline"], source=str(folder / "manifest.json"))
    plan = plan_for_backend(outline, manifest["backend"]["name"], _overrides_from_manifest(manifest))
    clips = {c["index"]: c for s in manifest["sections"] for c in s["clips"]}
    cache = ClipCache(folder / manifest["files"]["clips"])
    chained = bool(outline.render.continuation) and manifest["backend"]["name"] == "builtin"
    fades, pad = joint_fades(plan), plan.pad_samples
    places = [ClipPlacement(c.start_sample, c.end_sample, pad) for c in plan.clips]
    audio = {}
    for i, clip in enumerate(plan.clips):
        found = cache.get(clips[i]["cache_key"], num_samples=clip.end_sample - clip.start_sample + 2 * pad)
        if found is None:
            raise SystemExit(f"{folder}: clip {i} is not in the song's clip cache")
        audio[i] = found.astype(np.float64) * 10.0 ** (clips[i]["gain_db"] / 20.0)
    rows = []
    for i, fade in enumerate(fades):
        if fade < 8:
            continue
        continues = chained and plan.clips[i].section_index == plan.clips[i + 1].section_index
        start, stop = fade_window(joint_sample=places[i + 1].start_sample, fade_samples=fade)
        x = fade_window_samples(audio[i], places[i], start=start, stop=stop)
        y = fade_window_samples(audio[i + 1], places[i + 1], start=start, stop=stop)
        fade_out, fade_in = joint_ramps(audio[i], places[i], audio[i + 1], places[i + 1], fade_samples=fade,
                                        law=law, coherent=continues)
        cos, sin = equal_power_fade(num_samples=fade)
        mixed, held = (fade_out * x + fade_in * y) ** 2, cos ** 2 * x ** 2 + sin ** 2 * y ** 2
        middle = slice(fade // 4, fade - fade // 4)
        xm, ym = x[middle], y[middle]
        rho = float(np.sum(xm * ym) / max(np.sqrt(np.sum(xm ** 2) * np.sum(ym ** 2)), 1e-20))
        blocks = [_db(m, h) for m, h in zip(np.array_split(mixed, 8), np.array_split(held, 8))]
        rows.append({"song": folder.name, "law": law, "joint": i,
                     "section": plan.sections[plan.clips[i + 1].section_index].name,
                     "continues": continues, "fade_samples": fade, "correlation": round(rho, 3),
                     "level_db": round(_db(mixed[middle], held[middle]), 2),
                     "worst_block_db": round(max(blocks, key=abs), 2)})
    return rows


def _db(mixed_power: np.ndarray, held_power: np.ndarray) -> float:
    return float(10 * np.log10(max(np.sum(mixed_power), 1e-20) / max(np.sum(held_power), 1e-20)))


def summary(rows: list[dict]) -> dict[str, dict]:
    out = {}
    for kind, continues in (("continuing", True), ("other", False)):
        group = [r for r in rows if r["continues"] == continues]
        if not group:
            continue
        levels = np.array([r["level_db"] for r in group])
        worst = np.array([r["worst_block_db"] for r in group])
        rhos = np.array([r["correlation"] for r in group])
        out[kind] = {"joints": len(group), "level_db_mean": round(float(levels.mean()), 2),
                     "level_db_min": round(float(levels.min()), 2), "level_db_max": round(float(levels.max()), 2),
                     "level_off_by_1_db": int(np.sum(np.abs(levels) > 1.0)),
                     "worst_block_db_min": round(float(worst.min()), 2),
                     "worst_block_db_max": round(float(worst.max()), 2),
                     "correlation_mean": round(float(rhos.mean()), 3),
                     "correlation_min": round(float(rhos.min()), 3), "correlation_max": round(float(rhos.max()), 3)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("songs", nargs="+", type=Path, help="song folders written by `composer render`")
    parser.add_argument("--law", choices=FADE_LAWS, help="mix every song with this law instead of its own")
    parser.add_argument("--json", type=Path, help="also write every joint and the summary here")
    args = parser.parse_args()
    rows = [row for folder in args.songs for row in song_joints(folder, law=args.law)]
    for row in rows:
        print(f"{row['song']:>12} {row['law']:>7} joint {row['joint']:>3} {row['section']:>10} "
              f"{'continues' if row['continues'] else '':>9} rho {row['correlation']:+.3f} "
              f"level {row['level_db']:+6.2f} dB, worst block {row['worst_block_db']:+6.2f} dB")
    result = summary(rows)
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"joints": rows, "summary": result}, indent=2))


if __name__ == "__main__":
    main()
