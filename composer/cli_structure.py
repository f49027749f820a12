"""`composer structure`: sample, score, train and evaluate learned song forms.

Mounted by composer.cli with ``app.add_typer(structure_app, name="structure")``.
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated, Optional

import typer
import yaml
from rich.console import Console
from rich.table import Table

from composer.errors import ComposerError
from composer.files import write_text_atomic
from composer.timing import format_mmss, parse_duration_s
from structure_models import GENRES, label_of_name, outline_duration_s, sample_outline, shipped_model
from structure_models.evaluate import DEFAULT_REPORT, evaluate as evaluate_model, format_report, write_report
from structure_models.model import load_model, write_model
from structure_models.train import DEFAULT_DATA, DEFAULT_OUT, train as train_model

structure_app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Learned song forms (Harmonix Set + McGill Billboard): sample an outline, score a form, train, evaluate.",
)
console = Console(stderr=True, soft_wrap=True)
out = Console()

# typer shows these as the --genre choices; values are the keys of structure_models.GENRES
Genre = enum.Enum("Genre", {name.replace("-", "_"): name for name in GENRES}, type=str)


def fail(message: str, *, code: int = 2) -> typer.Exit:
    """Print an error and return the Exit to raise."""
    console.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code=code)


def read_outline_form(path: Path) -> tuple[list[str], list[int]]:
    """Section names in form order and their bars, through composer's outline loader.

    Errors name the file, line and field; ``form: learned`` is resolved the way the planner resolves it.
    """
    from composer.outline import load_outline
    from composer.planner import resolve_form

    form, sections, _ = resolve_form(load_outline(path))
    return form, [sections[name].bars for name in form]


@structure_app.command()
def sample(
    genre: Annotated[Genre, typer.Option(help="Genre (or era) whose songs the form is learned from.")],
    duration: Annotated[str, typer.Option(help="Target length, m:ss (3:00) or seconds (180).")],
    bpm: Annotated[float, typer.Option(min=40, max=240, help="Tempo in beats per minute.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Outline YAML file to write.")],
    seed: Annotated[int, typer.Option(min=0, help="Seed: same seed, same outline.")] = 0,
    time_signature: Annotated[str, typer.Option("--time-signature", help="Metre such as 4/4, 3/4, 6/8.")] = "4/4",
    title: Annotated[Optional[str], typer.Option(help="Song title (default: 'Learned <genre> form').")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write an outline with a learned form, bars per section and palette prompts."""
    try:
        duration_s = parse_duration_s(duration)
        outline = sample_outline(
            genre=genre.value, duration_s=duration_s, bpm=bpm, seed=seed, time_signature=time_signature, title=title
        )
    except ValueError as exc:
        raise fail(str(exc)) from None
    if output.exists() and not force:
        raise fail(f"{output} already exists; pass --force to overwrite it")
    header = (
        f"# learned {genre.value} form: composer structure sample --genre {genre.value} --duration {duration}"
        f" --bpm {bpm:g} --seed {seed} --time-signature {time_signature}\n"
    )
    text = header + yaml.safe_dump(outline, sort_keys=False, allow_unicode=True, width=120)
    try:
        write_text_atomic(output, text)
    except ComposerError as exc:
        raise fail(str(exc), code=exc.exit_code) from None
    out.print(
        f"wrote {output}: {' '.join(outline['form'])} "
        f"({format_mmss(outline_duration_s(outline))} for a {format_mmss(duration_s)} target)",
        highlight=False,
    )


@structure_app.command()
def score(
    outline: Annotated[Path, typer.Argument(help="Outline YAML file with a form list.")],
    genre: Annotated[Genre, typer.Option(help="Genre to compare the form with.")] = Genre("any"),
) -> None:
    """Print each section's surprisal under the model and flag forms unusual for the genre."""
    try:
        names, bars = read_outline_form(outline)
        labels = [label_of_name(name) for name in names]
        result = shipped_model().score_form(labels, bars, genre=genre.value)
    except (ValueError, ComposerError) as exc:
        raise fail(str(exc), code=getattr(exc, "exit_code", 2)) from None
    table = Table(title=f"{outline} under the {genre.value} form model (bits)")
    for column in ("#", "section", "label", "bars", "label bits", "bars bits", "note"):
        table.add_column(column, justify="right" if "bits" in column or column in ("#", "bars") else "left")
    for index, (name, section) in enumerate(zip(names, result.sections), start=1):
        table.add_row(
            str(index),
            name,
            section.label,
            "-" if section.bars is None else str(section.bars),
            f"{section.label_bits:.2f}",
            "-" if section.bars_bits is None else f"{section.bars_bits:.2f}",
            section.note,
        )
    table.add_row("", "(end)", "", "", f"{result.end_bits:.2f}", "", "")
    out.print(table)
    colour = "bold red" if result.unusual else "green"
    out.print(f"[{colour}]{result.explanation}[/]", highlight=False)


@structure_app.command()
def train(
    data: Annotated[Path, typer.Option(help="structures.jsonl of the song-structure corpus.")] = DEFAULT_DATA,
    output: Annotated[Path, typer.Option("--out", "-o", help="Model JSON to write.")] = DEFAULT_OUT,
) -> None:
    """Fit the form model on the train split, tune it on validation, write its JSON."""
    if not data.is_file():
        raise fail(f"--data {data}: no such file (the corpus is ../shared/data/song_structures/structures.jsonl)")
    model = train_model(data)
    size = write_model(model, output)
    out.print(f"wrote {output} ({size / 1024:.0f} KiB), order {model.order}, trained on {model.meta['songs']}")


@structure_app.command()
def evaluate(
    data: Annotated[Path, typer.Option(help="structures.jsonl of the song-structure corpus.")] = DEFAULT_DATA,
    model: Annotated[Optional[Path], typer.Option(help="Model JSON (default: the shipped one).")] = None,
    output: Annotated[Path, typer.Option("--out", "-o", help="JSON report to write.")] = DEFAULT_REPORT,
) -> None:
    """Held-out log-likelihood against unigram/first-order baselines, sampled vs real forms."""
    if not data.is_file():
        raise fail(f"--data {data}: no such file")
    if model is not None and not model.is_file():
        raise fail(f"--model {model}: no such file")
    report = evaluate_model(data_path=data, model=shipped_model() if model is None else load_model(model))
    out.print(format_report(report), highlight=False, soft_wrap=True)
    write_report(report, output)
    out.print(f"wrote {output}")
