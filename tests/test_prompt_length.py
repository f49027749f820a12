"""Prompts longer than a text encoder reads: which words are left out, and the warning that names them."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from composer.backends.prompt_length import unread_tail
from composer.cli import app


def two_tokens_a_word(text: str) -> int:
    return 2 * len(text.split())


@pytest.mark.parametrize("text, max_tokens, tail", [
    ("a b c", 6, ""),  # exactly fits
    ("a b c", 7, ""),
    ("a b c d", 6, "d"),
    ("a b c d", 5, "c d"),  # c is cut in half: its word is named as left out
    ("a  b\tc  d ", 3, "b\tc  d "),  # the tail keeps the prompt's own spacing
    ("a b", 1, "a b"),  # not even the first word whole
])
def test_unread_tail_starts_at_the_first_word_cut_into(text, max_tokens, tail):
    assert unread_tail(text, count_tokens=two_tokens_a_word, max_tokens=max_tokens) == tail


def test_unread_tail_follows_a_tokenizer_whose_words_differ_in_length():
    def count(text: str) -> int:  # a word costs as many tokens as it has letters
        return sum(len(word) for word in text.split())

    assert unread_tail("ab cde f gh", count_tokens=count, max_tokens=7) == "gh"
    assert unread_tail("ab cde f gh", count_tokens=count, max_tokens=5) == "f gh"
    assert unread_tail("ab cde f gh", count_tokens=count, max_tokens=4) == "cde f gh"


@pytest.fixture(scope="module")
def riffusion(tmp_path_factory):
    from composer.backends.riffusion import load_backend_from_folder
    from composer.backends.tiny_pipeline import build_tiny_pipeline_folder

    return load_backend_from_folder(build_tiny_pipeline_folder(tmp_path_factory.mktemp("tiny") / "m", seed=0),
                                    device="cpu")


def clip_tokens(backend, text: str) -> int:
    return len(backend.components.tokenizer(text, add_special_tokens=False, verbose=False).input_ids)


def test_riffusion_reads_75_clip_tokens_and_names_the_rest(riffusion):
    assert riffusion.prompt_token_limit == 75
    prompt = ", ".join(f"instrument number {n}" for n in range(40))
    tail = riffusion.unread_prompt_text(prompt)
    read = prompt[:len(prompt) - len(tail)]
    assert tail and clip_tokens(riffusion, read) <= 75 < clip_tokens(riffusion, read + tail.split()[0])
    # the encoder does cut there: words after the tail's start change nothing, words before it do
    full = riffusion._embed(prompt, cached=False)
    torch.testing.assert_close(riffusion._embed(prompt + " and more", cached=False), full, rtol=0, atol=0)
    short = read.rstrip()
    assert riffusion.unread_prompt_text(short) == ""
    assert not torch.equal(riffusion._embed(short, cached=False), riffusion._embed(short + " x", cached=False))


def test_emphasis_brackets_do_not_count_as_tokens(riffusion):
    words = " ".join(["drums"] * 200)
    plain = words[:len(words) - len(riffusion.unread_prompt_text(words))].rstrip()  # the most that fits
    assert clip_tokens(riffusion, plain) <= 75
    weighted = f"({plain}:1.4)"
    assert clip_tokens(riffusion, weighted) > 75  # a plain tokenizer would count the brackets and weight
    assert riffusion.unread_prompt_text(weighted) == ""
    assert riffusion.unread_prompt_text(weighted + " cymbals") == "cymbals"


def test_builtin_reads_max_tokens_minus_cls_and_sep(tmp_path):
    from test_builtin_model import tiny_folder

    from composer.backends.builtin import BuiltinBackend
    from composer.builtin_model.text_encoder import encode_prompts

    backend = BuiltinBackend(tiny_folder(tmp_path / "weights"), device="cpu")
    assert backend.prompt_token_limit == 16 - 2
    prompt = "funk groove with slap bass, wah guitar, clavinet and a horn section, 104 bpm"
    tail = backend.unread_prompt_text(prompt)
    assert tail and prompt.endswith(tail) and "104 bpm" in tail
    encoder = backend.text_encoder()
    states, _ = encode_prompts(encoder, [prompt, prompt + " and strings", prompt[:len(prompt) - len(tail)]])
    torch.testing.assert_close(states[0], states[1], rtol=0, atol=0)  # what comes after is not read
    assert backend.unread_prompt_text("funk groove") == ""


LONG = ", ".join(f"layer {n} of synths" for n in range(30))


def test_render_warns_before_rendering_and_names_the_section(tmp_path):
    (tmp_path / "song.yaml").write_text(
        f"bpm: 120\nrender: {{steps: 2}}\nsections:\n  a: {{bars: 2, prompt: piano}}\n"
        f"  b: {{bars: 2, prompt: '{LONG}'}}\n")
    result = CliRunner().invoke(app, ["render", str(tmp_path / "song.yaml"), "-o", str(tmp_path / "out"),
                                      "--backend", "tiny-random"])
    assert result.exit_code == 0, result.output
    assert "b: the tiny-random model reads the first 75 tokens" in " ".join(result.output.split())
    assert "a: the" not in result.output
    assert result.output.index("reads the first") < result.output.index("done ")


def test_regenerate_warns_about_the_new_prompt_only(song: Path):
    result = CliRunner().invoke(app, ["regenerate", str(song), "--section", "a", "--prompt", LONG])
    assert result.exit_code == 0, result.output
    assert "a: the tiny-random model reads the first 75 tokens" in " ".join(result.output.split())
    result = CliRunner().invoke(app, ["regenerate", str(song), "--section", "b", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert "reads the first" not in result.output  # section a's long prompt is not re-rendered
