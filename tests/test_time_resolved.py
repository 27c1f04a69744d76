import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from panneuro.decoding.populations import region_populations
from panneuro.decoding.spike_counts import align_times
from panneuro.decoding.time_resolved import (
    DECODING_COLUMNS,
    _closed_form_scores,
    _sklearn_scores,
    balanced_accuracy,
    cv_balanced_accuracy,
    decode_session,
    decode_time_resolved,
    decoding_table,
    fold_splits,
    make_decoder,
    null_summary,
)
from panneuro.simulate.task import build_events, task_variables
from panneuro.stats.permutation import permuted_labels

SETTINGS = {
    "window": [-0.5, 1.0],
    "bin_size": 0.2,
    "step": 0.1,
    "n_folds": 3,
    "n_permutations": 39,
    "variables": ["choice", "rewarded_object"],
    "shrinkage": 0.1,
    "align": {"choice": "response", "rewarded_object": "feedback"},
    "cluster_threshold_quantile": 0.95,
    "alpha": 0.05,
    "min_units": 3,
}


def synthetic_session(rng, specs, n_problems=24, base=5.0):
    """Events and spike trains; specs: (region, variable, event, (start, stop), rate gain)."""
    problem = np.repeat(np.arange(1, n_problems + 1), 6)
    trial = np.tile(np.arange(1, 7), n_problems)
    correct = (rng.random(len(problem)) < np.where(trial == 1, 0.5, 0.85)).astype(int)
    events = build_events(problem, trial, correct, rng, trial_duration=1.5)
    variables = task_variables(events).fillna(0)
    duration = events["onset"].iloc[-1] + 3.0
    spike_times = []
    for _, variable, event, (start, stop), gain in specs:
        times = [rng.uniform(0, duration, rng.poisson(base * duration))]
        if variable is not None:
            for t0, on in zip(align_times(events, event), variables[variable], strict=True):
                if on:
                    n_extra = rng.poisson(gain * (stop - start))
                    times.append(rng.uniform(t0 + start, t0 + stop, n_extra))
        spike_times.append(np.sort(np.concatenate(times)))
    units = pd.DataFrame(
        {"probe": [s[0][:3].upper() for s in specs], "region": [s[0] for s in specs]}
    )
    return units, spike_times, events


def test_balanced_accuracy_matches_sklearn():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 50)
    pred = rng.integers(0, 2, (50, 3, 4))
    ours = balanced_accuracy(y, pred)
    for i in range(3):
        for j in range(4):
            assert ours[i, j] == pytest.approx(balanced_accuracy_score(y, pred[:, i, j]))


def test_vectorised_decision_equals_sklearn_cross_val_predict():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 90)
    counts = rng.poisson(3 + y[:, None, None] * np.array([0, 0.8, 0])[None, None, :], (90, 6, 3))
    scores = cv_balanced_accuracy(counts, y, n_folds=3, fold_seed=7)
    folds = StratifiedKFold(3, shuffle=True, random_state=7)
    for b in range(3):
        pred = cross_val_predict(clone(make_decoder()), counts[:, :, b].astype(float), y, cv=folds)
        assert scores[b, b] == pytest.approx(balanced_accuracy_score(y, pred))


