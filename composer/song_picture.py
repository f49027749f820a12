"""A picture of a whole song: mel spectrogram, section boundaries and names, time axis, title.

Layout from the top: title band, section-label band (one colour per section
name, so every chorus looks alike), spectrogram (low frequencies at the bottom,
magma colours, 75 dB range), time axis with m:ss ticks. White vertical lines mark
section boundaries across the label band and the spectrogram.
"""

from __future__ import annotations

import functools
import json
import math
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from PIL.PngImagePlugin import PngInfo

from composer.dsp.mel_scale import hz_to_mel_htk, power_spectrogram, triangular_mel_filters
from composer.files import write_atomic

#: colour of the section boundary lines (never produced by the colormap)
BOUNDARY_RGB = (255, 255, 255)
#: loudness range shown, dB below the song's loudest mel bin
DYNAMIC_RANGE_DB = 75.0
#: tick spacings the time axis may use; it takes the smallest giving at most 8 intervals
TICK_STEPS_S = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600)
#: mel bands computed (then resampled to the plot's rows) and the frequency range they span
MEL_ROWS = 128
LOWEST_HZ = 20.0
HIGHEST_HZ = 16000.0
#: the spectrogram's left edge (room for frequency labels) and right margin
PLOT_LEFT_PX = 44
PLOT_RIGHT_MARGIN_PX = 12

_ASCII_PUNCTUATION = {"\u2014": "-", "\u2013": "-", "\u2026": "...", "\u2018": "'", "\u2019": "'",
                      "\u201c": '"', "\u201d": '"', "\u00b7": "-"}
_BACKGROUND = (18, 18, 24)
_TEXT = (232, 232, 236)
_DIM_TEXT = (150, 150, 160)
# matplotlib's magma at nine evenly spaced points
_MAGMA = np.array([
    (0, 0, 4), (28, 16, 68), (79, 18, 123), (129, 37, 129), (181, 54, 122),
    (229, 80, 100), (251, 135, 97), (254, 194, 135), (252, 253, 191),
], dtype=np.float64)
# Tableau 10, muted: one colour per section name
_SECTION_COLOURS = (
    (78, 121, 167), (242, 142, 43), (225, 87, 89), (118, 183, 178), (89, 161, 79),
    (237, 201, 72), (176, 122, 161), (255, 157, 167), (156, 117, 95), (186, 176, 172),
)


@dataclass(frozen=True)
class Layout:
    """Pixel rows and columns of the picture's parts (top/left inclusive, bottom/right exclusive)."""

    # whole picture
    width_px: int
    height_px: int
    # section-name band
    label_top: int
    label_bottom: int
    # spectrogram area
    plot_left: int
    plot_right: int
    plot_top: int
    plot_bottom: int


def layout(*, width_px: int, height_px: int) -> Layout:
    """Where everything goes for a picture of this size."""
    if width_px < 200 or height_px < 150:
        raise ValueError(f"picture must be at least 200 x 150 px, got {width_px} x {height_px}")
    title_h, label_h, axis_h = 30, 22, 24
    return Layout(width_px=width_px, height_px=height_px, label_top=title_h, label_bottom=title_h + label_h,
                  plot_left=PLOT_LEFT_PX, plot_right=width_px - PLOT_RIGHT_MARGIN_PX, plot_top=title_h + label_h,
                  plot_bottom=height_px - axis_h)


def time_to_x(*, time_s: float, duration_s: float, width_px: int) -> int:
    """Pixel column of a song time (the column whose span contains it)."""
    plot_w = width_px - PLOT_RIGHT_MARGIN_PX - PLOT_LEFT_PX
    column = math.floor(time_s / duration_s * plot_w)
    return PLOT_LEFT_PX + min(max(column, 0), plot_w - 1)


def song_picture(*, audio: np.ndarray, sample_rate_hz: int, sections: Sequence[tuple[str, float, float]],
                 title: str, width_px: int = 1800, height_px: int = 400) -> Image.Image:
    """Draw the song; ``sections`` are ``(label, start_s, end_s)``."""
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim != 1 or audio.size == 0:
        raise ValueError(f"audio must be a non-empty mono array, got shape {audio.shape}")
    box = layout(width_px=width_px, height_px=height_px)
    duration_s = audio.size / sample_rate_hz
    image = Image.new("RGB", (width_px, height_px), _BACKGROUND)
    levels = _mel_levels(audio, sample_rate_hz=sample_rate_hz, columns=box.plot_right - box.plot_left,
                         rows=box.plot_bottom - box.plot_top)
    image.paste(Image.fromarray(_magma(levels)), (box.plot_left, box.plot_top))
    draw = ImageDraw.Draw(image)
    _draw_title(draw, box, title=title, duration_s=duration_s)
    _draw_sections(draw, box, sections=sections, duration_s=duration_s)
    _draw_time_axis(draw, box, duration_s=duration_s)
    _draw_frequency_axis(draw, box, sample_rate_hz=sample_rate_hz)
    return image


