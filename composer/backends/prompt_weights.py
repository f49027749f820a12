"""Prompt emphasis as Riffusion's server read it: ``(word)`` x1.1, ``[word]`` / 1.1, ``(word:1.4)`` x1.4.

Brackets nest and multiply; ``\\(`` and friends are literal brackets; a bracket left open applies to the
rest of the prompt. Pure text work: the riffusion backend turns the weights into scaled CLIP embeddings.
"""

from __future__ import annotations

import re

#: what one pair of round brackets multiplies a weight by (square brackets divide by it)
EMPHASIS = 1.1

# an escaped bracket or backslash, a bracket, an explicit ':1.4)' weight, or a run of plain text
_TOKEN = re.compile(r"\\[()\[\]\\]|\(|\[|:\s*([+-]?(?:\d+\.?\d*|\.\d+))\s*\)|\)|\]|[^\\()\[\]:]+|:|\\")


def parse_weighted_prompt(text: str) -> list[tuple[str, float]]:
    """Text fragments and their weights, adjacent fragments of one weight merged.

    'a (b:1.5) [c]' -> [('a ', 1.0), ('b', 1.5), (' ', 1.0), ('c', 0.909...)]; a prompt with no
    brackets is one fragment of weight 1.0.
    """
    fragments: list[list] = []
    round_open: list[int] = []  # fragment index where each open '(' began
    square_open: list[int] = []

    def scale(start: int, factor: float) -> None:
        for fragment in fragments[start:]:
            fragment[1] *= factor

    for match in _TOKEN.finditer(text):
        token, explicit = match.group(0), match.group(1)
        if token.startswith("\\") and len(token) == 2:
            fragments.append([token[1], 1.0])
        elif token == "(":
            round_open.append(len(fragments))
        elif token == "[":
            square_open.append(len(fragments))
        elif explicit is not None and round_open:
            scale(round_open.pop(), float(explicit))
        elif token == ")" and round_open:
            scale(round_open.pop(), EMPHASIS)
        elif token == "]" and square_open:
            scale(square_open.pop(), 1 / EMPHASIS)
        else:  # text, or a closing bracket with nothing open: kept as text
            fragments.append([token, 1.0])
    for start in round_open:  # left open: up to the end of the prompt
        scale(start, EMPHASIS)
    for start in square_open:
        scale(start, 1 / EMPHASIS)
    merged: list[tuple[str, float]] = []
    for fragment_text, weight in fragments:
        if merged and merged[-1][1] == weight:
            merged[-1] = (merged[-1][0] + fragment_text, weight)
        else:
            merged.append((fragment_text, weight))
    return merged or [("", 1.0)]


def has_weights(fragments: list[tuple[str, float]]) -> bool:
    """Whether any fragment is weighted (a plain prompt is encoded exactly as before)."""
    return any(weight != 1.0 for _, weight in fragments)
