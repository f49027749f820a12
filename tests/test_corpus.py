"""Corpus generator: coverage, determinism, splits, layout, captions, levels, tempo.

Runs without apt packages: audio comes from tinysoundfont and the TimGM6mb
soundfont bundled with pretty_midi.
"""

from __future__ import annotations

import json

import librosa
import numpy as np
import pytest
import soundfile

from composer.builtin_model.corpus import harmony as hm
from composer.builtin_model.corpus.arrangement import compose_arrangement
from composer.builtin_model.corpus.bass_parts import BASS_PATTERNS
from composer.builtin_model.corpus.build import build_corpus
from composer.builtin_model.corpus.captions import caption
from composer.builtin_model.corpus.chord_parts import CHORD_PATTERNS
from composer.builtin_model.corpus.dataset import (
    CorpusConfig,
    arrangement_id,
    build_arrangement,
    clip_rows,
    compose_indexed,
    split_of,
)
from composer.builtin_model.corpus.drums import GROOVES, drum_part
from composer.builtin_model.corpus.instruments import INSTRUMENTS
from composer.builtin_model.corpus.lead_parts import LEAD_RHYTHMS
from composer.builtin_model.corpus.notes import swing_beat, to_instrument
from composer.builtin_model.corpus.render import Loudness, choose_soundfont, normalise_loudness, render_part
from composer.builtin_model.corpus.styles import STYLES, split_option
from composer.builtin_model.corpus.tags import clip_tags

CONFIG = CorpusConfig()
SR = CONFIG.sample_rate_hz
REQUIRED_KEYS = {
    "id", "arrangement_id", "split", "path", "style", "bpm", "time_signature", "key", "instruments",
    "instrument_families", "lead_instrument", "lead_family", "density", "caption", "sample_rate_hz",
    "num_samples", "seed",
}


@pytest.fixture(scope="module")
def tiny_font():
    return choose_soundfont(engine="tinysoundfont")


def _options(style):
    yield from (("bass", o) for o in style.bass)
    yield from (("chords", o) for o in style.chords + style.arps)
    yield from (("lead", o) for o in style.leads)


def test_definitions_cover_styles_instruments_and_families():
    programs, families, used = set(), set(), {"timpani"}
    for style in STYLES:
        used.update(style.pads)
        for role, option in _options(style):
            key, pattern = split_option(option)
            used.add(key)
            table = {"bass": BASS_PATTERNS, "chords": CHORD_PATTERNS, "lead": LEAD_RHYTHMS}[role]
            assert pattern in table, f"{style.name}: unknown {role} pattern {pattern}"
            programs.add(INSTRUMENTS[key].program)
            families.add(INSTRUMENTS[key].family)
        for key in style.pads:
            programs.add(INSTRUMENTS[key].program)
        assert all(g in GROOVES for g in style.grooves)
        assert {GROOVES[g].beats_per_bar for g in style.grooves} >= set(style.meters)
        assert 70 <= style.bpm_range[0] <= style.bpm_range[1] <= 160
        for mode in set(style.modes):
            progressions = style.major_progressions if mode == "major" else style.minor_progressions
            assert progressions, f"{style.name} has no {mode} progression"
            for symbol in (s for p in progressions for s in p):
                hm.parse_chord(symbol, tonic_pc=0)
    assert used == set(INSTRUMENTS), f"defined but never used: {set(INSTRUMENTS) - used}"
    assert len(STYLES) >= 12
    assert len(programs) >= 24
    assert len(families) >= 8
    assert any(3 in s.meters for s in STYLES) and all(set(s.meters) <= {3, 4} for s in STYLES)


