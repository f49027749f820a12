"""A contact sheet of spectrograms: per row a caption, then the real clip and the generated ones beside it."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image, ImageDraw

from composer.files import write_atomic

#: pixels between pictures and around the sheet
_GAP = 8
#: height of one caption / label text line
_LINE = 14


@dataclass(frozen=True)
class SheetRow:
    """One caption and its spectrograms."""

    # text printed above the pictures
    caption: str
    # (label, unit image [n_mels, frames] in [-1, 1], 1 = silence, row 0 = highest band) per picture
    pictures: tuple[tuple[str, np.ndarray], ...]


def unit_to_pixels(unit: np.ndarray) -> np.ndarray:
    """Unit image -> uint8 grey, loud = bright (the codec's own mapping, inverted for reading)."""
    return np.rint((1.0 - np.clip(np.asarray(unit, dtype=np.float64), -1.0, 1.0)) * 127.5).astype(np.uint8)


def render_sheet(rows: Sequence[SheetRow]) -> Image.Image:
    if not rows:
        raise ValueError("a sheet needs at least one row")
    columns = max(len(r.pictures) for r in rows)
    height_px = max(p.shape[0] for r in rows for _, p in r.pictures)
    width_px = max(p.shape[1] for r in rows for _, p in r.pictures)
    chars = max(40, (columns * (width_px + _GAP)) // 7)
    captions = [textwrap.wrap(r.caption, chars)[:2] or [""] for r in rows]
    row_heights = [len(c) * _LINE + _LINE + height_px + _GAP for c in captions]
    sheet = Image.new("RGB", (_GAP + columns * (width_px + _GAP), _GAP + sum(row_heights)), "white")
    draw = ImageDraw.Draw(sheet)
    y = _GAP
    for row, lines, row_height in zip(rows, captions, row_heights):
        for k, line in enumerate(lines):
            draw.text((_GAP, y + k * _LINE), line, fill="black")
        top = y + len(lines) * _LINE
        for column, (label, unit) in enumerate(row.pictures):
            x = _GAP + column * (width_px + _GAP)
            draw.text((x, top), label, fill=(90, 90, 200))
            sheet.paste(Image.fromarray(unit_to_pixels(unit)).convert("RGB"), (x, top + _LINE))
        y += row_height
    return sheet


def save_sheet(path: Path, rows: Sequence[SheetRow]) -> None:
    image = render_sheet(rows)
    write_atomic(Path(path), lambda tmp: image.save(tmp, format="PNG"))
