"""The `composer` command line: render, plan, regenerate, takes, restore, new, templates, schema, backends,
evaluate, evaluate-templates, bench, and `structure` (learned song forms)."""

from __future__ import annotations

import dataclasses
import enum
import functools
import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Callable, Optional, TypeVar

import typer
from rich.table import Table

from composer import __version__ as composer_version
from composer.cli_console import console, error, labelled, out, system_error_message, warning
from composer.cli_paths import PATH, non_empty_path
from composer.backends.precision import PRECISIONS
from composer.errors import ComposerError
from composer.files import InterruptedAfterCommit
from composer.seeds import SEED_LIMIT
from composer.timing import format_mmss

if TYPE_CHECKING:
    from composer.plan import Plan

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Compose whole songs from a YAML outline with a spectrogram diffusion model.")

F = TypeVar("F", bound=Callable[..., object])
#: most torch CPU threads `bench --threads` takes (far more than any machine's cores; a huge count crashes torch)
MAX_CPU_THREADS = 1024


class Device(str, enum.Enum):
    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"


class Sampler(str, enum.Enum):
    """The riffusion and tiny-random backends' scheduler: the model folder's own or DPM-Solver++."""

    folder = "folder"
    dpm = "dpm++"


# the builtin model's UNet and VAE dtype; values are composer.backends.precision.PRECISIONS
Precision = enum.Enum("Precision", {name: name for name in PRECISIONS}, type=str)

PRECISION_HELP = ("builtin: the UNet's and VAE's dtype; 'auto' is bfloat16 on a CPU with AMX (a clip about 28% "
                  "faster, its mel 0.3 dB off float32's) and float32 elsewhere; new clip-cache keys")

SAMPLER_HELP = ("riffusion/tiny-random: 'folder' (the model's own scheduler, PNDM at 50 steps for Riffusion) or "
                "'dpm++' (DPM-Solver++, 20 steps; new clip-cache keys)")


