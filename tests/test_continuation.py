"""Clip continuation: every clip after a section's first continues the previous clip's tail."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from composer.backends.base import ClipRequest, SpectrogramBackend
from composer.clip_cache import clip_cache_key
from composer.song import regenerate_section, render_outline

# at 120 bpm a bar is 2 s, so the 5.11-s clip limit gives 2-bar clips: a = 3 clips, b = 1
OUTLINE = """
title: chain
bpm: 120
time_signature: "4/4"
seed: 3
render:
  continuation: {continuation}
sections:
  a: {{bars: 5, prompt: "one"}}
  b: {{bars: 2, prompt: "two"}}
form: [a, b, a]
"""


class ChainBackend(SpectrogramBackend):
    """Test double that continues perfectly: a clip starts with its prefix, then seeded noise."""

    name = "chain"

    def __init__(self, *, continues: bool = True) -> None:
        self.continues, self.requests = continues, []

    @property
    def sample_rate_hz(self) -> int:
        return 8000

    @property
    def supports_continuation(self) -> bool:
        return self.continues

    def describe(self):
        return {"name": self.name}

    def render(self, requests):
        outputs = []
        for request in requests:
            audio = 0.3 * np.random.default_rng(request.seed_a).standard_normal(request.num_samples)
            if request.prefix_audio is not None:
                audio[:request.prefix_audio.size] = request.prefix_audio
            self.requests.append((request, audio.astype(np.float32)))
            outputs.append(audio.astype(np.float32))
        return outputs


def write(tmp_path, *, continuation: bool = True):
    path = tmp_path / "song.yaml"
    path.write_text(OUTLINE.format(continuation=str(continuation).lower()))
    return path


def test_each_clip_continues_the_previous_clip_of_its_section(tmp_path):
    backend = ChainBackend()
    render_outline(write(tmp_path), tmp_path / "song", backend, model=None, device="cpu")
    manifest = json.loads((tmp_path / "song" / "manifest.json").read_text())
    pad = manifest["pad_samples"]
    output_by_seed = {r.seed_a: audio for r, audio in backend.requests}
    clips = [{**clip, "section_index": s["index"]} for s in manifest["sections"] for clip in s["clips"]]
    # a:2 is a:1 clip for clip (its first clip hears the same lead-in as the opening's), so it is shared whole
    assert len(backend.requests) == 4
    for request, _ in backend.requests:
        clip = next(c for c in clips if c["seed_a"] == request.seed_a)
        previous = [c for c in clips if c["section_index"] == clip["section_index"] and c["index"] == clip["index"] - 1]
        if not previous:
            assert request.prefix_audio is None  # a section's first clip starts afresh
            continue
        overlap = previous[0]["end_sample"] - clip["start_sample"] + 2 * pad
        assert request.prefix_audio.size == overlap == 2 * pad
        np.testing.assert_array_equal(request.prefix_audio, output_by_seed[previous[0]["seed_a"]][-overlap:])


def test_chained_regeneration_changes_only_its_own_section(tmp_path):
    backend = ChainBackend()
    folder = tmp_path / "song"
    render_outline(write(tmp_path), folder, backend, model=None, device="cpu")
    before, _ = sf.read(folder / "song.wav", dtype="float32")
    result = regenerate_section(folder, "a:2", backend, seed=99, prompt=None, denoising=None, device="cpu")
    after, _ = sf.read(folder / "song.wav", dtype="float32")
    lo, hi = result.changed_samples
    assert not np.array_equal(before[lo:hi], after[lo:hi])
    np.testing.assert_array_equal(before[:lo], after[:lo])
    np.testing.assert_array_equal(before[hi:], after[hi:])
    assert result.rendered_clips == 3  # the whole chain of a:2, nothing else


@pytest.mark.parametrize("continuation, continues", [(False, True), (True, False)])
def test_no_prefix_when_switched_off_or_unsupported(tmp_path, continuation, continues):
    backend = ChainBackend(continues=continues)
    render_outline(write(tmp_path, continuation=continuation), tmp_path / "song", backend, model=None, device="cpu")
    assert backend.requests and all(r.prefix_audio is None for r, _ in backend.requests)


def test_the_prefix_is_part_of_the_cache_key():
    base = dict(prompt_a="x", prompt_b="x", alpha=0.0, seed_a=1, seed_b=1, num_samples=100)
    key = lambda **extra: clip_cache_key(ClipRequest(**base, **extra), backend_identity={"name": "t"})
    plain = key()
    first, second = key(prefix_audio=np.zeros(10, np.float32)), key(prefix_audio=np.ones(10, np.float32))
    assert len({plain, first, second}) == 3
    assert key() == plain


def test_shipped_model_reproduces_the_prefix_and_continues_it():
    """The real part: the built-in model outpaints a clip whose start matches the previous clip's tail."""
    import torch

    from composer.backends.builtin import BuiltinBackend

    backend = BuiltinBackend(device="cpu")
    rate = backend.sample_rate_hz
    n, overlap = 4 * rate, rate
    common = dict(prompt_a="ambient synth pad", prompt_b="ambient synth pad", alpha=0.0, num_samples=n,
                  steps=backend.default_steps, denoising=1.0)
    previous = backend.render([ClipRequest(**common, seed_a=1, seed_b=1)])[0]
    prefix = previous[-overlap:]
    continued = backend.render([ClipRequest(**common, seed_a=2, seed_b=2, prefix_audio=prefix)])[0]
    alone = backend.render([ClipRequest(**common, seed_a=2, seed_b=2)])[0]

    def log_mel(audio):
        return torch.log1p(backend.codec.audio_to_mel(audio)).cpu().numpy()

    reference = log_mel(prefix)[:, :-10]  # the last frames of the prefix see the fade into free columns

    def similarity(audio):
        return float(np.corrcoef(log_mel(audio[:overlap])[:, :reference.shape[1]].ravel(), reference.ravel())[0, 1])

    assert similarity(continued) > 0.85 > similarity(alone)


def test_a_kept_clip_that_continues_a_re_rendered_one_is_still_in_the_song(tmp_path):
    """A pinned clip whose predecessor in the chain is rendered in a later wave: it is stitched all the same."""
    from composer.clip_cache import ClipCache
    from composer.outline import load_outline
    from composer.planner import plan_song
    from composer.render import render_song

    backend = ChainBackend()
    plan = plan_song(load_outline(write(tmp_path)), sample_rate_hz=8000, max_clip_s=5.11)
    cache = ClipCache(tmp_path / "clips")
    kwargs = dict(cache=cache, loudness_db=-18.0, groove_root=tmp_path, continuation=True)
    first = render_song(plan, backend, **kwargs)
    chain = plan.sections[0].clip_indices
    assert len(chain) == 3
    cache.path(first.clip_keys[chain[1]]).unlink()  # the middle clip renders again, in the chain's second wave
    again = render_song(plan, backend, **kwargs, pinned_keys={chain[0]: first.clip_keys[chain[0]],
                                                              chain[2]: first.clip_keys[chain[2]]})
    assert again.rendered == (chain[1],)
    assert np.array_equal(again.audio, first.audio)
