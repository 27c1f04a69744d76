import numpy as np
import pandas as pd
import pytest

from panneuro.stats.hierarchical import (
    DifferenceEffect,
    MeanEffect,
    SlopeEffect,
    hierarchical_bootstrap,
    hierarchical_weights,
    subject_t_test,
)


def _sessions(
    rng,
    *,
    n_subjects=6,
    n_stages=3,
    repeats=2,
    slope=0.0,
    slope_sd=0.03,
    subject_sd=0.5,
    noise=0.05,
):
    """Session scores: subject intercepts, subject slopes around ``slope``, session noise."""
    rows = []
    for s in range(n_subjects):
        a, b = rng.normal(0, subject_sd), slope + rng.normal(0, slope_sd)
        for stage in range(n_stages):
            for r in range(repeats):
                rows.append(
                    {
                        "subject": f"S{s}",
                        "session": f"{stage}{r}",
                        "stage": stage,
                        "score": a + b * stage + rng.normal(0, noise),
                    }
                )
    return pd.DataFrame(rows)


def test_planted_slope_inside_the_interval_and_away_from_zero():
    table = _sessions(np.random.default_rng(0), slope=0.10)
    res = hierarchical_bootstrap(
        table, SlopeEffect("score", "stage"), np.random.default_rng(1), n_resamples=2000
    )
    assert res.covers(0.10)
    assert res.ci_low > 0.02
    assert res.p_value < 0.01
    assert abs(res.estimate - 0.10) < 0.05
    assert (res.n_subjects, res.n_sessions, res.n_rows) == (6, 36, 36)


def test_null_slope_gives_no_effect():
    table = _sessions(np.random.default_rng(2), slope=0.0)
    res = hierarchical_bootstrap(
        table, SlopeEffect("score", "stage"), np.random.default_rng(3), n_resamples=2000
    )
    assert res.covers(0.0)
    assert res.p_value > 0.05
    assert res.ci_high - res.ci_low < 0.15  # an interval that says something


def test_coverage_of_the_planted_slope_over_simulations():
    rng = np.random.default_rng(4)
    hits = [
        hierarchical_bootstrap(
            _sessions(rng, slope=0.1), SlopeEffect("score", "stage"), rng, n_resamples=400
        ).covers(0.1)
        for _ in range(60)
    ]
    assert np.mean(hits) >= 0.85


def test_difference_inactivated_minus_control_with_trials_resampled():
    rng = np.random.default_rng(5)
    rows = []
    for s in range(5):
        base = rng.normal(0.8, 0.05)
        for j in range(6):
            inactivated = j % 2
            p = base - 0.2 * inactivated + rng.normal(0, 0.03)
            rows.append(
                pd.DataFrame(
                    {
                        "subject": f"S{s}",
                        "session": f"{j:02d}",
                        "inactivated": inactivated,
                        "correct": (rng.random(40) < p).astype(float),
                    }
                )
            )
    trials = pd.concat(rows, ignore_index=True)
    res = hierarchical_bootstrap(
        trials,
        DifferenceEffect("correct", "inactivated"),
        np.random.default_rng(6),
        levels=3,
        n_resamples=1000,
    )
    assert res.covers(-0.2)
    assert res.ci_high < -0.1
    assert res.n_sessions == 30 and res.n_rows == 1200


def test_weights_follow_the_hierarchy_and_the_seed():
    table = _sessions(np.random.default_rng(7), n_subjects=3, n_stages=2, repeats=2)
    subjects, counts, weights = hierarchical_weights(table, np.random.default_rng(8), 50)
    assert list(subjects) == ["S0", "S1", "S2"]
    assert np.all(counts.sum(axis=1) == 3)
    for s, name in enumerate(subjects):
        rows = (table["subject"] == name).to_numpy()
        # each drawn subject draws as many sessions as it has (4)
        np.testing.assert_array_equal(weights[:, rows].sum(axis=1), 4 * counts[:, s])
    assert np.any(weights[:, 0] != weights[:, 1])  # sessions of one subject vary apart
    _, c1, w1 = hierarchical_weights(table, np.random.default_rng(8), 50, levels=1)
    for s, name in enumerate(subjects):
        rows = (table["subject"] == name).to_numpy()
        assert np.all(w1[:, rows] == c1[:, [s]])  # whole subjects kept
    _, _, again = hierarchical_weights(table, np.random.default_rng(8), 50)
    np.testing.assert_array_equal(weights, again)
    with pytest.raises(ValueError, match="levels"):
        hierarchical_weights(table, np.random.default_rng(8), 5, levels=4)


