import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from panneuro.stats.permutation import (
    CHANCE_VARIANCE_DECAY,
    balanced_accuracy_ci,
    bootstrap_ci,
    cluster_permutation_test,
    cluster_threshold,
    find_clusters,
    percentile_interval,
    permutation_p_values,
    permuted_labels,
    sign_flip_max_test,
)


def test_permuted_labels_shuffle_within_groups():
    rng = np.random.default_rng(1)
    groups = np.repeat(np.arange(10), 6)
    labels = rng.integers(0, 2, 60)
    perms = permuted_labels(labels, groups, 30, np.random.default_rng(2))
    assert perms.shape == (30, 60)
    for g in range(10):
        sel = groups == g
        assert np.all(perms[:, sel].sum(axis=1) == labels[sel].sum())
    assert np.mean(np.all(perms == labels, axis=1)) < 0.5  # they do change
    again = permuted_labels(labels, groups, 30, np.random.default_rng(2))
    np.testing.assert_array_equal(perms, again)


def test_permuted_labels_exchange_blocks_for_block_constant_variable():
    groups = np.repeat(np.arange(20), 6)
    labels = np.repeat(np.arange(20) % 2, 6)  # constant within each problem
    perms = permuted_labels(labels, groups, 50, np.random.default_rng(3))
    for row in perms:
        assert np.all(row.reshape(20, 6) == row.reshape(20, 6)[:, :1])  # still constant
        assert row.sum() == labels.sum()
    assert np.mean(np.all(perms == labels, axis=1)) < 0.1


def test_p_values_never_zero_and_correct():
    null = np.random.default_rng(4).normal(size=(99, 5))
    observed = np.array([10.0, -10.0, 0.0, np.nan, 1.0])
    p = permutation_p_values(observed, null)
    assert p[0] == pytest.approx(1 / 100)
    assert p[1] == pytest.approx(1.0)
    assert np.isnan(p[3])
    assert np.all(p[np.isfinite(p)] > 0)
    assert permutation_p_values(np.array([-10.0]), null[:, :1], alternative="less")[
        0
    ] == pytest.approx(0.01)
    with pytest.raises(ValueError, match="expected"):
        permutation_p_values(observed, null[:, :3])


def test_p_values_uniform_under_null():
    rng = np.random.default_rng(5)
    draws = rng.normal(size=(100, 400))
    p = permutation_p_values(draws[0], draws[1:])
    assert stats.kstest(p, "uniform").pvalue > 0.01
    assert 0.02 < np.mean(p < 0.05) < 0.09


def test_cluster_found_where_planted():
    rng = np.random.default_rng(6)
    null = rng.normal(0.5, 0.03, size=(200, 20))
    observed = rng.normal(0.5, 0.03, size=20)
    observed[8:12] += 0.2
    clusters = cluster_permutation_test(observed, null, threshold_quantile=0.95)
    best = clusters.sort_values("mass").iloc[-1]
    assert (best["start"], best["stop"]) == (8, 12)
    assert best["p_value"] < 0.01
    assert (clusters.drop(best.name)["p_value"] > 0.05).all()
    labels, masses = find_clusters(observed, cluster_threshold(null, 0.95))
    assert set(np.unique(labels[8:12])) == {int(best["cluster"])}
    assert masses.size == len(clusters)


def test_no_significant_cluster_without_effect_mostly():
    rng = np.random.default_rng(7)
    hits = 0
    for _ in range(40):
        draws = rng.normal(size=(100, 15))
        clusters = cluster_permutation_test(draws[0], draws[1:])
        hits += bool((clusters["p_value"] < 0.05).any())
    assert hits <= 6  # family-wise rate ~5%


def test_cluster_test_2d():
    rng = np.random.default_rng(8)
    null = rng.normal(size=(100, 10, 10))
    observed = rng.normal(size=(10, 10))
    observed[2:5, 2:6] += 4
    clusters = cluster_permutation_test(observed, null)
    assert "start" not in clusters.columns
    best = clusters.sort_values("mass").iloc[-1]
    assert best["size"] >= 10 and best["p_value"] < 0.05


