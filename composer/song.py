"""The two user-level tasks: render an outline into a song folder, regenerate one section.

Each runs plan -> render (clip cache) -> stitch -> write, under the folder lock,
archiving the previous take before anything is replaced.
"""

from __future__ import annotations

import datetime as _dt
import importlib.metadata
import json
import platform
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import numpy as np

import composer
from composer.backends.base import SpectrogramBackend
from composer.clip_cache import ClipCache
from composer.errors import SongFolderError
from composer.files import folder_lock, write_json_atomic
from composer.outline import load_outline, outline_from_dict, outline_to_dict
from composer.outline_model import Outline
from composer.plan import Plan, SectionOverride
from composer.planner import plan_song
from composer.render import RenderedSong, changed_groove_files, changed_span, check_groove_files, render_song
from composer.seeds import derive_seed
from composer.song_folder import (
    MANIFEST_SCHEMA_VERSION, archive_current_take, check_writable, clips_dir, commit_song_files, current_take,
    file_sha256, next_take_number, read_manifest, sweep_leftovers,
)

ProgressFactory = Callable[[int], Callable[[int], None]]

NOISE_NOTE = ("The tiny-random backend has random weights: this song is noise on a correct timeline, "
              "not music. Use the built-in model or --backend riffusion --model PATH for music.")


@dataclass(frozen=True)
class SongResult:
    """What a render or regeneration did, for the CLI summary."""

    # the song folder written
    folder: Path
    # the timeline rendered
    plan: Plan
    # take number now current in the folder
    take: int
    # clips the backend rendered, and clips taken from the clip cache
    rendered_clips: int
    cached_clips: int
    # seconds per stage (load, plan, the backend's stages, stitch, write)
    stage_s: dict[str, float] = field(default_factory=dict)
    # regenerate only: [first, end) samples that may differ from the previous take
    changed_samples: Optional[tuple[int, int]] = None
    # regenerate only: why the changed span reaches past the section, if it does
    note: Optional[str] = None
    # regenerate only: samples outside changed_samples that differ from the previous take's song.wav (0 when
    # the guarantee holds; more when that take was stitched by another composer version)
    changed_outside: int = 0
    # regenerate only: the composer version that made the previous take
    previous_version: Optional[str] = None
    # what was wrong with the take this one replaced (a missing or cut song.wav), and where it is kept
    previous_take_problem: Optional[str] = None


def plan_for_backend(outline: Outline, backend_name: str, overrides: Optional[dict] = None) -> Plan:
    """Plan an outline at the sample rate and clip length of a backend (no weights loaded)."""
    from composer.backends.registry import backend_info

    info = backend_info(backend_name)
    return plan_song(outline, sample_rate_hz=info.sample_rate_hz, max_clip_s=info.preferred_clip_s,
                     default_steps=info.default_steps, overrides=overrides)


def render_outline(outline_path: Path, folder: Path, backend: SpectrogramBackend, *, model: Optional[str],
                   device: str, batch_size: Optional[int] = None,
                   progress: Optional[ProgressFactory] = None,
                   on_warning: Optional[Callable[[str], None]] = None) -> SongResult:
    """Render an outline file into a song folder (a new take if the folder holds a song). ``on_warning`` hears,
    before any clip renders, of prompts the backend's text encoder will not read to the end."""
    started = time.perf_counter()
    outline = load_outline(outline_path)
    groove_root = Path(outline_path).resolve().parent
    plan = _plan(outline, backend)
    check_groove_files(plan, groove_root=groove_root)
    for message in unread_prompt_warnings(plan, backend) if on_warning else ():
        on_warning(message)
    stages = {"plan": time.perf_counter() - started}
    change = {"description": "render", "outline_file": str(Path(outline_path).resolve())}
    return _render_take(folder, outline, plan, backend, overrides={}, model=model, device=device,
                        groove_root=groove_root, change=change, batch_size=batch_size, progress=progress,
                        stages=stages)


def model_reference(model: str) -> str:
    """What a manifest records for ``--model``: a local folder as an absolute path (so the song can be
    regenerated from any directory), anything else (a hub id, sd15-random) as given."""
    path = Path(model).expanduser()
    return str(path.resolve()) if path.exists() else model


