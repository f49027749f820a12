"""Crossfades on click tracks and sines: joints on the bar line, no discontinuity, locality."""

from __future__ import annotations

import numpy as np
import pytest

from composer.dsp.loudness import SILENCE_DB, gain_to_target_db, rms_db, soft_limit, trend_corrections_db
from composer.dsp.stitch import (
    MIN_FADE_CORRELATION, ClipPlacement, equal_power_fade, fade_window, linear_fade, matched_fade, splice_prefix,
    stitch_clips,
)

RATE = 8000


def _sine(n, *, freq_hz, start_sample=0, amp=0.5):
    t = (np.arange(n) + start_sample) / RATE
    return amp * np.sin(2 * np.pi * freq_hz * t)


def test_equal_power_curves():
    out, into = equal_power_fade(num_samples=101)
    np.testing.assert_allclose(out**2 + into**2, 1.0, atol=1e-12)
    assert out[0] > 0.99 and into[-1] > 0.99


def test_stitched_continuous_signal_is_seamless():
    """Clips cut from one continuous sine must stitch back with no step at the joints."""
    bounds = [0, 4000, 8000, 12000]
    pad, fade = 300, 400
    clips = [_sine(b - a + 2 * pad, freq_hz=220, start_sample=a - pad) for a, b in zip(bounds, bounds[1:])]
    places = [ClipPlacement(a, b, pad) for a, b in zip(bounds, bounds[1:])]
    reference = _sine(12000, freq_hz=220)
    # the matched law sees the same audio on both sides of each joint and fades with equal gain: exact
    song = stitch_clips(clips, places, joint_fade_samples=[fade, fade], total_samples=12000)
    np.testing.assert_allclose(song, reference, rtol=0, atol=1e-12)
    # the fixed law's equal-power fade lifts the middle of the fade by up to sqrt(2), but never steps
    song = stitch_clips(clips, places, joint_fade_samples=[fade, fade], total_samples=12000, law="fixed")
    assert 0.1 < np.max(np.abs(song - reference)) < 0.5 * (np.sqrt(2) - 1) + 1e-9
    steps = np.abs(np.diff(song))
    assert steps.max() <= np.abs(np.diff(reference)).max() * 1.5


def test_fixed_law_fades_coherent_joints_linearly_so_they_do_not_swell():
    """The fixed law (takes before the matched one): clips that continue each other play the same audio across the fade: equal gain keeps it exact."""
    bounds = [0, 4000, 8000, 12000]
    pad, fade = 300, 400
    clips = [_sine(b - a + 2 * pad, freq_hz=220, start_sample=a - pad) for a, b in zip(bounds, bounds[1:])]
    places = [ClipPlacement(a, b, pad) for a, b in zip(bounds, bounds[1:])]
    song = stitch_clips(clips, places, joint_fade_samples=[fade, fade], total_samples=12000, law="fixed",
                        coherent_joints=[True, True])
    np.testing.assert_allclose(song, _sine(12000, freq_hz=220), atol=1e-12)
    out, into = linear_fade(num_samples=7)
    np.testing.assert_allclose(out + into, 1.0)
    with pytest.raises(ValueError, match="coherence"):
        stitch_clips(clips, places, joint_fade_samples=[fade, fade], total_samples=12000, coherent_joints=[True])


def _correlated_pair(rho, *, n, seed):
    """Two unit-power noises whose correlation is ``rho`` (up to sampling error)."""
    rng = np.random.default_rng(seed)
    x, other = rng.standard_normal(n), rng.standard_normal(n)
    return x, rho * x + np.sqrt(1.0 - rho ** 2) * other


def _block_levels_db(mixed, held, *, blocks=8):
    """The mix's level against the held power, in dB, per block of the fade."""
    return np.array([10 * np.log10(np.sum(m ** 2) / np.sum(h))
                     for m, h in zip(np.array_split(mixed, blocks), np.array_split(held, blocks))])


