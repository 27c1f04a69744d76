import numpy as np
import pytest
from scipy import stats

from panneuro.stats.permutation import (
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
    assert permutation_p_values(np.array([-10.0]), null[:, :1], alternative="less")[0] == \
        pytest.approx(0.01)
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


def test_balanced_accuracy_ci_formula_and_coverage():
    low, high = balanced_accuracy_ci(np.array([0.5, 0.8, np.nan]), 50, 150)
    se = np.sqrt(0.8 * 0.2 * (1 / 50 + 1 / 150)) / 2
    assert high[1] - 0.8 == pytest.approx(1.959964 * se, rel=1e-5)
    assert low[0] < 0.5 < high[0] and np.isnan(low[2])
    assert np.all(np.isnan(balanced_accuracy_ci(np.array([0.6]), 0, 10)[0]))
    # coverage on simulated classifiers with true recalls 0.7 / 0.7
    rng = np.random.default_rng(0)
    hits_1 = rng.binomial(60, 0.7, 2000) / 60
    hits_0 = rng.binomial(90, 0.7, 2000) / 90
    lo, hi = balanced_accuracy_ci((hits_1 + hits_0) / 2, 90, 60)
    assert 0.93 < np.mean((lo <= 0.7) & (0.7 <= hi)) < 0.97


def test_sign_flip_max_test_exact_and_null():
    rng = np.random.default_rng(1)
    effects = np.full((5, 4), 0.01)
    effects[:, 2] = 0.2
    p = sign_flip_max_test(effects, rng)
    assert p[2] == pytest.approx(1 / 32)        # all 2**5 flips enumerated
    assert np.all(p[[0, 1, 3]] >= 0.5)
    assert np.all(np.isnan(sign_flip_max_test(effects[:1], rng)))
    # under the null the family-wise rejection rate is near alpha
    rejections = [sign_flip_max_test(rng.standard_normal((12, 6)), rng, n_flips=999).min()
                  < 0.05 for _ in range(300)]
    assert 0.01 < np.mean(rejections) < 0.1
