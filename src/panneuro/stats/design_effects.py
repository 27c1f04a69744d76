"""Group effects of the study design: learning stage and inactivation, across sessions.

The design (``size: paper``; :mod:`panneuro.simulate.design`) records each macaque at early,
middle and late stages of learning-set formation, with sessions where one region is
inactivated between control sessions; each human patient is recorded once. Per session the
workflow has the cross-condition generalisation (CCGP) of ``stay`` and its within-epoch
cross-validated accuracy (``results/decoding/sub-X_ses-Y_ccgp.tsv``), the curated units'
firing rates (``metrics.tsv``) and the trial table, read into per-session scores by
:mod:`panneuro.stats.session_scores` (with the design as the raw dataset states it,
:func:`~panneuro.stats.session_scores.read_session_design`). This module combines them across
sessions and subjects, pure functions on tables:

* :func:`stage_effects`: per region, the slope of the session's stay code (CCGP and CV
  accuracy) on the learning stage (control sessions; 0 = early, 1 = middle, 2 = late), and for
  the human sessions (one each) the within-session late minus early epoch;
* :func:`inactivation_behaviour`: trial-2 accuracy in every inactivation session, recorded or
  behaviour-only, minus its neighbouring control sessions (the nearest control of the same
  kind before and after it: recorded at its learning stage, or behaviour-only;
  :func:`~panneuro.stats.session_scores.comparison_sessions`), as a raw difference and as the
  log-odds ratio of a GEE logistic model over trials
  (:func:`panneuro.stats.mixed.trial_mixed_logistic`);
* :func:`inactivation_neural`: the same contrast, on the recorded sessions only, of each
  region's stay code and decoding, and of the inactivated region's log mean firing rate and
  unit yield (absent, and said so in the log, when no recorded inactivation session has a
  recorded control: a lab with behaviour only gets the behavioural effect).

Each effect is estimated by the hierarchical bootstrap (:mod:`panneuro.stats.hierarchical`,
subjects then sessions), by Student's t over subjects (:func:`subject_t_test`), and for the
stage slope by a linear mixed model with a random intercept and a random slope per subject
(:func:`session_mixed_model`, t on ``n_subjects - 1`` df) from :data:`MIXED_MODEL_MIN_SUBJECTS`
subjects (below, no row: see the constant). Given a table of the same
session scores computed from the planted truth (the oracle, :mod:`panneuro.decoding.oracle`;
the behaviour's expected accuracy), the *truth* of an effect is the same statistic applied to
those expected scores: every statistic here is linear in the session scores (a mean of
per-subject slopes or differences), so it is the expectation of the estimate under the planted
model (the GEE log-odds ratio excepted: its truth is the log-odds ratio of the pooled expected
accuracies, the population-averaged effect GEE estimates, to first order).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np
import pandas as pd

from panneuro.stats.hierarchical import (
    DifferenceEffect,
    SlopeEffect,
    SubjectEffect,
    hierarchical_bootstrap,
    subject_t_test,
)
from panneuro.stats.mixed import ModelEffect, session_mixed_model, trial_mixed_logistic

# The design and session scores (panneuro.stats.session_scores), importable from here too.
from panneuro.stats.session_scores import (
    DESIGN_COLUMNS,
    SCORE_COLUMNS,
    STAGES,
    Key,
    annotate,
    comparison_sessions,
    design_table,
    inactivation_scores,
    neural_comparison_sessions,
    oracle_rates,
    read_session_design,
    se_column,
    session_decoding_scores,
    session_rates,
    session_stay_scores,
    sessions_file_has_design,
    trial2_table,
    with_truth,
)

__all__ = [
    "DESIGN_COLUMNS",
    "EFFECT_COLUMNS",
    "SCORE_COLUMNS",
    "STAGES",
    "Key",
    "annotate",
    "comparison_sessions",
    "design_table",
    "effect_rows",
    "inactivation_behaviour",
    "inactivation_neural",
    "inactivation_scores",
    "neural_comparison_sessions",
    "oracle_rates",
    "read_session_design",
    "se_column",
    "session_decoding_scores",
    "session_rates",
    "session_stay_scores",
    "sessions_file_has_design",
    "stage_effects",
    "trial2_table",
]

#: Subjects from which the stage slope's mixed model is fitted. A random slope per subject is
#: what a within-subject predictor needs (without it the model ignores how subjects' slopes
#: differ): on null simulations (``bench/bench_group_calibration.py``, 400 each; 6 subjects
#: 2026-12-04, 2 and 3 subjects 2026-12-08)
#: the random-intercept-only model with a normal reference rejected 7.25 % (6 subjects) to
#: 9.5 % (2) of nulls with equal subject slopes and 17-20 % with subject slopes of sd 0.03;
#: the random-slope model with t on ``n_subjects - 1`` df 1.0 % / 3.0 % at 6 subjects
#: (conservative), 0 % at 2-3 subjects, where its fits are often singular (no power and no
#: stable estimate). Below this there is no row; the bootstrap and the t over subjects remain.
MIXED_MODEL_MIN_SUBJECTS = 6
#: The mixed model's method label in the effect tables.
MIXED_MODEL_METHOD = "mixedlm-random-slope"

log = logging.getLogger(__name__)

#: Columns of every group-effect table (``results/group/*_effects.tsv``).
EFFECT_COLUMNS: tuple[str, ...] = (
    "effect",
    "species",
    "region",
    "estimate",
    "ci_low",
    "ci_high",
    "p_value",
    "method",
    "n_subjects",
    "n_sessions",
    "truth",
    "truth_in_ci",
)


# --- effects ----------------------------------------------------------------------------------
def _subject_mean(table: pd.DataFrame, effect: SubjectEffect) -> float:
    """Return the group statistic without resampling: the mean of the subjects' effects."""
    values = [
        effect(rows, np.ones((1, len(rows))))[0]
        for _, rows in table.groupby(table["subject"].astype(str), sort=True)
    ]
    finite = [v for v in values if np.isfinite(v)]
    return float(np.mean(finite)) if finite else float("nan")


