"""Tests of panneuro.figures.browse: the one-unit, one-electrode and cross-temporal views."""

import numpy as np
import pandas as pd
import pytest

from panneuro.decoding.time_resolved import DecodingResult, decoding_table
from panneuro.ecog.high_gamma import HighGammaEpochs
from panneuro.figures.browse import (
    align_spikes,
    plot_cross_temporal,
    plot_electrode,
    plot_unit,
)


def _trials(n=6):
    return pd.DataFrame(
        {
            "start_time": 10.0 * np.arange(n),
            "response_time": 0.4,
            "feedback_time": 0.6,
            "correct": [(k + 1) % 2 for k in range(n)],
        }
    )


def test_align_spikes_cuts_trials_relative_to_the_event():
    trials = _trials(3)
    spikes = np.array([0.1, 0.65, 1.9, 10.5, 10.61, 25.0, 20.6])  # unsorted on purpose
    aligned = align_spikes(spikes, trials, align="feedback", window=(-0.5, 1.0))
    expected = [[-0.5, 0.05], [-0.1, 0.01], [0.0]]
    assert [len(a) for a in aligned] == [len(e) for e in expected]
    for got, want in zip(aligned, expected, strict=True):
        assert got == pytest.approx(want)
    onset = align_spikes(spikes, trials, align="onset", window=(0.0, 1.0))
    assert [len(a) for a in onset] == [2, 2, 1]
    with pytest.raises(ValueError, match="align='stimulus'"):
        align_spikes(spikes, trials, align="stimulus")


def test_plot_unit_draws_a_raster_line_per_trial_and_a_rate_per_outcome():
    trials = _trials(6)
    spikes = np.concatenate(
        [
            t + 0.6 + np.linspace(0, 0.3, 5 if c else 1)
            for t, c in zip(trials["start_time"], trials["correct"], strict=True)
        ]
    )
    waveform = np.zeros((90, 4))
    waveform[30, 2] = -50.0
    fig = plot_unit(spikes, trials, waveform=waveform, title="u")
    wave_ax, raster_ax, rate_ax = fig.axes
    assert wave_ax.get_ylabel() == "µV (channel 2)"
    assert len(raster_ax.collections) == len(trials)
    lines = {
        line.get_label(): line.get_ydata()
        for line in rate_ax.get_lines()
        if not line.get_label().startswith("_")
    }
    assert set(lines) == {"rewarded (3)", "unrewarded (3)"}
    assert lines["rewarded (3)"].sum() == pytest.approx(5 * lines["unrewarded (3)"].sum())


def test_plot_unit_without_waveform_says_so():
    fig = plot_unit(np.array([0.7]), _trials(2), waveform=None)
    assert fig.axes[0].texts[0].get_text() == "no waveform"


def _epochs(n_trials=8, channels=("G01", "G02", "G03")):
    times = np.linspace(-0.5, 1.0, 31)
    data = np.zeros((n_trials, len(channels), times.size))
    correct = np.array([1, 0] * (n_trials // 2))
    data[correct == 1, 1, 15:] = 0.5
    trials = pd.DataFrame(
        {"trial_index": np.arange(n_trials), "problem": 1, "trial": 1, "correct": correct}
    )
    positions = np.column_stack([np.arange(len(channels)) * 10.0, np.zeros((len(channels), 2))])
    bad = pd.DataFrame({"channel": list(channels), "bad": False, "reason": ""})
    return HighGammaEpochs(data, times, list(channels), positions, trials, bad)


def test_plot_electrode_shows_the_outcome_difference_of_that_electrode():
    fig = plot_electrode(_epochs(), "G02", responsive=["G02"])
    image_ax, mean_ax = fig.axes[0], fig.axes[1]
    assert image_ax.images[0].get_array().shape == (8, 31)
    means = {
        line.get_label(): line.get_ydata()
        for line in mean_ax.get_lines()
        if not line.get_label().startswith("_")
    }
    assert means["rewarded (4)"].max() == pytest.approx(50.0)
    assert means["unrewarded (4)"].max() == pytest.approx(0.0)
    with pytest.raises(KeyError, match="G09"):
        plot_electrode(_epochs(), "G09")


def test_plot_cross_temporal_draws_the_train_by_test_matrix():
    rng = np.random.default_rng(3)
    times = np.round(np.arange(-0.4, 0.5, 0.1), 3)
    scores = np.full((times.size, times.size), 0.5)
    scores[4:7, 4:7] = 0.9
    table = decoding_table(
        DecodingResult(scores, rng.normal(0.5, 0.02, (40,) + scores.shape), 5), times
    )
    table["align"] = "feedback"
    fig = plot_cross_temporal(table[table["analysis"] == "cross_temporal"], title="x")
    ax = fig.axes[0]
    assert ax.images[0].get_array().shape == scores.shape
    assert np.asarray(ax.images[0].get_array()) == pytest.approx(scores)
    assert ax.get_xlabel() == "test time from feedback (s)"
    with pytest.raises(ValueError, match="no rows"):
        plot_cross_temporal(table.iloc[0:0])
