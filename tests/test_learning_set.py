import numpy as np
import pandas as pd
import pytest

from panneuro.behaviour.learning_set import (
    ALL_SUBJECTS,
    CURVE_COLUMNS,
    learning_set_curves,
    read_behaviour,
)
from panneuro.behaviour.model import LearningSetParams, expected_accuracy, simulate_agent
from panneuro.io.tables import write_tsv
from panneuro.simulate.task import build_events

AGENT = LearningSetParams(n_half=10.0, beta=1.0)


def _subject(subject, species, problems, seed):
    rng = np.random.default_rng(seed)
    sim = simulate_agent(AGENT, problems, rng)
    events = build_events(
        sim["problem"].to_numpy(),
        sim["trial"].to_numpy(),
        sim["correct"].to_numpy(),
        rng,
        trial_duration=1.5,
    )
    return events.assign(subject=subject, species=species)


def test_curves_table_layout_and_values():
    events = pd.concat(
        [
            _subject("A", "macaque", np.arange(1, 41), 1),
            _subject("B", "macaque", np.arange(1, 31), 2),
            _subject("H", "human", np.arange(1, 21), 3),
        ],
        ignore_index=True,
    )
    curves = learning_set_curves(events, block_size=10, n_bootstrap=200, seed=1)
    assert list(curves.columns) == list(CURVE_COLUMNS)
    assert set(curves["subject"]) == {"A", "B", "H", ALL_SUBJECTS}
    a = curves[curves["subject"] == "A"]
    assert len(a) == 4 * 6
    assert a["problem_first"].tolist()[::6] == [1, 11, 21, 31]
    assert (a["n_problems"] == 10).all()
    # the pooled row counts both subjects' problems and equals the pooled mean
    pooled = curves[
        (curves["species"] == "macaque")
        & (curves["subject"] == ALL_SUBJECTS)
        & (curves["block"] == 1)
        & (curves["trial"] == 2)
    ].iloc[0]
    assert pooled["n_problems"] == 20
    sel = events[
        (events["species"] == "macaque") & (events["problem"] <= 10) & (events["trial"] == 2)
    ]
    assert pooled["percent_correct"] == pytest.approx(100 * sel["correct"].mean())
    ok = curves.dropna(subset=["ci_low"])
    assert (
        (ok["ci_low"] <= ok["percent_correct"] + 1e-9)
        & (ok["percent_correct"] <= ok["ci_high"] + 1e-9)
    ).all()


def test_curves_are_deterministic():
    events = _subject("A", "macaque", np.arange(1, 21), 4)
    one = learning_set_curves(events, block_size=10, n_bootstrap=100, seed=5)
    two = learning_set_curves(events, block_size=10, n_bootstrap=100, seed=5)
    pd.testing.assert_frame_equal(one, two)


def test_bootstrap_interval_contains_the_truth():
    # 30 simulated subjects, one block of 40 problems each: the 95 % interval of each
    # subject's trial-2 accuracy should contain the true expected accuracy most of the time.
    problems = np.arange(1, 41)
    truth = 100 * expected_accuracy(AGENT, problems)[:, 1].mean()
    events = pd.concat(
        [_subject(f"S{i}", "macaque", problems, 100 + i) for i in range(30)], ignore_index=True
    )
    curves = learning_set_curves(events, block_size=40, n_bootstrap=500, seed=2)
    t2 = curves[(curves["trial"] == 2) & (curves["subject"] != ALL_SUBJECTS)]
    coverage = ((t2["ci_low"] <= truth) & (truth <= t2["ci_high"])).mean()
    assert 0.8 <= coverage <= 1.0
    pooled = curves[(curves["trial"] == 2) & (curves["subject"] == ALL_SUBJECTS)].iloc[0]
    assert pooled["ci_low"] <= truth <= pooled["ci_high"]
    assert pooled["ci_high"] - pooled["ci_low"] < 5


def test_errors_and_reading(tmp_path):
    events = _subject("A", "macaque", np.arange(1, 3), 1)
    with pytest.raises(ValueError, match="lack column"):
        learning_set_curves(events.drop(columns="species"), 10, 10, 0)
    with pytest.raises(ValueError, match="block_size"):
        learning_set_curves(events, 0, 10, 0)
    path = tmp_path / "sub-A_events.tsv"
    write_tsv(events.drop(columns=["subject", "species"]), path)
    read = read_behaviour([path], ["A"], ["macaque"])
    assert (read["subject"] == "A").all() and len(read) == len(events)
    with pytest.raises(ValueError, match="one of each per file"):
        read_behaviour([path], ["A", "B"], ["macaque"])
