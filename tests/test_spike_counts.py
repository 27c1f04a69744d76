import numpy as np
import pandas as pd
import pytest

from panneuro.decoding.spike_counts import align_times, bin_starts, binned_spike_counts


def _slow_counts(spike_times, align, window, bin_size, step):
    starts = bin_starts(window, bin_size, step)
    out = np.zeros((len(align), len(spike_times), len(starts)), dtype=int)
    for i, a in enumerate(align):
        for u, times in enumerate(spike_times):
            for b, s in enumerate(starts):
                out[i, u, b] = sum(1 for t in times if a + s <= t < a + s + bin_size)
    return out


def test_counts_match_slow_reference_on_random_data():
    rng = np.random.default_rng(0)
    spike_times = [np.sort(rng.uniform(0, 50, rng.integers(0, 400))) for _ in range(7)]
    spike_times[3] = rng.uniform(0, 50, 100)  # unsorted input is accepted
    spike_times[4] = np.array([])  # a silent unit
    align = rng.uniform(2, 48, 30)
    counts, centers = binned_spike_counts(
        spike_times, align, window=(-0.5, 1.0), bin_size=0.2, step=0.1
    )
    expected = _slow_counts(spike_times, align, (-0.5, 1.0), 0.2, 0.1)
    assert counts.shape == (30, 7, 14)
    np.testing.assert_array_equal(counts, expected)
    np.testing.assert_allclose(centers, np.arange(14) * 0.1 - 0.4)
    assert counts.sum() > 0


def test_bins_are_half_open():
    counts, _ = binned_spike_counts(
        [np.array([1.0, 1.2])], np.array([1.0]), window=(0.0, 0.4), bin_size=0.2, step=0.2
    )
    np.testing.assert_array_equal(counts[0, 0], [1, 1])


def test_bin_starts_and_errors():
    assert len(bin_starts((-0.5, 1.0), 0.2, 0.1)) == 14
    assert len(bin_starts((-0.4, 0.0), 0.4, 0.4)) == 1
    with pytest.raises(ValueError, match="shorter than one bin"):
        bin_starts((0.0, 0.1), 0.2, 0.1)
    with pytest.raises(ValueError, match="positive"):
        bin_starts((0.0, 1.0), 0.2, 0.0)
    with pytest.raises(ValueError, match="NaN"):
        binned_spike_counts(
            [np.array([1.0])], np.array([np.nan]), window=(0, 1), bin_size=0.5, step=0.5
        )


def test_align_times():
    events = pd.DataFrame(
        {"onset": [1.0, 2.5], "response_time": [0.4, 0.5], "feedback_time": [0.6, 0.7]}
    )
    np.testing.assert_allclose(align_times(events, "onset"), [1.0, 2.5])
    np.testing.assert_allclose(align_times(events, "response"), [1.4, 3.0])
    np.testing.assert_allclose(align_times(events, "feedback"), [1.6, 3.2])
    with pytest.raises(ValueError, match="unknown alignment event"):
        align_times(events, "reward")
