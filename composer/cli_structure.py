"""`composer structure`: sample, score, train and evaluate learned song forms.

Mounted by composer.cli with ``app.add_typer(structure_app, name="structure")``.
"""

from __future__ import annotations

import enum
import functools
from pathlib import Path
from typing import Annotated, Callable, Optional, TypeVar

import typer
import yaml
from rich.table import Table
from rich.text import Text

from composer.cli_console import error, out, system_error_message
from composer.cli_paths import PATH, non_empty_path
from composer.errors import ComposerError, PlanError
from composer.files import write_text_atomic
from composer.outline_model import (
    MAX_BPM, MAX_SONG_S, MAX_TITLE_CHARS, MIN_BPM, bpm_limits, song_duration_s,
)
from composer.seeds import SEED_LIMIT
from composer.timing import format_mmss, parse_time_signature
from structure_models import GENRES, label_of_name, outline_duration_s, sample_outline, shipped_model
from structure_models.evaluate import DEFAULT_REPORT, evaluate as evaluate_model, format_report, write_report
from structure_models.model import load_model, write_model
from structure_models.train import DEFAULT_DATA, DEFAULT_OUT, train as train_model

structure_app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Learned song forms (Harmonix Set + McGill Billboard): sample an outline, score a form, train, evaluate.",
)

# typer shows these as the --genre choices; values are the keys of structure_models.GENRES
Genre = enum.Enum("Genre", {name.replace("-", "_"): name for name in GENRES}, type=str)

F = TypeVar("F", bound=Callable[..., object])


def fail(message: str, *, code: int = 2) -> typer.Exit:
    """Print an error and return the Exit to raise."""
    error(message)
    return typer.Exit(code=code)


def friendly_errors(func: F) -> F:
    """Bad input ends in a message and a non-zero exit, never a traceback.

    structure_models reports bad corpora, model files and targets as ValueError (exit 2); composer's own
    errors keep their exit codes.
    """

    @functools.wraps(func)
    def wrapper(*args: object, **kwargs: object) -> object:
        try:
            return func(*args, **kwargs)
        except ComposerError as exc:
            raise fail(str(exc), code=exc.exit_code) from None
        except (OSError, UnicodeError, RecursionError) as exc:  # UnicodeError before its base, ValueError
            message, code = system_error_message(exc)
            raise fail(message, code=code) from None
        except ValueError as exc:
            raise fail(str(exc)) from None

    return wrapper  # type: ignore[return-value]


def check_output_file(path: Path, *, option: str) -> None:
    """Fail before any work when the file to write is a folder (missing parent folders are created)."""
    if path.is_dir():
        raise fail(f"{option} {path}: is a folder; name the file to write")


def write_or_fail(write: Callable[[], object], *, option: str, path: Path) -> object:
    """Run ``write``; an OSError becomes a message naming the option and the file."""
    try:
        return write()
    except OSError as exc:
        raise fail(f"{option} {path}: cannot write: {exc.strerror or exc}") from None


def sample_target_s(*, duration: str, time_signature: str, title: Optional[str]) -> float:
    """Seconds of --duration, after checking the options against the outline schema's own limits."""
    if title is not None and len(title) > MAX_TITLE_CHARS:
        raise fail(f"--title: at most {MAX_TITLE_CHARS} characters, got {len(title)}")
    try:
        parse_time_signature(time_signature)
    except ValueError as exc:
        raise fail(f"--time-signature: {exc}") from None
    try:
        return song_duration_s(duration)
    except ValueError as exc:
        raise fail(f"--duration: {exc}") from None


def read_outline_form(path: Path) -> tuple[list[str], list[int], Optional[str], float, int]:
    """Section names in form order, their bars, the genre of a learned form (else None), bpm and beats per bar.

    Errors name the file, line and field; ``form: learned`` is resolved the way the planner resolves it.
    """
    from composer.outline import load_outline
    from composer.planner import resolve_form

    outline = load_outline(path)
    form, sections, _ = resolve_form(outline)
    genre = None if outline.structure is None else outline.structure.genre
    beats_per_bar, _ = outline.time_signature_tuple
    return form, [sections[name].bars for name in form], genre, float(outline.bpm), beats_per_bar


