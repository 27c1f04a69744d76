import numpy as np
import pandas as pd
import pytest
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.preprocessing import StandardScaler

from panneuro.decoding.cross_condition import (
    CCGP_COLUMNS,
    cross_condition_generalisation,
    cross_condition_scores,
    cross_condition_table,
    session_conditions,
    session_cross_condition,
)
from panneuro.decoding.time_resolved import _sklearn_scores, fold_splits
from panneuro.simulate.task import build_events, task_variables


def _population(rng, n=200, code="abstract"):
    stay = rng.integers(0, 2, n)
    side = rng.integers(0, 2, n)
    lam = np.full((n, 10), 4.0)
    if code == "abstract":  # the same units code stay whatever the side
        lam[:, :5] += 3.0 * stay[:, None]
    else:  # condition-specific: units 0-4 code stay on the left, units 5-9 on the right
        lam[:, :5] += 3.0 * (stay * (side == 0))[:, None]
        lam[:, 5:] += 3.0 * (stay * (side == 1))[:, None]
    return rng.poisson(lam), stay, side


def test_ccgp_high_for_abstract_code_and_chance_for_condition_specific():
    rng = np.random.default_rng(0)
    counts, stay, side = _population(rng, code="abstract")
    assert cross_condition_generalisation(counts, stay, side) > 0.8
    counts, stay, side = _population(rng, code="specific")
    assert abs(cross_condition_generalisation(counts, stay, side) - 0.5) < 0.1


def test_ccgp_nan_when_a_condition_lacks_a_class():
    counts = np.ones((10, 3))
    labels = np.array([0, 1] * 5)
    assert np.isnan(cross_condition_generalisation(counts, labels, labels))


def _sklearn_ccgp(counts, labels, condition, shrinkage):
    """The CCGP written with scikit-learn fits: the decoder of panneuro.decoding.time_resolved
    (scaler on the training condition, LDA with count-pooled covariances, equal-prior threshold)."""
    scores = []
    for train_condition in (0, 1):
        train, test = condition == train_condition, condition != train_condition
        if np.bincount(labels[train], minlength=2).min() < 2:
            return np.nan
        if np.bincount(labels[test], minlength=2).min() < 1:
            return np.nan
        scaler = StandardScaler().fit(counts[train])
        lda = LinearDiscriminantAnalysis(solver="lsqr", shrinkage=shrinkage)
        lda.fit(scaler.transform(counts[train]), labels[train])
        decision = lda.decision_function(scaler.transform(counts[test]))
        predicted = decision - np.log(lda.priors_[1] / lda.priors_[0]) > 0
        truth = labels[test].astype(bool)
        scores.append((predicted[truth].mean() + (~predicted[~truth]).mean()) / 2)
    return np.mean(scores)


@pytest.mark.parametrize("shrinkage", [0.1, 0.5, "auto"])
def test_ccgp_of_many_label_vectors_equals_scikit_learn_fits(shrinkage):
    rng = np.random.default_rng(4)
    counts, stay, side = _population(rng, n=60, code="abstract")
    # the observed labels, unbalanced permutations of them, and one lacking a class on a side
    label_sets = [stay] + [rng.permutation(stay) for _ in range(12)]
    label_sets += [np.where(side == 0, 1, stay)]
    label_sets = np.array(label_sets)
    fast = cross_condition_scores(counts, label_sets, side, shrinkage=shrinkage)
    reference = [_sklearn_ccgp(counts, ys, side, shrinkage) for ys in label_sets]
    np.testing.assert_allclose(fast, reference, atol=1e-12)
    assert np.isnan(fast[-1]) and np.isfinite(fast[:-1]).all()
    assert fast[0] == cross_condition_generalisation(counts, stay, side, shrinkage=shrinkage)


def test_table_cv_is_the_time_resolved_decoder_on_fixed_folds():
    rng = np.random.default_rng(5)
    counts, stay, side = _population(rng, n=60, code="specific")
    groups = np.repeat(np.arange(12), 5)
    table = cross_condition_table(
        counts,
        stay,
        {"choice": side},
        np.full(60, "all"),
        groups,
        rng=np.random.default_rng(6),
        n_permutations=0,
        n_folds=4,
    )
    fold_seed = int(np.random.default_rng(6).integers(2**31 - 1))
    splits = fold_splits(stay, 4, fold_seed)
    expected = _sklearn_scores(counts[:, :, None], stay[None], splits, 0.1, np.array([0]), False)
    cv = table.loc[table["analysis"] == "cv", "score"].to_numpy()
    np.testing.assert_allclose(cv, expected[:, 0], atol=1e-12)