def friendly_errors(func: F) -> F:
    """Turn composer's own errors into a message and their exit code; never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: object, **kwargs: object) -> object:
        try:
            return func(*args, **kwargs)
        except ComposerError as exc:
            error(str(exc))
            raise typer.Exit(code=exc.exit_code) from None
        except InterruptedAfterCommit:
            console.print(labelled("interrupted", "yellow", "after the new files were complete: they are in place"))
            raise typer.Exit(code=130) from None
        except KeyboardInterrupt:
            resumable = func.__name__ in ("render", "regenerate", "evaluate_templates")
            console.print(labelled("interrupted", "yellow", "the song folder is as it was; finished clips are cached, "
                                   "so the same command resumes" if resumable else ""))
            raise typer.Exit(code=130) from None
        except (OSError, UnicodeError, RecursionError) as exc:
            message, code = system_error_message(exc)
            error(message)
            raise typer.Exit(code=code) from None

    return wrapper  # type: ignore[return-value]


def _print_version(value: bool) -> None:
    if value:
        out.print(f"composer {composer_version}", highlight=False)
        raise typer.Exit(code=0)


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", is_eager=True, callback=_print_version,
                                          help="Print composer's version and exit.")] = False,
) -> None:
    """Compose whole songs from a YAML outline with a spectrogram diffusion model."""


def _check_grooves(the_plan: Plan, outline: Path) -> None:
    """The plan's groove files, checked; an error names the outline's file, line and field, a loop that
    drifts off the beat gets a warning."""
    from composer.errors import GrooveFileError, OutlineError
    from composer.outline_yaml import dotted, line_of, load_yaml_with_lines
    from composer.render import check_groove_files

    try:
        warnings = check_groove_files(the_plan, groove_root=outline.resolve().parent)
    except GrooveFileError as exc:
        loc = ("sections", exc.section, "groove")
        _, lines = load_yaml_with_lines(outline.read_text(encoding="utf-8"), source=str(outline))
        message = str(exc).removeprefix(f"section {exc.section!r}: ")  # the field names the section
        raise OutlineError(f"{outline}:{line_of(loc, lines)}: {dotted(loc)}: {message}") from None
    for message in warnings:
        warning(message)


def _quiet_model_loading() -> None:
    from composer.backends.registry import quiet_model_loading

    quiet_model_loading()


def _load_backend(name: str, **options: Any) -> Any:
    """``load_backend`` for a command that renders with it until the process ends.

    Importing torch, diffusers and transformers makes about a million objects that live until exit, and the
    cyclic collector walked them all in six or seven full collections during the load, then again in the young
    generations after it (0.9 s of a cold ``regenerate`` on a 2-core CPU). So the collector pauses during the
    load and what the load made is frozen out of later collections. (Garbage already there is frozen with it:
    in a command's process that is the little the CLI's own imports left.)
    """
    import gc

    from composer.backends.precision import slow_precision_warning
    from composer.backends.registry import load_backend

    _quiet_model_loading()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        backend = load_backend(name, **options)
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()
    message = slow_precision_warning(backend)
    if message:
        warning(message)
    return backend


def _resolve_backend_name(name: Optional[str]) -> str:
    from composer.backends.registry import backend_info, default_backend_name

    chosen = name or default_backend_name()
    backend_info(chosen)
    return chosen


def _progress_factory(description: str):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    def factory(total: int):
        progress = Progress(TextColumn(description), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                            console=console, transient=False)
        progress.start()
        task = progress.add_task(description, total=total)
        done = set()

        def advance(index: int) -> None:
            done.add(index)
            progress.update(task, completed=len(done))
            if len(done) >= total:
                progress.stop()

        return advance

    return factory


@app.command()
@friendly_errors
def render(
    outline: Annotated[Path, typer.Argument(parser=non_empty_path, help="Song outline YAML file.")],
    output: Annotated[Path, typer.Option("--output", "-o", **PATH,
                                         help="Song folder to write (created if missing).")],
    backend: Annotated[Optional[str], typer.Option(help="Backend name (see `composer backends`); default: "
                                                   "builtin, the model inside the package.")] = None,
    model: Annotated[Optional[str], typer.Option(help="Model folder or hub id (riffusion backend).")] = None,
    device: Annotated[Device, typer.Option(help="Where the model runs.")] = Device.auto,
    batch_size: Annotated[Optional[int], typer.Option(
        min=1, max=64, help="Clips handed to the model per call (default: the backend's; 4 on a CPU, "
                            "32 for riffusion on CUDA).")] = None,
    scheduler: Annotated[Sampler, typer.Option(help=SAMPLER_HELP + "; regenerate keeps it.")] = Sampler.folder,
    precision: Annotated[Precision, typer.Option(help=PRECISION_HELP + "; regenerate keeps it.")] = Precision.auto,
) -> None:
    """Render an outline into a song folder: song.wav, song.mid, spectrogram.png, manifest.json."""
    from composer.outline import load_outline
    from composer.song import model_reference, plan_for_backend, render_outline
    from composer.song_folder import check_not_an_archived_take, current_take

    # a bad outline or groove file, or a folder it may not write, fails before any model loads
    parsed = load_outline(outline)
    check_not_an_archived_take(output)
    if output.is_dir():
        current_take(output)
    name = _resolve_backend_name(backend)
    the_plan = plan_for_backend(parsed, name)
    _check_grooves(the_plan, outline)
    for message in the_plan.warnings:  # before the model loads, so a long render is not a surprise
        warning(message)
    model = model_reference(model) if model else None
    started = time.perf_counter()
    model_backend = _load_backend(name, model=model, device=device.value, scheduler=scheduler.value,
                                  precision=precision.value)
    loaded = time.perf_counter() - started
    result = render_outline(outline, output, model_backend, model=model, device=device.value, batch_size=batch_size,
                            progress=_progress_factory("rendering clips"), on_warning=warning)
    result = dataclasses.replace(result, stage_s={"load": loaded, **result.stage_s})
    _summary(result, started)


@app.command()
@friendly_errors
def regenerate(
    folder: Annotated[Path, typer.Argument(parser=non_empty_path, help="Song folder made by `composer render`.")],
    section: Annotated[str, typer.Option(
        help="Section to redo: NAME (its first occurrence), NAME:OCCURRENCE (chorus:2) or an index.")],
    seed: Annotated[Optional[int], typer.Option(min=0, max=SEED_LIMIT - 1,
                                                help="New seed (default: a fresh one).")] = None,
    prompt: Annotated[Optional[str], typer.Option(help="New prompt for this occurrence.")] = None,
    denoising: Annotated[Optional[float], typer.Option(min=0.01, max=1.0, help="New img2img strength.")] = None,
    model: Annotated[Optional[str], typer.Option(
        help="Model folder to load instead of the one the manifest names (say, after moving it); it must hold "
             "the same weights.")] = None,
    device: Annotated[Device, typer.Option(help="Where the model runs.")] = Device.auto,
    batch_size: Annotated[Optional[int], typer.Option(
        min=1, max=64, help="Clips handed to the model per call (default: the backend's; 4 on a CPU, "
                            "32 for riffusion on CUDA).")] = None,
    groove_root: Annotated[Optional[Path], typer.Option(
        file_okay=False, exists=True,
        help="Folder the sections' groove files are read from (default: the outline's folder at the first "
             "render; say, after moving the project). The files must be the same.")] = None,
) -> None:
    """Re-render one section; every sample outside it (and its crossfades) stays identical."""
    from composer.song import check_regenerate, model_reference, recorded_backend_options, regenerate_section
    from composer.song_folder import current_take, read_manifest

    from composer.outline_model import SectionSpec

    if prompt is not None and not prompt.strip():
        raise typer.BadParameter("--prompt must not be empty (leave it out to keep the section's prompt)")
    longest = next(m.max_length for m in SectionSpec.model_fields["prompt"].metadata if hasattr(m, "max_length"))
    if prompt is not None and len(prompt) > longest:
        raise typer.BadParameter(f"--prompt: at most {longest} characters, as in an outline; got {len(prompt)}")
    if model is not None and not model.strip():
        raise typer.BadParameter("--model must not be empty (leave it out to use the model the manifest names)")
    manifest = read_manifest(folder)
    current_take(folder)  # an archived take's folder fails before the model loads
    check_regenerate(folder, manifest, selector=section, groove_root=groove_root)  # so do typos and bad grooves
    model = model_reference(model) if model else manifest["backend"].get("model")
    started = time.perf_counter()
    model_backend = _load_backend(manifest["backend"]["name"], model=model, device=device.value,
                                 **recorded_backend_options(manifest))
    loaded = time.perf_counter() - started
    result = regenerate_section(folder, section, model_backend, seed=seed, prompt=prompt, denoising=denoising,
                                model=model, device=device.value, batch_size=batch_size,
                                progress=_progress_factory("re-rendering"), groove_root=groove_root,
                                on_warning=warning)
    result = dataclasses.replace(result, stage_s={"load": loaded, **result.stage_s})
    _summary(result, started)
    if result.changed_samples:
        lo, hi = result.changed_samples
        rate = result.plan.sample_rate_hz
        console.print(f"changed samples {lo}-{hi} ({format_mmss(lo / rate)}-{format_mmss(hi / rate)}); "
                      f"previous take kept (see `composer takes {folder}`)")
    if result.changed_outside:
        warning(f"{result.changed_outside:,} samples outside that span differ from the previous take too, " + (
            f"which composer {result.previous_version} made (this is {composer_version}): its stitching has changed "
            "since; render the song again for takes that match" if result.previous_version != composer_version else
            "which this composer version made: the regeneration guarantee failed, please report it"))


@app.command()
@friendly_errors
def plan(
    outline: Annotated[Path, typer.Argument(parser=non_empty_path, help="Song outline YAML file.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the full plan as JSON.")] = False,
    backend: Annotated[Optional[str], typer.Option(help="Plan for this backend's sample rate and clip length.")] = None,
) -> None:
    """Show the timeline an outline expands to (no rendering)."""
    from composer.outline import load_outline
    from composer.song import plan_for_backend

    the_plan = plan_for_backend(load_outline(outline), _resolve_backend_name(backend))
    _check_grooves(the_plan, outline)  # a plan that cannot render is not a plan
    for message in the_plan.warnings:  # on stderr, so the JSON on stdout stays parseable
        warning(message)
    if as_json:
        out.print_json(json.dumps(the_plan.to_dict()))
        return
    table = Table(title=f"{the_plan.title}: {format_mmss(the_plan.duration_s)}, {the_plan.bpm:g} bpm, "
                        f"{the_plan.beats_per_bar}/{the_plan.beat_unit}, {len(the_plan.clips)} clips")
    for column in ("#", "section", "start", "bars", "clips", "transition", "seed", "prompt"):
        table.add_column(column, overflow="fold")
    for s in the_plan.sections:
        table.add_row(str(s.index), s.label, format_mmss(s.start_s), str(s.bars), str(len(s.clip_indices)),
                      s.transition, str(s.seed), s.prompt)
    out.print(table)


@app.command()
@friendly_errors
def takes(folder: Annotated[Path, typer.Argument(parser=non_empty_path, help="Song folder.")]) -> None:
    """List the takes of a song folder (every render and regeneration is kept)."""
    from composer.song_folder import list_takes

    table = Table(title=str(folder))
    for column in ("take", "created", "change", "current"):
        table.add_column(column)
    for take in list_takes(folder):
        table.add_row(str(take["take"]), take["created"], take["change"], "*" if take["current"] else "")
    out.print(table)


@app.command()
@friendly_errors
def restore(
    folder: Annotated[Path, typer.Argument(parser=non_empty_path, help="Song folder.")],
    take: Annotated[int, typer.Option(min=1, help="Take number to make current (see `composer takes`).")],
) -> None:
    """Go back to an earlier take (the current one is kept too)."""
    from composer.errors import SongFolderError
    from composer.files import folder_lock
    from composer.song_folder import check_not_an_archived_take, restore_take

    if not folder.is_dir():  # the lock would create it
        raise SongFolderError(f"{folder}: no such song folder")
    if not (folder / "manifest.json").is_file() and not (folder / "takes").is_dir():  # nor leave a .lock there
        raise SongFolderError(f"{folder}: not a song folder (no manifest.json, no takes/); "
                              "`composer render OUTLINE -o FOLDER` makes one")
    check_not_an_archived_take(folder)  # before the lock, which would leave a .lock file there
    with folder_lock(folder):
        problem = restore_take(folder, take)
    console.print(f"take {take} is current again in {folder}")
    if problem:
        warning(f"the take that was current: {problem}")


@app.command()
@friendly_errors
def schema() -> None:
    """Print the JSON Schema of the outline format (for editor autocompletion)."""
    from composer.outline_model import Outline

    out.print_json(json.dumps(Outline.model_json_schema()))


@app.command("templates")
@friendly_errors
def list_templates() -> None:
    """List the outline templates."""
    from composer.song import plan_for_backend
    from composer.templates_catalog import load_template, template_names

    table = Table()
    for column in ("template", "title", "bpm", "metre", "length", "form"):
        table.add_column(column, overflow="fold")
    for name in template_names():
        outline = load_template(name)
        the_plan = plan_for_backend(outline, _resolve_backend_name(None))
        table.add_row(name, outline.title, f"{outline.bpm:g}", outline.time_signature,
                      format_mmss(the_plan.duration_s), " ".join(the_plan.form))
    out.print(table)


@app.command()
@friendly_errors
def new(
    template: Annotated[str, typer.Option(help="Template name (see `composer templates`).")],
    output: Annotated[Path, typer.Option("--output", "-o", **PATH, help="Outline file to write.")],
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
) -> None:
    """Start a new outline from a template."""
    from composer.templates_catalog import copy_template

    copy_template(template, output, force=force)
    console.print(f"wrote {output}; edit it, then `composer render {output} -o out/song`")


@app.command()
@friendly_errors
def backends() -> None:
    """List the backends and what each needs."""
    from composer.backends.registry import backend_infos, default_backend_name

    table = Table()
    for column in ("backend", "default", "rate", "what it is", "needs"):
        table.add_column(column, overflow="fold")
    default = default_backend_name()
    for info in backend_infos():
        table.add_row(info.name, "*" if info.name == default else "", f"{info.sample_rate_hz} Hz",
                      info.description, info.needs)
    out.print(table)


@app.command()
@friendly_errors
def evaluate(
    folder: Annotated[Path, typer.Argument(parser=non_empty_path, help="Song folder to measure.")],
    against: Annotated[Optional[Path], typer.Option(
        **PATH, help="An older song.wav: report which samples changed.")] = None,
) -> None:
    """Measure tempo, beat alignment, joints, structure and loudness; writes evaluation.json."""
    from composer.evaluation import evaluate_song

    report = evaluate_song(folder, against=against)
    tempo, structure = report["tempo"], report["structure"]
    table = Table(title=f"{folder} (take {report['take']}, {report['backend']})")
    for column in ("measure", "value", "target"):
        table.add_column(column)
    targets = report["targets"]
    table.add_row("global tempo", f"{tempo['global_bpm']:.1f} bpm ({tempo['global_error']:+.1%})",
                  f"{report['planned_bpm']:g} bpm")
    within = tempo["windows_within_2pct"]
    table.add_row("10-s windows within 2%",
                  "n/a (shorter than 5 s)" if within is None else
                  f"{within:.0%} ({tempo['octave_errors']} half/double, {tempo['windows_without_pulse']} no pulse)",
                  f">= {targets['tempo_windows_within_2pct']:.0%}")
    level = " (felt pulse)" if report["beats"]["level"] == "pulse" else ""
    table.add_row("beat F-measure", f"{report['beats']['f_measure']:.2f}{level}", f">= {targets['beat_f_measure']}")
    table.add_row("joints flagged", f"{report['joints_flagged']} of {len(report['joints'])}", "0")
    boundary_f = structure["boundary_f_measure"]
    table.add_row("boundary F (1 bar)",
                  "n/a (one section)" if boundary_f is None else
                  f"{boundary_f:.2f} (chance {structure['chance_boundary_f_measure']:.2f}, "
                  + ("no change between bars)" if structure["form_p_value"] is None
                     else f"p {structure['form_p_value']:.3f})"),
                  f">= {targets['boundary_f_measure']}, above chance, p < {structure['max_form_p_value']}")
    same, different = structure["same_name_similarity"], structure["different_name_similarity"]
    table.add_row("same vs different-name similarity",
                  f"{same:.2f} vs {different:.2f}" if structure["repeats_more_similar"] is not None else
                  "n/a (" + ("no repeat" if same is None else "nothing but repeats") + ")",
                  "same > different")
    loudness = report["loudness"]
    table.add_row("largest loudness jump (not asked by gain_db)",
                  f"{loudness['max_unasked_jump_db']:.1f} dB (raw {loudness['max_jump_db']:.1f} dB)"
                  if loudness["max_unasked_jump_db"] is not None else "n/a (fewer than two sections of 0.4 s or more)",
                  f"<= {targets['max_section_loudness_jump_db']} dB")
    if "against" in report:
        table.add_row("changed samples vs --against", _against_in_words(report["against"]),
                      "inside the regenerated span")
    out.print(table)
    sections = Table(title="sections")
    for column in ("section", "start", "beat F", "loudness"):
        sections.add_column(column)
    for s in report["sections"]:
        label = s["name"] if s["occurrence"] == 1 else f"{s['name']} {s['occurrence']}"
        lufs = s["loudness_lufs"]
        sections.add_row(label, format_mmss(s["start_s"]), f"{s['beat_f_measure']:.2f}",
                         "n/a (< 0.4 s)" if lufs is None else f"{lufs:.1f} LUFS")
    out.print(sections)
    console.print(f"wrote {folder / 'evaluation.json'}")


@app.command("evaluate-templates")
@friendly_errors
def evaluate_templates(
    output: Annotated[Path, typer.Option("--output", "-o", **PATH, help="Folder for one song folder per template "
                                         "plus templates_report.md / .json.")],
    templates: Annotated[Optional[str], typer.Option(help="Comma-separated template names (default: all).")] = None,
    backend: Annotated[Optional[str], typer.Option(help="Backend name (default: the default backend).")] = None,
    model: Annotated[Optional[str], typer.Option(help="Model folder or hub id (riffusion backend).")] = None,
    device: Annotated[Device, typer.Option(help="Where the model runs.")] = Device.auto,
) -> None:
    """Render every template, evaluate each song and print the targets table (tempo, beats, joints, form, loudness)."""
    from composer.errors import SongFolderError
    from composer.files import write_json_atomic, write_text_atomic
    from composer.template_report import markdown_table, report_outlines, rows_to_json
    from composer.templates_catalog import template_names, template_path

    names = [n.strip() for n in templates.split(",")] if templates is not None else template_names()
    if not all(names):
        raise typer.BadParameter(f"--templates: an empty name in {templates!r}; write names such as pop,blues "
                                 f"(available: {', '.join(template_names())}) or leave the option out for all")
    outlines = [(name, template_path(name)) for name in names]  # unknown names fail before any model loads
    backend_name = _resolve_backend_name(backend)  # and so do unknown backends, before the folder is made
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SongFolderError(f"{output}: cannot create this folder ({exc.strerror or exc})") from None
    model_backend = _load_backend(backend_name, model=model, device=device.value)
    rows = report_outlines(outlines, output, model_backend, device=device.value,
                           on_done=lambda row: console.print(f"{row.name}: rendered in {row.render_s:.1f}s, evaluated"))
    table = markdown_table(rows)
    write_text_atomic(output / "templates_report.md", table)
    write_json_atomic(output / "templates_report.json", {"backend": model_backend.describe(), **rows_to_json(rows)})
    out.print(table, markup=False, highlight=False)
    console.print(f"wrote {output / 'templates_report.md'} and templates_report.json")




@app.command()
@friendly_errors
def bench(
    template: Annotated[str, typer.Option(help="Template whose sections and form the benchmark song uses.")] = "pop",
    minutes: Annotated[str, typer.Option(help="Song lengths to time, comma-separated (e.g. 1,3,6,10).")] = "3",
    repeats: Annotated[int, typer.Option(min=1, max=20, help="Cold runs per length (the median is reported).")] = 3,
    regenerate: Annotated[str, typer.Option(
        help="Also time regenerating this section (name[:occurrence]); 'auto': the 8-bar section nearest the "
             "middle of each song; 'none': skip.")] = "auto",
    backend: Annotated[Optional[str], typer.Option(help="Backend name (default: the default backend).")] = None,
    model: Annotated[Optional[str], typer.Option(
        help="Model folder or hub id (riffusion backend); 'sd15-random' builds a random-weight "
             "Stable Diffusion 1.5-shaped folder (same compute as Riffusion) for timing.")] = None,
    device: Annotated[Device, typer.Option(help="Where the model runs.")] = Device.auto,
    batch_size: Annotated[int, typer.Option(min=1, max=64, help="Clips rendered per model call.")] = 4,
    baseline: Annotated[bool, typer.Option(
        help="Also time the Riffusion reference loop (50 PNDM steps, one clip at a time, hard cuts) on the "
             "same weights, once per length, and print baseline time / our time.")] = True,
    baseline_clips: Annotated[Optional[int], typer.Option(
        min=1, help="Time only this many baseline clips and extrapolate their per-clip time to the song.")] = None,
    use_compile: Annotated[bool, typer.Option("--compile", help="torch.compile the UNet (first clips pay for it).")] = False,
    scheduler: Annotated[Sampler, typer.Option(
        help=SAMPLER_HELP + ". The baseline always runs 50 PNDM steps.")] = Sampler.folder,
    precision: Annotated[Precision, typer.Option(
        help=PRECISION_HELP + ". The baseline always runs float32 on a CPU.")] = Precision.auto,
    threads: Annotated[Optional[int], typer.Option(
        min=1, max=MAX_CPU_THREADS, help="torch CPU threads (default: torch's choice).")] = None,
    json_out: Annotated[Optional[Path], typer.Option(
        "--json", **PATH, help="Also write every figure to this file (rewritten after each length).")] = None,
    warmup: Annotated[bool, typer.Option(
        help="First render the template's first section untimed, so imports and first calls are not charged "
             "to the first timed run.")] = True,
) -> None:
    """Time whole songs end to end: per-stage seconds, real-time factor, peak memory, speed-up over a baseline."""
    from composer.bench import bench_baseline, bench_song, environment, speedup, summarize, warm_up
    from composer.files import write_json_atomic
    from composer.outline_model import MAX_SONG_S
    from composer.templates_catalog import load_template

    outline = load_template(template)
    name = _resolve_backend_name(backend)
    _quiet_model_loading()
    try:
        lengths = [float(m) * 60.0 for m in minutes.split(",")]
    except ValueError:
        raise typer.BadParameter(f"--minutes must be numbers separated by commas, got {minutes!r}") from None
    if not all(0.0 < seconds <= MAX_SONG_S for seconds in lengths):  # also refuses nan and inf
        raise typer.BadParameter(f"--minutes: each length must be more than 0 and at most {MAX_SONG_S / 60:g} "
                                 f"minutes, got {minutes!r}")
    if len({f"{seconds / 60:g}" for seconds in lengths}) < len(lengths):
        raise typer.BadParameter(f"--minutes: each length once (use --repeats to time one again), got {minutes!r}")
    if json_out and (json_out.is_dir() or not json_out.parent.is_dir()):
        raise typer.BadParameter(f"--json {json_out}: must be a file in an existing folder")
    if json_out and not os.access(json_out.parent, os.W_OK | os.X_OK):  # fail now, not after the benchmark
        raise typer.BadParameter(f"--json {json_out}: its folder cannot be written")
    if threads:
        from composer.backends.registry import set_cpu_threads

        set_cpu_threads(threads)
    if warmup:
        warm_up(outline, backend_name=name, model=model, device=device.value, batch_size=batch_size,
                compile=use_compile, scheduler=scheduler.value, precision=precision.value)
    results: dict = {}
    figures = {"backend": name, "model": model, "template": template, "device": device.value, "batch_size": batch_size,
               "compile": use_compile, "scheduler": scheduler.value, "precision": precision.value, "warmup": warmup,
               "environment": environment(),
               "results": results}
    for seconds in lengths:
        runs = [bench_song(outline, backend_name=name, model=model, device=device.value, duration_s=seconds,
                           regenerate=None if regenerate == "none" else regenerate, batch_size=batch_size,
                           compile=use_compile, scheduler=scheduler.value, precision=precision.value)
                for _ in range(repeats)]
        entry = results[f"{seconds / 60:g} min"] = {"summary": summarize(runs), "runs": runs}
        s = entry["summary"]
        stages = ", ".join(f"{k} {v:.2f}s" for k, v in s["median_stage_s"].items())
        regen = (f", regenerate {s['median_regenerate_s']:.1f}s with the model loaded, "
                 f"{s['median_regenerate_cold_s']:.1f}s as `composer regenerate` in a fresh process"
                 if "median_regenerate_s" in s else "")
        gpu = f", peak GPU {s['peak_gpu_memory_mb']:.0f} MB" if s["peak_gpu_memory_mb"] is not None else ""
        out.print(f"{name} ({runs[0]['dtype']}) {format_mmss(runs[0]['duration_s'])}: median {s['median_total_s']:.1f}s "
                  f"({s['median_song_s']:.1f}s without model load; RTF {s['median_real_time_factor']:.2f}x){regen}, "
                  f"peak RSS {s['peak_host_memory_mb']:.0f} MB{gpu}; {stages}", highlight=False)
        if baseline:
            ref = bench_baseline(outline, backend_name=name, model=model, device=device.value, duration_s=seconds,
                                 clips=baseline_clips)
            entry["baseline"] = ref
            s["speedup_vs_baseline"] = speedup(s, ref)
            how = (f"EXTRAPOLATED from {ref['timed_clips']} timed clips" if ref["extrapolated"]
                   else "all clips timed")
            ref_stages = ", ".join(f"{k} {v:.2f}s" for k, v in ref["song_backend_stages_s"].items())
            out.print(f"  baseline (Riffusion reference loop, {ref['steps']} PNDM steps, 1 clip per call, hard cuts): "
                      f"{ref['clips']} clips, {ref['per_clip_s']:.2f}s per clip, song {ref['song_s']:.1f}s ({how}); "
                      f"{ref_stages}", highlight=False)
            out.print(f"  speed-up: baseline {ref['song_s']:.1f}s / ours {s['median_song_s']:.1f}s = "
                      f"{s['speedup_vs_baseline']:.2f}x (model load excluded from both)", highlight=False)
        if json_out:  # after every length: a later one that times out loses nothing measured before it
            write_json_atomic(json_out, figures)


def _against_in_words(against: dict) -> str:
    """compare_audio's result for a person: '1,204 samples, 88,200-90,111, inside the span'."""
    if not against["same_length"]:
        return (f"not comparable: {against['new_samples']:,} samples here, {against['old_samples']:,} in the other "
                "file (another song, or a take of another length)")
    if not against["changed_samples"]:
        return "none: every sample is the same"
    where = {True: ", inside the span", False: ", some OUTSIDE the span", None: ""}[
        against.get("inside_regenerated_span")]
    return (f"{against['changed_samples']:,} samples, {against['first_changed']:,}-{against['last_changed']:,}"
            f"{where}")


def _summary(result, started: float) -> None:
    the_plan = result.plan
    total = time.perf_counter() - started
    stages = ", ".join(f"{k} {v:.1f}s" for k, v in result.stage_s.items())
    console.print(labelled(
        "done", "bold green",
        f"{the_plan.title!r}: {format_mmss(the_plan.duration_s)} "
        f"({the_plan.total_samples} samples at {the_plan.sample_rate_hz} Hz), {len(the_plan.sections)} sections, "
        f"{len(the_plan.clips)} clips ({result.rendered_clips} rendered, {result.cached_clips} from cache), "
        f"take {result.take}, {total:.1f}s ({stages})"))
    console.print(f"files: {result.folder / 'song.wav'}, song.mid, spectrogram.png, manifest.json")
    if result.note:
        console.print(labelled("note:", "bold yellow", result.note))
    if result.previous_take_problem:
        warning(f"the previous take: {result.previous_take_problem}")


def _mount_structure() -> None:
    try:
        from composer.cli_structure import structure_app
    except ImportError:
        return
    app.add_typer(structure_app, name="structure", help="Learned song-structure templates.")


_mount_structure()
