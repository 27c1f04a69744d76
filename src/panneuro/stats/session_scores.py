"""The study design and each session's scores: the tables the group effects combine.

The design (``size: paper``; :mod:`panneuro.simulate.design`) as the raw dataset states it,
never from the simulation's ground truth (:func:`read_session_design`: ``sub-X_sessions.tsv``
columns ``condition``, ``inactivated_region``, ``learning_stage``, ``first_problem``,
``last_problem``), and per session, pure functions on its tables:

* :func:`session_stay_scores`: the stay code per region and epoch (cross-condition
  generalisation and within-epoch cross-validated accuracy, ``_ccgp.tsv``), or its planted
  truth from the oracle's table of the same shape;
* :func:`session_rates`, :func:`oracle_rates`: the curated units' yield and log mean firing
  rate (``metrics.tsv``), and the planted rate;
* :func:`session_decoding_scores`: decoding strength at each variable's declared bin;
* :func:`trial2_table`: the trial-2 outcomes of the inactivation contrast's sessions;
* :func:`annotate`, :func:`inactivation_scores`: the per-session tables the group rules write
  beside their effects (``results/group/stage_scores.tsv``, ``inactivation_scores.tsv``).

:func:`read_group_inputs` reads what both group rules read of their sessions (design, stay
scores, oracle truth). The effects across sessions and subjects are
:mod:`panneuro.stats.design_effects`.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

from panneuro.decoding.planted import declared_bins
from panneuro.io.tables import read_tsv
from panneuro.simulate.ephys import WINDOWS

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
#: Session score columns (:func:`session_stay_scores`, :func:`session_rates`).
SCORE_COLUMNS: tuple[str, ...] = ("ccgp", "cv")

# The standard library's normal quantiles, not scipy.stats': the Snakefile imports this module
# (panneuro.study.planned_design) and scipy.stats would add ~1.5 s to every snakemake start.
#: The normal quantile of a one-sided 95 % (a permutation null's ``null_q95`` above its mean).
_Z95 = NormalDist().inv_cdf(0.95)
#: ... and of a two-sided 95 % interval.
_Z975 = NormalDist().inv_cdf(0.975)


def se_column(value: str) -> str:
    """Name of the column holding the standard error of the session score ``value``."""
    return f"{value}_se"


def _null_sd(part: pd.DataFrame) -> np.ndarray:
    """Each row's permutation-null s.d., from its mean and 95th percentile (a normal null).

    The tables keep the null's mean and 95th percentile, not its s.d.; for a roughly normal
    null ``(q95 - mean) / 1.645`` is it. It stands for the score's sampling s.d. (no library
    gives a CCGP's standard error). Against the oracle's Monte Carlo s.d. of the same score
    under the planted model (``tests/test_design_run.py``, tiny design, 2026-12-06) it is a
    little low: median ratio 0.91 for CCGP (0.63-1.35 over 54 rows) and 0.96 for CV.
    """
    if not {"null_q95", "null_mean"} <= set(part.columns):
        return np.full(len(part), np.nan)
    sd = (part["null_q95"].to_numpy(float) - part["null_mean"].to_numpy(float)) / _Z95
    return np.where(sd >= 0, sd, np.nan)


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
    """Select the inactivation contrast's sessions: each inactivation and its neighbouring controls.

    A session's *kind* is its ``learning_stage``: a recorded macaque session has its stage
    (``early``, ``middle``, ``late``), a behaviour-only session ``n/a`` (as the raw dataset's
    ``sub-X_sessions.json`` describes the column). The neighbouring controls of an
    inactivation session are, in the subject's session order (``first_problem``, the
    subject's history; the session label where it is missing), the control session of the
    same kind nearest before it and the one nearest after it, at most one on each side;
    sessions of another kind or inactivation sessions between them are skipped. So a recorded
    inactivation is compared with the recorded controls at its stage on either side
    (``middle, middle/inactivation, middle`` in the design), a behaviour-only inactivation
    with the behaviour-only controls on either side (``beh, beh/inactivation, beh``). A control
    neighbouring two inactivation sessions is selected once.

    Parameters
    ----------
    design : pandas.DataFrame
        :func:`read_session_design`, restricted to the sessions the contrast may use (those
        with behaviour for the behavioural contrast, with units for the neural one: the
        neighbours are looked for among them).

    Returns
    -------
    pandas.DataFrame
        Rows of ``design`` (in its order) in a subject with an inactivation session: the
        inactivation sessions and their neighbouring controls, with ``inactivated`` 0/1.
    """
    keep = np.zeros(len(design), dtype=bool)
    when = (
        pd.to_numeric(design["first_problem"], errors="coerce")
        if "first_problem" in design
        else np.nan
    )
    order = design.assign(_row=np.arange(len(design)), _when=when).sort_values(
        ["subject", "_when", "session"], na_position="last", kind="stable"
    )
    for _, rows in order.groupby("subject", sort=False):
        stages = rows["learning_stage"].astype(str).to_numpy()
        inactivated = rows["inactivated"].to_numpy(int) == 1
        index = rows["_row"].to_numpy()
        for i in np.flatnonzero(inactivated):
            keep[index[i]] = True
            same = (stages == stages[i]) & ~inactivated
            before = np.flatnonzero(same[:i])
            after = np.flatnonzero(same[i + 1 :])
            if len(before):
                keep[index[before[-1]]] = True
            if len(after):
                keep[index[i + 1 + after[0]]] = True
    return design.loc[keep].reset_index(drop=True)


def _with_keys(design: pd.DataFrame, keys: set[Key]) -> pd.DataFrame:
    """Return the design rows of the sessions ``keys`` ((subject, session) pairs)."""
    mask = [(s, e) in keys for s, e in zip(design["subject"], design["session"], strict=True)]
    return design.loc[np.array(mask, dtype=bool)]


def neural_comparison_sessions(design: pd.DataFrame, *tables: pd.DataFrame | None) -> pd.DataFrame:
    """Select the neural inactivation contrast's sessions: those of the recorded sessions.

    Parameters
    ----------
    design : pandas.DataFrame
        :func:`read_session_design`.
    *tables : pandas.DataFrame or None
        Per-session tables of recorded sessions (stay scores, rates, decoding scores) with
        ``subject`` and ``session``: a session with a row in one of them is recorded.

    Returns
    -------
    pandas.DataFrame
        :func:`comparison_sessions` of the design restricted to the recorded sessions: each
        recorded inactivation and its neighbouring recorded controls (behaviour-only
        sessions, with no units, never enter the neural effects).
    """
    keys: set[Key] = set()
    for table in tables:
        if table is not None and len(table):
            keys |= set(zip(table["subject"], table["session"], strict=True))
    return comparison_sessions(_with_keys(design, keys))


# --- session scores ----------------------------------------------------------------------------
def _finite_mean(values: Sequence[float]) -> float:
    """Mean of the finite values; NaN, silently, when there is none.

    A session with no score in either epoch (too few trials of a class to decode) has none.
    """
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    return float(finite.mean()) if finite.size else np.nan


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
        cross-validated accuracy of stay), their standard errors ``ccgp_se`` and ``cv_se``
        (the permutation null's s.d., :func:`_null_sd`; of the mean over splits, which share
        their trials, the splits' mean s.d.; of ``all``, the two epochs' independent errors
        combined; NaN for an oracle table), ``n_units``.
    """
    rows = []
    for (subject, session), table in ccgp.items():
        for region, part in table.groupby("region", sort=True):
            epochs = {}
            for epoch, sub in part.groupby("epoch", sort=True):
                scores = {}
                for name in SCORE_COLUMNS:
                    rows_of = sub[sub["analysis"] == name]
                    scores[name] = float(rows_of[value].mean())
                    sd = _null_sd(rows_of) if value == "score" else np.full(len(rows_of), np.nan)
                    finite = sd[np.isfinite(sd)]
                    scores[se_column(name)] = float(finite.mean()) if finite.size else np.nan
                epochs[str(epoch)] = scores
            if epochs:
                combined = {k: _finite_mean([e[k] for e in epochs.values()]) for k in SCORE_COLUMNS}
                for k in SCORE_COLUMNS:
                    errors = np.array([e[se_column(k)] for e in epochs.values()])
                    combined[se_column(k)] = (
                        float(np.sqrt(np.sum(errors**2)) / errors.size)
                        if np.all(np.isfinite(errors))
                        else np.nan
                    )
                epochs["all"] = combined
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
    errors = [se_column(k) for k in SCORE_COLUMNS]
    return pd.DataFrame(
        rows,
        columns=["subject", "session", "region", "epoch", *SCORE_COLUMNS, *errors, "n_units"],
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
        (natural log of their mean firing rate, Hz; NaN without units), ``log_rate_se``
        (its standard error over the sampled units, by the delta method: the units' rate
        s.d. over the mean rate times the square root of their number; NaN below 2 units).
    """
    rows = []
    for (subject, session, region), table in metrics.items():
        kept = table[table["keep"].astype(bool)] if "keep" in table else table
        rates = kept["firing_rate"].to_numpy(float)
        rate = float(rates.mean()) if rates.size else float("nan")
        se = (
            float(rates.std(ddof=1) / (rate * np.sqrt(rates.size)))
            if rates.size >= 2 and rate > 0
            else float("nan")
        )
        rows.append(
            {
                "subject": subject,
                "session": session,
                "region": region,
                "n_units": int(len(kept)),
                "log_rate": float(np.log(rate)) if rate > 0 else float("nan"),
                se_column("log_rate"): se,
            }
        )
    return pd.DataFrame(
        rows,
        columns=["subject", "session", "region", "n_units", "log_rate", se_column("log_rate")],
    )


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
        ``subject``, ``session``, ``region``, ``variable``, ``time`` (the bin), ``decoding``,
        ``decoding_se`` (the bin's score interval, ``ci_low``/``ci_high`` of the decoding
        table, as a standard error: its width over 2 x 1.96; NaN without it, e.g. an oracle).
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
                    se_column("decoding"): (
                        float(part["ci_high"].iloc[primary] - part["ci_low"].iloc[primary])
                        / (2 * _Z975)
                        if value == "score" and {"ci_low", "ci_high"} <= set(part.columns)
                        else float("nan")
                    ),
                }
            )
    return pd.DataFrame(
        rows,
        columns=[
            "subject",
            "session",
            "region",
            "variable",
            "time",
            "decoding",
            se_column("decoding"),
        ],
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


# --- tables of the group rules -----------------------------------------------------------------
def with_truth(scores: pd.DataFrame, truth: pd.DataFrame | None, on: list[str]) -> pd.DataFrame:
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
    table = with_truth(scores, truth, [c for c in on if c in scores.columns])
    table = table.merge(
        design[["subject", "session", "condition", "learning_stage", "stage_index", "inactivated"]],
        on=["subject", "session"],
        how="left",
    )
    table.insert(2, "species", table["subject"].map(dict(species)))
    return table


def read_expected_trial2(paths: Mapping[Key, str | Path]) -> dict[Key, float]:
    """Read each session's planted expected trial-2 accuracy from its design truth.

    Parameters
    ----------
    paths : mapping
        (subject, session) -> the session's ``<s>_design.json`` (simulated study's ground
        truth, written by :mod:`panneuro.simulate.study`).

    Returns
    -------
    dict
        (subject, session) -> ``behaviour.expected_trial2_accuracy``, the ``expected`` of
        :func:`trial2_table`.
    """
    expected = {}
    for key, path in paths.items():
        with open(path) as handle:
            expected[key] = float(json.load(handle)["behaviour"]["expected_trial2_accuracy"])
    return expected


def trial2_table(
    events: Mapping[Key, pd.DataFrame],
    design: pd.DataFrame,
    expected: Mapping[Key, float] | None = None,
) -> pd.DataFrame:
    """Trial-2 outcomes of the behavioural inactivation contrast's sessions.

    Every inactivation session with a trial table, recorded or behaviour-only, and its
    neighbouring controls (:func:`comparison_sessions` of the sessions in ``events``: the
    nearest control of the same kind before and after it).

    Parameters
    ----------
    events : mapping
        (subject, session) -> trial table; sessions outside the contrast are ignored.
    design : pandas.DataFrame
        :func:`read_session_design`.
    expected : mapping, optional
        (subject, session) -> the planted expected trial-2 accuracy of the session
        (:func:`read_expected_trial2`).

    Returns
    -------
    pandas.DataFrame
        One row per trial 2: ``subject``, ``session``, ``learning_stage``, ``inactivated``,
        ``correct``, ``correct_truth`` (the expectation; NaN without ``expected``).
    """
    compare = comparison_sessions(_with_keys(design, set(events)))
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
        ``trial2_accuracy`` (and its truth), with the design columns; the sessions of the
        behavioural contrast (those of ``trials``) and of the neural one
        (:func:`neural_comparison_sessions`) only.
    """
    keys = ["subject", "session"]
    compare = (
        pd.concat([trials[keys], neural_comparison_sessions(design, scores, rates)[keys]])
        .astype(str)
        .drop_duplicates()
    )
    neural = with_truth(scores[scores["epoch"] == "all"], truth, [*keys, "region", "epoch"])
    rate = with_truth(rates, truth_rates, [*keys, "region"]).rename(
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


# --- what the group rules read -----------------------------------------------------------------
@dataclass(frozen=True)
class GroupInputs:
    """What both group analyses read of their sessions (:func:`read_group_inputs`).

    Attributes
    ----------
    sessions : list of (subject, session)
        The analysed sessions, in the rule's input order.
    species : dict
        Subject -> species.
    design : pandas.DataFrame
        :func:`read_session_design` of the sessions' subjects.
    scores : pandas.DataFrame
        :func:`session_stay_scores` of the sessions' cross-condition tables.
    oracle : dict
        (subject, session) -> the session's CCGP oracle table (empty without ground truth).
    truth : pandas.DataFrame or None
        :func:`session_stay_scores` of the oracle's tables (``value="truth"``); None without.
    """

    sessions: list[Key]
    species: dict[str, str]
    design: pd.DataFrame
    scores: pd.DataFrame
    oracle: dict[Key, pd.DataFrame]
    truth: pd.DataFrame | None


#: Appended to an ECoG grid's region in the group tables (its code is of high gamma, not units).
ECOG_LABEL = " (ECoG)"


def read_group_inputs(
    group: Mapping[str, Any],
    design: Sequence[str | os.PathLike],
    ccgp: Sequence[str | os.PathLike],
    oracle: Sequence[str | os.PathLike] = (),
    ecog_ccgp: Sequence[str | os.PathLike] = (),
    ecog_oracle: Sequence[str | os.PathLike] = (),
) -> GroupInputs:
    """Read a group analysis' sessions, design, stay scores and their planted truth.

    Parameters
    ----------
    group : mapping
        The rule's ``params.group`` (:meth:`panneuro.study.Study.stage_effects_params`):
        ``sessions`` ([subject, session] pairs, the order of ``ccgp`` and ``oracle``) and
        ``species`` (subject -> species).
    design : sequence of path-like
        The subjects' ``sub-X_sessions.tsv`` (:func:`read_session_design`).
    ccgp : sequence of path-like
        Each session's ``results/decoding/sub-X_ses-Y_ccgp.tsv``.
    oracle : sequence of path-like
        Each session's ``_ccgp_oracle.tsv`` (simulated study); empty without ground truth.
    ecog_ccgp, ecog_oracle : sequence of path-like
        The same of the ECoG sessions (``group["ecog_sessions"]``, in that order;
        :mod:`panneuro.ecog.stay_code`), their regions labelled ``<region> (ECoG)``
        (:data:`ECOG_LABEL`): a grid's high-gamma code is never pooled with units of the same
        region, and a session with units and ECoG has both.

    Returns
    -------
    GroupInputs
        The sessions as tuples (with units, then ECoG only), the species, design, stay scores
        and, with ``oracle``, the units' oracle tables and the stay scores of every oracle table.
    """
    sessions = [tuple(k) for k in group["sessions"]]
    ecog = [tuple(k) for k in group.get("ecog_sessions", [])]

    def tables_of(keys: list, paths: Sequence, label: str = "") -> dict:
        if not paths:
            return {}
        tables = {k: read_tsv(p) for k, p in zip(keys, paths, strict=True)}
        return {k: t.assign(region=t["region"].astype(str) + label) for k, t in tables.items()}

    def merged(*parts: dict) -> dict:
        out: dict = {}
        for part in parts:
            for key, table in part.items():
                out[key] = pd.concat([out[key], table], ignore_index=True) if key in out else table
        return out

    tables = tables_of(sessions, oracle)
    truths = merged(tables, tables_of(ecog, ecog_oracle, ECOG_LABEL))
    scores = merged(tables_of(sessions, ccgp), tables_of(ecog, ecog_ccgp, ECOG_LABEL))
    return GroupInputs(
        sessions=[*sessions, *(k for k in ecog if k not in sessions)],
        species=dict(group["species"]),
        design=read_session_design(list(design)),
        scores=session_stay_scores(scores),
        oracle=tables,
        truth=session_stay_scores(truths, value="truth") if truths else None,
    )