def test_table_has_null_and_separates_the_two_codes():
    rng = np.random.default_rng(1)
    groups = np.repeat(np.arange(40), 5)
    epochs = np.where(groups < 20, "early", "late")
    tables = {}
    for code in ("abstract", "specific"):
        counts, stay, side = _population(rng, code=code)
        tables[code] = cross_condition_table(
            counts,
            stay,
            {"choice": side},
            epochs,
            groups,
            rng=np.random.default_rng(2),
            n_permutations=29,
            n_folds=3,
        )
    abstract, specific = tables["abstract"], tables["specific"]
    assert list(abstract.columns) == [
        "epoch",
        "condition",
        "analysis",
        "n_trials",
        "score",
        "null_mean",
        "null_q95",
        "p_value",
    ]
    assert len(abstract) == 4  # 2 epochs x (ccgp choice, cv)
    ccgp_a = abstract[abstract["analysis"] == "ccgp"]
    ccgp_s = specific[specific["analysis"] == "ccgp"]
    assert (ccgp_a["p_value"] < 0.05).all() and (ccgp_a["score"] > 0.75).all()
    assert (ccgp_s["p_value"] > 0.05).all()
    # the condition-specific code is still decodable within conditions
    assert (specific[specific["analysis"] == "cv"]["score"] > 0.65).all()
    assert (abstract["null_mean"].between(0.4, 0.6)).all()


def _session(rng, n_problems=20, gain_late=25.0):
    problem = np.repeat(np.arange(11, 11 + n_problems), 6)
    trial = np.tile(np.arange(1, 7), n_problems)
    correct = (rng.random(len(problem)) < np.where(trial == 1, 0.5, 0.8)).astype(int)
    events = build_events(problem, trial, correct, rng, trial_duration=1.5)

    stay = task_variables(events)["stay"].fillna(0).to_numpy()
    response = (events["onset"] + events["response_time"]).to_numpy()
    late = problem >= 11 + n_problems // 2
    trains = []
    for unit in range(8):
        times = [rng.uniform(0, response[-1] + 2, rng.poisson(5 * (response[-1] + 2)))]
        if unit < 5:
            for t0, s, is_late in zip(response, stay, late, strict=True):
                if s and is_late:
                    times.append(rng.uniform(t0 - 0.4, t0, rng.poisson(gain_late * 0.4)))
        trains.append(np.sort(np.concatenate(times)))
    units = pd.DataFrame({"probe": "PFC", "region": "prefrontal"}, index=range(8))
    return units, trains, events


def test_session_conditions():
    rng = np.random.default_rng(3)
    _, _, events = _session(rng, n_problems=6)
    conditions, epochs = session_conditions(events)
    assert list(epochs[:18]) == ["early"] * 18 and list(epochs[18:]) == ["late"] * 18
    assert list(conditions["object_pair"][::6]) == [0, 1, 0, 1, 0, 1]
    np.testing.assert_array_equal(conditions["choice"], (events["choice"] == "right"))


def test_session_ccgp_grows_when_the_code_appears_late():
    rng = np.random.default_rng(4)
    units, trains, events = _session(rng)
    settings = {
        "n_folds": 3,
        "n_permutations": 19,
        "shrinkage": 0.1,
        "min_units": 3,
        "align": {"stay": "response"},
        "cross_condition": {
            "variable": "stay",
            "window": [-0.4, 0.0],
            "conditions": ["choice", "object_pair"],
        },
    }
    table = session_cross_condition(units, trains, events, settings, seed=5, keys=("S", "1"))
    assert list(table.columns) == list(CCGP_COLUMNS)
    assert len(table) == 6
    ccgp = table[table["analysis"] == "ccgp"].set_index(["epoch", "condition"])["score"]
    for condition in ("choice", "object_pair"):
        assert ccgp[("late", condition)] > ccgp[("early", condition)] + 0.15
    bad = {**settings, "cross_condition": {**settings["cross_condition"], "conditions": ["x"]}}
    with pytest.raises(ValueError, match="conditions"):
        session_cross_condition(units, trains, events, bad, seed=5)