def save_png(image: Image.Image, path: Path, *, metadata: dict[str, Any]) -> Path:
    """Write a PNG atomically with ``metadata`` as text chunks (non-strings as JSON)."""
    info = PngInfo()
    for key, value in metadata.items():
        info.add_text(str(key), value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
    path = Path(path)
    write_atomic(path, lambda tmp: image.save(tmp, format="PNG", pnginfo=info))
    return path


def format_axis_mmss(seconds: float) -> str:
    """125.4 -> '2:05' (whole seconds, for axis ticks)."""
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes}:{rest:02d}"


# --- spectrogram ----------------------------------------------------------------------------

def _mel_levels(audio: np.ndarray, *, sample_rate_hz: int, columns: int, rows: int) -> np.ndarray:
    """Mel power in [0, 1] (0 = 75 dB below the peak), ``rows x columns``, low frequencies last."""
    # about two STFT frames per pixel column; the window grows with the hop so no sample is skipped
    hop = max(256, math.ceil(audio.size / (2 * columns)))
    n_fft = max(2048, 1 << math.ceil(math.log2(hop)))
    filters = triangular_mel_filters(sample_rate_hz=sample_rate_hz, n_freqs=n_fft // 2 + 1, n_mels=MEL_ROWS,
                                     min_frequency_hz=LOWEST_HZ, max_frequency_hz=_highest_hz(sample_rate_hz))
    mel = filters @ power_spectrogram(np.nan_to_num(audio), n_fft=n_fft, hop_samples=hop)
    frames = mel.shape[1]
    if frames >= columns:  # average the frames falling in each column
        edges = np.floor(np.arange(columns) * frames / columns).astype(int)
        per_column = np.add.reduceat(mel, edges, axis=1) / np.diff(np.append(edges, frames))
    else:  # nearest frame for each column
        per_column = mel[:, np.floor((np.arange(columns) + 0.5) * frames / columns).astype(int)]
    peak = float(per_column.max())
    if peak <= 0:
        return np.zeros((rows, columns))
    db = 10.0 * np.log10(np.maximum(per_column / peak, 1e-30))
    levels = np.clip(1.0 + db / DYNAMIC_RANGE_DB, 0.0, 1.0)
    bins = np.floor((rows - 1 - np.arange(rows) + 0.5) * levels.shape[0] / rows).astype(int)  # row 0 = top
    return levels[np.clip(bins, 0, levels.shape[0] - 1)]


def _highest_hz(sample_rate_hz: int) -> float:
    return min(sample_rate_hz / 2, HIGHEST_HZ)


def _magma(levels: np.ndarray) -> np.ndarray:
    position = np.clip(levels, 0.0, 1.0) * (len(_MAGMA) - 1)
    low = np.minimum(np.floor(position).astype(int), len(_MAGMA) - 2)
    frac = (position - low)[..., None]
    return np.round(_MAGMA[low] * (1 - frac) + _MAGMA[low + 1] * frac).astype(np.uint8)


# --- annotations ----------------------------------------------------------------------------

@functools.lru_cache(maxsize=16)
def _font(size: int) -> ImageFont.ImageFont:
    """DejaVu Sans where the system has it (wide Unicode coverage), else Pillow's built-in font."""
    try:
        return ImageFont.truetype("DejaVuSans.ttf", size)
    except OSError:
        pass
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has only the fixed bitmap font
        return ImageFont.load_default()


def _drawable(text: str, font: ImageFont.ImageFont) -> str:
    """Replace characters the font has no glyph for: 'é' -> 'e', '—' -> '-', others -> '?'."""
    missing = _glyph_pixels("\ue000", font)  # a private-use code point: the font's 'no glyph' box

    def has_glyph(ch: str) -> bool:
        return ch.isspace() or _glyph_pixels(ch, font) != missing

    out = []
    for ch in text:
        if not has_glyph(ch):
            plain = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode()
            ch = plain if plain and all(map(has_glyph, plain)) else _ASCII_PUNCTUATION.get(ch, "?")
        out.append(ch)
    return "".join(out)


def _glyph_pixels(ch: str, font: ImageFont.ImageFont) -> bytes:
    tile = Image.new("L", (64, 64))
    ImageDraw.Draw(tile).text((8, 8), ch, font=font, fill=255)
    return tile.tobytes()