def _one_session_cells(table: pd.DataFrame, effect: SubjectEffect, session: str | None) -> bool:
    """Whether a subject has a single session in some cell of the effect.

    The cells are the values of the effect's other columns (the condition of a difference,
    the stage of a slope): resampling sessions within a subject cannot show the sampling
    error of a session that is alone in its cell.
    """
    if session is None:
        return True
    cells = [c for c in effect.columns[1:] if c in table]
    sizes = table.groupby(["subject", *cells])[session].nunique()
    return bool(len(sizes)) and int(sizes.min()) < 2


def effect_rows(
    table: pd.DataFrame,
    effect: SubjectEffect,
    *,
    name: str,
    species: str,
    region: str,
    rng: np.random.Generator,
    truth_table: pd.DataFrame | None = None,
    session: str | None = "session",
    levels: int = 2,
    n_resamples: int = 2000,
    mixed: tuple[str, str] | None = None,
) -> list[dict]:
    """One group effect by the hierarchical bootstrap, the subject t test (and MixedLM).

    Parameters
    ----------
    table : pandas.DataFrame
        Rows of sessions (or trials, or epochs) with ``subject``, the session column and the
        effect's columns.
    effect : SubjectEffect
        The within-subject effect (:class:`~panneuro.stats.hierarchical.SlopeEffect`, ...).
    name, species, region : str
        Labels of the rows.
    rng : numpy.random.Generator
        The bootstrap's draws.
    truth_table : pandas.DataFrame, optional
        The same rows with the planted expectation in the effect's value column; the truth is
        the mean over subjects of the effect on it (NaN without it).
    session : str or None
        Session column (None: each row its own session).
    levels : int
        Levels resampled by the bootstrap.
    n_resamples : int
        Bootstrap resamples.
    mixed : (value, predictor), optional
        Also fit ``session_mixed_model(value ~ predictor)`` with a random intercept and slope
        per subject (:data:`MIXED_MODEL_METHOD`): no row below
        :data:`MIXED_MODEL_MIN_SUBJECTS` subjects or with one value of the predictor, a NaN
        row for a singular or unconverged fit.

    Notes
    -----
    When a subject has a single session in a cell of the effect (one inactivation beside one
    control, one session per learning stage) and the table has the value's standard error
    (``<value>_se``, :func:`~panneuro.stats.session_scores.se_column`), the bootstrap
    resamples subjects and redraws each session's score from its own standard error
    (``levels=1, se=...``) instead of resampling sessions, which would see no session
    error there (measured: ``bench/bench_group_calibration.py``, ``one_session``). The same
    for rows with no session level (``session=None``). Without a standard error the
    resampling is as asked and the interval ignores the sessions' sampling error.

    Returns
    -------
    list of dict
        Rows of :data:`EFFECT_COLUMNS`.
    """
    table = table.dropna(subset=list(effect.columns)).reset_index(drop=True)
    truth = float("nan") if truth_table is None else _subject_mean(truth_table, effect)
    n_subjects = int(table["subject"].nunique())
    by = session if session is not None else "session" if "session" in table else None
    n_sessions = int(len(table.groupby(["subject", by]))) if by is not None else len(table)
    base = {"effect": name, "species": species, "region": region, "truth": truth}
    rows = []

    def add(method: str, est: float, low: float, high: float, p: float, n_subj: int) -> None:
        covered = bool(low <= truth <= high) if np.isfinite(truth) and np.isfinite(low) else None
        rows.append(
            {
                **base,
                "estimate": est,
                "ci_low": low,
                "ci_high": high,
                "p_value": p,
                "method": method,
                "n_subjects": n_subj,
                "n_sessions": n_sessions,
                "truth_in_ci": covered,
            }
        )

    if n_subjects == 0:
        return rows
    error = se_column(effect.columns[0])
    se = None
    if levels < 3 and error in table and table[error].notna().any():
        if session is None or levels == 1 or _one_session_cells(table, effect, session):
            se, levels = error, 1
    boot = hierarchical_bootstrap(
        table, effect, rng, session=session, levels=levels, se=se, n_resamples=n_resamples
    )
    add(
        "hierarchical_bootstrap", boot.estimate, boot.ci_low, boot.ci_high, boot.p_value, n_subjects
    )
    test = subject_t_test(table, effect)
    add("subject_t_test", test.estimate, test.ci_low, test.ci_high, test.p_value, n_subjects)
    if mixed is not None and n_subjects < MIXED_MODEL_MIN_SUBJECTS:
        log.info(
            "%s (%s): no mixed model with %d subject(s) (it needs %d); the bootstrap and the "
            "t over subjects stand.",
            name,
            region,
            n_subjects,
            MIXED_MODEL_MIN_SUBJECTS,
        )
    elif mixed is not None and table[mixed[1]].nunique() >= 2:
        fit = _mixed_fit(table, *mixed, name=name, region=region)
        if fit is None:
            nan = float("nan")
            add(MIXED_MODEL_METHOD, nan, nan, nan, nan, n_subjects)
        else:
            add(MIXED_MODEL_METHOD, fit.estimate, fit.ci_low, fit.ci_high, fit.p_value, n_subjects)
    return rows


