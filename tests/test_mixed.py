import numpy as np
import pandas as pd
import pytest

from panneuro.stats.mixed import session_mixed_model, trial_mixed_logistic


def _sessions(rng, *, n_subjects=5, slope=0.0, slope_sd=0.0, noise=0.05):
    rows = []
    for s in range(n_subjects):
        a, b = rng.normal(0, 0.5), slope + rng.normal(0, slope_sd)
        for stage in range(3):
            for r in range(3):
                rows.append(
                    {
                        "subject": f"S{s}",
                        "session": f"{stage}{r}",
                        "stage": stage,
                        "score": a + b * stage + rng.normal(0, noise),
                    }
                )
    return pd.DataFrame(rows)


def _trials(rng, *, n_subjects=3, n_sessions=8, n_trials=60, beta=0.0, base=1.1):
    rows = []
    for s in range(n_subjects):
        a = rng.normal(0, 0.5)
        for j in range(n_sessions):
            x = j % 2
            p = 1 / (1 + np.exp(-(base + a + rng.normal(0, 0.3) + beta * x)))
            rows.append(
                pd.DataFrame(
                    {
                        "subject": f"S{s}",
                        "session": f"{j:02d}",
                        "inactivated": x,
                        "correct": (rng.random(n_trials) < p).astype(int),
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)


def test_mixedlm_recovers_a_planted_slope_and_finds_none_in_a_null():
    planted = session_mixed_model(
        _sessions(np.random.default_rng(0), slope=0.08), "score", "stage", random_slope=False
    )
    assert planted.covers(0.08) and planted.ci_low > 0.03 and planted.p_value < 1e-3
    assert planted.n_groups == 5 and planted.method == "mixedlm"
    null = session_mixed_model(
        _sessions(np.random.default_rng(1)), "score", "stage", random_slope=False
    )
    assert null.covers(0.0) and null.p_value > 0.05 and null.ci_high - null.ci_low < 0.06


def test_random_slope_widens_the_interval_when_slopes_vary():
    table = _sessions(np.random.default_rng(2), slope=0.1, slope_sd=0.05)
    fixed = session_mixed_model(table, "score", "stage", random_slope=False)
    varying = session_mixed_model(table, "score", "stage")
    assert varying.method == "mixedlm-random-slope"
    assert varying.covers(0.1)
    assert varying.ci_high - varying.ci_low > 1.5 * (fixed.ci_high - fixed.ci_low)


# coverage of the planted log-odds over simulations (6 subjects: GEE's t on n_subjects - 1
# df has little power with 3); the Laplace fit's standard deviation is too small when
# sessions vary (its null false-positive rate is measured in
# bench/bench_group_calibration.py), hence its lower bound
@pytest.mark.parametrize(
    ("method", "min_coverage", "n_fits"), [("bayes", 0.7, 12), ("gee", 0.85, 12)]
)
def test_mixed_logistic_recovers_the_inactivation_cost(method, min_coverage, n_fits):
    rng = np.random.default_rng(3)
    fits = [
        trial_mixed_logistic(
            _trials(rng, n_subjects=6, n_sessions=6, n_trials=40, beta=-0.8),
            "correct",
            "inactivated",
            method=method,
            rng=np.random.default_rng(k),
        )
        for k in range(n_fits)
    ]
    assert np.mean([f.covers(-0.8) for f in fits]) >= min_coverage
    assert np.mean([f.ci_high < 0 for f in fits]) >= 0.9  # the cost is found
    null = trial_mixed_logistic(
        _trials(np.random.default_rng(5), n_subjects=6, n_sessions=6, n_trials=40),
        "correct",
        "inactivated",
        method=method,
        rng=np.random.default_rng(4),
    )
    assert null.covers(0.0) and null.ci_high - null.ci_low < 1.2


def test_mixed_logistic_is_deterministic_and_checks_its_input():
    trials = _trials(np.random.default_rng(6), n_sessions=4, n_trials=30)
    one = trial_mixed_logistic(trials, "correct", "inactivated", rng=np.random.default_rng(1))
    two = trial_mixed_logistic(trials, "correct", "inactivated", rng=np.random.default_rng(1))
    assert one == two
    assert one.n_groups == 3
    with pytest.raises(ValueError, match="0/1"):
        trial_mixed_logistic(trials.assign(correct=2), "correct", "inactivated")
    with pytest.raises(ValueError, match="method"):
        trial_mixed_logistic(trials, "correct", "inactivated", method="ols")
    with pytest.raises(ValueError, match="lacks"):
        session_mixed_model(trials, "score", "stage")
