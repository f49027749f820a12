"""Plan + backend -> song audio: build clip requests, render what the cache lacks, stitch.

The renderer holds no model code: it turns planned clips into ``ClipRequest``s
(with their groove init audio), asks the backend for the missing ones, and
joins everything on the bar grid.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Optional, Sequence

import numpy as np

from composer.backends.base import ClipRequest, SpectrogramBackend
from composer.clip_cache import ClipCache, clip_cache_key
from composer.dsp.loudness import gain_to_target_db, rms_db, soft_limit, trend_corrections_db
from composer.dsp.stitch import FADE_LAWS, ClipPlacement, add_clip, declick_edges, fixed_fade, joint_ramps
from composer.errors import GrooveFileError, OutlineError, RenderError
from composer.plan import Plan, PlannedClip, PlannedSection
from composer.planner import declick_samples
from composer.seeds import derive_seed

#: a rendered clip quieter than this (dBFS RMS) is treated as a failed render
SILENT_CLIP_DB = -80.0
#: re-render attempts with a derived seed when a clip comes out NaN/inf/silent
MAX_RETRIES = 2

Progress = Callable[[int], None]


@dataclass(frozen=True)
class RenderedSong:
    """The stitched song plus what each clip contributed."""

    # float32 mono audio, plan.total_samples long, already limited to [-1, 1]
    audio: np.ndarray
    # cache key of every clip, in clip order
    clip_keys: tuple[str, ...]
    # gain applied to every clip for loudness matching, dB
    clip_gains_db: tuple[float, ...]
    # clips actually rendered by the backend this time (the rest came from the cache)
    rendered: tuple[int, ...]
    # clip index -> seed actually used when a retry replaced seed_a (else absent)
    retried_seeds: dict[int, int]
    # wall time of the stitching left after the last clip (limiter, edge fades), seconds (for `composer bench`)
    stitch_s: float = 0.0
    # seconds of loudness matching and crossfading done on the worker thread while clips rendered
    overlapped_stitch_s: float = 0.0


def clip_requests(plan: Plan, *, groove_root: Path) -> list[ClipRequest]:
    """One request per planned clip, spanning its bars plus ``plan.pad_samples`` either side.

    Loudness is not part of a request: it is applied after rendering, so a level
    change never invalidates the clip cache.
    """
    loops: dict[str, np.ndarray] = {}
    requests = [_clip_request(plan, clip, groove_root=groove_root, loops=loops) for clip in plan.clips]
    _checked_loops.clear()  # the requests hold their own windows of the loops: free them for the render
    return requests


def _clip_request(plan: Plan, clip: PlannedClip, *, groove_root: Path, loops: dict[str, np.ndarray]) -> ClipRequest:
    num_samples = clip.end_sample - clip.start_sample + 2 * plan.pad_samples
    return ClipRequest(
        prompt_a=clip.prompt_a, prompt_b=clip.prompt_b, alpha=clip.alpha,
        seed_a=clip.seed_a, seed_b=clip.seed_b, num_samples=num_samples,
        denoising=clip.denoising, guidance=clip.guidance, steps=clip.steps,
        negative_prompt=clip.negative_prompt,
        init_audio=_init_audio(plan, clip, num_samples=num_samples, groove_root=groove_root, loops=loops),
    )


def changed_groove_files(plan: Plan, *, groove_root: Path, backend_identity: dict, recorded_keys: dict[int, str],
                         kept: Sequence[int], chained: bool) -> dict[str, str]:
    """{groove file: section} for the kept clips whose groove is a file that no longer gives the clip the cache
    key the take recorded: the file changed since, and rendering them again would change them. Clips that
    continue another (``chained``) are judged by the first clip of their chain."""
    loops: dict[str, np.ndarray] = {}
    changed = {}
    for i in kept:
        clip = plan.clips[i]
        if clip.groove in ("auto", "none") or (chained and _predecessor(plan, i) is not None) or i not in recorded_keys:
            continue
        request = _clip_request(plan, clip, groove_root=groove_root, loops=loops)
        if clip_cache_key(request, backend_identity=backend_identity) != recorded_keys[i]:
            changed.setdefault(clip.groove, plan.sections[clip.section_index].name)
    return changed


def render_song(
    plan: Plan,
    backend: SpectrogramBackend,
    *,
    cache: ClipCache,
    loudness_db: float,
    groove_root: Path,
    batch_size: int = 4,
    continuation: bool = False,
    fade_law: str = "matched",
    on_clip_done: Optional[Progress] = None,
    pinned_keys: Optional[Mapping[int, str]] = None,
) -> RenderedSong:
    """Render (or fetch from the cache) every clip and stitch the song.

    With ``continuation`` (and a backend that supports it) every clip after the
    first of its section continues the previous one: the previous clip's tail
    over their shared window is the new clip's ``prefix_audio``. Clips are then
    rendered in waves (the k-th clip of every section together); chains restart
    at every section, so re-rendering one section never changes another.

    ``fade_law``: how clips are crossfaded (``composer.dsp.stitch.FADE_LAWS``); a regeneration passes the law
    its take was stitched with, so no other joint changes.

    ``pinned_keys`` (regenerate): clip index -> the cache key the take being kept recorded for it. Such a clip
    is taken from the cache under that key while the cache holds it, even if this composer version would key
    (and render) it differently: a take made by an older version keeps its clips.
    """
    if backend.sample_rate_hz != plan.sample_rate_hz:
        raise RenderError(f"plan is at {plan.sample_rate_hz} Hz but backend {backend.name!r} renders "
                          f"{backend.sample_rate_hz} Hz; re-plan for this backend")
    if fade_law not in FADE_LAWS:
        raise RenderError(f"unknown fade law {fade_law!r}; expected one of {', '.join(FADE_LAWS)}")
    chained = continuation and backend.supports_continuation
    identity = backend.describe()
    keys: list[str] = [""] * len(plan.clips)
    audio: dict[int, np.ndarray] = {}
    retried: dict[int, int] = {}
    rendered: list[int] = []
    # a regeneration's kept clips come first, under their recorded keys: they need no request (nor groove)
    kept = _fetch_pinned(plan, pinned_keys or {}, cache, keys, audio, retried, on_clip_done)
    loops: dict[str, np.ndarray] = {}
    requests = {i: _clip_request(plan, clip, groove_root=groove_root, loops=loops)
                for i, clip in enumerate(plan.clips) if i not in kept}
    del loops
    _checked_loops.clear()  # the requests hold their own windows of the loops: free them for the render
    song = _SongBuilder(plan, loudness_db=loudness_db, fade_law=fade_law, coherent_joints=[
        chained and _predecessor(plan, i + 1) == i for i in range(len(plan.clips) - 1)])
    pending = list(range(len(plan.clips)))
    # one worker thread keeps cache writes and stitching off the rendering thread: the backend renders
    # the next batch while the last one is stored and overlap-added (torch releases the GIL on a GPU)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="composer-stitch") as worker:
        kept_added = worker.submit(song.add, {i: audio[i] for i in kept})  # the worker runs jobs in order
        while pending:
            wave = [i for i in pending
                    if not chained or _predecessor(plan, i) is None or _predecessor(plan, i) in audio]
            wave_to_key = [i for i in wave if i not in kept]
            for i in wave_to_key:
                previous = _predecessor(plan, i) if chained else None
                if previous is not None:
                    requests[i] = dataclasses.replace(requests[i], prefix_audio=_shared_tail(plan, previous, i, audio))
                keys[i] = clip_cache_key(requests[i], backend_identity=identity)
            missing = _fetch_cached(wave_to_key, keys, requests, cache, audio, retried, on_clip_done)
            delivered = [worker.submit(song.add, {i: audio[i] for i in wave_to_key if i in audio})]
            for batch in _batches(missing, requests, batch_size):
                outputs = backend.render([requests[i] for i in batch])
                checked = [(i, *_checked(out, requests[i], backend, clip_index=i)) for i, out in zip(batch, outputs)]
                delivered.append(worker.submit(_deliver, checked, wave, keys, cache, audio, retried, song,
                                               on_clip_done))
            for future in delivered:  # the next wave may continue these clips: wait for them
                future.result()
            rendered.extend(missing)
            pending = [i for i in pending if i not in audio]
        kept_added.result()

    stitch_started = time.perf_counter()
    final = soft_limit(declick_edges(song.audio, fade_samples=declick_samples(sample_rate_hz=plan.sample_rate_hz)))
    return RenderedSong(
        audio=final.astype(np.float32), clip_keys=tuple(keys),
        clip_gains_db=tuple(round(song.gains_db[i], 4) for i in range(len(keys))),
        rendered=tuple(sorted(rendered)), retried_seeds=retried,
        stitch_s=time.perf_counter() - stitch_started, overlapped_stitch_s=song.busy_s,
    )


class _SongBuilder:
    """The song buffer: each section is loudness-matched as soon as its clips exist, and each clip is
    overlap-added as soon as the crossfades at both its ends are known.

    Gains per section occurrence (``_section_gains_db``): each clip moves onto
    the straight-line level trend of its section, then the section as a whole
    goes to the target plus its ``gain_db``. The arrangement's own dynamics
    (a thinning outro, a rising build) survive; the seed-to-seed level scatter
    that would make joints inside a section step does not. A joint's crossfade
    (``joint_ramps``) depends only on the two clips it joins, with their gains,
    and adding in any order gives the song ``stitch_clips`` would (``add_clip``),
    so stitching runs while later clips render.
    """

    def __init__(self, plan: Plan, *, loudness_db: float, fade_law: str, coherent_joints: list[bool]) -> None:
        self.plan, self.loudness_db, self.fade_law, self.coherent = plan, loudness_db, fade_law, coherent_joints
        self.fades = joint_fades(plan)
        self.audio = np.zeros(plan.total_samples, dtype=np.float64)
        self.gains_db: dict[int, float] = {}
        self._waiting: dict[int, np.ndarray] = {}  # rendered clips of sections not complete yet
        self._gained: dict[int, np.ndarray] = {}  # clips with their gains, waiting for a neighbour's crossfade
        self._ramps: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # joint i (clip i to i+1) -> its fades
        # seconds spent stitching (on the worker, mostly while the backend renders)
        self.busy_s = 0.0

    def add(self, clips: dict[int, np.ndarray]) -> None:
        started = time.perf_counter()
        # a clip delivered again (one shared by a repeat) after its section was gained is already in the song
        self._waiting.update({i: clip for i, clip in clips.items() if i not in self.gains_db})
        for section in self.plan.sections:
            indices = section.clip_indices
            if indices and indices[0] not in self.gains_db and all(i in self._waiting for i in indices):
                gains_db = _section_gains_db([self._waiting[i] for i in indices], self.plan, section,
                                             loudness_db=self.loudness_db)
                for i, gain_db in zip(indices, gains_db):
                    self.gains_db[i] = gain_db
                    self._gained[i] = self._waiting.pop(i).astype(np.float64) * (10.0 ** (gain_db / 20.0))
        self._add_ready()
        self.busy_s += time.perf_counter() - started

    def _add_ready(self) -> None:
        """Work out every crossfade whose two clips are gained, then add every clip with both of its own."""
        last = len(self.plan.clips) - 1
        for i in sorted(self._gained):
            if i == last or i in self._ramps:
                continue
            if self.fade_law == "fixed":  # needs neither clip
                self._ramps[i] = fixed_fade(num_samples=self.fades[i], coherent=self.coherent[i])
            elif i + 1 in self._gained:
                self._ramps[i] = joint_ramps(self._gained[i], self._placement(i), self._gained[i + 1],
                                             self._placement(i + 1), fade_samples=self.fades[i], law=self.fade_law)
        for i in [i for i in sorted(self._gained) if (i == 0 or i - 1 in self._ramps)
                  and (i == last or i in self._ramps)]:
            add_clip(self.audio, self._gained.pop(i), self._placement(i),
                     fade_in=self._ramps[i - 1][1] if i > 0 else None,
                     fade_out=self._ramps[i][0] if i < last else None)

    def _placement(self, i: int) -> ClipPlacement:
        clip = self.plan.clips[i]
        return ClipPlacement(clip.start_sample, clip.end_sample, self.plan.pad_samples)


def _deliver(checked: list[tuple[int, np.ndarray, Optional[int]]], wave: list[int], keys: list[str],
             cache: ClipCache, audio: dict[int, np.ndarray], retried: dict[int, int], song: _SongBuilder,
             on_clip_done: Optional[Progress]) -> None:
    """Store rendered clips, share them with identical clips of the wave (a repeated chorus), stitch them."""
    for i, out, seed in checked:
        cache.put(keys[i], out, retry_seed=seed)
        sharing = [j for j in wave if keys[j] == keys[i]]
        for j in sharing:
            audio[j] = out
            if seed is not None:
                retried[j] = seed
        song.add({j: out for j in sharing})
        if on_clip_done:
            for j in sharing:
                on_clip_done(j)


def _fetch_pinned(plan: Plan, pinned_keys: Mapping[int, str], cache: ClipCache, keys: list[str],
                  audio: dict[int, np.ndarray], retried: dict[int, int],
                  on_clip_done: Optional[Progress]) -> set[int]:
    """Fill ``audio`` with the clips that the cache holds under their pinned keys; return them."""
    kept = set()
    for i, pinned in sorted(pinned_keys.items()):
        clip = plan.clips[i]
        found = cache.get(pinned, num_samples=clip.end_sample - clip.start_sample + 2 * plan.pad_samples)
        if found is not None:
            keys[i] = pinned
            _use_cached(i, found, keys, cache, audio, retried, on_clip_done)
            kept.add(i)
    return kept


def _fetch_cached(wave: list[int], keys: list[str], requests: dict[int, ClipRequest], cache: ClipCache,
                  audio: dict[int, np.ndarray], retried: dict[int, int],
                  on_clip_done: Optional[Progress]) -> list[int]:
    """Fill ``audio`` from the cache; return the clips to render, one per distinct key."""
    first_with_key: dict[str, int] = {}
    for i in wave:
        cached = cache.get(keys[i], num_samples=requests[i].num_samples)
        if cached is None:
            first_with_key.setdefault(keys[i], i)
        else:
            _use_cached(i, cached, keys, cache, audio, retried, on_clip_done)
    return sorted(first_with_key.values())


def _use_cached(i: int, cached: np.ndarray, keys: list[str], cache: ClipCache, audio: dict[int, np.ndarray],
                retried: dict[int, int], on_clip_done: Optional[Progress]) -> None:
    """Clip ``i`` comes from the cache under ``keys[i]``, with the seed that replaced a failed render's, if any."""
    audio[i] = cached
    seed = cache.retry_seed(keys[i])
    if seed is not None:
        retried[i] = seed
    if on_clip_done:
        on_clip_done(i)


