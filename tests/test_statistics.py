import numpy as np
import pandas as pd
import pytest

from panneuro.behaviour.model import LearningSetParams, simulate_agent
from panneuro.behaviour.statistics import (
    SLOPE_TERM,
    STATS_COLUMNS,
    learning_statistics,
    predicted_trial2,
    trial2_table,
)


def _subjects(params, n_subjects, problems, species, seed):
    rng = np.random.default_rng(seed)
    tables = []
    for i in range(n_subjects):
        sim = simulate_agent(params, problems, rng)
        tables.append(sim.assign(subject=f"{species[0]}{i}", species=species))
    return pd.concat(tables, ignore_index=True)


LEARNER = LearningSetParams(n_half=40.0, beta=0.7)
# No learning to learn: the learning set stays where it starts (n_half enormous).
NON_LEARNER = LearningSetParams(n_half=1e7, beta=1.0)


def test_positive_slope_for_learners_none_for_non_learners():
    # Five independent studies: the learners' slope is positive in every one; the
    # non-learners' 95 % interval contains 0 in (nearly) all, as it should under the null.
    contains_zero = []
    for rep in range(5):
        events = pd.concat(
            [
                _subjects(LEARNER, 3, np.arange(1, 301), "macaque", seed=10 * rep + 1),
                _subjects(NON_LEARNER, 3, np.arange(1, 301), "human", seed=10 * rep + 2),
            ],
            ignore_index=True,
        )
        stats = learning_statistics(events)
        assert list(stats.columns) == list(STATS_COLUMNS)
        slope = stats[stats["term"] == SLOPE_TERM].set_index(["species", "method"])
        for method in ["bayes_mixed_glm", "glm_subject_intercepts"]:
            assert slope.loc[("macaque", method), "ci_low"] > 0
            flat = slope.loc[("human", method)]
            contains_zero.append(flat["ci_low"] < 0 < flat["ci_high"])
        assert slope.loc[("macaque", "glm_subject_intercepts"), "p_value"] < 1e-3
    assert np.mean(contains_zero) >= 0.8
    assert (stats["n_subjects"] == 3).all()
    assert (stats.loc[stats["species"] == "macaque", "n_trials"] == 900).all()
    p = predicted_trial2(stats, "macaque", np.array([1, 300]))
    assert p[0] < p[1]


def test_single_subject_gets_the_glm_only():
    events = _subjects(LEARNER, 1, np.arange(1, 201), "macaque", seed=3)
    stats = learning_statistics(events)
    assert set(stats["method"]) == {"glm_subject_intercepts"}
    assert set(stats["term"]) == {"Intercept", SLOPE_TERM}
    assert np.isfinite(predicted_trial2(stats, "macaque", np.array([10]))).all()


def test_trial2_table_and_errors():
    events = _subjects(LEARNER, 1, np.arange(1, 11), "macaque", seed=4)
    t2 = trial2_table(events)
    assert len(t2) == 10 and t2["problem_per_100"].iloc[0] == 0.0
    with pytest.raises(ValueError, match="lack column"):
        learning_statistics(events.drop(columns="subject"))
    with pytest.raises(ValueError, match="no trial-2 rows"):
        learning_statistics(events[events["trial"] == 1])
