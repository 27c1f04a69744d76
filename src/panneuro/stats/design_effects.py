"""Group effects of the study design: learning stage and inactivation, across sessions.

The design (``size: paper``; :mod:`panneuro.simulate.design`) records each macaque at early,
middle and late stages of learning-set formation, with sessions where one region is
inactivated between control sessions; each human patient is recorded once. Per session the
workflow has the cross-condition generalisation (CCGP) of ``stay`` and its within-epoch
cross-validated accuracy (``results/decoding/sub-X_ses-Y_ccgp.tsv``), the curated units'
firing rates (``metrics.tsv``) and the trial table. This module combines them across sessions
and subjects, pure functions on tables:

* :func:`read_session_design`: the design as the raw dataset states it (``sub-X_sessions.tsv``
  columns ``condition``, ``inactivated_region``, ``learning_stage``, ``first_problem``,
  ``last_problem``), never from the simulation's ground truth;
* :func:`stage_effects`: per region, the slope of the session's stay code (CCGP and CV
  accuracy) on the learning stage (control sessions; 0 = early, 1 = middle, 2 = late), and for
  the human sessions (one each) the within-session late minus early epoch;
* :func:`inactivation_behaviour`: trial-2 accuracy in inactivation sessions minus the control
  sessions at the same learning stage (raw difference, and the log-odds ratio of a GEE
  logistic model over trials, :func:`panneuro.stats.mixed.trial_mixed_logistic`);
* :func:`inactivation_neural`: the same contrast of each region's stay code, and of the
  inactivated region's log mean firing rate and unit yield.

Each effect is estimated by the hierarchical bootstrap (:mod:`panneuro.stats.hierarchical`,
subjects then sessions), by Student's t over subjects (:func:`subject_t_test`), and for the
stage slope by a linear mixed model (:func:`session_mixed_model`). Given a table of the same
session scores computed from the planted truth (the oracle, :mod:`panneuro.decoding.oracle`;
the behaviour's expected accuracy), the *truth* of an effect is the same statistic applied to
those expected scores: every statistic here is linear in the session scores (a mean of
per-subject slopes or differences), so it is the expectation of the estimate under the planted
model (the GEE log-odds ratio excepted: its truth is the log-odds ratio of the pooled expected
accuracies, the population-averaged effect GEE estimates, to first order).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from panneuro.decoding.planted import declared_bins
from panneuro.simulate.ephys import WINDOWS
from panneuro.stats.hierarchical import (
    DifferenceEffect,
    SlopeEffect,
    SubjectEffect,
    hierarchical_bootstrap,
    subject_t_test,
)
from panneuro.stats.mixed import session_mixed_model, trial_mixed_logistic

#: Columns of ``sub-X_sessions.tsv`` that state the design.
DESIGN_COLUMNS: tuple[str, ...] = (
    "condition",
    "inactivated_region",
    "learning_stage",
    "first_problem",
    "last_problem",
)
#: Learning stages in order (the stage predictor is the index).
STAGES: tuple[str, ...] = ("early", "middle", "late")
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
#: Session score columns (:func:`session_stay_scores`, :func:`session_rates`).
SCORE_COLUMNS: tuple[str, ...] = ("ccgp", "cv")

Key = tuple[str, str]


# --- the design as the raw dataset states it ---------------------------------------------------
def read_session_design(paths: list[str | Path]) -> pd.DataFrame:
    """Read the design columns of the subjects' ``sub-X_sessions.tsv``.

    Parameters
    ----------
    paths : list of path-like
        BIDS ``sub-<label>/sub-<label>_sessions.tsv`` files (the subject is read from the name).

    Returns
    -------
    pandas.DataFrame
        ``subject``, ``session`` (label without ``ses-``), the :data:`DESIGN_COLUMNS`
        (``n/a`` kept as the string ``"n/a"`` in the text columns), ``stage_index`` (0, 1, 2
        for early, middle, late; NaN otherwise) and ``inactivated`` (1 in an inactivation
        session).
    """
    parts = []
    for path in paths:
        path = Path(path)
        match = re.fullmatch(r"sub-([A-Za-z0-9]+)_sessions\.tsv", path.name)
        if match is None:
            raise ValueError(f"{path}: not a BIDS sessions file; name it sub-<label>_sessions.tsv.")
        table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
        parts.append(design_table(table, match.group(1), source=str(path)))
    if not parts:
        return design_table(pd.DataFrame(columns=["session_id", *DESIGN_COLUMNS]), "")
    return pd.concat(parts, ignore_index=True)


def design_table(
    table: pd.DataFrame, subject: str, *, source: str = "sessions.tsv"
) -> pd.DataFrame:
    """Parse one subject's design columns (a ``sessions.tsv`` read as strings).

    Parameters
    ----------
    table : pandas.DataFrame
        ``session_id`` and :data:`DESIGN_COLUMNS` (e.g.
        :func:`panneuro.simulate.design.sessions_table`, the planned design).
    subject : str
        The subject label.
    source : str
        Named in errors.

    Returns
    -------
    pandas.DataFrame
        As :func:`read_session_design`.
    """
    missing = [c for c in ("session_id", *DESIGN_COLUMNS) if c not in table.columns]
    if missing:
        raise ValueError(
            f"{source}: lacks the design column(s) {missing}; add them (see the raw "
            "dataset's sub-X_sessions.json) or run without the group analyses."
        )
    table = table.astype({c: str for c in ("session_id", *DESIGN_COLUMNS[:3])})
    unknown = set(table["condition"]) - {"control", "inactivation"}
    if unknown:
        raise ValueError(
            f"{source}: condition {sorted(unknown)} unknown; use control or inactivation."
        )
    stages = table["learning_stage"].where(table["learning_stage"].isin(STAGES))
    return pd.DataFrame(
        {
            "subject": subject,
            "session": table["session_id"].str.removeprefix("ses-"),
            **{c: table[c] for c in DESIGN_COLUMNS[:3]},
            "first_problem": pd.to_numeric(table["first_problem"], errors="coerce"),
            "last_problem": pd.to_numeric(table["last_problem"], errors="coerce"),
            "stage_index": stages.map({s: i for i, s in enumerate(STAGES)}).astype(float),
            "inactivated": (table["condition"] == "inactivation").astype(int),
        }
    )


def sessions_file_has_design(path: str | Path) -> bool:
    """Tell whether a ``sub-X_sessions.tsv`` exists and has every design column."""
    path = Path(path)
    if not path.is_file():
        return False
    header = pd.read_csv(path, sep="\t", nrows=0).columns
    return all(c in header for c in ("session_id", *DESIGN_COLUMNS))


def comparison_sessions(design: pd.DataFrame) -> pd.DataFrame:
    """Select the inactivation contrast's sessions: each inactivation and its stage's controls.

    Parameters
    ----------
    design : pandas.DataFrame
        :func:`read_session_design` (possibly restricted to the analysed sessions).

    Returns
    -------
    pandas.DataFrame
        Rows of ``design`` in a subject with an inactivation session: the inactivation
        sessions and the control sessions at the same learning stage (the neighbouring
        controls), with ``inactivated`` 0/1.
    """
    inact = design[design["inactivated"] == 1]
    keys = set(zip(inact["subject"], inact["learning_stage"], strict=True))
    keep = np.array(
        [
            (s, st) in keys
            for s, st in zip(design["subject"], design["learning_stage"], strict=True)
        ],
        dtype=bool,
    )
    return design.loc[keep].reset_index(drop=True)


# --- session scores ---------------------------------------------------------------------------
def session_stay_scores(ccgp: Mapping[Key, pd.DataFrame], value: str = "score") -> pd.DataFrame:
    """Each session's stay code per region and epoch, from its cross-condition table.

    Parameters
    ----------
    ccgp : mapping
        (subject, session) -> the session's CCGP table
        (:data:`panneuro.decoding.cross_condition.CCGP_COLUMNS`), or the oracle's table of the
        same shape.
    value : str
        The column read (``score``; ``truth`` for the oracle's table).

    Returns
    -------
    pandas.DataFrame
        ``subject``, ``session``, ``region``, ``epoch`` (``early``, ``late`` and ``all``: the
        mean of the two), ``ccgp`` (mean over the condition splits), ``cv`` (within-epoch
        cross-validated accuracy of stay), ``n_units``.
    """
    rows = []
    for (subject, session), table in ccgp.items():
        for region, part in table.groupby("region", sort=True):
            epochs = {}
            for epoch, sub in part.groupby("epoch", sort=True):
                epochs[str(epoch)] = {
                    "ccgp": float(sub.loc[sub["analysis"] == "ccgp", value].mean()),
                    "cv": float(sub.loc[sub["analysis"] == "cv", value].mean()),
                }
            if epochs:
                epochs["all"] = {
                    k: float(np.nanmean([e[k] for e in epochs.values()])) for k in SCORE_COLUMNS
                }
            n_units = int(part["n_units"].iloc[0]) if "n_units" in part else -1
            for epoch, scores in epochs.items():
                rows.append(
                    {
                        "subject": subject,
                        "session": session,
                        "region": str(region),
                        "epoch": epoch,
                        **scores,
                        "n_units": n_units,
                    }
                )
    return pd.DataFrame(
        rows, columns=["subject", "session", "region", "epoch", *SCORE_COLUMNS, "n_units"]
    )


def session_rates(metrics: Mapping[tuple[str, str, str], pd.DataFrame]) -> pd.DataFrame:
    """Each probe session's curated yield and log mean firing rate.

    Parameters
    ----------
    metrics : mapping
        (subject, session, region) -> the probe's ``metrics.tsv`` (``firing_rate``, ``keep``).

    Returns
    -------
    pandas.DataFrame
        ``subject``, ``session``, ``region``, ``n_units`` (kept units), ``log_rate``
        (natural log of their mean firing rate, Hz; NaN without units).
    """
    rows = []
    for (subject, session, region), table in metrics.items():
        kept = table[table["keep"].astype(bool)] if "keep" in table else table
        rate = float(kept["firing_rate"].mean()) if len(kept) else float("nan")
        rows.append(
            {
                "subject": subject,
                "session": session,
                "region": region,
                "n_units": int(len(kept)),
                "log_rate": float(np.log(rate)) if rate > 0 else float("nan"),
            }
        )
    return pd.DataFrame(rows, columns=["subject", "session", "region", "n_units", "log_rate"])


def session_decoding_scores(
    decoding: Mapping[Key, pd.DataFrame], bin_size: float, value: str = "score"
) -> pd.DataFrame:
    """Each session's decoding strength per region and variable, at a declared bin.

    The strength is the time-resolved balanced accuracy at the primary declared bin of the
    variable's coding window (:func:`panneuro.decoding.planted.declared_bins` over
    :data:`panneuro.simulate.ephys.WINDOWS`: ``choice`` around the response, ``correct`` and
    ``rewarded_object`` after feedback), the bin where the planted-effect check compares the
    estimate with the oracle; declared before looking (the peak over bins is biased upward).

    Parameters
    ----------
    decoding : mapping
        (subject, session) -> the session's decoding table
        (:data:`panneuro.decoding.time_resolved.DECODING_COLUMNS`), or its oracle table
        (:data:`panneuro.decoding.oracle.ORACLE_COLUMNS`, ``value="truth"``).
    bin_size : float
        The decoding bins' width, s (``config["decoding"]["bin_size"]``).
    value : str
        The column read.

    Returns
    -------
    pandas.DataFrame
        ``subject``, ``session``, ``region``, ``variable``, ``time`` (the bin), ``decoding``.
    """
    rows = []
    for (subject, session), table in decoding.items():
        if "analysis" in table:
            table = table[table["analysis"] == "time_resolved"]
        for (region, variable), part in table.groupby(["region", "variable"], sort=True):
            if variable not in WINDOWS or WINDOWS[variable][2] is None:
                continue
            part = part.sort_values("time")
            _, start, stop = WINDOWS[variable]
            centres = part["time"].to_numpy(float)
            _, primary = declared_bins(centres, bin_size / 2, start, float(stop))
            rows.append(
                {
                    "subject": subject,
                    "session": session,
                    "region": str(region),
                    "variable": str(variable),
                    "time": float(centres[primary]),
                    "decoding": float(part[value].iloc[primary]),
                }
            )
    return pd.DataFrame(
        rows, columns=["subject", "session", "region", "variable", "time", "decoding"]
    )


def oracle_rates(oracle: Mapping[Key, pd.DataFrame]) -> pd.DataFrame:
    """Each session's planted mean firing rate per region, from its CCGP oracle table.

    Parameters
    ----------
    oracle : mapping
        (subject, session) -> :func:`panneuro.decoding.oracle.oracle_cross_condition`'s table.

    Returns
    -------
    pandas.DataFrame
        ``subject``, ``session``, ``region``, ``log_rate`` (log of ``planted_rate``): the
        truth of :func:`session_rates`' ``log_rate``.
    """
    rows = [
        {
            "subject": subject,
            "session": session,
            "region": str(region),
            "log_rate": float(np.log(part["planted_rate"].iloc[0])),
        }
        for (subject, session), table in oracle.items()
        for region, part in table.groupby("region", sort=True)
    ]
    return pd.DataFrame(rows, columns=["subject", "session", "region", "log_rate"])


def annotate(
    scores: pd.DataFrame,
    design: pd.DataFrame,
    species: Mapping[str, str],
    truth: pd.DataFrame | None = None,
    on: tuple[str, ...] = ("subject", "session", "region", "epoch"),
) -> pd.DataFrame:
    """Session scores with their truth (``<score>_truth``), design and species.

    Parameters
    ----------
    scores : pandas.DataFrame
        :func:`session_stay_scores` or :func:`session_rates`.
    design : pandas.DataFrame
        :func:`read_session_design`.
    species : mapping
        Subject -> species.
    truth : pandas.DataFrame, optional
        The same table from the planted truth.
    on : tuple of str
        The columns identifying a row.

    Returns
    -------
    pandas.DataFrame
        ``scores`` with ``species``, ``condition``, ``learning_stage``, ``stage_index``,
        ``inactivated`` and the truth columns (NaN without truth).
    """
    table = _with_truth(scores, truth, [c for c in on if c in scores.columns])
    table = table.merge(
        design[["subject", "session", "condition", "learning_stage", "stage_index", "inactivated"]],
        on=["subject", "session"],
        how="left",
    )
    table.insert(2, "species", table["subject"].map(dict(species)))
    return table


# --- effects ----------------------------------------------------------------------------------
def _subject_mean(table: pd.DataFrame, effect: SubjectEffect) -> float:
    """Return the group statistic without resampling: the mean of the subjects' effects."""
    values = [
        effect(rows, np.ones((1, len(rows))))[0]
        for _, rows in table.groupby(table["subject"].astype(str), sort=True)
    ]
    finite = [v for v in values if np.isfinite(v)]
    return float(np.mean(finite)) if finite else float("nan")


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
        Also fit ``session_mixed_model(value ~ predictor)`` (random intercept per subject).

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
    boot = hierarchical_bootstrap(
        table, effect, rng, session=session, levels=levels, n_resamples=n_resamples
    )
    add(
        "hierarchical_bootstrap", boot.estimate, boot.ci_low, boot.ci_high, boot.p_value, n_subjects
    )
    test = subject_t_test(table, effect)
    add("subject_t_test", test.estimate, test.ci_low, test.ci_high, test.p_value, n_subjects)
    if mixed is not None and n_subjects >= 2 and table[mixed[1]].nunique() >= 2:
        try:
            fit = session_mixed_model(table, mixed[0], mixed[1])
        except np.linalg.LinAlgError:
            # a singular fit (e.g. the subject variance at 0 with few subjects): no estimate
            nan = float("nan")
            add("mixedlm", nan, nan, nan, nan, n_subjects)
        else:
            add("mixedlm", fit.estimate, fit.ci_low, fit.ci_high, fit.p_value, fit.n_groups)
    return rows