def test_bootstrap_and_percentile_intervals():
    values = np.random.default_rng(9).normal(2.0, 1.0, 50)
    low, high = bootstrap_ci(values, np.random.default_rng(10), n_resamples=500)
    assert low < values.mean() < high and high - low < 1.0
    assert np.isnan(bootstrap_ci(np.array([1.0]), np.random.default_rng(0))[0])
    lo, hi = percentile_interval(np.arange(101.0), 0.9)
    np.testing.assert_allclose([lo, hi], [5.0, 95.0])


def test_balanced_accuracy_ci_without_null_is_wilson():
    score = np.array([[0.0, 0.3, 0.5], [0.8, 0.97, 1.0]])
    low, high = balanced_accuracy_ci(score, 50, 150)
    n_eff = 4 / (1 / 50 + 1 / 150)
    ref_low, ref_high = proportion_confint(score * n_eff, n_eff, method="wilson")
    np.testing.assert_allclose(low, ref_low, atol=1e-9)
    np.testing.assert_allclose(high, ref_high, atol=1e-9)
    assert low.shape == score.shape and low[0, 0] == 0.0 and high[1, 2] == 1.0
    assert np.isnan(balanced_accuracy_ci(np.array([np.nan]), 50, 150)[0]).all()
    assert np.all(np.isnan(balanced_accuracy_ci(np.array([0.6]), 0, 10)[0]))
    # a null narrower than the binomial variance at chance adds nothing
    same = balanced_accuracy_ci(score, 50, 150, null_var=1e-6)
    np.testing.assert_allclose(same[0], low, atol=1e-12)


def test_balanced_accuracy_ci_null_variance_widens_near_chance_only():
    n_0, n_1 = 60, 180
    binomial = (1 / n_0 + 1 / n_1) / 4
    null_var = 1.6 * 0.25 * binomial  # the null 1.26x wider than binomial (sd)
    score = np.array([0.5, 0.6, 0.75, 0.95])
    low, high = balanced_accuracy_ci(score, n_0, n_1, null_var=null_var)
    w_low, w_high = balanced_accuracy_ci(score, n_0, n_1)
    ratio = (high - low) / (w_high - w_low)
    # at chance the width approaches the null's (the extra weight decays a little over it)
    assert 1.2 < ratio[0] < np.sqrt(1.6)
    assert np.all(np.diff(ratio) < 0) and ratio[-1] < 1.01
    # the bounds solve the score equation (score - θ)² = z² var(θ)
    for theta in (low, high):
        var = (
            theta * (1 - theta) * binomial
            + 0.6 * 0.25 * binomial * (4 * theta * (1 - theta)) ** CHANCE_VARIANCE_DECAY
        )
        np.testing.assert_allclose((score - theta) ** 2, 1.959964**2 * var, rtol=1e-5)


def test_balanced_accuracy_ci_coverage_of_binomial_classifiers():
    """Independent hits (no cross-validation): coverage 0.93-0.97 mid-range and near 1."""
    rng = np.random.default_rng(0)
    for recall, n_0, n_1 in ((0.7, 90, 60), (0.95, 68, 172)):
        score = (rng.binomial(n_1, recall, 4000) / n_1 + rng.binomial(n_0, recall, 4000) / n_0) / 2
        lo, hi = balanced_accuracy_ci(score, n_0, n_1)
        assert 0.93 < np.mean((lo <= recall) & (recall <= hi)) < 0.97


def test_sign_flip_max_test_exact_and_null():
    rng = np.random.default_rng(1)
    effects = np.full((5, 4), 0.01)
    effects[:, 2] = 0.2
    p = sign_flip_max_test(effects, rng)
    assert p[2] == pytest.approx(1 / 32)  # all 2**5 flips enumerated
    assert np.all(p[[0, 1, 3]] >= 0.5)
    assert np.all(np.isnan(sign_flip_max_test(effects[:1], rng)))
    # under the null the family-wise rejection rate is near alpha
    rejections = [
        sign_flip_max_test(rng.standard_normal((12, 6)), rng, n_flips=999).min() < 0.05
        for _ in range(300)
    ]
    assert 0.01 < np.mean(rejections) < 0.1
