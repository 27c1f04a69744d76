"""Tests of panneuro.ecog.stay_oracle: the truth of an ECoG session's planted stay code."""

import numpy as np
import pandas as pd
import pytest
import yaml
from compendium import ROOT

from panneuro.decoding.oracle import CCGP_ORACLE_COLUMNS
from panneuro.ecog.stay_oracle import oracle_stay_code
from panneuro.simulate.ecog import StayCode, simulate_ecog
from panneuro.simulate.task import build_events, task_variables

SETTINGS = yaml.safe_load((ROOT / "config/config.yaml").read_text())["decoding"]
HIGH_GAMMA = {
    "line_frequency": 60.0,
    "reference": "average",
    "detect_bads": True,
    "band": (70.0, 150.0),
    "n_subbands": 4,
    "sfreq_out": 200.0,
}


@pytest.fixture(scope="module")
def session():
    rng = np.random.default_rng(0)
    problem = np.repeat(np.arange(1, 11), 6)
    trial = np.tile(np.arange(1, 7), 10)
    events = build_events(
        problem, trial, (rng.random(60) < 0.7).astype(int), rng, trial_duration=1.5
    )
    code = StayCode(
        stay=task_variables(events)["stay"].to_numpy(float),
        stay_factor=np.linspace(0.1, 1.0, 60),
        gain=2.0,
        n_electrodes=3,
    )
    sim = simulate_ecog(
        events,
        n_electrodes=12,
        sfreq=1000.0,
        n_planted=3,
        gain=1.0,
        line_frequency=60.0,
        seed=5,
        stay_code=code,
    )
    return events, sim.truth


def _oracle(events, truth, **changes):
    args = dict(
        high_gamma=HIGH_GAMMA,
        sfreq=1000.0,
        region="temporal",
        seed=11,
        keys=("H1", "01"),
        n_replicates=3,
    )
    return oracle_stay_code(events, truth, SETTINGS, **{**args, **changes})


def test_the_truth_follows_the_planted_code_and_does_not_depend_on_the_workers(session):
    events, truth = session
    table = _oracle(events, truth)
    assert list(table.columns) == list(CCGP_ORACLE_COLUMNS)
    assert set(table["n_replicates"]) == {3} and set(table["n_units"]) == {12}
    assert table["planted_rate"].isna().all()
    by_epoch = table.groupby("epoch")["truth"].mean()
    # the code grows with the stay factor: the late half decodes better than the early one
    assert by_epoch["late"] > by_epoch["early"] + 0.1 and by_epoch["late"] > 0.8
    assert (table["truth_sd"] >= 0).all()
    pd.testing.assert_frame_equal(table, _oracle(events, truth, n_jobs=2))


def test_no_stay_code_or_too_few_replicates_is_refused(session):
    events, truth = session
    with pytest.raises(ValueError, match="no stay_code block"):
        _oracle(events, {k: v for k, v in truth.items() if k != "stay_code"})
    with pytest.raises(ValueError, match="at least 2"):
        _oracle(events, truth, n_replicates=1)
    with pytest.raises(ValueError, match="does not have"):
        _oracle(events, {**truth, "n_electrodes": 4})