def _text_width(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.ImageFont) -> float:
    return draw.textlength(text, font=font)


def _draw_title(draw: ImageDraw.ImageDraw, box: Layout, *, title: str, duration_s: float) -> None:
    font = _font(17)
    draw.text((box.plot_left, 15), _drawable(title, font), fill=_TEXT, font=font, anchor="lm")
    draw.text((box.plot_right, 15), format_axis_mmss(duration_s), fill=_DIM_TEXT, font=_font(14), anchor="rm")


def _draw_sections(draw: ImageDraw.ImageDraw, box: Layout, *, sections: Sequence[tuple[str, float, float]],
                   duration_s: float) -> None:
    font = _font(13)
    colour_of: dict[str, tuple[int, int, int]] = {}
    boundaries: set[int] = set()
    for label, start_s, end_s in sections:
        start_s, end_s = max(0.0, start_s), min(duration_s, end_s)
        if end_s <= start_s:
            continue
        name = re.sub(r"\s*\d+$", "", label.strip().lower()) or label  # 'chorus 2' shares the chorus colour
        colour = colour_of.setdefault(name, _SECTION_COLOURS[len(colour_of) % len(_SECTION_COLOURS)])
        x0 = time_to_x(time_s=start_s, duration_s=duration_s, width_px=box.width_px)
        x1 = time_to_x(time_s=end_s, duration_s=duration_s, width_px=box.width_px)
        right = x1 if end_s < duration_s else box.plot_right
        draw.rectangle((x0, box.label_top + 1, right - 1, box.label_bottom - 2), fill=colour)
        text = _fit(draw, _drawable(label, font), font=font, width_px=right - x0 - 6)
        if text:
            ink = (20, 20, 24) if sum(c * w for c, w in zip(colour, (0.299, 0.587, 0.114))) > 140 else _TEXT
            draw.text(((x0 + right) / 2, (box.label_top + box.label_bottom) / 2), text, fill=ink, font=font,
                      anchor="mm")
        boundaries.update(x for x, t in ((x0, start_s), (x1, end_s)) if 0 < t < duration_s)
    for x in sorted(boundaries):
        draw.line((x, box.label_top, x, box.plot_bottom - 1), fill=BOUNDARY_RGB, width=1)


def _fit(draw: ImageDraw.ImageDraw, text: str, *, font: ImageFont.ImageFont, width_px: float) -> str:
    """The label, shortened with an ellipsis until it fits ('' when nothing does)."""
    if _text_width(draw, text, font) <= width_px:
        return text
    for cut in range(len(text) - 1, 0, -1):
        short = text[:cut].rstrip() + _drawable("\u2026", font)
        if _text_width(draw, short, font) <= width_px:
            return short
    return ""


def _draw_time_axis(draw: ImageDraw.ImageDraw, box: Layout, *, duration_s: float) -> None:
    font = _font(12)
    step = next((s for s in TICK_STEPS_S if duration_s / s <= 8), TICK_STEPS_S[-1])
    for k in range(int(duration_s // step) + 1):
        x = time_to_x(time_s=k * step, duration_s=duration_s, width_px=box.width_px)
        draw.line((x, box.plot_bottom, x, box.plot_bottom + 4), fill=_DIM_TEXT)
        text = format_axis_mmss(k * step)
        half_w = _text_width(draw, text, font) / 2
        anchor = "lt" if x - half_w < 0 else "rt" if x + half_w > box.width_px else "mt"  # keep labels inside
        draw.text((x, box.plot_bottom + 6), text, fill=_TEXT, font=font, anchor=anchor)


def _draw_frequency_axis(draw: ImageDraw.ImageDraw, box: Layout, *, sample_rate_hz: int) -> None:
    font = _font(11)
    low_mel, high_mel = hz_to_mel_htk(LOWEST_HZ), hz_to_mel_htk(_highest_hz(sample_rate_hz))
    for hz, text in ((100, "100"), (1000, "1k"), (4000, "4k"), (10000, "10k")):
        if hz >= sample_rate_hz / 2:
            continue
        fraction = (hz_to_mel_htk(float(hz)) - low_mel) / (high_mel - low_mel)
        y = box.plot_bottom - 1 - fraction * (box.plot_bottom - box.plot_top - 1)
        draw.line((box.plot_left - 4, y, box.plot_left - 1, y), fill=_DIM_TEXT)
        draw.text((box.plot_left - 6, y), text, fill=_DIM_TEXT, font=font, anchor="rm")
