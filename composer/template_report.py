"""Render outlines (every template by default), evaluate each song, and check the targets in one table.

This is how the tempo / joint / structure / loudness targets are reported for a
backend: the same `render` and `evaluate` a user runs, once per outline.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from composer.backends.base import SpectrogramBackend
from composer.evaluation import TARGETS, evaluate_song


@dataclass(frozen=True)
class TemplateRow:
    """The measured figures of one rendered outline, beside the targets."""

    # outline name (the template's file stem)
    name: str
    # song length, seconds
    duration_s: float
    # planned tempo, bpm
    bpm: float
    # share of 10-s windows whose tempo is within 2 % of the plan
    tempo_windows_within_2pct: float
    # mir_eval beat F-measure against the planned beat grid
    beat_f_measure: float
    # joints (clip and section) whose seam score or sample step was flagged, and how many joints there are
    joints_flagged: int
    joints: int
    # mir_eval boundary F at one bar against the planned section starts
    boundary_f_measure: float
    # mean similarity of same-name and of different-name section pairs (NaN when the form has no repeat)
    same_name_similarity: float
    different_name_similarity: float
    # largest loudness step between neighbouring sections beyond what the outline's gain_db asked for, dB
    max_unasked_jump_db: float
    # wall time of the render, seconds
    render_s: float

    def passes(self) -> dict[str, bool]:
        """Each target on its own: True where this song meets it."""
        repeats = (self.same_name_similarity > self.different_name_similarity
                   if math.isfinite(self.same_name_similarity) else True)  # nothing repeats: nothing to compare
        return {
            "tempo": self.tempo_windows_within_2pct >= TARGETS["tempo_windows_within_2pct"],
            "beats": self.beat_f_measure >= TARGETS["beat_f_measure"],
            "joints": self.joints_flagged == 0,
            "boundaries": self.boundary_f_measure >= TARGETS["boundary_f_measure"],
            "repeats": repeats,
            "loudness": self.max_unasked_jump_db <= TARGETS["max_section_loudness_jump_db"],
        }


def report_outlines(outlines: Sequence[tuple[str, Path]], out_dir: Path, backend: SpectrogramBackend, *,
                    device: str, on_done: Optional[Callable[[TemplateRow], None]] = None) -> list[TemplateRow]:
    """Render each (name, outline path) into ``out_dir/name`` with ``backend`` and evaluate it."""
    from composer.song import render_outline

    rows = []
    for name, path in outlines:
        result = render_outline(path, out_dir / name, backend, model=None, device=device)
        report = evaluate_song(out_dir / name)
        row = row_from_report(name, report, render_s=sum(result.stage_s.values()))
        rows.append(row)
        if on_done:
            on_done(row)
    return rows


def row_from_report(name: str, report: dict[str, Any], *, render_s: float) -> TemplateRow:
    structure = report["structure"]
    return TemplateRow(
        name=name, duration_s=report["duration_s"], bpm=report["planned_bpm"],
        tempo_windows_within_2pct=report["tempo"]["windows_within_2pct"],
        beat_f_measure=report["beats"]["f_measure"],
        joints_flagged=report["joints_flagged"], joints=len(report["joints"]),
        boundary_f_measure=structure["boundary_f_measure"],
        same_name_similarity=structure["same_name_similarity"],
        different_name_similarity=structure["different_name_similarity"],
        max_unasked_jump_db=report["loudness"]["max_unasked_jump_db"],
        render_s=render_s,
    )


def markdown_table(rows: Sequence[TemplateRow]) -> str:
    """The targets table as Markdown, a check or a cross after every figure."""
    def mark(ok: bool) -> str:
        return "ok" if ok else "MISS"

    lines = [
        "| outline | length | bpm | tempo windows +/-2% | beat F | joints flagged | boundary F | "
        "same vs different | unasked loudness jump |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        ok = row.passes()
        minutes, seconds = divmod(row.duration_s, 60.0)
        lines.append(
            f"| {row.name} | {int(minutes)}:{seconds:04.1f} | {row.bpm:g} "
            f"| {row.tempo_windows_within_2pct:.0%} {mark(ok['tempo'])} "
            f"| {row.beat_f_measure:.2f} {mark(ok['beats'])} "
            f"| {row.joints_flagged} of {row.joints} {mark(ok['joints'])} "
            f"| {row.boundary_f_measure:.2f} {mark(ok['boundaries'])} "
            f"| {row.same_name_similarity:.2f} vs {row.different_name_similarity:.2f} {mark(ok['repeats'])} "
            f"| {row.max_unasked_jump_db:.1f} dB {mark(ok['loudness'])} |"
        )
    return "\n".join(lines) + "\n"


def rows_to_json(rows: Sequence[TemplateRow]) -> dict[str, Any]:
    return {"targets": TARGETS, "rows": [{**asdict(r), "passes": r.passes()} for r in rows]}
