import numpy as np
import pandas as pd
import pytest

from panneuro.sleep.ripples import (
    RIPPLE_COLUMNS,
    detect_ripples,
    match_events,
    ripple_band,
    ripple_epochs,
)


def planted_lfp(
    rng, fs=1500.0, duration=60.0, *, n_channels=4, n_ripples=40, amp=(10, 25), noise_uv=8.0
):
    """LFP with 1/f background, white noise and Gaussian-windowed 160-220 Hz ripples."""
    n = int(duration * fs)
    t = np.arange(n) / fs
    brown = np.cumsum(rng.normal(size=(n, n_channels)), axis=0)
    brown -= np.linspace(brown[0], brown[-1], n)
    x = 50 * brown / brown.std() + rng.normal(0, noise_uv, (n, n_channels))
    slots = np.arange(1, duration - 1, 0.6)
    centres = np.sort(rng.choice(slots, n_ripples, replace=False))
    centres = centres + rng.uniform(-0.1, 0.1, n_ripples)
    sd = rng.uniform(0.010, 0.020, n_ripples)
    freq = rng.uniform(160, 220, n_ripples)
    amplitude = rng.uniform(*amp, n_ripples)
    gain = rng.uniform(0.7, 1.0, n_channels)
    for c, s, f, a in zip(centres, sd, freq, amplitude, strict=True):
        sel = np.abs(t - c) < 4 * s
        burst = a * np.exp(-0.5 * ((t[sel] - c) / s) ** 2) * np.sin(2 * np.pi * f * (t[sel] - c))
        x[sel] += burst[:, None] * gain
    planted = pd.DataFrame(
        {
            "start_time": centres - 2 * sd,
            "end_time": centres + 2 * sd,
            "peak_time": centres,
            "amplitude": amplitude,
        }
    )
    return t, x, planted


@pytest.mark.parametrize(("detector", "min_recall"), [("kay", 0.9), ("karlsson", 0.85)])
def test_detected_ripples_match_the_planted_ones(detector, min_recall):
    t, x, planted = planted_lfp(np.random.default_rng(0))
    found = detect_ripples(t, x, 1500.0, detector=detector)
    assert list(found.columns) == list(RIPPLE_COLUMNS)
    score = match_events(found, planted)
    assert score["recall"] >= min_recall
    assert score["precision"] >= 0.9
    # peaks land on the planted centres
    nearest = np.abs(
        found["peak_time"].to_numpy()[:, None] - planted["peak_time"].to_numpy()[None, :]
    ).min(axis=1)
    assert np.median(nearest) < 0.010
    assert ((found["duration"] > 0.015) & (found["duration"] < 0.25)).all()


def test_weak_ripples_are_missed_first_and_noise_gives_few_events():
    t, x, planted = planted_lfp(np.random.default_rng(1), amp=(3, 25))
    found = detect_ripples(t, x, 1500.0, zscore_threshold=3.0)
    hit = planted.apply(
        lambda r: (
            (found["start_time"] < r["end_time"]) & (found["end_time"] > r["start_time"])
        ).any(),
        axis=1,
    )
    assert planted.loc[hit, "amplitude"].mean() > planted.loc[~hit, "amplitude"].mean() + 5
    t, x, _ = planted_lfp(np.random.default_rng(2), n_ripples=0)
    assert len(detect_ripples(t, x, 1500.0, zscore_threshold=3.0)) <= 2


def test_ripple_band_at_another_rate_and_the_epochs():
    fs = 2000.0
    t = np.arange(int(4 * fs)) / fs
    x = np.sin(2 * np.pi * 200 * t) + np.sin(2 * np.pi * 20 * t)
    band = ripple_band(np.c_[x, x], fs)
    inner = slice(1000, -1000)
    assert np.std(band[inner, 0]) == pytest.approx(np.sqrt(0.5), rel=0.1)  # 200 Hz kept
    epochs = ripple_epochs(pd.DataFrame({"start_time": [1.0, 2.0], "end_time": [1.1, 2.05]}))
    np.testing.assert_allclose(epochs.end - epochs.start, [0.1, 0.05])


def test_match_events_is_one_to_one():
    planted = pd.DataFrame({"start_time": [1.0, 2.0, 3.0], "end_time": [1.1, 2.1, 3.1]})
    detected = pd.DataFrame({"start_time": [0.95, 1.05, 2.5], "end_time": [1.08, 1.2, 2.6]})
    score = match_events(detected, planted)
    assert (score["n_matched"], score["recall"], score["precision"]) == (1, 1 / 3, 1 / 3)
    # with slack the third detection reaches the second and third planted events, but the
    # first two detections still compete for the first planted event
    assert match_events(detected, planted, tolerance=0.45)["n_matched"] == 2
    empty = match_events(detected.iloc[:0], planted)
    assert empty["recall"] == 0 and np.isnan(empty["precision"])
    with pytest.raises(ValueError, match="detector"):
        detect_ripples(np.arange(10.0), np.zeros(10), 1500.0, detector="mne")