@pytest.mark.parametrize("rho", [-0.4, 0.0, 0.3, 0.6, 0.9, 1.0])
def test_matched_fade_holds_the_power_the_two_clips_interpolate_whatever_their_correlation(rho):
    x, y = _correlated_pair(rho, n=40000, seed=3)
    cos, sin = equal_power_fade(num_samples=x.size)
    held = cos ** 2 * x ** 2 + sin ** 2 * y ** 2  # what an equal-power fade gives unrelated clips
    fade_out, fade_in = matched_fade(x, y)
    assert np.all(np.abs(_block_levels_db(fade_out * x + fade_in * y, held)) < 0.25)
    fixed = _block_levels_db(cos * x + sin * y, held)  # the fixed law misses by 10*log10(1 + rho) mid-fade
    assert abs(fixed[3] - 10 * np.log10(1 + rho * np.sin(2 * np.pi * 7 / 32))) < 0.25 or abs(rho) < 0.05
    if rho >= 0:  # monotone and never above 1; an anti-correlated pair needs (and gets) more than 1 mid-fade
        assert np.all(np.diff(fade_in) > 0) and np.all(np.diff(fade_out) < 0)
        assert max(fade_in.max(), fade_out.max()) <= 1.0 + 1e-12


def test_matched_fade_is_equal_power_for_a_silent_clip_and_equal_gain_for_identical_ones():
    x = np.random.default_rng(1).standard_normal(500)
    for silent in (np.zeros(500), x):
        out, into = matched_fade(x, np.zeros(500)) if silent is not x else matched_fade(np.zeros(500), x)
        cos, sin = equal_power_fade(num_samples=500)
        assert np.array_equal(out, cos) and np.array_equal(into, sin)
    out, into = matched_fade(x, x)
    np.testing.assert_allclose(out + into, 1.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(out, into[::-1], rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="fade windows differ"):
        matched_fade(x, x[:-1])


def test_matched_fade_keeps_its_law_at_extreme_levels_and_falls_back_to_equal_power_on_non_finite_samples():
    x = np.random.default_rng(4).standard_normal(64)
    for scale in (1e-160, 1e150):
        out, into = matched_fade(scale * x, scale * x)
        np.testing.assert_allclose(out + into, 1.0, rtol=0, atol=1e-9)
    broken = x.copy()
    broken[5] = np.inf
    out, into = matched_fade(broken, x)
    cos, sin = equal_power_fade(num_samples=64)
    assert np.array_equal(out, cos) and np.array_equal(into, sin)


def test_the_matched_law_refuses_clips_that_do_not_meet():
    clips = [np.ones(18), np.ones(18)]
    places = [ClipPlacement(0, 10, 4), ClipPlacement(14, 24, 4)]
    with pytest.raises(ValueError, match="joins clips that meet: one ends at sample 10, the next starts at 14"):
        stitch_clips(clips, places, joint_fade_samples=[8], total_samples=24)
    assert stitch_clips(clips, places, joint_fade_samples=[8], total_samples=24, law="fixed").shape == (24,)


def test_matched_fade_lifts_an_anticorrelated_pair_at_most_3_db():
    x = np.random.default_rng(2).standard_normal(1000)
    out, into = matched_fade(x, -x)  # correlation -1 counts as MIN_FADE_CORRELATION
    middle = len(out) // 2
    k = 1.0 / np.sqrt(1.0 + MIN_FADE_CORRELATION)
    assert out[middle] / equal_power_fade(num_samples=1000)[0][middle] == pytest.approx(k, rel=1e-3)
    assert 20 * np.log10(k) == pytest.approx(3.01, abs=0.01)


def test_splice_prefix_keeps_the_prefix_then_fades_into_the_clip():
    clip, prefix = np.full(1000, 0.5, np.float32), np.full(300, -0.5, np.float32)
    spliced = splice_prefix(clip, prefix, keep_samples=200, fade_samples=50)
    np.testing.assert_array_equal(spliced[:200], prefix[:200])
    np.testing.assert_array_equal(spliced[250:], clip[250:])
    assert np.all(np.diff(spliced[199:251]) >= 0)  # a monotone ramp from one to the other, no jump
    assert np.array_equal(clip, np.full(1000, 0.5, np.float32))  # the input is not modified


def test_joint_is_centred_on_the_bar_line():
    """Two click tracks: clip A clicks before the joint, clip B after; the fade is centred on the joint."""
    pad, fade, joint = 200, 200, 2000
    a = np.ones(joint + 2 * pad)
    b = np.ones(2000 + 2 * pad) * -1
    song = stitch_clips([a, b], [ClipPlacement(0, joint, pad), ClipPlacement(joint, 4000, pad)],
                        joint_fade_samples=[fade], total_samples=4000)
    start, stop = fade_window(joint_sample=joint, fade_samples=fade)
    assert np.all(song[:start] == 1.0) and np.all(song[stop:] == -1.0)
    # the sum crosses zero exactly at the joint (symmetric curves)
    crossing = np.argmax(song < 0)
    assert abs(crossing - joint) <= 1


def test_clicks_in_clips_land_where_they_were_placed():
    pad = 100
    clip = np.zeros(1000 + 2 * pad)
    clip[pad + 500] = 1.0  # a click 500 samples into the clip's bars
    song = stitch_clips([np.zeros(1000 + 2 * pad), clip], [ClipPlacement(0, 1000, pad), ClipPlacement(1000, 2000, pad)],
                        joint_fade_samples=[100], total_samples=2000)
    assert np.argmax(song) == 1500


def test_replacing_one_clip_changes_only_its_span():
    rng = np.random.default_rng(0)
    bounds = [0, 1000, 2000, 3000, 4000]
    pad, fade = 64, 100
    places = [ClipPlacement(a, b, pad) for a, b in zip(bounds, bounds[1:])]
    clips = [rng.standard_normal(1000 + 2 * pad) for _ in places]
    before = stitch_clips(clips, places, joint_fade_samples=[fade] * 3, total_samples=4000)
    clips[2] = rng.standard_normal(1000 + 2 * pad)
    after = stitch_clips(clips, places, joint_fade_samples=[fade] * 3, total_samples=4000)
    changed = np.flatnonzero(before != after)
    assert changed.min() >= 2000 - fade // 2 and changed.max() < 3000 + fade - fade // 2
    assert np.array_equal(before[: 2000 - fade // 2], after[: 2000 - fade // 2])


def test_wrong_clip_length_is_rejected():
    with pytest.raises(ValueError, match="expected"):
        stitch_clips([np.zeros(10)], [ClipPlacement(0, 100, 5)], joint_fade_samples=[], total_samples=100)


def test_loudness_matching_and_limiter():
    quiet = _sine(8000, freq_hz=440, amp=0.05)
    gain = gain_to_target_db(quiet, target_db=-18.0)
    assert rms_db(quiet * 10 ** (gain / 20)) == pytest.approx(-18.0, abs=1e-6)
    assert gain_to_target_db(np.zeros(100), target_db=-18.0) == 0.0
    assert gain_to_target_db(quiet * 0.01, target_db=-18.0) == 24.0  # boost is capped
    loud = np.linspace(-2, 2, 1001)
    limited = soft_limit(loud)
    assert np.max(np.abs(limited)) < 1.0
    np.testing.assert_array_equal(limited[np.abs(loud) <= 0.9], loud[np.abs(loud) <= 0.9])
    assert np.all(np.diff(limited) >= 0)  # monotonic: no new distortion folds


def test_trend_corrections_keep_a_steady_fade_and_remove_the_scatter_around_it():
    positions, weights = np.arange(4.0), np.ones(4)
    fade = -12.0 - 3.0 * positions
    np.testing.assert_allclose(trend_corrections_db(fade, positions=positions, weights=weights), 0.0, atol=1e-9)
    scatter = np.array([2.0, -2.0, -2.0, 2.0])  # orthogonal to a line: the fit finds the fade again
    np.testing.assert_allclose(trend_corrections_db(fade + scatter, positions=positions, weights=weights), -scatter,
                               atol=1e-9)


def test_trend_corrections_leave_short_sections_and_silence_alone_and_are_capped():
    two = trend_corrections_db(np.array([-10.0, -25.0]), positions=np.arange(2.0), weights=np.ones(2))
    np.testing.assert_array_equal(two, 0.0)  # two levels are their own trend
    with_silence = np.array([-20.0, SILENCE_DB, -20.0, -20.0])
    np.testing.assert_allclose(trend_corrections_db(with_silence, positions=np.arange(4.0), weights=np.ones(4)), 0.0,
                               atol=1e-9)  # the silent clip neither pulls the line nor moves
    outlier = trend_corrections_db(np.array([-20.0, -20.0, -40.0, -20.0, -20.0]), positions=np.arange(5.0),
                                   weights=np.ones(5), max_correction_db=6.0)
    assert outlier[2] == 6.0 and np.all(np.abs(outlier) <= 6.0)


def test_trend_corrections_weight_long_clips_more():
    levels = np.array([-20.0, -20.0, -20.0, -26.0])
    short_last = trend_corrections_db(levels, positions=np.arange(4.0), weights=np.array([4.0, 4.0, 4.0, 1.0]))
    even = trend_corrections_db(levels, positions=np.arange(4.0), weights=np.ones(4))
    assert abs(short_last[0]) < abs(even[0])  # a short clip pulls the line less


def test_trend_corrections_move_unfitted_clips_onto_the_line_without_moving_it():
    levels = np.array([-20.0, -21.0, -22.0, -30.0, -10.0])  # a fade, then two morph clips far off it
    fitted = np.array([True, True, True, False, False])
    corrections = trend_corrections_db(levels, positions=np.arange(5.0), weights=np.ones(5), fitted=fitted,
                                       max_correction_db=100.0)
    np.testing.assert_allclose(corrections[:3], 0.0, atol=1e-9)  # the fitted clips define the line, unmoved
    np.testing.assert_allclose(corrections[3:], [-23.0 + 30.0, -24.0 + 10.0])  # the others land on it
    capped = trend_corrections_db(levels, positions=np.arange(5.0), weights=np.ones(5), fitted=fitted)
    np.testing.assert_allclose(capped[3:], [6.0, -6.0])
    again = trend_corrections_db(np.array([-20.0, -21.0, -22.0, -5.0, -40.0]), positions=np.arange(5.0),
                                 weights=np.ones(5), fitted=fitted)
    np.testing.assert_array_equal(again[:3], corrections[:3])  # whatever the unfitted clips do
    short = trend_corrections_db(levels, positions=np.arange(5.0), weights=np.ones(5),
                                 fitted=np.array([True, True, False, False, False]))
    np.testing.assert_array_equal(short, 0.0)  # two fitted levels define no trend


def test_the_limiter_and_16_bit_conversion_give_the_formulas_bits():
    """Both work on the peaks or in place to spare an hour-long song gigabytes of temporaries; the samples must
    stay exactly what the plain formulas give, or a regeneration would change samples it does not touch."""
    from composer.audio_io import to_int16

    audio = np.random.default_rng(3).standard_normal(1_000_003) * 0.6
    magnitude, headroom = np.abs(audio), 1.0 - 0.9
    plain = np.where(magnitude > 0.9, np.sign(audio) * (0.9 + headroom * np.tanh((magnitude - 0.9) / headroom)),
                     audio)
    assert np.array_equal(soft_limit(audio), plain)
    assert np.array_equal(to_int16(audio), np.clip(np.round(audio * 32767.0), -32768, 32767).astype(np.int16))