def test_closed_form_equals_sklearn_lda_fits_for_all_label_vectors():
    # unbalanced classes, a constant unit, within-problem permutations on fixed folds
    rng = np.random.default_rng(11)
    y = (rng.random(96) < 0.4).astype(int)
    counts = rng.poisson(3 + 1.0 * y[:, None, None] * (np.arange(4) == 2), (96, 7, 4))
    counts[:, 3, 1] = 5
    label_sets = np.vstack([y, permuted_labels(y, np.arange(96) // 6, 12, rng)])
    splits = fold_splits(y, 4, 3)
    for cross_temporal in (True, False):
        fast = _closed_form_scores(
            counts, label_sets, splits, 0.1, np.arange(4), cross_temporal, chunk=5
        )
        ref = _sklearn_scores(counts, label_sets, splits, 0.1, np.arange(4), cross_temporal)
        assert fast.shape == ref.shape == ((13, 4, 4) if cross_temporal else (13, 4))
        np.testing.assert_allclose(fast, ref, rtol=0, atol=1e-9)
    assert fast[0, 2] > 0.7  # the planted bin is decoded
    # a training fold without one class (possible under permutation): constant prediction
    lonely = np.zeros(96, dtype=int)
    lonely[splits[0][1][:2]] = 1  # the only class-1 trials are in fold 0's test set
    one = _closed_form_scores(counts, lonely[None], splits, 0.1, np.arange(4), False)
    np.testing.assert_allclose(
        one, _sklearn_scores(counts, lonely[None], splits, 0.1, np.arange(4), False), atol=1e-9
    )


def test_observed_scores_equal_make_decoder_when_training_classes_are_balanced():
    # balanced classes and folds: sklearn's equal-prior LDA is the closed-form decoder, so the
    # observed scores equal the previous implementation (cv_balanced_accuracy) and sklearn's
    rng = np.random.default_rng(12)
    y = np.repeat([0, 1], 45)
    rng.shuffle(y)
    counts = rng.poisson(3 + 0.8 * y[:, None, None] * (np.arange(3) == 1), (90, 6, 3))
    result = decode_time_resolved(
        counts,
        y,
        groups=np.arange(90) // 6,
        rng=np.random.default_rng(5),
        n_folds=3,
        n_permutations=4,
    )
    fold_seed = int(np.random.default_rng(5).integers(2**31 - 1))
    previous = cv_balanced_accuracy(counts, y, n_folds=3, fold_seed=fold_seed)
    np.testing.assert_allclose(result.scores, previous, rtol=0, atol=1e-9)
    folds = StratifiedKFold(3, shuffle=True, random_state=fold_seed)
    for b in range(3):
        pred = cross_val_predict(clone(make_decoder()), counts[:, :, b].astype(float), y, cv=folds)
        assert abs(result.scores[b, b] - balanced_accuracy_score(y, pred)) < 1e-9
    # the time-resolved-only mode gives the same diagonal and NaN elsewhere
    diag = decode_time_resolved(
        counts,
        y,
        groups=np.arange(90) // 6,
        rng=np.random.default_rng(5),
        n_folds=3,
        n_permutations=4,
        cross_temporal=False,
    )
    np.testing.assert_array_equal(diag.time_resolved, result.time_resolved)
    np.testing.assert_array_equal(diag.null_time_resolved, result.null_time_resolved)
    assert np.isnan(diag.scores[0, 1]) and np.isnan(diag.null[:, 1, 0]).all()
    # shrinkage="auto" goes through the scikit-learn fits and gives a finite result
    auto = decode_time_resolved(
        counts,
        y,
        groups=np.arange(90) // 6,
        rng=np.random.default_rng(5),
        n_folds=3,
        n_permutations=2,
        shrinkage="auto",
    )
    assert np.isfinite(auto.scores).all() and auto.null.shape == (2, 3, 3)


def _planted(rng, n=144, units=12, bins=10, effect_bins=slice(4, 7), gain=2.0):
    y = rng.integers(0, 2, n)
    lam = np.full((n, units, bins), 3.0)
    lam[:, :5, effect_bins] += gain * y[:, None, None]
    return rng.poisson(lam), y, np.repeat(np.arange(n // 6), 6)


def test_decoding_recovers_planted_effect_in_planted_bins():
    counts, y, groups = _planted(np.random.default_rng(2))
    result = decode_time_resolved(
        counts, y, groups=groups, rng=np.random.default_rng(3), n_folds=3, n_permutations=39
    )
    table = decoding_table(result, np.arange(10) * 0.1)
    tr = table[table["analysis"] == "time_resolved"].reset_index(drop=True)
    assert (tr.loc[4:6, "score"] > 0.75).all()
    assert (tr.loc[4:6, "significant"] == 1).all()
    # effect sizes with intervals: chance-corrected, the planted bins' intervals exclude chance
    assert result.class_counts == (int(np.sum(y == 0)), int(np.sum(y == 1)))
    np.testing.assert_allclose(tr["effect"], tr["score"] - tr["null_mean"])
    assert ((tr["ci_low"] <= tr["score"]) & (tr["score"] <= tr["ci_high"])).all()
    assert (tr.loc[4:6, "ci_low"] > 0.6).all()
    outside = tr.drop(index=[3, 4, 5, 6, 7])
    assert ((outside["ci_low"] < 0.5) & (0.5 < outside["ci_high"])).mean() >= 0.8
    assert tr.drop(index=[3, 4, 5, 6, 7])["significant"].sum() == 0
    assert (tr["p_value"] > 0).all()
    np.testing.assert_allclose(result.time_resolved, np.diagonal(result.scores))
    ct = table[table["analysis"] == "cross_temporal"]
    assert len(ct) == 100
    # the code is stable over the planted bins: train at 0.5 s generalises to 0.4 and 0.6 s
    cell = ct[(ct["train_time"] == 0.5) & ct["time"].isin([0.4, 0.6])]
    assert (cell["score"] > 0.7).all()
    again = decode_time_resolved(
        counts, y, groups=groups, rng=np.random.default_rng(3), n_folds=3, n_permutations=39
    )
    np.testing.assert_array_equal(result.null, again.null)


def test_null_p_values_roughly_uniform_without_effect():
    rng = np.random.default_rng(4)
    p_values = []
    for _ in range(8):
        counts, y, groups = _planted(rng, n=96, units=8, bins=4, gain=0.0)
        result = decode_time_resolved(
            counts, y, groups=groups, rng=rng, n_folds=3, n_permutations=19
        )
        table = decoding_table(result, np.arange(4) * 0.1)
        tr = table[table["analysis"] == "time_resolved"]
        assert abs(tr["score"].mean() - 0.5) < 0.1
        p_values.extend(tr["p_value"])
    p_values = np.asarray(p_values)
    assert 0.3 < p_values.mean() < 0.7
    assert np.mean(p_values <= 0.05) < 0.2


def test_rare_class_gives_nan_and_bad_input_errors():
    rng = np.random.default_rng(5)
    counts = rng.poisson(3, (30, 4, 3))
    y = np.zeros(30, dtype=int)
    y[0] = 1
    result = decode_time_resolved(counts, y, groups=np.arange(30), rng=rng, n_permutations=3)
    assert np.isnan(result.scores).all()
    table = decoding_table(result, np.arange(3.0))
    assert (table["significant"] == 0).all()
    with pytest.raises(ValueError, match="NaN"):
        decode_time_resolved(counts, np.full(30, np.nan), groups=np.arange(30), rng=rng)
    with pytest.raises(ValueError, match="one label per trial"):
        decode_time_resolved(counts, y[:10], groups=np.arange(10), rng=rng)


def test_decode_session_finds_choice_in_the_region_that_encodes_it():
    rng = np.random.default_rng(6)
    specs = (
        [("prefrontal", "choice", "response", (-0.1, 0.3), 30.0)] * 6
        + [("prefrontal", None, "onset", (0, 1), 0.0)] * 2
        + [("hippocampus", None, "onset", (0, 1), 0.0)] * 5
        + [("amygdala", None, "onset", (0, 1), 0.0)] * 2
    )  # too few units: left out
    units, spike_times, events = synthetic_session(rng, specs)
    settings = {**SETTINGS, "window": [-0.4, 0.5], "variables": ["choice"]}
    table = decode_session(units, spike_times, events, settings, seed=1, keys=("S", "01"))
    assert list(table.columns) == list(DECODING_COLUMNS)
    assert set(table["region"]) == {"prefrontal", "hippocampus"}
    tr = table[table["analysis"] == "time_resolved"]
    pfc = tr[(tr["region"] == "prefrontal") & (tr["variable"] == "choice")]
    assert (pfc["align"] == "response").all()
    at_response = pfc[pfc["time"].between(0.0, 0.2)]
    assert (at_response["score"] > 0.8).all() and (at_response["significant"] == 1).all()
    assert pfc[pfc["time"] < -0.2]["significant"].sum() == 0
    hpc = tr[(tr["region"] == "hippocampus") & (tr["variable"] == "choice")]
    assert hpc["score"].max() < 0.75
    # same result whatever the number of worker processes
    again = decode_session(units, spike_times, events, settings, seed=1, keys=("S", "01"), n_jobs=2)
    pd.testing.assert_frame_equal(table, again)


def test_region_populations_and_session_errors():
    units = pd.DataFrame({"region": ["a", "b", "a"]})
    pops = region_populations(units, min_units=2)
    assert list(pops) == ["a"] and list(pops["a"]) == [0, 2]
    with pytest.raises(ValueError, match="region"):
        region_populations(pd.DataFrame({"x": [1]}))
    with pytest.raises(ValueError, match="same order"):
        decode_session(units, [np.array([])], pd.DataFrame(), SETTINGS, seed=1)


def test_null_summary_flattens_and_blanks_without_a_null():
    rng = np.random.default_rng(3)
    observed = rng.normal(0.5, 0.02, (4, 4))
    observed[1:3, 1:3] += 0.4
    summary = null_summary(observed, rng.normal(0.5, 0.02, (50, 4, 4)))
    assert all(v.shape == (16,) for v in summary.values())
    planted = np.zeros((4, 4), dtype=bool)
    planted[1:3, 1:3] = True
    assert (summary["cluster"].reshape(4, 4)[planted] > 0).all()
    assert len(set(summary["cluster"].reshape(4, 4)[planted])) == 1  # one connected cluster
    assert (summary["cluster_p"].reshape(4, 4)[planted] < 0.05).all()
    assert (summary["p_value"].reshape(4, 4)[planted] < 0.05).all()
    empty = null_summary(observed, np.empty((0, 4, 4)))
    assert np.isnan(empty["p_value"]).all() and (empty["cluster"] == 0).all()
    unfinished = null_summary(np.full(3, np.nan), rng.normal(size=(10, 3)))
    assert np.isnan(unfinished["null_mean"]).all()
