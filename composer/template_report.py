"""Render outlines (every template by default), evaluate each song, and check the targets in one table.

This is how the tempo / joint / structure / loudness targets are reported for a
backend: the same `render` and `evaluate` a user runs, once per outline.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from composer.backends.base import SpectrogramBackend
from composer.evaluation import TARGETS, evaluate_song, form_target_met
from composer.timing import format_mmss


@dataclass(frozen=True)
class TemplateRow:
    """The measured figures of one rendered outline, beside the targets."""

    # outline name (the template's file stem)
    name: str
    # song length, seconds
    duration_s: float
    # planned tempo, bpm
    bpm: float
    # share of 10-s windows whose tempo is within 2 % of the plan (None: shorter than one window)
    tempo_windows_within_2pct: Optional[float]
    # mir_eval beat F-measure against the planned beat grid (or the felt-pulse grid, whichever was followed)
    beat_f_measure: float
    # joints (clip and section) whose seam score, sample step or level step was flagged, and how many joints
    joints_flagged: int
    joints: int
    # mir_eval boundary F at one bar against the planned section starts (None: one section, no boundary)
    boundary_f_measure: Optional[float]
    # the same F for boundaries drawn at random bar lines: what knowing the section count alone scores
    chance_boundary_f_measure: Optional[float]
    # share of shuffled bar orders that segment as well as the song's (None: one section, or unchanging bars)
    form_p_value: Optional[float]
    # mean similarity of same-name and of different-name section pairs (None when there is no such pair)
    same_name_similarity: Optional[float]
    different_name_similarity: Optional[float]
    # largest loudness step between neighbouring sections beyond what the outline's gain_db asked for, dB (None:
    # fewer than two sections long enough to have a loudness)
    max_unasked_jump_db: Optional[float]
    # wall time of the render, seconds
    render_s: float

    def passes(self) -> dict[str, Optional[bool]]:
        """Each target on its own: True where this song meets it, None where the song has nothing to measure."""
        def at_least(value: Optional[float], target: float) -> Optional[bool]:
            return None if value is None else value >= target

        comparable = self.same_name_similarity is not None and self.different_name_similarity is not None
        return {
            "tempo": at_least(self.tempo_windows_within_2pct, TARGETS["tempo_windows_within_2pct"]),
            "beats": self.beat_f_measure >= TARGETS["beat_f_measure"],
            "joints": self.joints_flagged == 0,
            "boundaries": form_target_met(boundary_f=self.boundary_f_measure,
                                          chance_f=self.chance_boundary_f_measure, p_value=self.form_p_value),
            "repeats": self.same_name_similarity > self.different_name_similarity if comparable else None,
            "loudness": None if self.max_unasked_jump_db is None
            else self.max_unasked_jump_db <= TARGETS["max_section_loudness_jump_db"],
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
        chance_boundary_f_measure=structure.get("chance_boundary_f_measure"),
        form_p_value=structure.get("form_p_value"),
        same_name_similarity=structure["same_name_similarity"],
        different_name_similarity=structure["different_name_similarity"],
        max_unasked_jump_db=report["loudness"]["max_unasked_jump_db"],
        render_s=render_s,
    )


def markdown_table(rows: Sequence[TemplateRow]) -> str:
    """The targets table as Markdown, ok, MISS or n/a after every figure."""
    def mark(ok: Optional[bool]) -> str:
        return "n/a" if ok is None else "ok" if ok else "MISS"

    def figure(value: Optional[float], spec: str) -> str:
        return "-" if value is None else format(value, spec)

    lines = [
        "| outline | length | bpm | tempo windows +/-2% | beat F | joints flagged | boundary F (chance, p) | "
        "same vs different | unasked loudness jump |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        ok = row.passes()
        lines.append(
            f"| {row.name} | {format_mmss(row.duration_s)} | {row.bpm:g} "
            f"| {figure(row.tempo_windows_within_2pct, '.0%')} {mark(ok['tempo'])} "
            f"| {row.beat_f_measure:.2f} {mark(ok['beats'])} "
            f"| {row.joints_flagged} of {row.joints} {mark(ok['joints'])} "
            f"| {figure(row.boundary_f_measure, '.2f')} ({figure(row.chance_boundary_f_measure, '.2f')}, "
            f"{figure(row.form_p_value, '.3f')}) "
            f"{mark(ok['boundaries'])} "
            f"| {figure(row.same_name_similarity, '.2f')} vs {figure(row.different_name_similarity, '.2f')} "
            f"{mark(ok['repeats'])} "
            f"| {figure(row.max_unasked_jump_db, '.1f')} dB {mark(ok['loudness'])} |"
        )
    return "\n".join(lines) + "\n"


def rows_to_json(rows: Sequence[TemplateRow]) -> dict[str, Any]:
    return {"targets": TARGETS, "rows": [{**asdict(r), "passes": r.passes()} for r in rows]}