def _frame(rows: list[dict]) -> pd.DataFrame:
    table = pd.DataFrame(rows, columns=list(EFFECT_COLUMNS))
    table["truth_in_ci"] = table["truth_in_ci"].astype(object)
    return table


def _with_truth(scores: pd.DataFrame, truth: pd.DataFrame | None, on: list[str]) -> pd.DataFrame:
    """Scores with the truth's value columns suffixed ``_truth`` (NaN where absent)."""
    values = [c for c in (*SCORE_COLUMNS, "log_rate", "decoding") if c in scores.columns]
    if truth is None or truth.empty:
        return scores.assign(
            **{f"{c}_truth": np.nan for c in values if f"{c}_truth" not in scores.columns}
        )
    keep = [c for c in values if c in truth.columns]
    merged = scores.merge(
        truth[on + keep].rename(columns={c: f"{c}_truth" for c in keep}), on=on, how="left"
    )
    for c in values:
        if f"{c}_truth" not in merged:
            merged[f"{c}_truth"] = np.nan
    return merged


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


def trial2_table(
    events: Mapping[Key, pd.DataFrame],
    design: pd.DataFrame,
    expected: Mapping[Key, float] | None = None,
) -> pd.DataFrame:
    """Trial-2 outcomes of the inactivation contrast's sessions.

    Parameters
    ----------
    events : mapping
        (subject, session) -> trial table; sessions outside :func:`comparison_sessions` are
        ignored.
    design : pandas.DataFrame
        :func:`read_session_design`.
    expected : mapping, optional
        (subject, session) -> the planted expected trial-2 accuracy of the session (its
        ``<s>_design.json`` ``behaviour.expected_trial2_accuracy``).

    Returns
    -------
    pandas.DataFrame
        One row per trial 2: ``subject``, ``session``, ``learning_stage``, ``inactivated``,
        ``correct``, ``correct_truth`` (the expectation; NaN without ``expected``).
    """
    compare = comparison_sessions(design)
    parts = []
    for row in compare.itertuples(index=False):
        table = events.get((row.subject, row.session))
        if table is None:
            continue
        second = table[table["trial"] == 2]
        truth = (expected or {}).get((row.subject, row.session), float("nan"))
        parts.append(
            pd.DataFrame(
                {
                    "subject": row.subject,
                    "session": row.session,
                    "learning_stage": row.learning_stage,
                    "inactivated": int(row.inactivated),
                    "correct": second["correct"].to_numpy(float),
                    "correct_truth": float(truth),
                }
            )
        )
    columns = ["subject", "session", "learning_stage", "inactivated", "correct", "correct_truth"]
    return pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)


