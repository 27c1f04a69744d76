"""Statistics of learning to learn: the rise of trial-2 accuracy over problems.

For each species, trial-2 correctness (the one-trial learning Harlow used as the index of the
learning set) is regressed on the problem number with a logistic link, in two ways:

``bayes_mixed_glm``
    statsmodels' ``BinomialBayesMixedGLM`` with a random intercept per subject, fitted by
    ``fit_map`` (posterior mode, Laplace-approximation SDs). It treats subjects as a sample of
    a population, which is the question, and stays stable with the two or three subjects per
    species of this study, where a frequentist mixed model's variance estimate is degenerate.
    ``p_value`` is empty and the interval is the 95 % credible interval (normal approximation).
    ``fit_vb`` was not used: on simulated non-learners its mean-field posterior SDs were half
    the Laplace and GLM ones, and its intervals excluded a true zero slope far too often.
``glm_subject_intercepts``
    A binomial GLM with one intercept per subject (fixed effects, sum-to-zero coding so the
    reported intercept is their mean) and a common slope: a
    classical Wald test of the slope for these subjects. Cluster-robust errors were not used:
    with 2–3 clusters they are not trustworthy.

The problem number enters as ``(problem - 1) / 100`` (term ``problem_per_100``): the slope is
the change in log-odds of a correct trial 2 per 100 problems.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm
from statsmodels.genmod.bayes_mixed_glm import BinomialBayesMixedGLM

from panneuro.seeding import rng_for

#: Columns of the statistics table.
STATS_COLUMNS: tuple[str, ...] = (
    "species",
    "method",
    "term",
    "estimate",
    "std_error",
    "ci_low",
    "ci_high",
    "p_value",
    "n_trials",
    "n_subjects",
)
SLOPE_TERM = "problem_per_100"
#: Prior SD of the mixed model's fixed effects (log-odds). statsmodels' default (2) shrinks the
#: humans' steep slopes (learning within tens of problems is > 2 log-odds per 100 problems);
#: 10 is vague on this scale.
FE_PRIOR_SD = 10.0
_Z95 = 1.959963984540054


def trial2_table(events: pd.DataFrame) -> pd.DataFrame:
    """Trial-2 rows with the regressor ``problem_per_100``.

    Parameters
    ----------
    events : pandas.DataFrame
        Concatenated trial tables with ``subject``, ``species``, ``problem``, ``trial``,
        ``correct``.

    Returns
    -------
    pandas.DataFrame
        Columns ``species``, ``subject``, ``problem``, ``problem_per_100``, ``correct``.
    """
    missing = [
        c for c in ("subject", "species", "problem", "trial", "correct") if c not in events.columns
    ]
    if missing:
        raise ValueError(
            f"events lack column(s) {missing}; concatenate the trial tables and "
            "add 'subject' and 'species'."
        )
    t2 = events.loc[events["trial"] == 2, ["species", "subject", "problem", "correct"]].copy()
    t2["subject"] = t2["subject"].astype(str)
    t2["problem_per_100"] = (t2["problem"].astype(float) - 1.0) / 100.0
    t2["correct"] = t2["correct"].astype(float)
    return t2.reset_index(drop=True)


def _glm_rows(data: pd.DataFrame) -> list[dict]:
    n_subjects = data["subject"].nunique()
    # Sum-to-zero coding: the intercept is the mean of the subjects' intercepts.
    formula = (
        "correct ~ problem_per_100"
        if n_subjects == 1
        else "correct ~ C(subject, Sum) + problem_per_100"
    )
    res = sm.GLM.from_formula(formula, data, family=sm.families.Binomial()).fit()
    ci = res.conf_int()
    rows = []
    for term in ["Intercept", SLOPE_TERM]:
        rows.append(
            {
                "method": "glm_subject_intercepts",
                "term": term,
                "estimate": float(res.params[term]),
                "std_error": float(res.bse[term]),
                "ci_low": float(ci.loc[term, 0]),
                "ci_high": float(ci.loc[term, 1]),
                "p_value": float(res.pvalues[term]),
            }
        )
    return rows


def _bayes_rows(data: pd.DataFrame, rng: np.random.Generator) -> list[dict]:
    model = BinomialBayesMixedGLM.from_formula(
        "correct ~ problem_per_100", {"subject": "0 + C(subject)"}, data, fe_p=FE_PRIOR_SD
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # fit_map draws its starting values: seed them for byte-identical results.
        res = model.fit_map(rng=rng)
    rows = []
    for i, term in enumerate(["Intercept", SLOPE_TERM]):
        mean, sd = float(res.fe_mean[i]), float(res.fe_sd[i])
        rows.append(
            {
                "method": "bayes_mixed_glm",
                "term": term,
                "estimate": mean,
                "std_error": sd,
                "ci_low": mean - _Z95 * sd,
                "ci_high": mean + _Z95 * sd,
                "p_value": np.nan,
            }
        )
    # Between-subject SD of the intercepts (posterior mode of the log-SD, exponentiated).
    rows.append(
        {
            "method": "bayes_mixed_glm",
            "term": "subject_sd",
            "estimate": float(np.exp(res.vcp_mean[0])),
            "std_error": np.nan,
            "ci_low": float(np.exp(res.vcp_mean[0] - _Z95 * res.vcp_sd[0])),
            "ci_high": float(np.exp(res.vcp_mean[0] + _Z95 * res.vcp_sd[0])),
            "p_value": np.nan,
        }
    )
    return rows


def learning_statistics(events: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Logistic regression of trial-2 accuracy on problem number, per species.

    Parameters
    ----------
    events : pandas.DataFrame
        Concatenated trial tables with ``subject``, ``species``, ``problem``, ``trial``,
        ``correct``.
    seed : int
        The project seed (the mixed model's optimiser starts from random values; each
        species uses ``rng_for(seed, "learning_statistics", species)``).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`STATS_COLUMNS`, tidy: one row per species × method × term. Species
        with a single subject get only the GLM (a random effect needs several subjects).
    """
    t2 = trial2_table(events)
    if len(t2) == 0:
        raise ValueError(
            "no trial-2 rows in the events: the regression needs problems with at least two trials."
        )
    out = []
    for species, data in t2.groupby("species", sort=True):
        n_subjects = int(data["subject"].nunique())
        rng = rng_for(seed, "learning_statistics", str(species))
        rows = _bayes_rows(data, rng) if n_subjects > 1 else []
        rows += _glm_rows(data)
        for row in rows:
            row.update(species=species, n_trials=int(len(data)), n_subjects=n_subjects)
        out += rows
    return pd.DataFrame.from_records(out, columns=list(STATS_COLUMNS))


def predicted_trial2(
    stats: pd.DataFrame, species: str, problems: np.ndarray, method: str = "bayes_mixed_glm"
) -> np.ndarray:
    """Population-level predicted trial-2 proportion correct from the regression table.

    Parameters
    ----------
    stats : pandas.DataFrame
        Output of :func:`learning_statistics`.
    species : str
        Which species.
    problems : numpy.ndarray
        Problem numbers.
    method : str
        ``bayes_mixed_glm`` (falls back to the GLM when absent) or ``glm_subject_intercepts``
        (whose intercept is the mean of the subjects' intercepts).

    Returns
    -------
    numpy.ndarray
        Predicted proportions; NaN if the species has no rows.
    """
    sel = stats[(stats["species"] == species)]
    if method == "bayes_mixed_glm" and not (sel["method"] == method).any():
        method = "glm_subject_intercepts"
    sel = sel[sel["method"] == method].set_index("term")["estimate"]
    x = (np.asarray(problems, dtype=float) - 1.0) / 100.0
    if SLOPE_TERM not in sel:
        return np.full_like(x, np.nan)
    return 1.0 / (1.0 + np.exp(-(sel["Intercept"] + sel[SLOPE_TERM] * x)))
