"""`composer evaluate`: measure tempo lock, beat alignment, seams, structure and loudness of a song folder."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any, Optional

import numpy as np
import soundfile as sf

from composer.errors import SongFolderError
from composer.files import folder_lock, write_json_atomic
from composer.song_folder import EVALUATION, MANIFEST, archived_take_owner, read_manifest
from composer.timing import BarGrid

#: targets from the project's quality issue, reported beside each measure
TARGETS = {
    "tempo_windows_within_2pct": 0.9,
    "beat_f_measure": 0.8,
    "boundary_f_measure": 0.5,
    "max_section_loudness_jump_db": 6.0,
}


def form_target_met(*, boundary_f: Optional[float], chance_f: Optional[float],
                    p_value: Optional[float]) -> Optional[bool]:
    """The form target: boundary F at least the target, above chance, and a form the permutation test hears
    (``MAX_FORM_P_VALUE``); None for a song of one section, which has no boundary to find."""
    from composer.analysis.structure import MAX_FORM_P_VALUE

    if boundary_f is None:
        return None
    return (boundary_f >= TARGETS["boundary_f_measure"] and (chance_f is None or boundary_f > chance_f)
            and p_value is not None and p_value < MAX_FORM_P_VALUE)


def evaluate_song(folder: Path, *, against: Optional[Path] = None) -> dict[str, Any]:
    """Every measure of one song folder as a JSON-able dict (also written to evaluation.json)."""
    from composer.analysis.loudness import integrated_lufs
    from composer.analysis.seams import seam_scores
    from composer.analysis.structure import (
        MAX_FORM_P_VALUE, boundary_f_measure, chance_boundary_f_measure, estimate_form, section_similarity,
    )
    from composer.analysis.tempo import (
        MIN_PULSE_STRENGTH, beat_f_measure, strongest_pulse, track_beats_s, windowed_tempo,
    )

    manifest, audio, rate = _read_take(Path(folder))
    if against is not None:  # read first: a wrong file fails before the analysis, not after
        other, other_rate = _read(Path(against))
        if other_rate != rate:
            raise SongFolderError(f"{against}: is at {other_rate} Hz but the song is at {rate} Hz; "
                                  "--against compares two takes of the same song sample for sample")
    bpm = float(manifest["bpm"])
    beats_per_bar, beat_unit = (int(x) for x in manifest["time_signature"].split("/"))
    grid = BarGrid(bpm=bpm, beats_per_bar=beats_per_bar, beat_unit=beat_unit, sample_rate_hz=rate)
    sections = manifest["sections"]
    duration_s = audio.size / rate

    global_bpm, tracked = track_beats_s(audio, sample_rate_hz=rate, bpm_hint=bpm)
    n_beats = int(np.ceil(audio.size / float(grid.samples_per_beat)))
    beat_samples = np.array([grid.beat_start_sample(b) for b in range(n_beats + 1)])
    beat_samples = beat_samples[beat_samples < audio.size]  # a beat at the very end has no audio to track
    pulse_samples = _pulse_samples(grid, beats_per_bar=beats_per_bar, beat_unit=beat_unit, num_samples=audio.size)
    pulse_bpm = _compound_pulse_bpm(bpm, beats_per_bar=beats_per_bar, beat_unit=beat_unit)
    windows = windowed_tempo(audio, sample_rate_hz=rate, planned_bpm=bpm, pulse_bpm=pulse_bpm)
    within = [w.level is not None for w in windows]

    tempi = [bpm, global_bpm, *([pulse_bpm] if pulse_bpm else [])]

    def beats_f(lo_s: float, hi_s: float) -> tuple[float, Optional[str], Optional[float]]:
        """(beat F, the grid it was scored on, pulse strength) against the beat-unit grid or the felt-pulse
        grid, whichever the tracker followed. Audio without a pulse scores 0: seeded with the planned tempo, the
        tracker lays its beats on the grid over a steady tone too."""
        pulse = strongest_pulse(audio[int(lo_s * rate):int(hi_s * rate)], bpms=tempi, sample_rate_hz=rate)
        if pulse is not None and pulse < MIN_PULSE_STRENGTH:
            return 0.0, None, pulse
        inside = lambda t: t[(t >= lo_s) & (t < hi_s)]  # noqa: E731
        scores = {"beat": beat_f_measure(tracked_s=inside(tracked), planned_s=inside(beat_samples / rate))}
        if pulse_samples is not None:
            scores["pulse"] = beat_f_measure(tracked_s=inside(tracked), planned_s=inside(pulse_samples / rate))
        level = max(scores, key=lambda name: scores[name])
        return scores[level], level, pulse

    per_section = []
    for s in sections:
        lo, hi = s["start_s"], s["end_s"]
        f_measure, _, _ = beats_f(lo, hi)
        per_section.append({
            "name": s["name"], "occurrence": s["occurrence"], "start_s": lo, "end_s": hi,
            "beat_f_measure": f_measure,
            "loudness_lufs": integrated_lufs(audio[s["start_sample"]:s["end_sample"]], sample_rate_hz=rate),
        })
    # each measured section against the next measured one: a section shorter than one 400-ms gating block has
    # no loudness, and the step across it (with the gain_db it asks for) is still a step
    measured = [s for s in per_section if s["loudness_lufs"] is not None]
    pairs = list(zip(measured, measured[1:]))
    jumps = [abs(b["loudness_lufs"] - a["loudness_lufs"]) for a, b in pairs]
    # the outline may ask for a jump (gain_db); the target is on what it did not ask for
    asked = [_gain_db(manifest, b["name"]) - _gain_db(manifest, a["name"]) for a, b in pairs]
    unasked = [abs((b["loudness_lufs"] - a["loudness_lufs"]) - ask) for (a, b), ask in zip(pairs, asked)]

    joints, spans, kinds = [], [], []
    for index, s in enumerate(sections):
        for clip in s["clips"]:
            if clip["start_sample"] == 0:
                continue
            joints.append(clip["start_sample"])
            first_of_section = clip["start_sample"] == s["start_sample"]
            prev = sections[index - 1] if first_of_section else s
            spans.append((prev["start_sample"], s["end_sample"]))
            kinds.append("section" if first_of_section else "clip")
    bar_samples = np.array([grid.bar_start_sample(b) for b in range(_bars_in(grid, audio.size) + 1)])
    seams = seam_scores(audio, joint_samples=joints, neighbourhood=spans, within_section=[kind == "clip" for kind in kinds],
                        bar_samples=bar_samples, beat_samples=beat_samples, sample_rate_hz=rate)

    boundaries = np.array([s["start_s"] for s in sections])
    form = estimate_form(audio, sample_rate_hz=rate, count=len(sections), bar_s=grid.bar_s)
    estimated = form.boundaries_s
    has_boundaries = len(sections) > 1
    same, different = section_similarity(audio, [(s["name"], s["start_sample"], s["end_sample"]) for s in sections],
                                         sample_rate_hz=rate)
    comparable = bool(np.isfinite(same) and np.isfinite(different))
    beat_f, beat_level, beat_pulse = beats_f(0.0, duration_s + 1.0)
    report: dict[str, Any] = {
        "song": str(folder), "take": manifest.get("take"), "backend": manifest["backend"]["name"],
        "duration_s": duration_s, "planned_bpm": bpm, "targets": TARGETS,
        "tempo": {
            "global_bpm": global_bpm,
            "global_error": (global_bpm - bpm) / bpm,
            "pulse_bpm": pulse_bpm,
            "windows": [asdict(w) for w in windows],
            # None: the song is shorter than half a window, so there is nothing to measure
            "windows_within_2pct": float(np.mean(within)) if within else None,
            "windows_without_pulse": int(sum(w.pulse_strength < MIN_PULSE_STRENGTH for w in windows)),
            "octave_errors": int(sum(w.octave_error for w in windows)),
        },
        # level None: no pulse (pulse_strength under MIN_PULSE_STRENGTH), so no beat to score
        "beats": {"f_measure": beat_f, "level": beat_level, "pulse_strength": beat_pulse,
                  "tracked": int(tracked.size), "planned": int(beat_samples.size)},
        "sections": per_section,
        # None: fewer than two sections have a loudness, so there is no jump to measure
        "loudness": {"max_jump_db": max(jumps) if jumps else None,
                     "max_unasked_jump_db": max(unasked) if unasked else None,
                     "asked_jumps_db": asked},
        "joints": [{**asdict(score), "kind": kind, "time_s": score.sample / rate}
                   for score, kind in zip(seams, kinds)],
        "joints_flagged": int(sum(s.flagged for s in seams)),
        "structure": {
            "planned_boundaries_s": boundaries.tolist(), "estimated_boundaries_s": estimated.tolist(),
            # None: one section has no boundary to find
            "boundary_f_measure": boundary_f_measure(planned_s=boundaries, estimated_s=estimated,
                                                     duration_s=duration_s, window_s=grid.bar_s)
            if has_boundaries else None,
            "chance_boundary_f_measure": chance_boundary_f_measure(
                planned_s=boundaries, duration_s=duration_s, bar_s=grid.bar_s, count=len(sections),
                window_s=grid.bar_s) if has_boundaries else None,
            # how much of the bar features' variance the found segments explain, and the share of shuffled bar
            # orders that segment as well (None: one section, or bars that do not change at all)
            "form_strength": form.strength,
            "form_p_value": form.p_value,
            "max_form_p_value": MAX_FORM_P_VALUE,
            "same_name_similarity": same if np.isfinite(same) else None,
            "different_name_similarity": different if np.isfinite(different) else None,
            # None: the form has no repeat, or nothing but repeats
            "repeats_more_similar": bool(same > different) if comparable else None,
        },
    }
    if against is not None:
        report["against"] = compare_audio(audio, other, manifest=manifest)
    report = _finite(report)
    _write_evaluation(Path(folder), report, measured=manifest)
    return report


def _read_take(folder: Path) -> tuple[dict[str, Any], np.ndarray, int]:
    """The current manifest and its song.wav, read holding the folder lock: a take that moves in meanwhile
    (`composer regenerate`, `restore`) would pair one take's manifest with another's audio."""
    read_manifest(folder)  # a folder that holds no song fails here, before the lock leaves a .lock in it
    with folder_lock(_song_of(folder)):
        manifest = read_manifest(folder)
        audio, rate = _read(folder / "song.wav")
    if rate != manifest["sample_rate"]:
        raise SongFolderError(f"{folder}/song.wav is {rate} Hz but the manifest says {manifest['sample_rate']} Hz")
    if audio.size != manifest["total_samples"]:
        raise SongFolderError(f"{folder}/song.wav holds {audio.size} samples but the manifest says "
                              f"{manifest['total_samples']}; it was changed after composer wrote it (`composer "
                              "restore` or a new render brings back a whole take)")
    return manifest, audio, rate


def _write_evaluation(folder: Path, report: dict[str, Any], *, measured: dict[str, Any]) -> None:
    """evaluation.json, only while the folder still holds the measured take: it is archived and restored with
    the current take, so a stale one would pass for the new take's measures."""
    with folder_lock(_song_of(folder)):
        change = _change_since(folder, measured=measured)
        if change is not None:
            raise SongFolderError(f"{folder}: {change} while take {measured['take']} was being measured, so "
                                  f"{EVALUATION} was not written; run `composer evaluate {folder}` again")
        write_json_atomic(folder / EVALUATION, report)