def _mixed_fit(
    table: pd.DataFrame, value: str, predictor: str, *, name: str, region: str
) -> ModelEffect | None:
    """Fit the random-slope mixed model of ``value ~ predictor``; None (logged) if it fails."""
    try:
        fit = session_mixed_model(table, value, predictor)
    except np.linalg.LinAlgError:
        fit = None
    if fit is not None and np.isfinite(fit.se) and fit.se > 0 and fit.converged:
        return fit
    log.info(
        "%s (%s): the mixed model's fit is singular or did not converge (NaN row); the "
        "bootstrap and the t over subjects stand.",
        name,
        region,
    )
    return None


def _frame(rows: list[dict]) -> pd.DataFrame:
    table = pd.DataFrame(rows, columns=list(EFFECT_COLUMNS))
    table["truth_in_ci"] = table["truth_in_ci"].astype(object)
    return table


def _truth_view(table: pd.DataFrame, value: str) -> pd.DataFrame | None:
    """Return the table with the truth in ``value`` (None when no truth is known)."""
    column = f"{value}_truth"
    if column not in table or not table[column].notna().any():
        return None
    return table.assign(**{value: table[column]})


def stage_effects(
    scores: pd.DataFrame,
    design: pd.DataFrame,
    species: Mapping[str, str],
    rng: np.random.Generator,
    *,
    truth: pd.DataFrame | None = None,
    n_resamples: int = 2000,
) -> pd.DataFrame:
    """Stay code across learning: the slope on stage (macaques) and late - early (humans).

    Parameters
    ----------
    scores : pandas.DataFrame
        :func:`session_stay_scores` of the analysed sessions.
    design : pandas.DataFrame
        :func:`read_session_design`.
    species : mapping
        Subject -> species.
    rng : numpy.random.Generator
        The bootstraps' draws (one stream, effects in a fixed order).
    truth : pandas.DataFrame, optional
        :func:`session_stay_scores` of the oracle's tables (same sessions).
    n_resamples : int
        Bootstrap resamples.

    Returns
    -------
    pandas.DataFrame
        :data:`EFFECT_COLUMNS`: ``stay_ccgp_stage_slope``/``stay_cv_stage_slope`` (score
        units per stage, control sessions with a learning stage, session mean of the two
        epochs) per macaque region; ``stay_ccgp_late_minus_early``/``stay_cv_late_minus_early``
        per region of the species whose subjects have one session with no stage.
    """
    table = annotate(scores, design, species, truth)
    rows: list[dict] = []
    staged = table[
        (table["epoch"] == "all") & (table["condition"] == "control") & table["stage_index"].notna()
    ]
    for (sp, region), part in staged.groupby(["species", "region"], sort=True):
        for value in SCORE_COLUMNS:
            rows += effect_rows(
                part,
                SlopeEffect(value, "stage_index"),
                name=f"stay_{value}_stage_slope",
                species=str(sp),
                region=str(region),
                rng=rng,
                truth_table=_truth_view(part, value),
                n_resamples=n_resamples,
                mixed=(value, "stage_index"),
            )
    # one session per subject, no stage: the session's own early vs late epochs
    counts = table[table["epoch"] == "all"].groupby("subject")["session"].nunique()
    single = set(counts[counts == 1].index)
    epochs = table[
        table["subject"].isin(single)
        & table["stage_index"].isna()
        & table["epoch"].isin(["early", "late"])
    ].assign(late=lambda t: (t["epoch"] == "late").astype(int))
    for (sp, region), part in epochs.groupby(["species", "region"], sort=True):
        for value in SCORE_COLUMNS:
            rows += effect_rows(
                part,
                DifferenceEffect(value, "late", 1),
                name=f"stay_{value}_late_minus_early",
                species=str(sp),
                region=str(region),
                rng=rng,
                truth_table=_truth_view(part, value),
                session=None,
                levels=1,
                n_resamples=n_resamples,
            )
    return _frame(rows)