def _logit(p: float) -> float:
    return float(np.log(p / (1 - p)))


def inactivation_behaviour(
    trials: pd.DataFrame,
    species: Mapping[str, str],
    rng: np.random.Generator,
    *,
    n_resamples: int = 2000,
) -> pd.DataFrame:
    """Trial-2 accuracy, inactivation minus the same stage's control sessions.

    Parameters
    ----------
    trials : pandas.DataFrame
        :func:`trial2_table`.
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
    compare = comparison_sessions(design)
    if compare.empty or compare["inactivated"].nunique() < 2:
        return _frame([])
    keys = ["subject", "session"]
    cols = [*keys, "inactivated"]
    table = _with_truth(scores[scores["epoch"] == "all"], truth, [*keys, "region", "epoch"])
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
        dec = _with_truth(decoding, truth_decoding, [*keys, "region", "variable"])
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
    rate_table = _with_truth(rates, truth_rates, [*keys, "region"]).merge(
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


def inactivation_scores(
    scores: pd.DataFrame,
    rates: pd.DataFrame,
    trials: pd.DataFrame,
    design: pd.DataFrame,
    species: Mapping[str, str],
    *,
    truth: pd.DataFrame | None = None,
    truth_rates: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per session of the inactivation contrast: stay code, rate, yield and trial-2 accuracy.

    Parameters
    ----------
    scores, rates, trials, design : pandas.DataFrame
        :func:`session_stay_scores`, :func:`session_rates`, :func:`trial2_table`,
        :func:`read_session_design`.
    species : mapping
        Subject -> species.
    truth, truth_rates : pandas.DataFrame, optional
        Their planted truth (:func:`inactivation_neural`).

    Returns
    -------
    pandas.DataFrame
        One row per session and region (``ccgp``, ``cv``, ``n_units``, ``log_rate`` and
        their ``_truth``), and per session a ``region = "behaviour"`` row with
        ``trial2_accuracy`` (and its truth), with the design columns; the sessions of
        :func:`comparison_sessions` only.
    """
    keys = ["subject", "session"]
    compare = comparison_sessions(design)[keys]
    neural = _with_truth(scores[scores["epoch"] == "all"], truth, [*keys, "region", "epoch"])
    rate = _with_truth(rates, truth_rates, [*keys, "region"]).rename(
        columns={"n_units": "n_units_kept"}
    )
    table = neural.drop(columns=["epoch"]).merge(rate, on=[*keys, "region"], how="outer")
    behaviour = (
        trials.groupby(keys, sort=True)
        .agg(trial2_accuracy=("correct", "mean"), trial2_accuracy_truth=("correct_truth", "mean"))
        .reset_index()
        .assign(region="behaviour")
    )
    table = pd.concat([table, behaviour], ignore_index=True).merge(compare, on=keys, how="inner")
    table = table.sort_values([*keys, "region"]).reset_index(drop=True)
    return annotate(table, design, species, on=(*keys, "region"))