def regenerate_section(folder: Path, selector: str, backend: SpectrogramBackend, *, seed: Optional[int],
                       prompt: Optional[str], denoising: Optional[float], device: str, batch_size: Optional[int] = None,
                       model: Optional[str] = None, progress: Optional[ProgressFactory] = None,
                       groove_root: Optional[Path] = None,
                       on_warning: Optional[Callable[[str], None]] = None) -> SongResult:
    """Re-render one section occurrence with a new seed/prompt; everything else stays sample-identical.
    ``model``: what the new take's manifest records as the model (default: the current take's).
    ``groove_root``: the folder groove files are read from (default: the outline's folder at the first render).
    ``on_warning``: as in ``render_outline``, for the clips this re-renders."""
    started = time.perf_counter()
    manifest = read_manifest(folder)
    if json.loads(json.dumps(backend.describe())) != manifest["backend"].get("identity"):
        raise SongFolderError(
            f"{folder}: this song was rendered with a different model or settings ({manifest['backend']['name']}, "
            "identity in manifest.json) than the one loaded now, so regenerating one section would change every "
            "clip; render the whole song again with `composer render` instead")
    outline = outline_from_dict(manifest["outline"], source=f"{Path(folder) / 'manifest.json'} (outline)")
    overrides = _overrides_from_manifest(manifest)
    old_plan = _plan(outline, backend, overrides)
    groove_root = _groove_root(manifest, groove_root)
    check_groove_files(old_plan, groove_root=groove_root)  # reuses the loops check_regenerate read
    section = old_plan.section_for(selector)
    key = (section.name, section.occurrence)
    previous = overrides.get(key, SectionOverride())
    if seed is None and prompt is None and denoising is None:
        # a bare regenerate asks for a new take: derive a fresh seed from the old one and the take number
        seed = derive_seed(section.seed, "regenerate", next_take_number(folder))
    overrides[key] = SectionOverride(
        seed=seed if seed is not None else previous.seed,
        prompt=prompt if prompt is not None else previous.prompt,
        denoising=denoising if denoising is not None else previous.denoising,
    )
    plan = _plan(outline, backend, overrides)
    changed = [i for i, (a, b) in enumerate(zip(old_plan.clips, plan.clips)) if a != b]
    recorded_keys = {c["index"]: c["cache_key"] for s in manifest["sections"] for c in s["clips"]}
    kept = [i for i in range(len(plan.clips)) if i not in changed]
    stale = changed_groove_files(
        plan, groove_root=groove_root, backend_identity=backend.describe(), recorded_keys=recorded_keys, kept=kept,
        chained=outline.render.continuation and backend.supports_continuation)
    if stale:
        name, other = next(iter(stale.items()))
        raise SongFolderError(
            f"{folder}: groove file {name} (section {other!r}) has changed since this take was rendered, so "
            f"regenerating {section.name}:{section.occurrence} would re-render {other!r} too; put the file back as "
            "it was, or render the whole song again with `composer render`")
    change = {"description": f"regenerate {section.name}:{section.occurrence}", "section": section.name,
              "occurrence": section.occurrence, "seed": overrides[key].seed, "prompt": overrides[key].prompt,
              "denoising": overrides[key].denoising, "changed_clips": changed}
    for message in unread_prompt_warnings(plan, backend, clips=changed) if on_warning else ():
        on_warning(message)
    span = changed_span(plan, changed) if changed else None
    if span:
        change["changed_samples"] = list(span)
    result = _render_take(folder, outline, plan, backend, overrides=overrides,
                          model=model or manifest["backend"].get("model"),
                          device=device, groove_root=groove_root, change=change,
                          batch_size=batch_size, progress=progress,
                          stages={"plan": time.perf_counter() - started}, keep_outside=span or (0, 0),
                          based_on_take=int(manifest["take"]),
                          pinned_keys={i: recorded_keys[i] for i in kept if i in recorded_keys},
                          fade_law=manifest.get("joint_fades", "fixed"))
    return replace(result, changed_samples=span, changed_outside=change.get("changed_outside_span", 0),
                   previous_version=manifest.get("composer_version"))