def _song_of(folder: Path) -> Path:
    """The song folder whose lock guards ``folder``: an archived take is changed only by commands holding its
    song's lock, and a .lock file of its own would set it apart from its other copies."""
    return archived_take_owner(folder) or folder


def _change_since(folder: Path, *, measured: dict[str, Any]) -> Optional[str]:
    """What took the measured take's place in ``folder``, in words; None while it is still the current take."""
    try:
        current = read_manifest(folder)
    except SongFolderError as exc:
        return f"the manifest became unreadable ({exc})"
    if current == measured:
        return None
    if current["take"] != measured["take"]:
        return f"take {current['take']} became current"
    return f"its {MANIFEST} was replaced"


def _finite(value: Any) -> Any:
    """The report with every NaN or infinity as None: JSON has no NaN, and strict parsers reject it."""
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    if isinstance(value, (float, np.floating)):
        return float(value) if np.isfinite(value) else None
    return value


def _bars_in(grid: BarGrid, num_samples: int) -> int:
    """Bars that start inside ``num_samples`` samples, the last one partial."""
    return int(np.ceil(num_samples / float(grid.samples_per_bar)))


def _compound_pulse_bpm(bpm: float, *, beats_per_bar: int, beat_unit: int) -> float | None:
    """The felt pulse's tempo in a compound metre (a dotted quarter in 6/8 is a third of the eighths' bpm)."""
    from composer.groove.grid import meter

    pulses = set(meter(beats_per_bar=beats_per_bar, beat_unit=beat_unit).pulse_beats)
    return bpm / pulses.pop() if len(pulses) == 1 and pulses != {1} else None