def _logit(p: float) -> float:
    return float(np.log(p / (1 - p)))


def inactivation_behaviour(
    trials: pd.DataFrame,
    species: Mapping[str, str],
    rng: np.random.Generator,
    *,
    n_resamples: int = 2000,
) -> pd.DataFrame:
    """Trial-2 accuracy, inactivation minus the neighbouring control sessions.

    Every inactivation session of ``trials``, recorded or behaviour-only, against its
    neighbouring controls: the control session of the same subject and kind nearest before
    it and the one nearest after it (recorded controls at its learning stage for a recorded
    inactivation, behaviour-only controls for a behaviour-only one;
    :func:`~panneuro.stats.session_scores.comparison_sessions`). Within a subject the
    trial-2 outcomes of its inactivation sessions are pooled, and those of its selected
    controls; the subjects weigh equally.

    Parameters
    ----------
    trials : pandas.DataFrame
        :func:`trial2_table` (it selects the sessions).
    species : mapping
        Subject -> species.
    rng : numpy.random.Generator
        The bootstrap's draws.
    n_resamples : int
        Bootstrap resamples.

    Returns
    -------
    pandas.DataFrame
        :data:`EFFECT_COLUMNS`: ``trial2_accuracy_difference`` (proportion correct,
        hierarchical bootstrap over subjects and sessions, trials kept; subject t test) and
        ``trial2_log_odds_ratio`` (GEE logistic over trials clustered by subject,
        ``trial_mixed_logistic(method="gee")``; its truth the log-odds ratio of the pooled
        expected accuracies).
    """
    rows: list[dict] = []
    trials = trials.assign(species=trials["subject"].map(dict(species)))
    for sp, part in trials.groupby("species", sort=True):
        part = part.reset_index(drop=True)
        if part["inactivated"].nunique() < 2:
            continue
        truth_view = part.assign(correct=part["correct_truth"])
        has_truth = bool(part["correct_truth"].notna().all())
        rows += effect_rows(
            part,
            DifferenceEffect("correct", "inactivated", 1),
            name="trial2_accuracy_difference",
            species=str(sp),
            region="behaviour",
            rng=rng,
            truth_table=truth_view if has_truth else None,
            n_resamples=n_resamples,
        )
        fit = trial_mixed_logistic(part, "correct", "inactivated", method="gee")
        truth = float("nan")
        if has_truth:
            means = part.groupby("inactivated")["correct_truth"].mean()
            truth = _logit(float(means[1])) - _logit(float(means[0]))
        rows.append(
            {
                "effect": "trial2_log_odds_ratio",
                "species": str(sp),
                "region": "behaviour",
                "estimate": fit.estimate,
                "ci_low": fit.ci_low,
                "ci_high": fit.ci_high,
                "p_value": fit.p_value,
                "method": "gee",
                "n_subjects": fit.n_groups,
                "n_sessions": int(len(part.groupby(["subject", "session"]))),
                "truth": truth,
                "truth_in_ci": fit.covers(truth) if np.isfinite(truth) else None,
            }
        )
    return _frame(rows)