def unread_prompt_warnings(plan: Plan, backend: SpectrogramBackend,
                           clips: Optional[Sequence[int]] = None) -> list[str]:
    """A warning per prompt of ``clips`` (default: all) whose end the backend's text encoder cuts off, naming
    the sections that use it and the words left out: past the limit go the outline's style, key and tempo."""
    users: dict[str, list[str]] = {}
    for index in range(len(plan.clips)) if clips is None else clips:
        clip = plan.clips[index]
        label = plan.sections[clip.section_index].label
        for prompt, what in ((clip.prompt_a, "prompt"), (clip.prompt_b, "prompt"),
                             (clip.negative_prompt, "negative prompt")):
            entry = label if what == "prompt" else f"{label} ({what})"
            if prompt and entry not in users.setdefault(prompt, []):
                users[prompt].append(entry)
    warnings = []
    for prompt, names in users.items():
        tail = backend.unread_prompt_text(prompt)
        if tail:
            warnings.append(
                f"{', '.join(names)}: the {backend.name} model reads the first {backend.prompt_token_limit} tokens "
                f"of a prompt and ignores the rest of this one: {tail!r}; shorten the section prompt or the "
                "outline's style")
    return warnings


def recorded_backend_options(manifest: dict[str, Any]) -> dict[str, Any]:
    """``load_backend`` options that rebuild the backend a take was rendered with: its sampler (riffusion), and
    the builtin codec's inversion settings, which the model folder may have changed since, and its precision
    (a song rendered in bfloat16 regenerates in bfloat16 on any machine; one made before composer had the
    choice was float32)."""
    identity = manifest["backend"].get("identity") or {}
    if manifest["backend"]["name"] == "builtin":
        from composer.backends.builtin import INVERSION_SETTINGS

        codec = identity.get("codec") or {}
        return {"codec_overrides": {k: codec[k] for k in INVERSION_SETTINGS if k in codec},
                "precision": identity.get("dtype", "float32")}
    return {"scheduler": identity.get("sampler", "folder")}


def check_regenerate(folder: Path, manifest: dict[str, Any], *, selector: str,
                     groove_root: Optional[Path] = None) -> None:
    """Check what regenerating ``folder`` needs, at the rate of the manifest's backend but without loading it:
    the section selector and the groove files. A typo or a missing file fails in a moment, not after the model
    has loaded."""
    outline = outline_from_dict(manifest["outline"], source=f"{Path(folder) / 'manifest.json'} (outline)")
    plan = plan_for_backend(outline, manifest["backend"]["name"], _overrides_from_manifest(manifest))
    plan.section_for(selector)
    check_groove_files(plan, groove_root=_groove_root(manifest, groove_root))


def _groove_root(manifest: dict[str, Any], groove_root: Optional[Path]) -> Path:
    return Path(groove_root).resolve() if groove_root is not None else Path(manifest.get("groove_root", "."))


def _plan(outline: Outline, backend: SpectrogramBackend,
          overrides: Optional[dict[tuple[str, int], SectionOverride]] = None) -> Plan:
    return plan_song(outline, sample_rate_hz=backend.sample_rate_hz, max_clip_s=backend.preferred_clip_s,
                     default_steps=backend.default_steps, overrides=overrides)