def _predecessor(plan: Plan, index: int) -> Optional[int]:
    """The clip that ``index`` continues: the previous clip of the same section occurrence, if any."""
    if index > 0 and plan.clips[index - 1].section_index == plan.clips[index].section_index:
        return index - 1
    return None


def _shared_tail(plan: Plan, previous: int, index: int, audio: dict[int, np.ndarray]) -> np.ndarray:
    """The previous clip's samples over the window both clips render (its post-roll, our pre-roll)."""
    overlap = plan.clips[previous].end_sample - plan.clips[index].start_sample + 2 * plan.pad_samples
    return np.ascontiguousarray(audio[previous][-overlap:], dtype=np.float32)


def joint_fades(plan: Plan) -> list[int]:
    """Crossfade length at every clip joint: the section's transition at section ends, else the joint fade.

    The planner already caps both at the clips they join and pads for them; the caps here only keep a plan
    made some other way within what the clips can give."""
    fades = []
    for before, after in zip(plan.clips, plan.clips[1:]):
        if before.section_index != after.section_index:
            fade = plan.sections[before.section_index].fade_samples
        else:
            fade = plan.joint_fade_samples
        shortest = min(before.end_sample - before.start_sample, after.end_sample - after.start_sample)
        fades.append(min(fade, shortest, 2 * plan.pad_samples))
    return fades


