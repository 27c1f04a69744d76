import numpy as np

from panneuro.io.tables import EVENTS_COLUMNS
from panneuro.simulate.task import build_events, task_variables


def _events(correct, seed=1):
    n_problems = len(correct) // 6
    problem = np.repeat(np.arange(5, 5 + n_problems), 6)
    trial = np.tile(np.arange(1, 7), n_problems)
    return build_events(
        problem, trial, np.asarray(correct), np.random.default_rng(seed), trial_duration=1.5
    )


def test_trial_table_is_consistent():
    rng = np.random.default_rng(2)
    events = _events(rng.integers(0, 2, 60))
    assert list(events.columns) == list(EVENTS_COLUMNS)
    np.testing.assert_allclose(np.diff(events["onset"]), 1.5)
    # the chosen object is the rewarded one exactly when the trial is correct
    chose_rewarded = events["chosen_object"] == events["rewarded_object"]
    assert (chose_rewarded == (events["correct"] == 1)).all()
    # objects of problem p are 2p-1 and 2p, and the rewarded one is fixed within a problem
    pairs = events[["object_left", "object_right"]].to_numpy()
    assert (pairs.min(axis=1) == 2 * events["problem"] - 1).all()
    assert (events.groupby("problem")["rewarded_object"].nunique() == 1).all()
    side = np.where(events["choice"] == "left", events["object_left"], events["object_right"])
    assert (side == events["chosen_object"]).all()
    assert (events["feedback_time"] > events["response_time"]).all()
    assert (events["feedback_time"] < events["duration"]).all()


def test_build_events_is_deterministic():
    correct = np.ones(12, dtype=int)
    assert _events(correct, 4).equals(_events(correct, 4))
    assert not _events(correct, 4).equals(_events(correct, 5))


def test_task_variables():
    events = _events([0, 1, 1, 1, 1, 1] * 2)
    variables = task_variables(events)
    assert variables["stay"].isna().sum() == 2  # first trial of each problem
    # after an error the agent switches (stay 0), then keeps the rewarded object (stay 1)
    assert variables["stay"].iloc[1] == 0 and (variables["stay"].iloc[2:6] == 1).all()
    assert set(variables["choice"]) <= {0, 1}
    assert (variables["correct"] == events["correct"]).all()
    expected = (events["rewarded_object"] == 2 * events["problem"]).astype(int)
    assert (variables["rewarded_object"] == expected).all()