def _render_take(folder: Path, outline: Outline, plan: Plan, backend: SpectrogramBackend, *,
                 overrides: dict[tuple[str, int], SectionOverride], model: Optional[str], device: str,
                 groove_root: Path, change: dict[str, Any], batch_size: Optional[int],
                 progress: Optional[ProgressFactory], stages: dict[str, float],
                 keep_outside: Optional[tuple[int, int]] = None, based_on_take: Optional[int] = None,
                 pinned_keys: Optional[dict[int, str]] = None, fade_law: str = "matched") -> SongResult:
    """Render ``plan`` and write it as the folder's next take. ``keep_outside``: the [first, end) samples a
    regeneration may change; the new take is checked against the current one outside them, and the count of
    samples that differ there is recorded in ``change`` as ``changed_outside_span``. ``based_on_take``: the
    take the plan was made from; if another process has made a newer one since, nothing is written.
    ``pinned_keys``: the kept clips' recorded cache keys (see ``render_song``). ``fade_law``: how the clips are
    crossfaded (a regeneration keeps its take's)."""
    folder = Path(folder)
    with folder_lock(folder):
        # a song it could not keep as a take fails now, not after minutes of rendering
        now = current_take(folder)
        if based_on_take is not None and now != based_on_take:
            raise SongFolderError(
                f"{folder}: take {now} was made by another composer process while this one was planning from take "
                f"{based_on_take}, so writing now would drop that change; nothing was written: run the command "
                "again")
        sweep_leftovers(folder)
        check_writable(folder)  # and so does a folder it could not write the new take into
        tick = time.perf_counter()
        song = render_song(plan, backend, cache=ClipCache(clips_dir(folder)),
                           loudness_db=float(outline.render.loudness_db), groove_root=groove_root,
                           batch_size=batch_size or backend.preferred_batch_size,
                           continuation=outline.render.continuation, fade_law=fade_law,
                           on_clip_done=progress(len(plan.clips)) if progress else None, pinned_keys=pinned_keys)
        stages["render"] = time.perf_counter() - tick - song.stitch_s
        stages["stitch"] = song.stitch_s
        stages["stitch_overlapped"] = song.overlapped_stitch_s  # ran during "render", on a worker thread
        tick = time.perf_counter()
        if keep_outside is not None:
            outside = _samples_changed_outside(folder / "song.wav", song.audio, span=keep_outside)
            if outside:
                change["changed_outside_span"] = outside
        _, previous_problem = archive_current_take(folder)
        take = next_take_number(folder)
        manifest = build_manifest(outline, plan, song, backend, overrides=overrides, model=model, device=device,
                                  groove_root=groove_root, take=take, change=change, fade_law=fade_law)
        write_song_files(folder, plan, song, manifest)
        stages["write"] = time.perf_counter() - tick
    return SongResult(folder=folder, plan=plan, take=take, rendered_clips=len(song.rendered),
                      cached_clips=len(plan.clips) - len(song.rendered), stage_s=stages,
                      note=None if backend.makes_music else NOISE_NOTE, previous_take_problem=previous_problem)


def _samples_changed_outside(path: Path, audio: np.ndarray, *, span: tuple[int, int]) -> Optional[int]:
    """How many 16-bit samples outside [span) differ between the WAV at ``path`` and ``audio`` as it will be
    written; None when the file cannot be read or has another length (nothing to compare)."""
    import soundfile

    from composer.audio_io import to_int16

    try:
        previous = soundfile.read(str(path), dtype="int16")[0]
    except (soundfile.LibsndfileError, RuntimeError, OSError):
        return None
    new = to_int16(audio)
    if previous.shape != new.shape:
        return None
    lo, hi = span
    return int(np.count_nonzero(previous[:lo] != new[:lo]) + np.count_nonzero(previous[hi:] != new[hi:]))


def write_song_files(folder: Path, plan: Plan, song: RenderedSong, manifest: dict[str, Any]) -> None:
    """song.wav, song.mid, spectrogram.png and manifest.json, moved into the folder together."""
    from composer.audio_io import write_wav_16bit
    from composer.midi_export import write_song_midi
    from composer.song_picture import save_png, song_picture

    picture = song_picture(audio=song.audio, sample_rate_hz=plan.sample_rate_hz,
                           sections=[(s.label, s.start_s, s.end_s) for s in plan.sections], title=plan.title)
    png_metadata = {
        "title": plan.title, "bpm": _number_text(plan.bpm), "time_signature": f"{plan.beats_per_bar}/{plan.beat_unit}",
        "backend": manifest["backend"]["name"], "take": str(manifest["take"]),
        "sections": ", ".join(f"{s.label}@{s.start_s:.3f}s" for s in plan.sections),
        # what made each section, so the picture alone says how to render it again
        "section_seeds": json.dumps({s.label: s.seed for s in plan.sections}),
        "section_prompts": json.dumps({s.label: s.prompt for s in plan.sections}, ensure_ascii=False),
    }
    commit_song_files(folder, {
        "song.wav": lambda path: write_wav_16bit(path, song.audio, sample_rate_hz=plan.sample_rate_hz),
        "song.mid": lambda path: write_song_midi(
            path, bpm=plan.bpm, time_signature=(plan.beats_per_bar, plan.beat_unit),
            sections=[(s.label, s.start_s) for s in plan.sections], total_duration_s=plan.duration_s,
            title=plan.title),
        "spectrogram.png": lambda path: save_png(picture, path, metadata=png_metadata),
        # written last, so it can name the exact bytes of the song.wav beside it
        "manifest.json": lambda path: write_json_atomic(
            path, {**manifest, "audio_sha256": file_sha256(path.parent / "song.wav")}),
    })