def inactivation_neural(
    scores: pd.DataFrame,
    rates: pd.DataFrame,
    design: pd.DataFrame,
    species: Mapping[str, str],
    rng: np.random.Generator,
    *,
    truth: pd.DataFrame | None = None,
    truth_rates: pd.DataFrame | None = None,
    decoding: pd.DataFrame | None = None,
    truth_decoding: pd.DataFrame | None = None,
    n_resamples: int = 2000,
) -> pd.DataFrame:
    """Each region's stay code and the inactivated region's rate, inactivation minus control.

    On the recorded sessions only (:func:`neural_comparison_sessions`: a session with a row
    in ``scores``, ``rates`` or ``decoding``): each recorded inactivation against its
    neighbouring recorded controls at its learning stage. With no recorded inactivation
    session and control in the tables (a behaviour-only design) the table is empty and a
    warning says the neural effects are absent.

    Parameters
    ----------
    scores : pandas.DataFrame
        :func:`session_stay_scores`.
    rates : pandas.DataFrame
        :func:`session_rates`.
    design : pandas.DataFrame
        :func:`read_session_design`.
    species : mapping
        Subject -> species.
    rng : numpy.random.Generator
        The bootstraps' draws.
    truth, truth_rates : pandas.DataFrame, optional
        The same tables from the planted truth (the oracle's stay scores; ``log_rate`` of
        the planted mean rates). The unit yield has no planted truth (NaN).
    decoding, truth_decoding : pandas.DataFrame, optional
        :func:`session_decoding_scores` of the sessions' decoding tables and of their oracle
        tables: adds ``decoding_<variable>_inactivation`` per region and variable.
    n_resamples : int
        Bootstrap resamples.

    Returns
    -------
    pandas.DataFrame
        :data:`EFFECT_COLUMNS`: per region ``stay_ccgp_inactivation`` and
        ``stay_cv_inactivation`` (score difference), with ``decoding`` also
        ``decoding_<variable>_inactivation``; per inactivated region
        ``log_rate_inactivation`` (log of the rate ratio) and ``n_units_inactivation``.
    """
    compare = neural_comparison_sessions(design, scores, rates, decoding)
    if compare.empty or compare["inactivated"].nunique() < 2:
        log.warning(
            "no recorded inactivation session with a recorded control: the neural "
            "inactivation effects (stay code, decoding, firing rate, unit yield) are absent "
            "from the table; only the behavioural ones are estimated."
        )
        return _frame([])
    keys = ["subject", "session"]
    cols = [*keys, "inactivated"]
    table = with_truth(scores[scores["epoch"] == "all"], truth, [*keys, "region", "epoch"])
    table = table.merge(compare[cols], on=keys, how="inner")
    table["species"] = table["subject"].map(dict(species))
    rows: list[dict] = []
    for (sp, region), part in table.groupby(["species", "region"], sort=True):
        for value in SCORE_COLUMNS:
            rows += effect_rows(
                part,
                DifferenceEffect(value, "inactivated", 1),
                name=f"stay_{value}_inactivation",
                species=str(sp),
                region=str(region),
                rng=rng,
                truth_table=_truth_view(part, value),
                n_resamples=n_resamples,
            )
    if decoding is not None and not decoding.empty:
        dec = with_truth(decoding, truth_decoding, [*keys, "region", "variable"])
        dec = dec.merge(compare[cols], on=keys, how="inner")
        dec["species"] = dec["subject"].map(dict(species))
        for (sp, region, variable), part in dec.groupby(
            ["species", "region", "variable"], sort=True
        ):
            rows += effect_rows(
                part,
                DifferenceEffect("decoding", "inactivated", 1),
                name=f"decoding_{variable}_inactivation",
                species=str(sp),
                region=str(region),
                rng=rng,
                truth_table=_truth_view(part, "decoding"),
                n_resamples=n_resamples,
            )
    silenced = set(design.loc[design["inactivated"] == 1, "inactivated_region"])
    rate_table = with_truth(rates, truth_rates, [*keys, "region"]).merge(
        compare[cols], on=keys, how="inner"
    )
    rate_table["species"] = rate_table["subject"].map(dict(species))
    rate_table = rate_table[rate_table["region"].isin(silenced)]
    for (sp, region), part in rate_table.groupby(["species", "region"], sort=True):
        rows += effect_rows(
            part,
            DifferenceEffect("log_rate", "inactivated", 1),
            name="log_rate_inactivation",
            species=str(sp),
            region=str(region),
            rng=rng,
            truth_table=_truth_view(part, "log_rate"),
            n_resamples=n_resamples,
        )
        rows += effect_rows(
            part,
            DifferenceEffect("n_units", "inactivated", 1),
            name="n_units_inactivation",
            species=str(sp),
            region=str(region),
            rng=rng,
            n_resamples=n_resamples,
        )
    return _frame(rows)
