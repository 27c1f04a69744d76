"""Tests of panneuro.ecog.stay_code: the stay code (CCGP, CV) of an ECoG session's high gamma."""

import mne
import numpy as np
import pandas as pd
import pytest
import yaml
from compendium import ROOT

from panneuro.decoding.cross_condition import CCGP_COLUMNS
from panneuro.ecog.stay_code import stay_code_table, window_means
from panneuro.simulate.task import build_events, task_variables

SETTINGS = yaml.safe_load((ROOT / "config/config.yaml").read_text())["decoding"]
SFREQ = 200.0


def _events(n_problems=16, seed=0):
    rng = np.random.default_rng(seed)
    problem = np.repeat(np.arange(1, n_problems + 1), 6)
    trial = np.tile(np.arange(1, 7), n_problems)
    correct = (rng.random(len(problem)) < 0.7).astype(int)
    return build_events(problem, trial, correct, rng, trial_duration=1.5)


def _envelope(events, gain, n_electrodes=8, seed=1):
    """A high-gamma envelope whose first 3 electrodes rise before the response on stay trials."""
    rng = np.random.default_rng(seed)
    duration = float(events["onset"].iloc[-1] + events["duration"].iloc[-1] + 1.0)
    data = np.exp(0.8 * rng.standard_normal((n_electrodes, int(duration * SFREQ))))
    stay = task_variables(events)["stay"].to_numpy()
    response = (events["onset"] + events["response_time"]).to_numpy()
    late = np.arange(len(events)) >= len(events) / 2
    for t, s, is_late in zip(response, stay, late, strict=True):
        if s == 1:
            data[:3, int((t - 0.35) * SFREQ) : int(t * SFREQ)] *= 1 + gain * (2 if is_late else 1)
    info = mne.create_info([f"G{i + 1:02d}" for i in range(n_electrodes)], SFREQ, "ecog")
    return mne.io.RawArray(data, info, verbose=False)


def _table(events, gain):
    return stay_code_table(
        _envelope(events, gain=gain),
        events,
        SETTINGS,
        region="temporal",
        seed=3,
        keys=("H1", "01"),
        n_permutations=20,
    )


def test_window_means_are_the_mean_in_each_window_and_nan_outside():
    info = mne.create_info(["a", "b"], 100.0, "ecog")
    data = np.vstack([np.arange(1000.0), np.ones(1000)])
    envelope = mne.io.RawArray(data, info, verbose=False)
    means = window_means(envelope, np.array([1.0, 5.0, 9.95, -1.0]), [-0.3, 0.0])
    np.testing.assert_allclose(means[0], [np.arange(70, 100).mean(), 1.0])
    np.testing.assert_allclose(means[1], [np.arange(470, 500).mean(), 1.0])
    assert np.isnan(means[3]).all()  # before the recording
    assert np.isfinite(means[2]).all()  # ends inside it


def test_a_coded_session_scores_high_and_more_late_than_early():
    events = _events()
    table = _table(events, gain=0.1)
    assert list(table.columns) == list(CCGP_COLUMNS)
    assert set(table["region"]) == {"temporal"} and set(table["n_units"]) == {8}
    assert set(table["analysis"]) == {"ccgp", "cv"} and set(table["epoch"]) == {"early", "late"}
    late = table[table["epoch"] == "late"]
    early = table[table["epoch"] == "early"]
    assert late["score"].min() > 0.8
    assert late["score"].mean() > early["score"].mean()
    assert (late["p_value"] < 0.1).all()
    # an uncoded session: chance, nothing significant at 5 %
    null = _table(events, gain=0.0)
    assert null["score"].between(0.25, 0.75).all()
    # same inputs, same table
    again = _table(events, gain=0.1)
    pd.testing.assert_frame_equal(table, again)


def test_an_unknown_variable_or_split_is_refused_with_its_key():
    events = _events(n_problems=4)
    envelope = _envelope(events, gain=0.1)
    bad = {**SETTINGS, "cross_condition": {**SETTINGS["cross_condition"], "variable": "mood"}}
    with pytest.raises(ValueError, match="cross_condition'\\]\\['variable'\\] is 'mood'"):
        stay_code_table(envelope, events, bad, region="t", seed=1, keys=())
    bad = {**SETTINGS, "cross_condition": {**SETTINGS["cross_condition"], "conditions": ["hand"]}}
    with pytest.raises(ValueError, match="names \\['hand'\\]"):
        stay_code_table(envelope, events, bad, region="t", seed=1, keys=())
