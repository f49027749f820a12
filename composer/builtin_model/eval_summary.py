"""Readable summary of an evaluation report (rich tables)."""

from __future__ import annotations

import sys
from typing import Any

from rich.console import Console
from rich.table import Table


def print_summary(report: dict[str, Any], *, console: Console | None = None) -> None:
    console = console or Console(width=None if sys.stdout.isatty() else 120)  # logs get full tables
    clips = report["clips"]
    split = report.get("evaluated_split", "test")  # reports written before --split existed are test reports
    console.print(f"model {report['model']['model_id']} ({report['model']['folder']}), "
                  f"{clips['generated']} generated {split} captions, classifier trained on "
                  f"{clips['classifier_train']} {report['classifier']['train_split']} clips, "
                  f"{clips['test']} {split} clips", markup=False)
    accuracy = Table(title=f"classifier accuracy ({split} split)")
    for column in ("task", "classes", "chance (uniform / majority)", f"real, all {split}", "real, same captions",
                   "real via codec only", "generated", "generated / real"):
        accuracy.add_column(column)
    for task, r in report["tasks"].items():
        accuracy.add_row(task, str(r["classes"]), f"{r['chance_uniform']:.1%} / {r['chance_majority']:.1%}",
                         f"{r['real_accuracy_all_test']:.1%}", f"{r['real_accuracy']:.1%}",
                         f"{r['codec_accuracy']:.1%}", f"{r['generated_accuracy']:.1%}", f"{r['ratio']:.2f}")
    console.print(accuracy)
    tempo = Table(title=f"tempo within +/-{report['settings']['tempo_tolerance']:.0%} of the target bpm")
    for column in ("audio", "clips", "hits", "hit rate", "half time", "double time", "misses"):
        tempo.add_column(column)
    labels = {"generated": "generated (groove init)", "init": "groove init itself", "real": f"real {split} clip"}
    for name, t in report["tempo"].items():
        tempo.add_row(labels.get(name, name), str(t["clips"]), str(t["hits"]), f"{t['hit_rate']:.1%}",
                      str(t["half_time"]), str(t["double_time"]), str(t["misses"]))
    console.print(tempo)
    f = report["frechet"]
    console.print(f"Frechet distance (classifier embedding, {f['embedding_dim']} dims): generated vs real "
                  f"{f['generated_vs_real']:.3f}, real vs real {f['real_vs_real']:.3f}, real via codec vs real "
                  f"{f['codec_vs_real']:.3f} ({f['compared_clips']} clips "
                  f"vs {f['reference_clips']} reference clips)", markup=False)
    targets = ", ".join(f"{name} {'met' if ok else 'NOT met'}" for name, ok in report["targets"].items())
    console.print(f"targets: {targets}; wall time {report['wall_time_s']:.0f} s", markup=False)
