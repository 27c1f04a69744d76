"""Group effects of the sleep stage: reactivation after vs before the task, ripple detection.

Each session's reactivation statistic (``EV - REV``, or the mean assembly strength after
minus before: :func:`panneuro.sleep.sleep_runs.session_reactivation`) is averaged within subjects
and over subjects (each subject weighs the same), with the hierarchical bootstrap's 95 %
interval (subjects, then sessions within subjects: :mod:`panneuro.stats.hierarchical`) and,
beside it, the subject-level test (Student's t over the subjects' means). The truth of the
group effect is the same average of the sessions' realised truths (the statistic on the
ground-truth spike trains and planted ripples); ``truth_in_ci`` says whether the interval
holds it. The ripple detector's recall and precision (per run, against the planted ripples)
are averaged the same way (no truth: they are scores against it; no p-value: "= 0" is no
hypothesis for a score). With fewer than three subjects the bootstrap's percentile interval is
that of a handful of distinct resamples (two subjects: three values) and is not informative;
the subject t test beside it is then very wide (one degree of freedom).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from panneuro.stats.design_effects import EFFECT_COLUMNS
from panneuro.stats.hierarchical import MeanEffect, hierarchical_bootstrap, subject_t_test

#: Effect names of the reactivation methods.
REACTIVATION_EFFECTS = {
    "ev": "reactivation_ev_minus_rev",
    "assembly": "reactivation_assembly_post_minus_pre",
}


def _subject_mean(table: pd.DataFrame, column: str) -> float:
    values = table.dropna(subset=[column]).groupby("subject")[column].mean()
    return float(values.mean()) if len(values) else float("nan")


def _rows(
    table: pd.DataFrame,
    value: str,
    effect: str,
    species: str,
    rng: np.random.Generator,
    n_resamples: int,
    truth: str | None,
    test_zero: bool = True,
) -> list[dict]:
    table = table.dropna(subset=[value])
    region = ",".join(sorted(set(table["region"]))) if "region" in table else "n/a"
    n_sessions = len(table.groupby(["subject", "session"]))
    n_subjects = table["subject"].nunique()
    true = _subject_mean(table, truth) if truth else float("nan")
    rows = []
    if not len(table):
        return rows
    boot = hierarchical_bootstrap(table, MeanEffect(value), rng, n_resamples=n_resamples)
    ttest = subject_t_test(table, MeanEffect(value))
    for method, res in (("hierarchical_bootstrap", boot), ("subject_t_test", ttest)):
        rows.append(
            {
                "effect": effect,
                "species": species,
                "region": region,
                "estimate": res.estimate,
                "ci_low": res.ci_low,
                "ci_high": res.ci_high,
                "p_value": res.p_value if test_zero else float("nan"),
                "method": method,
                "n_subjects": n_subjects,
                "n_sessions": n_sessions,
                "truth": true,
                "truth_in_ci": (
                    bool(res.ci_low <= true <= res.ci_high)
                    if np.isfinite(true) and np.isfinite(res.ci_low)
                    else pd.NA
                ),
            }
        )
    return rows


def sleep_effects(
    reactivation: pd.DataFrame,
    ripple_scores: pd.DataFrame | None,
    seed: int,
    *,
    n_resamples: int = 2000,
) -> pd.DataFrame:
    """Group effects per species: reactivation after vs before, ripple recall and precision.

    Parameters
    ----------
    reactivation : pandas.DataFrame
        The sessions' reactivation tables concatenated
        (:data:`panneuro.sleep.sleep_runs.REACTIVATION_COLUMNS`).
    ripple_scores : pandas.DataFrame or None
        The runs' ripple scores concatenated (:func:`panneuro.sleep.sleep_runs.ripple_score`) with
        a ``species`` column; None without ground truth.
    seed : int
        Seeds the bootstrap (one stream per effect and species).
    n_resamples : int
        Bootstrap resamples.

    Returns
    -------
    pandas.DataFrame
        :data:`EFFECT_COLUMNS`: per species and effect, a ``hierarchical_bootstrap`` row and
        a ``subject_t_test`` row.
    """
    rows: list[dict] = []
    for s_index, species in enumerate(sorted(set(reactivation["species"]))):
        of = reactivation[reactivation["species"] == species]
        for m_index, (method, effect) in enumerate(REACTIVATION_EFFECTS.items()):
            rng = np.random.default_rng([seed, s_index, m_index])
            table = of[of["method"] == method]
            truth = "truth" if table["truth"].notna().any() else None
            rows += _rows(table, "statistic", effect, species, rng, n_resamples, truth)
        if ripple_scores is not None and len(ripple_scores):
            scores = ripple_scores[ripple_scores["species"] == species]
            for r_index, score in enumerate(("recall", "precision")):
                rng = np.random.default_rng([seed, s_index, 10 + r_index])
                # a score against the planted ripples: its interval, no test of "= 0"
                rows += _rows(
                    scores, score, f"ripple_{score}", species, rng, n_resamples, None, False
                )
    return pd.DataFrame(rows, columns=list(EFFECT_COLUMNS))
