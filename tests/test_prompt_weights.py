"""Riffusion-style prompt emphasis: the parser, and the riffusion backend's weighted embeddings."""

from __future__ import annotations

import pytest
import torch

from composer.backends.prompt_weights import EMPHASIS, has_weights, parse_weighted_prompt


@pytest.mark.parametrize("text, expected", [
    ("jazz piano, 120 bpm", [("jazz piano, 120 bpm", 1.0)]),
    ("a (b:1.5) [c]", [("a ", 1.0), ("b", 1.5), (" ", 1.0), ("c", 1 / EMPHASIS)]),
    ("((a)) b", [("a", EMPHASIS ** 2), (" b", 1.0)]),
    ("(a (b:2) c)", [("a ", EMPHASIS), ("b", 2 * EMPHASIS), (" c", EMPHASIS)]),
    ("(jazz: 0.5)", [("jazz", 0.5)]),
    ("(open to the end", [("open to the end", EMPHASIS)]),
    ("[a]] b)", [("a", 1 / EMPHASIS), ("] b)", 1.0)]),  # closers with nothing open are text
    (r"\(live\) [x]", [("(live) ", 1.0), ("x", 1 / EMPHASIS)]),
    ("style: jazz", [("style: jazz", 1.0)]),  # a colon without a closing bracket is text
    ("", [("", 1.0)]),
])
def test_parse_weighted_prompt(text, expected):
    parsed = parse_weighted_prompt(text)
    assert [t for t, _ in parsed] == [t for t, _ in expected]
    assert [w for _, w in parsed] == pytest.approx([w for _, w in expected])
    assert has_weights(parsed) == any(w != 1.0 for _, w in expected)


@pytest.fixture(scope="module")
def backend(tmp_path_factory):
    from composer.backends.riffusion import load_backend_from_folder
    from composer.backends.tiny_pipeline import build_tiny_pipeline_folder

    return load_backend_from_folder(build_tiny_pipeline_folder(tmp_path_factory.mktemp("tiny") / "m", seed=0),
                                    device="cpu")


def test_a_plain_prompt_is_encoded_as_the_tokenizer_encodes_it(backend):
    tokenizer = backend.components.tokenizer
    ids = tokenizer(["jazz piano"], padding="max_length", max_length=tokenizer.model_max_length,
                    truncation=True, return_tensors="pt").input_ids
    expected = backend.components.text_encoder(ids)[0]
    torch.testing.assert_close(backend._embed("jazz piano", cached=False), expected, rtol=0, atol=0)


def test_emphasis_scales_its_words_embeddings(backend):
    plain = backend._embed("jazz piano", cached=False)
    weighted = backend._embed("jazz (piano:1.5)", cached=False)
    ids = backend.components.tokenizer("jazz piano").input_ids  # [bos, jazz, piano, eos]
    assert len(ids) == 4
    ratio = (weighted / plain)[0].mean(dim=-1)  # one factor per token position
    assert float(ratio[2] / ratio[1]) == pytest.approx(1.5, rel=1e-4)  # piano vs jazz
    assert float(ratio[0]) == pytest.approx(float(ratio[1]), rel=1e-4)  # bos unweighted, like jazz


def test_weighting_keeps_a_clear_mean_and_leaves_a_near_zero_one_alone():
    from composer.backends.riffusion import weighted_to_mean

    generator = torch.Generator().manual_seed(0)
    hidden = torch.randn(1, 4, 8, generator=generator) * 0.1 + 0.5  # CLIP-like: a clear positive mean
    weights = torch.tensor([1.0, 1.0, 1.5, 1.0])[None, :, None]
    out = weighted_to_mean(hidden, weights)
    assert float(out.mean()) == pytest.approx(float(hidden.mean()), rel=1e-5)
    ratio = (out / hidden)[0].mean(dim=-1)
    assert float(ratio[2] / ratio[1]) == pytest.approx(1.5, rel=1e-4)
    centred = hidden - hidden.mean()  # mean ~0: dividing by it would blow up
    torch.testing.assert_close(weighted_to_mean(centred, weights), centred * weights)
    # escaped brackets are literal text, not emphasis
    assert not has_weights(parse_weighted_prompt(r"jazz \(piano\)"))


def test_emphasis_never_blows_up_an_embedding_whose_mean_is_near_zero(backend):
    # the tiny random text encoder's hidden states average near zero for this prompt; rescaling to that mean
    # once gave inf/NaN and a non-finite render
    hidden = backend._embed("p [/x], 120 bpm", cached=False)
    assert torch.isfinite(hidden).all() and float(hidden.abs().max()) < 100