def test_parse_chord_and_swing():
    chord = hm.parse_chord("bVIImaj7", tonic_pc=2)
    assert chord.root_pc == 0 and chord.intervals == (0, 4, 7, 11)
    assert hm.parse_chord("iim7b5", tonic_pc=0).pitch_classes == (2, 5, 8, 0)
    with pytest.raises(ValueError, match="roman numeral"):
        hm.parse_chord("Xmaj7", tonic_pc=0)
    assert swing_beat(1.5, swing=0.0, unit_beats=0.5) == 1.5
    assert swing_beat(1.5, swing=1 / 6, unit_beats=0.5) == pytest.approx(1 + 2 / 3)
    assert swing_beat(2.0, swing=1 / 6, unit_beats=0.5) == pytest.approx(2.0)


def test_every_style_composes_parts_in_range_and_clip_windows_fit():
    for index, style in enumerate(STYLES):
        arrangement = compose_indexed(index, corpus_seed=3, config=CONFIG)
        assert arrangement.style == style.name
        assert style.bpm_range[0] <= arrangement.bpm <= style.bpm_range[1]
        assert arrangement.part("lead") is not None and len(arrangement.parts) >= 2
        end_s = arrangement.n_bars * arrangement.bar_s
        for plan in arrangement.clips:
            assert plan.start_bar * arrangement.bar_s + CONFIG.clip_s <= end_s + 1e-6
        for part in arrangement.parts:
            assert part.midi.notes, f"{style.name} {part.role} is empty"
            if part.role != "drums":
                inst = INSTRUMENTS[part.instrument_key]
                pitches = [n.pitch for n in part.midi.notes]
                assert inst.low_note - 12 <= min(pitches) and max(pitches) <= inst.high_note + 12


def test_same_seed_same_notes_other_seed_other_notes():
    def notes(seed):
        a = compose_arrangement(arrangement_id="x", style=STYLES[2], seed=seed, clip_s=CONFIG.clip_s, n_clips=2)
        return [(p.role, p.midi.program, [(n.start, n.end, n.pitch, n.velocity) for n in p.midi.notes]) for p in a.parts]

    assert notes(11) == notes(11)
    assert notes(11) != notes(12)


def test_same_seed_same_audio_bytes_with_clip_length_and_level(tmp_path, tiny_font):
    for out in (tmp_path / "a", tmp_path / "b"):
        rows, rendered = build_arrangement(7, corpus_seed=0, out_dir=out, soundfont=tiny_font, config=CONFIG, n_clips=2)
        assert rendered == 2
    for row in rows:
        first = (tmp_path / "a" / row["path"]).read_bytes()
        assert first == (tmp_path / "b" / row["path"]).read_bytes()
        audio, sr = soundfile.read(tmp_path / "a" / row["path"], dtype="float32")
        assert sr == SR and audio.shape == (CONFIG.clip_samples,) and CONFIG.clip_s >= 5.0
        rms_db = 20 * np.log10(np.sqrt(np.mean(audio.astype(np.float64) ** 2)))
        assert abs(rms_db - CONFIG.loudness.target_rms_dbfs) < 1.0
        assert np.max(np.abs(audio)) <= CONFIG.loudness.ceiling + 1e-3


def test_splits_are_by_arrangement_and_roughly_90_5_5():
    splits = {}
    for index in range(2000):
        splits[arrangement_id(index)] = split_of(arrangement_id(index))
    counts = {s: list(splits.values()).count(s) for s in ("train", "validation", "test")}
    assert 0.86 < counts["train"] / 2000 < 0.94 and counts["validation"] > 50 and counts["test"] > 50
    rows = [r for i in range(48) for r in clip_rows(compose_indexed(i, corpus_seed=0, config=CONFIG), config=CONFIG, n_clips=2)]
    by_arrangement = {}
    for row in rows:
        by_arrangement.setdefault(row["arrangement_id"], set()).add(row["split"])
        assert row["path"] == f"clips/{row['split']}/{row['id']}.wav"
    assert all(len(s) == 1 for s in by_arrangement.values())


