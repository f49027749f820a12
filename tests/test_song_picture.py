"""Song picture: layout, boundary lines, orientation, PNG metadata."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from PIL import Image

from composer.song_picture import BOUNDARY_RGB, layout, save_png, song_picture, time_to_x

SR = 22050


def _tone(duration_s: float, hz: float, sr: int = SR) -> np.ndarray:
    t = np.arange(int(duration_s * sr)) / sr
    return (0.3 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def _plot_columns(image: Image.Image) -> np.ndarray:
    box = layout(width_px=image.width, height_px=image.height)
    return np.asarray(image)[box.plot_top:box.plot_bottom, :, :]


def test_picture_size_and_mode():
    image = song_picture(audio=_tone(3.0, 440.0), sample_rate_hz=SR, sections=[("a", 0.0, 3.0)], title="t",
                         width_px=1000, height_px=300)
    assert image.size == (1000, 300) and image.mode == "RGB"


def test_boundary_lines_sit_at_the_section_starts():
    duration_s = 60.0
    sections = [("intro", 0.0, 7.5), ("verse", 7.5, 23.0), ("chorus", 23.0, 41.25), ("outro", 41.25, 60.0)]
    image = song_picture(audio=_tone(duration_s, 220.0) + _tone(duration_s, 3000.0), sample_rate_hz=SR,
                         sections=sections, title="lines")
    plot = _plot_columns(image)
    white_columns = {x for x in range(plot.shape[1]) if np.all(plot[:, x] == BOUNDARY_RGB)}
    expected = {time_to_x(time_s=t, duration_s=duration_s, width_px=image.width) for t in (7.5, 23.0, 41.25)}
    assert white_columns == expected
    assert expected == {44 + int(t / 60.0 * (1800 - 56)) for t in (7.5, 23.0, 41.25)}


def test_low_frequencies_are_at_the_bottom():
    box = layout(width_px=1800, height_px=400)
    rows = {}
    for hz in (80.0, 8000.0):
        image = song_picture(audio=_tone(5.0, hz), sample_rate_hz=SR, sections=[], title="")
        brightness = _plot_columns(image).astype(float).sum(axis=(1, 2))
        rows[hz] = int(np.argmax(brightness))
    height = box.plot_bottom - box.plot_top
    assert rows[80.0] > 0.8 * height and rows[8000.0] < 0.3 * height


def test_each_section_gets_its_label():
    sections = [("verse", 0.0, 20.0), ("chorus", 20.0, 40.0), ("chorus 2", 40.0, 60.0)]
    image = song_picture(audio=_tone(60.0, 300.0), sample_rate_hz=SR, sections=sections, title="labels")
    box = layout(width_px=image.width, height_px=image.height)
    band = np.asarray(image)[box.label_top + 2:box.label_bottom - 3]
    for _, start, end in sections:
        x0, x1 = (time_to_x(time_s=t, duration_s=60.0, width_px=image.width) for t in (start, end))
        span = band[:, x0 + 3:x1 - 3].reshape(-1, 3)
        assert len(np.unique(span, axis=0)) > 3  # band colour plus anti-aliased text
    # repeats of a name share its colour
    assert (band[0, time_to_x(time_s=25.0, duration_s=60.0, width_px=image.width)]
            == band[0, time_to_x(time_s=45.0, duration_s=60.0, width_px=image.width)]).all()


@pytest.mark.parametrize("duration_s, sr", [(1.0, 44100), (200.0, 44100)])
def test_short_and_long_songs(duration_s, sr):
    rng = np.random.default_rng(7)
    audio = (0.1 * rng.standard_normal(int(duration_s * sr))).astype(np.float32)
    start = time.perf_counter()
    image = song_picture(audio=audio, sample_rate_hz=sr, sections=[("a", 0.0, duration_s / 2),
                                                                   ("a long name that cannot fit", duration_s / 2,
                                                                    duration_s)],
                         title="A song with a rather long title")
    assert time.perf_counter() - start < 10.0
    assert image.size == (1800, 400)
    assert np.asarray(image).std() > 10


def test_silence_and_odd_sections_do_not_break_it():
    image = song_picture(audio=np.zeros(SR, np.float32), sample_rate_hz=SR,
                         sections=[("before", -5.0, 0.0), ("past the end", 0.5, 9.0), ("empty", 0.3, 0.3)],
                         title="silence")
    plot = _plot_columns(image)
    x = time_to_x(time_s=0.5, duration_s=1.0, width_px=1800)
    assert np.all(plot[:, x] == BOUNDARY_RGB)
    assert np.all(plot[:, x - 5] == (0, 0, 4))  # silence is the colormap's darkest colour


def test_bad_audio_is_refused():
    with pytest.raises(ValueError):
        song_picture(audio=np.zeros((2, SR)), sample_rate_hz=SR, sections=[], title="stereo")
    with pytest.raises(ValueError):
        song_picture(audio=np.zeros(0), sample_rate_hz=SR, sections=[], title="empty")


def test_png_metadata_round_trip(tmp_path):
    image = song_picture(audio=_tone(2.0, 440.0), sample_rate_hz=SR, sections=[("a", 0.0, 2.0)], title="meta")
    metadata = {"title": "Café — song", "bpm": 112.5, "sections": [["verse", 0.0, 8.57]], "seed": 42}
    path = save_png(image, tmp_path / "song.png", metadata=metadata)
    back = Image.open(path)
    assert back.size == image.size
    assert back.text["title"] == "Café — song"
    assert json.loads(back.text["bpm"]) == 112.5 and json.loads(back.text["sections"]) == [["verse", 0.0, 8.57]]
    assert np.array_equal(np.asarray(back.convert("RGB")), np.asarray(image))
    assert [p.name for p in tmp_path.iterdir()] == ["song.png"]  # no temp file left behind


@pytest.mark.parametrize("num_samples, n_fft, hop", [(22050, 2048, 512), (1000, 2048, 256), (50_000, 4096, 3000)])
def test_the_pictures_power_spectrogram_is_librosas(num_samples, n_fft, hop):
    import librosa

    from composer.dsp.mel_scale import power_spectrogram

    audio = np.random.default_rng(0).standard_normal(num_samples).astype(np.float32)
    expected = np.abs(librosa.stft(audio, n_fft=n_fft, hop_length=hop, pad_mode="constant")) ** 2
    np.testing.assert_allclose(power_spectrogram(audio, n_fft=n_fft, hop_samples=hop), expected,
                               rtol=1e-3, atol=1e-3 * expected.max())