@structure_app.command()
@friendly_errors
def sample(
    genre: Annotated[Genre, typer.Option(help="Genre (or era) whose songs the form is learned from.")],
    duration: Annotated[str, typer.Option(help=f"Target length, m:ss (3:00) or seconds (180), at most "
                                               f"{format_mmss(MAX_SONG_S)}.")],
    # its range depends on --time-signature, so it is checked in the body
    bpm: Annotated[float, typer.Option(help=(
        f"Tempo in beats per minute of the time signature's beat unit: {MIN_BPM}-{MAX_BPM} in x/4, "
        f"up to {MAX_BPM * 2} in x/8."))],
    output: Annotated[Path, typer.Option("--output", "-o", **PATH, help="Outline YAML file to write.")],
    seed: Annotated[int, typer.Option(min=0, max=SEED_LIMIT - 1, help="Seed: same seed, same outline.")] = 0,
    time_signature: Annotated[str, typer.Option("--time-signature", help="Metre such as 4/4, 3/4, 6/8.")] = "4/4",
    title: Annotated[Optional[str], typer.Option(help="Song title (default: 'Learned <genre> form').")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write an outline with a learned form, bars per section and palette prompts."""
    from composer.outline import parse_outline

    duration_s = sample_target_s(duration=duration, time_signature=time_signature, title=title)
    low, high = bpm_limits(time_signature)
    if not low <= bpm <= high:
        raise fail(f"--bpm: {bpm:g} is outside {low}-{high}, the range of {' '.join(time_signature.split())} "
                   "(bpm counts the time signature's beat unit)")
    check_output_file(output, option="--output")
    if output.exists() and not force:
        raise fail(f"{output} already exists; pass --force to overwrite it")
    outline = sample_outline(
        genre=genre.value, duration_s=duration_s, bpm=bpm, seed=seed, time_signature=time_signature, title=title
    )
    header = (  # one comment line, whatever whitespace the options held
        f"# learned {genre.value} form: composer structure sample --genre {genre.value} --duration "
        f"{' '.join(duration.split())} --bpm {int(bpm) if bpm.is_integer() else bpm!r} --seed {seed} "
        f"--time-signature {' '.join(time_signature.split())}\n"
    )
    text = header + yaml.safe_dump(outline, sort_keys=False, allow_unicode=True, width=120)
    try:  # the options were checked one by one; the file as a whole must pass too, or `plan` would refuse it
        parse_outline(text, source=str(output))
    except ComposerError as exc:
        raise fail(f"these options give an outline composer cannot play, so nothing was written: {exc}") from None
    write_or_fail(lambda: write_text_atomic(output, text), option="--output", path=output)
    out.print(
        f"wrote {output}: {' '.join(outline['form'])} "
        f"({format_mmss(outline_duration_s(outline))} for a {format_mmss(duration_s)} target)",
        highlight=False,
    )


@structure_app.command()
@friendly_errors
def score(
    outline: Annotated[Path, typer.Argument(parser=non_empty_path, help="Outline YAML file with a form list.")],
    genre: Annotated[Optional[Genre], typer.Option(
        help="Genre to compare the form with (default: a learned form's own genre, else any).")] = None,
) -> None:
    """Print each section's surprisal under the model and flag forms unusual for the genre.

    Bar lengths are scored for the outline's tempo (fast songs have longer sections).
    """
    try:
        names, bars, learned_genre, bpm, beats_per_bar = read_outline_form(outline)
    except PlanError as exc:  # a learned form that cannot be sampled: the planner does not know the file
        raise fail(f"{outline}: {exc}", code=exc.exit_code) from None
    chosen = genre.value if genre is not None else learned_genre or "any"
    labels = [label_of_name(name) for name in names]
    result = shipped_model().score_form(labels, bars, genre=chosen, bpm=bpm, beats_per_bar=beats_per_bar)
    table = Table(title=f"{outline} under the {chosen} form model at {bpm:g} bpm (bits)")
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
    out.print(Text(result.explanation, style=colour), highlight=False)


@structure_app.command()
@friendly_errors
def train(
    output: Annotated[Path, typer.Option("--out", "-o", **PATH, help=(
        f"Model JSON to write; name the shipped one ({DEFAULT_OUT.relative_to(DEFAULT_OUT.parents[2])}) "
        "to replace it."))],
    data: Annotated[Path, typer.Option(**PATH, help="structures.jsonl of the song-structure corpus.")] = DEFAULT_DATA,
) -> None:
    """Fit the form model on the train split, tune it on validation, write its JSON."""
    if not data.is_file():
        raise fail(f"--data {data}: no such file (the corpus is ../shared/data/song_structures/structures.jsonl)")
    check_output_file(output, option="--out")
    model = train_model(data)
    size = write_or_fail(lambda: write_model(model, output), option="--out", path=output)
    out.print(f"wrote {output} ({size / 1024:.0f} KiB), order {model.order}, trained on {model.meta['songs']}")


@structure_app.command()
@friendly_errors
def evaluate(
    data: Annotated[Path, typer.Option(**PATH, help="structures.jsonl of the song-structure corpus.")] = DEFAULT_DATA,
    model: Annotated[Optional[Path], typer.Option(**PATH, help="Model JSON (default: the shipped one).")] = None,
    output: Annotated[Path, typer.Option("--out", "-o", **PATH, help="JSON report to write.")] = DEFAULT_REPORT,
) -> None:
    """Log-likelihood of unseen test songs against unigram/first-order baselines, sampled vs real forms.

    Test songs that are another version of a train or validation song (remix, edit, cover) are left out and listed.
    """
    if not data.is_file():
        raise fail(f"--data {data}: no such file")
    if model is not None and not model.is_file():
        raise fail(f"--model {model}: no such file")
    check_output_file(output, option="--out")
    report = evaluate_model(data_path=data, model=shipped_model() if model is None else load_model(model))
    out.print(format_report(report), highlight=False, soft_wrap=True)
    write_or_fail(lambda: write_report(report, output), option="--out", path=output)
    out.print(f"wrote {output}")
