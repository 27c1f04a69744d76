import numpy as np
import pandas as pd
import pytest

from panneuro.sleep.reactivation import (
    assembly_patterns,
    assembly_strength,
    binned_counts,
    event_counts,
    explained_variance,
    marchenko_pastur_bound,
    reactivation_test,
)

TASK_ASSEMBLIES = [np.arange(0, 6), np.arange(6, 12), np.arange(12, 18)]
INNATE = [np.arange(18, 24)]  # co-firing present in every epoch


def _counts(rng, n, members, p_active, base=0.5, boost=3.0, n_units=30):
    """Poisson counts (n, units): an assembly active in a bin raises its members' rates."""
    rate = np.full((n, n_units), base)
    for m, p in zip(members, p_active, strict=True):
        rate[np.ix_(rng.random(n) < p, m)] += boost
    return rng.poisson(rate).astype(float)


def _session(rng, reactivation=0.15):
    assemblies = TASK_ASSEMBLIES + INNATE
    task = _counts(rng, 600, assemblies, [0.15, 0.15, 0.15, 0.1])
    pre = _counts(rng, 150, assemblies, [0.0, 0.0, 0.0, 0.1])
    post = _counts(rng, 150, assemblies, [reactivation] * 3 + [0.1])
    return task, pre, post


@pytest.mark.parametrize("method", ["ev", "assembly"])
def test_planted_reactivation_is_stronger_after_than_before(method):
    task, pre, post = _session(np.random.default_rng(0))
    res = reactivation_test(
        task, pre, post, np.random.default_rng(1), method=method, n_permutations=200
    )
    assert res.statistic > 0 and res.p_value < 0.01
    if method == "ev":
        assert res.detail["ev"] > 0.3 and res.detail["rev"] < 0.1
    else:
        assert res.detail["n_assemblies"] == 4  # three task assemblies and the innate one
        assert res.detail["post"] > 2 * res.detail["pre"]


@pytest.mark.parametrize("method", ["ev", "assembly"])
def test_no_reactivation_gives_no_effect_over_nulls(method):
    rng = np.random.default_rng(2)
    p = np.array(
        [
            reactivation_test(
                *_session(rng, reactivation=0.0), rng, method=method, n_permutations=100
            ).p_value
            for _ in range(25)
        ]
    )
    assert np.mean(p < 0.05) <= 0.2
    assert 0.3 < np.mean(p) < 0.7  # about uniform, not piled at 0 or 1


def test_explained_variance_parts():
    rng = np.random.default_rng(3)
    task, pre, post = _session(rng)
    ev = explained_variance(task, pre, post)
    assert ev.n_pairs == 30 * 29 // 2
    assert ev.r_task_post > ev.r_task_pre
    swapped = explained_variance(task, post, pre)
    assert swapped.ev == pytest.approx(ev.rev) and swapped.rev == pytest.approx(ev.ev)
    silent = post.copy()
    silent[:, 0] = 0
    assert explained_variance(task, pre, silent).n_pairs == 30 * 29 // 2 - 29
    with pytest.raises(ValueError, match="unit counts"):
        explained_variance(task, pre, post[:, :5])


def test_assembly_patterns_find_the_planted_members():
    rng = np.random.default_rng(4)
    task = _counts(rng, 600, TASK_ASSEMBLIES, [0.15] * 3)
    patterns = assembly_patterns(task, np.random.default_rng(5))
    assert patterns.shape == (3, 30)
    np.testing.assert_allclose(np.linalg.norm(patterns, axis=1), 1.0)
    found = sorted(tuple(np.sort(np.argsort(-p)[:6])) for p in patterns)
    assert found == sorted(tuple(m) for m in TASK_ASSEMBLIES)
    independent = _counts(rng, 600, [], [])
    assert assembly_patterns(independent, np.random.default_rng(5)).shape == (0, 30)
    assert marchenko_pastur_bound(30, 600) == pytest.approx((1 + np.sqrt(0.05)) ** 2)
    # strength is high in the (rare) bins where an assembly fires together
    sleep = _counts(rng, 300, TASK_ASSEMBLIES[:1], [0.1])
    strength = assembly_strength(patterns, sleep)
    first = int(np.argmax(patterns[:, :6].sum(axis=1)))
    active = sleep[:, :6].mean(axis=1) > 2
    assert strength[active, first].mean() > strength[~active, first].mean() + 3


def test_counts_from_spike_times_with_pynapple():
    spikes = {"u1": np.array([0.05, 0.12, 0.15, 1.01]), "u2": np.array([0.5, 1.05, 1.06])}
    ripples = pd.DataFrame({"start_time": [0.1, 1.0], "end_time": [0.2, 1.1]})
    np.testing.assert_array_equal(event_counts(spikes, ripples), [[2, 0], [1, 2]])
    bins = binned_counts(spikes, 0.0, 1.2, 0.4)
    np.testing.assert_array_equal(bins, [[3, 0], [0, 1], [1, 2]])