def test_subjects_weigh_equally_and_undefined_resamples_are_counted():
    table = pd.DataFrame(
        {
            "subject": ["A"] * 4 + ["B"],
            "session": list("abcd") + ["a"],
            "stage": [0, 1, 2, 3, 0],
            "score": [0.0, 1, 2, 3, 9.0],
            "diff": [1.0, 1, 1, 1, 3.0],
        }
    )
    mean = hierarchical_bootstrap(
        table, MeanEffect("diff"), np.random.default_rng(9), n_resamples=200
    )
    assert mean.estimate == pytest.approx(2.0)  # (1 + 3) / 2, not the pooled 1.4
    slope = hierarchical_bootstrap(
        table, SlopeEffect("score", "stage"), np.random.default_rng(9), n_resamples=500
    )
    assert slope.estimate == pytest.approx(1.0)  # B has one stage: no slope, left out
    # resamples drawing only B (1/4) or A's sessions all at one stage have no slope at all
    assert 0.2 < slope.undefined < 0.4
    with pytest.raises(ValueError, match="lacks"):
        hierarchical_bootstrap(table, MeanEffect("nope"), np.random.default_rng(0))


def test_subject_t_test_covers_the_planted_slope_and_holds_its_level():
    rng = np.random.default_rng(10)
    planted = [
        subject_t_test(_sessions(rng, slope=0.10), SlopeEffect("score", "stage"))
        for _ in range(100)
    ]
    assert 0.9 <= np.mean([r.covers(0.10) for r in planted]) <= 0.99
    assert np.mean([r.ci_low > 0 for r in planted]) >= 0.95
    assert planted[0].n_subjects == 6 and planted[0].subject_effects.shape == (6,)
    p = [subject_t_test(_sessions(rng), SlopeEffect("score", "stage")).p_value for _ in range(200)]
    assert 0.02 <= np.mean(np.array(p) < 0.05) <= 0.09
    table = _sessions(rng)
    one = subject_t_test(table[table["subject"] == "S0"], SlopeEffect("score", "stage"))
    assert np.isnan(one.p_value) and one.n_subjects == 1


def _one_session_each(rng, *, n_subjects=2, se=0.1, effect=0.0):
    """One control and one treated session per subject, each score with its own error."""
    rows = []
    for s in range(n_subjects):
        a = rng.normal(0, 0.5)
        for treated in (0, 1):
            rows.append(
                {
                    "subject": f"S{s}",
                    "session": f"{treated}",
                    "treated": treated,
                    "score": a + effect * treated + rng.normal(0, se),
                    "score_se": se,
                }
            )
    return pd.DataFrame(rows)


def test_session_errors_hold_the_level_with_one_session_per_condition():
    """With one session per condition the session level is blind to sampling error.

    Resampling sessions within subjects then draws the same two numbers (or loses a
    condition), so the interval is the spread of two subjects' differences; redrawing each
    score from its standard error restores the level (null data, subjects alike).
    """
    effect = DifferenceEffect("score", "treated", 1)
    misses = {"sessions": 0, "se": 0}
    n = 200
    for rep in range(n):
        table = _one_session_each(np.random.default_rng(rep))
        for name, kw in (("sessions", {"levels": 2}), ("se", {"levels": 1, "se": "score_se"})):
            res = hierarchical_bootstrap(
                table, effect, np.random.default_rng(10_000 + rep), n_resamples=500, **kw
            )
            misses[name] += not res.covers(0.0)
    assert misses["sessions"] / n > 0.25  # measured 0.5-ish: the two subjects' spread only
    assert misses["se"] / n < 0.08


def test_session_errors_are_validated_and_nan_counts_as_zero():
    table = _one_session_each(np.random.default_rng(1))
    effect = DifferenceEffect("score", "treated", 1)
    with pytest.raises(ValueError, match="negative standard errors"):
        hierarchical_bootstrap(
            table.assign(score_se=-0.1), effect, np.random.default_rng(0), se="score_se"
        )
    with pytest.raises(ValueError, match="lacks column"):
        hierarchical_bootstrap(table, effect, np.random.default_rng(0), se="missing_se")
    plain = hierarchical_bootstrap(table, effect, np.random.default_rng(0), levels=1)
    nan_se = hierarchical_bootstrap(
        table.assign(score_se=np.nan), effect, np.random.default_rng(0), levels=1, se="score_se"
    )
    assert nan_se.estimate == plain.estimate
    assert np.allclose(np.sort(nan_se.distribution), np.sort(plain.distribution))
    wide = hierarchical_bootstrap(table, effect, np.random.default_rng(0), levels=1, se="score_se")
    assert wide.estimate == plain.estimate
    assert wide.ci_high - wide.ci_low > plain.ci_high - plain.ci_low


def test_session_errors_reach_every_effect_shape():
    rng = np.random.default_rng(3)
    table = _sessions(rng, n_subjects=3, repeats=1).assign(score_se=0.2)
    for effect in (MeanEffect("score"), SlopeEffect("score", "stage")):
        plain = hierarchical_bootstrap(table, effect, np.random.default_rng(0), levels=1)
        wide = hierarchical_bootstrap(
            table, effect, np.random.default_rng(0), levels=1, se="score_se"
        )
        assert wide.estimate == pytest.approx(plain.estimate)
        assert np.nanstd(wide.distribution) > np.nanstd(plain.distribution)