def build_manifest(outline: Outline, plan: Plan, song: RenderedSong, backend: SpectrogramBackend, *,
                   overrides: dict[tuple[str, int], SectionOverride], model: Optional[str], device: str,
                   groove_root: Path, take: int, change: dict[str, Any], fade_law: str) -> dict[str, Any]:
    identity = backend.describe()
    sections = []
    for section in plan.sections:
        clips = []
        for i in section.clip_indices:
            clip = plan.clips[i]
            clips.append({
                "index": i, "cache_key": song.clip_keys[i], "kind": clip.kind, "start_bar": clip.start_bar,
                "bars": clip.bars, "start_sample": clip.start_sample, "end_sample": clip.end_sample,
                "prompt_a": clip.prompt_a, "prompt_b": clip.prompt_b, "alpha": clip.alpha,
                "seed_a": song.retried_seeds.get(i, clip.seed_a), "seed_b": clip.seed_b,
                "planned_seed_a": clip.seed_a, "denoising": clip.denoising, "guidance": clip.guidance,
                "steps": clip.steps, "groove": clip.groove, "gain_db": song.clip_gains_db[i],
            })
        sections.append({
            "index": section.index, "name": section.name, "occurrence": section.occurrence, "role": section.role,
            "start_s": round(section.start_s, 6), "end_s": round(section.end_s, 6),
            "start_sample": section.start_sample, "end_sample": section.end_sample,
            "start_bar": section.start_bar, "bars": section.bars, "prompt": section.prompt, "seed": section.seed,
            "transition": section.transition, "clips": clips,
        })
    return {
        "schema_version": MANIFEST_SCHEMA_VERSION,
        "composer_version": composer.__version__,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "take": take,
        "change": change,
        "title": plan.title,
        "sample_rate": plan.sample_rate_hz,
        "bpm": plan.bpm,
        "time_signature": f"{plan.beats_per_bar}/{plan.beat_unit}",
        "duration_s": round(plan.duration_s, 6),
        "total_samples": plan.total_samples,
        "pad_samples": plan.pad_samples,
        "joint_fade_samples": plan.joint_fade_samples,
        "joint_fades": fade_law,  # composer.dsp.stitch.FADE_LAWS: a regeneration stitches with the same
        "warnings": list(plan.warnings),  # what `plan` and `render` printed before rendering
        "backend": {"name": backend.name, "model": model, "device": device, "makes_music": backend.makes_music,
                    "note": None if backend.makes_music else NOISE_NOTE, "identity": identity},
        "outline": outline_to_dict(outline),
        "overrides": [{"section": n, "occurrence": o, **{k: v for k, v in vars(ov).items() if v is not None}}
                      for (n, o), ov in sorted(overrides.items())],
        "form": list(plan.form),
        "learned_form": plan.learned_form,
        "groove_root": str(groove_root),
        "sections": sections,
        "files": {"audio": "song.wav", "midi": "song.mid", "picture": "spectrogram.png", "clips": "clips/"},
        "environment": {"python": platform.python_version(), "numpy": np.__version__,
                        "torch": importlib.metadata.version("torch"), "platform": platform.platform()},
    }


def _overrides_from_manifest(manifest: dict[str, Any]) -> dict[tuple[str, int], SectionOverride]:
    overrides = {}
    for item in manifest.get("overrides", []):
        try:
            overrides[(item["section"], int(item["occurrence"]))] = SectionOverride(
                seed=item.get("seed"), prompt=item.get("prompt"), denoising=item.get("denoising"))
        except (KeyError, TypeError, ValueError):
            raise SongFolderError(f"manifest.json: malformed override {item!r}") from None
    return overrides


def _number_text(value: float) -> str:
    """'120' for 120.0, the full float otherwise ('97.35'): how the outline would write it."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))