def _pulse_samples(grid: BarGrid, *, beats_per_bar: int, beat_unit: int, num_samples: int) -> np.ndarray | None:
    """Song samples of every felt pulse (2+2+3 eighths in 7/8), or None where pulse and beat are one."""
    from composer.groove.grid import meter

    m = meter(beats_per_bar=beats_per_bar, beat_unit=beat_unit)
    if set(m.pulse_beats) == {1}:
        return None
    starts = [grid.beat_start_sample(bar * beats_per_bar + p)
              for bar in range(_bars_in(grid, num_samples) + 1) for p in m.pulse_starts]
    return np.array([s for s in starts if s < num_samples])


def _gain_db(manifest: dict[str, Any], section: str) -> float:
    """The outline's gain_db for a section (0 when the manifest's outline does not say)."""
    spec = manifest.get("outline", {}).get("sections", {}).get(section, {})
    return float(spec.get("gain_db", 0.0)) if isinstance(spec, dict) else 0.0


def compare_audio(new: np.ndarray, old: np.ndarray, *, manifest: dict[str, Any]) -> dict[str, Any]:
    """Which samples differ between two takes, and whether they stay inside the recorded change."""
    if new.shape != old.shape:
        return {"same_length": False, "new_samples": int(new.size), "old_samples": int(old.size)}
    changed = np.flatnonzero(new != old)
    result: dict[str, Any] = {"same_length": True, "changed_samples": int(changed.size)}
    if changed.size:
        result.update(first_changed=int(changed[0]), last_changed=int(changed[-1]))
        span = manifest.get("change", {}).get("changed_samples")
        if span:
            result["inside_regenerated_span"] = bool(changed[0] >= span[0] and changed[-1] < span[1])
    return result


def _read(path: Path) -> tuple[np.ndarray, int]:
    if not Path(path).is_file():
        raise SongFolderError(f"{path}: no such file" + (" (a folder)" if Path(path).is_dir() else ""))
    try:
        audio, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        raise SongFolderError(f"{path}: cannot read audio ({exc})") from None
    return audio.mean(axis=1), int(rate)
