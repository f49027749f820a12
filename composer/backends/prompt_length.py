"""What part of a prompt a text encoder never reads: CLIP and MiniLM keep a fixed number of tokens and
silently drop the rest, which in a composed prompt is the outline's style, key and tempo."""

from __future__ import annotations

import re
from typing import Callable


def unread_tail(text: str, *, count_tokens: Callable[[str], int], max_tokens: int) -> str:
    """The end of ``text`` an encoder reading ``max_tokens`` tokens leaves out, from the first word it cuts
    into ('' when it reads all of it). ``count_tokens`` counts a text's tokens, special tokens left out.

    Found by bisection over whole words, since a word's tokens never depend on the words after it.
    """
    if count_tokens(text) <= max_tokens:
        return ""
    words = list(re.finditer(r"\S+", text))
    read, cut = 0, len(words)  # the first `read` words fit whole; the first `cut` do not
    while cut - read > 1:
        middle = (read + cut) // 2
        if count_tokens(text[:words[middle - 1].end()]) <= max_tokens:
            read = middle
        else:
            cut = middle
    return text[words[read].start():] if words else ""