def test_captions_name_style_and_bpm_deterministically_and_vary():
    seen = set()
    for index in range(64):
        arrangement = compose_indexed(index, corpus_seed=1, config=CONFIG)
        style = next(s for s in STYLES if s.name == arrangement.style)
        for plan in arrangement.clips:
            tags = clip_tags(arrangement, plan, clip_seed=index)
            text = caption(tags, rng=np.random.default_rng(index))
            assert text == caption(tags, rng=np.random.default_rng(index))
            assert str(arrangement.bpm) in text
            assert any(alias in text.lower() for alias in style.aliases), text
            seen.add(text.split(" ")[0].lower())
    assert len(seen) > 10  # many different openings, not one template


def test_loudness_targets_fixed_rms_and_limits_peaks():
    t = np.arange(SR) / SR
    quiet = (0.01 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    clicks = np.zeros(SR, np.float32)
    clicks[::2205] = 1.0
    loudness = Loudness()
    for signal in (quiet, clicks + quiet):
        out = normalise_loudness(signal.copy(), loudness=loudness)
        assert np.max(np.abs(out)) <= loudness.ceiling
    assert 20 * np.log10(np.sqrt(np.mean(normalise_loudness(quiet.copy(), loudness=loudness) ** 2))) == pytest.approx(-20.0, abs=0.05)


# Grooves with a quarter-note pulse; librosa tracks half-time grooves (boom bap,
# one drop) at double tempo, which is the tracker's octave ambiguity, not the groove.
@pytest.mark.parametrize("groove_name,bpm", [("rock_eighths", 100), ("house_four", 124), ("folk_waltz", 110)])
def test_rendered_groove_tempo_tracks_bpm(tiny_font, groove_name, bpm):
    groove = GROOVES[groove_name]
    notes = drum_part(groove, n_bars=8, fill_probability=0.0, rng=np.random.default_rng(0))
    midi = to_instrument(
        notes, program=0, is_drum=True, name="drums", bpm=bpm, swing=0.0, swing_unit_beats=0.5,
        timing_jitter_s=0.004, velocity_jitter=6, rng=np.random.default_rng(1),
    )
    audio = render_part(midi, soundfont=tiny_font, sample_rate_hz=SR, num_samples=int(8 * groove.beats_per_bar * 60 / bpm * SR))
    onset_env = librosa.onset.onset_strength(y=audio, sr=SR)
    tempo = float(librosa.feature.tempo(onset_envelope=onset_env, sr=SR)[0])
    assert abs(tempo - bpm) / bpm < 0.04, f"{groove_name}: tracked {tempo:.1f} for {bpm}"


def test_build_writes_layout_and_resumes_without_rerendering(tmp_path, tiny_font):
    out = tmp_path / "corpus"
    recipe = build_corpus(out_dir=out, n_clips=5, corpus_seed=0, workers=1, soundfont=tiny_font)
    rows = [json.loads(line) for line in (out / "metadata.jsonl").read_text().splitlines()]
    assert len(rows) == 5 and recipe["clips"] == 5 and recipe["arrangements"] == 3
    assert sum(recipe["counts"]["per_split"].values()) == 5
    assert recipe["soundfont"]["engine"] == "tinysoundfont" and len(recipe["soundfont"]["sha256"]) == 64
    for row in rows:
        assert REQUIRED_KEYS <= set(row)
        assert (out / row["path"]).is_file()
    victim = out / rows[0]["path"]
    original = victim.read_bytes()
    victim.unlink()
    mtimes = {r["id"]: (out / r["path"]).stat().st_mtime_ns for r in rows[1:]}
    again = build_corpus(out_dir=out, n_clips=5, corpus_seed=0, workers=1, soundfont=tiny_font)
    assert victim.read_bytes() == original
    assert all((out / r["path"]).stat().st_mtime_ns == mtimes[r["id"]] for r in rows[1:])
    assert again == recipe
    assert not list(out.rglob("*.tmp"))