def changed_span(plan: Plan, clip_indices: Sequence[int]) -> tuple[int, int]:
    """[first, last) song samples that re-rendering ``clip_indices`` can touch."""
    fades = joint_fades(plan)
    lo = min(plan.clips[i].start_sample - (fades[i - 1] // 2 if i > 0 else 0) for i in clip_indices)
    hi = max(plan.clips[i].end_sample + (fades[i] - fades[i] // 2 if i < len(fades) else 0) for i in clip_indices)
    return max(lo, 0), min(hi, plan.total_samples)


def _section_gains_db(clips: list[np.ndarray], plan: Plan, section: PlannedSection, *,
                      loudness_db: float) -> list[float]:
    """Each clip's gain: onto its section's level trend, then the section's nominal spans, together, to the
    target (+ its gain_db).

    Clips morphing into the next section follow the trend and gain of the section's own clips without
    counting towards them: regenerating the next section re-renders them, and every other clip of this
    section must keep its gain. (A section that is all morph counts all of them: it is re-rendered whole.)"""
    placed = [plan.clips[i] for i in section.clip_indices]
    spans = [audio[plan.pad_samples:plan.pad_samples + c.end_sample - c.start_sample] for audio, c in zip(clips, placed)]
    own = np.array([c.kind != "interpolation" for c in placed])
    own = own if own.any() else ~own
    corrections = trend_corrections_db(np.array([rms_db(span) for span in spans]),
                                       positions=np.array([(c.start_sample + c.end_sample) / 2 for c in placed]),
                                       weights=np.array([c.end_sample - c.start_sample for c in placed]),
                                       fitted=own)
    corrected = np.concatenate([span * 10.0 ** (c / 20.0) for span, c, mine in zip(spans, corrections, own) if mine])
    section_db = gain_to_target_db(corrected, target_db=loudness_db + placed[0].gain_db)
    return [section_db + float(c) for c in corrections]


def _checked(out: np.ndarray, request: ClipRequest, backend: SpectrogramBackend, *,
             clip_index: int) -> tuple[np.ndarray, Optional[int]]:
    """Reject NaN/inf/silent clips: re-render with a derived seed, or stop with a clear error."""
    seed = None
    for attempt in range(MAX_RETRIES + 1):
        out = np.asarray(out, dtype=np.float32)
        problem = _problem(out, request.num_samples)
        if problem is None:
            return out, seed
        if attempt == MAX_RETRIES:
            break
        seed = derive_seed(request.seed_a, "retry", attempt + 1)
        retry = ClipRequest(**{**request.__dict__, "seed_a": seed,
                               "seed_b": seed if request.seed_b == request.seed_a else request.seed_b})
        out = backend.render([retry])[0]
    raise RenderError(f"clip {clip_index}: backend {backend.name!r} returned {problem} audio "
                      f"{MAX_RETRIES + 1} times (seeds derived from {request.seed_a}); check the model")


def _problem(out: np.ndarray, num_samples: int) -> Optional[str]:
    if out.shape != (num_samples,):
        return f"wrongly shaped ({out.shape}, expected ({num_samples},))"
    if not np.all(np.isfinite(out)):
        return "NaN/inf"
    if rms_db(out) < SILENT_CLIP_DB:
        return "silent"
    return None


def _batches(indices: list[int], requests: dict[int, ClipRequest], size: int) -> list[list[int]]:
    """Group clips of the same length so a backend can batch them."""
    by_length: dict[int, list[int]] = {}
    for i in indices:
        by_length.setdefault(requests[i].num_samples, []).append(i)
    batches = []
    for group in by_length.values():
        batches.extend(group[k:k + max(1, size)] for k in range(0, len(group), max(1, size)))
    return sorted(batches, key=lambda b: b[0])


def _init_audio(plan: Plan, clip: PlannedClip, *, num_samples: int, groove_root: Path,
                loops: dict[str, np.ndarray]) -> Optional[np.ndarray]:
    if clip.groove == "none":
        return None
    origin = clip.start_sample - plan.pad_samples
    if clip.groove == "auto":
        from composer.groove import groove_audio

        section = plan.sections[clip.section_index]
        return groove_audio(
            style=clip.groove_style, role=clip.role, bpm=plan.bpm, beats_per_bar=plan.beats_per_bar,
            beat_unit=plan.beat_unit, start_bar=clip.start_bar, bars=clip.bars,
            sample_rate_hz=plan.sample_rate_hz, num_samples=num_samples, pre_roll_samples=plan.pad_samples,
            section_start_bar=section.start_bar, section_bars=section.bars,
        ).astype(np.float32)
    if clip.groove not in loops:
        loops[clip.groove] = _loop(groove_root / clip.groove, sample_rate_hz=plan.sample_rate_hz)[1]
    loop = loops[clip.groove]
    # the loop repeats from the song's first downbeat, so every clip sees it on the same grid
    positions = (np.arange(num_samples) + origin) % loop.size
    return loop[positions].astype(np.float32, copy=False)


def check_groove_files(plan: Plan, *, groove_root: Path) -> list[str]:
    """Fail before any rendering when a groove names a file that is missing, unreadable, too short, silent or
    not finite; return a warning for each loop that is not a whole number of beats long. The loops it reads
    wait in ``_checked_loops`` for the render that follows."""
    from composer.audio_io import GROOVE_FORMATS

    checked: dict[tuple[str, int], tuple[Optional[tuple[int, ...]], np.ndarray]] = {}
    warnings = []
    try:
        for name in sorted({c.groove for c in plan.clips} - {"auto", "none"}):
            section = plan.sections[next(c.section_index for c in plan.clips if c.groove == name)].name
            path = groove_root / name
            where = f"section {section!r}: groove file {path}"
            if not path.is_file():
                raise GrooveFileError(f"{where} {'is a folder' if path.is_dir() else 'does not exist'}; a section's "
                                      f"groove must be 'auto', 'none' or the path of {GROOVE_FORMATS} (relative to "
                                      "the outline file; `regenerate --groove-root` reads them from where the "
                                      "outline's folder is now)", section=section)
            try:
                checked[(str(path), plan.sample_rate_hz)] = _loop(path, sample_rate_hz=plan.sample_rate_hz)
            except OutlineError as exc:
                raise GrooveFileError(f"section {section!r}: {exc}", section=section) from None
            loop_samples = checked[(str(path), plan.sample_rate_hz)][1].size
            warning = loop_length_warning(name, num_samples=loop_samples, plan=plan)
            warnings += [f"section {section!r}: {warning}"] if warning else []
    finally:
        _checked_loops.clear()  # only the latest check's loops wait: this command's
        _checked_loops.update(checked)
    return warnings


#: how far from a whole number of beats a loop may be before it is said to drift (a DAW export at the song's
#: tempo is within a sample or two; 2 % of a beat is 10 ms at 120 bpm)
LOOP_BEAT_TOLERANCE = 0.02


def loop_length_warning(name: str, *, num_samples: int, plan: Plan) -> Optional[str]:
    """A loop repeats from the song's first downbeat: unless it lasts whole beats, every repeat lands further
    off the bar lines, and the model follows the groove off the grid."""
    beat_samples = plan.sample_rate_hz * 60.0 / plan.bpm
    beats = num_samples / beat_samples
    if abs(beats - round(beats)) <= LOOP_BEAT_TOLERANCE and round(beats) > 0:
        return None
    bar_beats = plan.beats_per_bar
    bars = max(1, round(beats / bar_beats))
    whole_s = bars * bar_beats * beat_samples / plan.sample_rate_hz
    fix = "trim it" if whole_s <= num_samples / plan.sample_rate_hz else "cut or extend it"
    return (f"groove file {name} lasts {num_samples / plan.sample_rate_hz:.3f} s = {beats:.2f} beats at "
            f"{plan.bpm:g} bpm, not a whole number of beats: looped, it drifts off the bar lines; {fix} to whole "
            f"bars ({bars} bar{'s' if bars > 1 else ''} = {whole_s:.3f} s)")


#: the loops the latest ``check_groove_files`` read, for the render of the same command:
#: {(file, rate): (the file's signature when read, loop)}. A long file costs seconds and hundreds of MB to read
#: and resample, and a command read it three times (the CLI's early check, the song's, the requests).
#: ``clip_requests`` frees them; a file changed since it was read is read again.
_checked_loops: dict[tuple[str, int], tuple[Optional[tuple[int, ...]], np.ndarray]] = {}


def _loop(path: Path, *, sample_rate_hz: int) -> tuple[Optional[tuple[int, ...]], np.ndarray]:
    """(signature, loop) of a groove file: the loop the latest check read if the file is unchanged, else read now."""
    signature = _file_signature(path)  # taken before reading: an edit made during the read shows as a change
    kept = _checked_loops.get((str(path), sample_rate_hz))
    if kept is not None and signature is not None and kept[0] == signature:
        return kept
    return signature, _load_loop(path, sample_rate_hz=sample_rate_hz)


def _file_signature(path: Path) -> Optional[tuple[int, ...]]:
    """Which file, and which version of it: rewriting, editing or replacing it changes one of these."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


def _load_loop(path: Path, *, sample_rate_hz: int) -> np.ndarray:
    """The groove file as mono float32 at ``sample_rate_hz`` with its peak at 0.5.

    Normalised in place but in the same two float32 steps as ever (divide, then halve): the clip cache keys
    hash these bytes, and a changed byte would re-render every clip that uses the file."""
    from composer.audio_io import read_wav_mono

    loop = read_wav_mono(path, sample_rate_hz=sample_rate_hz)
    if loop.size < sample_rate_hz // 10:
        raise OutlineError(f"groove file {path} is shorter than 0.1 s ({loop.size / sample_rate_hz:.3f} s)")
    peak = float(max(loop.max(), -loop.min()))  # max |sample| without np.abs's copy; the loop is finite
    if peak == 0:
        raise OutlineError(f"groove file {path} is silent (every sample is 0); a groove must be drums you can hear")
    loop /= peak
    loop *= 0.5
    return loop
