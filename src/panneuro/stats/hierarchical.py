"""Hierarchical bootstrap of a group effect across subjects, sessions and (optionally) trials.

The study's units of replication are nested: trials in sessions, sessions in subjects. A
group effect (the slope of a session score on learning stage, after minus before, inactivated
minus control) is estimated **within** each subject and averaged over subjects, which weigh
equally. Its 95 % interval resamples the hierarchy (Saravanan, Berman & Sober 2020): subjects
with replacement, then sessions with replacement within each drawn subject, then (optionally)
trials within each drawn session, and takes the percentile interval of the resampled effects.

No library does this: ``scipy.stats.bootstrap`` resamples one level, and
:mod:`panneuro.decoding.group` holds a two-level loop for decoding time courses only. It is
written here vectorised over resamples: a resample is a matrix of *multiplicities* (how often
each row was drawn), made with multinomial draws level by level (the sum of ``c`` independent
multinomial draws of ``n`` out of ``n`` equally likely items is one multinomial draw of
``c * n``), and each effect is a weighted statistic of its rows (:class:`MeanEffect`,
:class:`SlopeEffect`, :class:`DifferenceEffect`), so 2000 resamples cost a few matrix
products.

Measured on null data (``bench/bench_group_calibration.py``, 2000 nulls, 5 % level),
resampling sessions within resampled subjects counts the session-level noise twice for an
effect estimated within subjects (it is already in the spread of the subjects' effects), so
the interval is conservative when the subjects share one true effect (slope on stage, 6
subjects: 1.9 %; inactivated minus control, sessions resampled: 2.2 %, trials too: 0.5 % of
400); when the subjects' true effects differ it is about right with 6 subjects (6.3 %) and
too narrow with 3 (8.7 %) and with 2 (12.8 % of 400 nulls; reactivation EV - REV of 2
subjects x 3 sessions: 11.8 %; inactivated minus control, sessions resampled: 9.5 %; measured
2026-12-06, ``--subjects 2``). With 2 subjects (the consortium's macaques) the bootstrap
interval is therefore a statement about these two animals, not about the population they come
from. :func:`subject_t_test` (the summary-statistics test: one effect per subject, Student's t
over subjects) holds the level in all of these (4.5-7.3 %) and is the reference beside it.

When a subject has a single session in a condition (one inactivation beside one control, one
session per learning stage), resampling its sessions cannot show that session's sampling error:
the resampled sessions are the same numbers, or a condition is lost. On null data with 2
subjects x one control and one treated session, the interval excluded 0 in 47.8 % of 400
simulations (``one_session`` in the benchmark, 2026-12-06). ``se`` (a column of each row's
standard error) redraws each row's value from it in every resample, a parametric bottom level;
with subjects resampled (``levels=1``) that gave 1.25 % [0.41, 2.89] (conservative: the subjects'
spread holds the session error too), and 1.25-1.5 % for the slope with one session per stage
(:func:`panneuro.stats.design_effects.effect_rows` chooses it in those cases).

A resample in which a subject's effect is undefined (e.g. every drawn session at the same
learning stage, so no slope) leaves that subject out of that resample's average; the share of
resamples where the whole effect is undefined is reported (``undefined``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd
from scipy import stats


class SubjectEffect(Protocol):
    """A within-subject effect computed from one subject's rows under resampling weights."""

    columns: tuple[str, ...]

    def __call__(
        self, rows: pd.DataFrame, weights: np.ndarray, values: np.ndarray | None = None
    ) -> np.ndarray:
        """Return the effect per resample, shape (resamples,), from weights (resamples, rows).

        ``values`` (resamples, rows), when given, replaces the value column (``columns[0]``)
        in each resample (the parametric level of :func:`hierarchical_bootstrap`'s ``se``).
        """
        ...


def _weighted_mean(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted mean per resample of a vector (rows,) or a matrix (resamples, rows)."""
    total = weights.sum(axis=1)
    summed = weights @ values if values.ndim == 1 else np.sum(weights * values, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, summed / np.where(total > 0, total, 1), np.nan)


def _values(rows: pd.DataFrame, column: str, values: np.ndarray | None) -> np.ndarray:
    return rows[column].to_numpy(float) if values is None else values


@dataclass(frozen=True)
class MeanEffect:
    """The subject's mean of ``value`` (e.g. a per-session difference score).

    Parameters
    ----------
    value : str
        Column averaged.
    """

    value: str

    @property
    def columns(self) -> tuple[str, ...]:
        """Columns the effect reads."""
        return (self.value,)

    def __call__(
        self, rows: pd.DataFrame, weights: np.ndarray, values: np.ndarray | None = None
    ) -> np.ndarray:
        """Weighted mean per resample."""
        return _weighted_mean(_values(rows, self.value, values), weights)


@dataclass(frozen=True)
class SlopeEffect:
    """The subject's least-squares slope of ``value`` on ``predictor`` (e.g. learning stage).

    Parameters
    ----------
    value : str
        Response column (e.g. a session's CCGP).
    predictor : str
        Predictor column (e.g. the learning stage 0, 1, 2).
    """

    value: str
    predictor: str

    @property
    def columns(self) -> tuple[str, ...]:
        """Columns the effect reads."""
        return (self.value, self.predictor)

    def __call__(
        self, rows: pd.DataFrame, weights: np.ndarray, values: np.ndarray | None = None
    ) -> np.ndarray:
        """Weighted slope per resample; NaN where the drawn predictor does not vary."""
        x = rows[self.predictor].to_numpy(float)
        y = _values(rows, self.value, values)
        mx = _weighted_mean(x, weights)[:, None]
        my = _weighted_mean(y, weights)[:, None]
        sxx = np.sum(weights * (x - mx) ** 2, axis=1)
        sxy = np.sum(weights * (x - mx) * (y - my), axis=1)
        scale = np.maximum(weights.sum(axis=1), 1) * max(float(np.var(x)), 1e-300)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(sxx > 1e-9 * scale, sxy / sxx, np.nan)


@dataclass(frozen=True)
class DifferenceEffect:
    """The subject's mean of ``value`` where ``condition == treated`` minus where it is not.

    After minus before, inactivated minus control.

    Parameters
    ----------
    value : str
        Column compared.
    condition : str
        Column naming the condition of each row.
    treated : object
        The condition value counted as treated (the others are the reference).
    """

    value: str
    condition: str
    treated: object = 1

    @property
    def columns(self) -> tuple[str, ...]:
        """Columns the effect reads."""
        return (self.value, self.condition)

    def __call__(
        self, rows: pd.DataFrame, weights: np.ndarray, values: np.ndarray | None = None
    ) -> np.ndarray:
        """Weighted difference of means per resample; NaN if a condition was not drawn."""
        y = _values(rows, self.value, values)
        treated = (rows[self.condition] == self.treated).to_numpy()
        return _weighted_mean(y[..., treated], weights[:, treated]) - _weighted_mean(
            y[..., ~treated], weights[:, ~treated]
        )


@dataclass(frozen=True)
class BootstrapResult:
    """A hierarchical bootstrap's estimate, interval and resampled distribution.

    Attributes
    ----------
    estimate : float
        The effect on the data: the mean over subjects of each subject's effect.
    ci_low, ci_high : float
        Percentile interval of the resampled effects.
    p_value : float
        Two-sided bootstrap p-value of "no effect": twice the smaller share of resamples on
        either side of 0, at least ``1 / resamples`` (the interval excludes 0 at level
        ``1 - confidence`` about when ``p_value`` is below it).
    distribution : numpy.ndarray
        The resampled effects (NaN where undefined).
    undefined : float
        Share of resamples where the effect was undefined.
    n_subjects, n_sessions, n_rows : int
        Size of the hierarchy.
    """

    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    distribution: np.ndarray
    undefined: float
    n_subjects: int
    n_sessions: int
    n_rows: int

    def covers(self, value: float) -> bool:
        """Whether the interval holds ``value``."""
        return bool(self.ci_low <= value <= self.ci_high)


def _multinomial_counts(rng: np.random.Generator, draws: np.ndarray, n_items: int) -> np.ndarray:
    """Draw counts (resamples, n_items) of ``draws[r]`` equally likely picks of ``n_items``."""
    return rng.multinomial(draws, np.full(n_items, 1.0 / n_items))


def hierarchical_weights(
    table: pd.DataFrame,
    rng: np.random.Generator,
    n_resamples: int,
    *,
    subject: str = "subject",
    session: str | None = "session",
    levels: int = 2,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Multiplicities of each row and subject under hierarchical resampling.

    Subjects are drawn with replacement (``levels=1``: every row of a drawn subject is kept,
    the cluster bootstrap); with ``levels >= 2`` each drawn subject draws as many of its
    sessions with replacement as it has; with ``levels=3`` each drawn session draws as many of
    its rows with replacement as it has. With ``session=None`` each row is its own session.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per lowest unit (a session, or a trial of a session).
    rng : numpy.random.Generator
        The generator (:func:`panneuro.seeding.rng_for`).
    n_resamples : int
        Number of resamples.
    subject, session : str
        Columns naming each row's subject and session (sessions are nested in subjects:
        the same session label in two subjects is two sessions).
    levels : {1, 2, 3}
        How many levels are resampled: subjects; subjects and sessions; subjects, sessions
        and the rows (trials) within sessions. Below the last resampled level every row of a
        drawn unit is kept.

    Returns
    -------
    subjects : numpy.ndarray
        Subject labels, sorted.
    subject_counts : numpy.ndarray
        Shape (n_resamples, n_subjects): how often each subject was drawn.
    row_weights : numpy.ndarray
        Shape (n_resamples, rows): how often each row was drawn, in ``table``'s order.
    """
    if levels not in (1, 2, 3):
        raise ValueError(f"levels must be 1, 2 or 3, not {levels}.")
    subj = table[subject].astype(str).to_numpy()
    subjects, subj_index = np.unique(subj, return_inverse=True)
    n_rows = len(table)
    counts = _multinomial_counts(rng, np.full(n_resamples, len(subjects)), len(subjects))
    weights = np.zeros((n_resamples, n_rows))
    sess = (
        np.arange(n_rows).astype(str) if session is None else table[session].astype(str).to_numpy()
    )
    for s in range(len(subjects)):
        rows_s = np.flatnonzero(subj_index == s)
        if levels == 1:
            weights[:, rows_s] = counts[:, s][:, None]
            continue
        names, sess_index = np.unique(sess[rows_s], return_inverse=True)
        sess_counts = _multinomial_counts(rng, counts[:, s] * len(names), len(names))
        for j in range(len(names)):
            rows_j = rows_s[sess_index == j]
            if levels == 3 and len(rows_j) > 1:
                weights[:, rows_j] = _multinomial_counts(
                    rng, sess_counts[:, j] * len(rows_j), len(rows_j)
                )
            else:
                weights[:, rows_j] = sess_counts[:, j][:, None]
    return subjects, counts, weights


def _group_effect(
    table: pd.DataFrame,
    effect: SubjectEffect,
    subj_index: np.ndarray,
    n_subjects: int,
    counts: np.ndarray,
    weights: np.ndarray,
    values: np.ndarray | None = None,
) -> np.ndarray:
    per_subject = np.full(counts.shape, np.nan)
    for s in range(n_subjects):
        rows_s = np.flatnonzero(subj_index == s)
        if values is None:
            per_subject[:, s] = effect(table.iloc[rows_s], weights[:, rows_s])
        else:
            per_subject[:, s] = effect(table.iloc[rows_s], weights[:, rows_s], values[:, rows_s])
    used = np.where(np.isfinite(per_subject), counts, 0.0)
    total = used.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(
            total > 0,
            np.nansum(used * np.nan_to_num(per_subject), axis=1) / np.where(total > 0, total, 1),
            np.nan,
        )


def hierarchical_bootstrap(
    table: pd.DataFrame,
    effect: SubjectEffect,
    rng: np.random.Generator,
    *,
    subject: str = "subject",
    session: str | None = "session",
    levels: int = 2,
    se: str | None = None,
    n_resamples: int = 2000,
    confidence_level: float = 0.95,
) -> BootstrapResult:
    """Estimate a group effect and its hierarchical percentile bootstrap interval.

    With ``se``, the lowest level is also drawn parametrically: in every resample each row's
    value (the effect's first column) is redrawn as ``value + se * z``, ``z`` standard
    normal, ``se`` the row's own standard error (e.g. a session score's, from its permutation
    null). That is the sampling error of a session score, which resampling sessions cannot
    see when a subject has one session in a condition (one inactivation and one control: the
    resampled sessions are then the same two numbers, or a condition is missing). Use it with
    ``levels=1`` there (:func:`panneuro.stats.design_effects.effect_rows` does): with
    sessions also resampled the session noise would be counted twice.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per session (or per trial), with the subject, session and the effect's
        columns.
    effect : SubjectEffect
        The within-subject effect (:class:`MeanEffect`, :class:`SlopeEffect`,
        :class:`DifferenceEffect`, or any callable of the same shape).
    rng : numpy.random.Generator
        The generator, e.g. ``rng_for(config["seed"], "stats", "inactivation")``.
    subject, session : str
        Columns of the hierarchy (``session=None``: rows directly within subjects).
    levels : {1, 2, 3}
        Levels resampled (:func:`hierarchical_weights`): 2, subjects then sessions, is the
        default; 3 adds the trials of trial-level tables; 1 resamples subjects only.
    se : str, optional
        Column of each row's standard error of the value (non-negative; NaN counts as 0):
        the parametric level above.
    n_resamples : int
        Bootstrap resamples.
    confidence_level : float
        Coverage of the interval.

    Returns
    -------
    BootstrapResult
        Estimate, interval, p-value and the resampled distribution.
    """
    missing = sorted(
        {subject, *([session] if session else []), *([se] if se else []), *effect.columns}
        - set(table.columns)
    )
    if missing:
        raise ValueError(f"the table lacks column(s) {missing} for the hierarchical bootstrap.")
    if not 0 < confidence_level < 1:
        raise ValueError(f"confidence_level must be in (0, 1), not {confidence_level}.")
    table = table.reset_index(drop=True)
    subjects, counts, weights = hierarchical_weights(
        table, rng, n_resamples, subject=subject, session=session, levels=levels
    )
    subj_index = np.searchsorted(subjects, table[subject].astype(str).to_numpy())
    ones_counts = np.ones((1, len(subjects)))
    estimate = float(
        _group_effect(
            table, effect, subj_index, len(subjects), ones_counts, np.ones((1, len(table)))
        )[0]
    )
    values = None
    if se is not None:
        sd = np.nan_to_num(table[se].to_numpy(float), nan=0.0)
        if np.any(sd < 0):
            raise ValueError(f"column {se!r} holds negative standard errors.")
        centre = table[effect.columns[0]].to_numpy(float)
        values = centre + sd * rng.standard_normal((n_resamples, len(table)))
    boot = _group_effect(table, effect, subj_index, len(subjects), counts, weights, values)
    finite = boot[np.isfinite(boot)]
    tail = (1 - confidence_level) / 2
    if finite.size:
        low, high = np.quantile(finite, [tail, 1 - tail])
        p = 2 * min(np.mean(finite <= 0), np.mean(finite >= 0))
        p = float(min(1.0, max(p, 1.0 / finite.size)))
    else:
        low = high = p = float("nan")
    n_sessions = len(table.groupby([subject, session])) if session else len(table)
    return BootstrapResult(
        estimate=estimate,
        ci_low=float(low),
        ci_high=float(high),
        p_value=p,
        distribution=boot,
        undefined=float(np.mean(~np.isfinite(boot))),
        n_subjects=len(subjects),
        n_sessions=n_sessions,
        n_rows=len(table),
    )


@dataclass(frozen=True)
class SubjectTest:
    """The summary-statistics test of a group effect: Student's t over subjects' effects.

    Attributes
    ----------
    estimate : float
        Mean of the subjects' effects.
    ci_low, ci_high : float
        The t interval.
    p_value : float
        Two-sided p-value of "mean effect = 0".
    subject_effects : numpy.ndarray
        One effect per subject (sorted subject labels), NaN where undefined.
    n_subjects : int
        Subjects with a defined effect.
    """

    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    subject_effects: np.ndarray
    n_subjects: int

    def covers(self, value: float) -> bool:
        """Whether the interval holds ``value``."""
        return bool(self.ci_low <= value <= self.ci_high)


def subject_t_test(
    table: pd.DataFrame,
    effect: SubjectEffect,
    *,
    subject: str = "subject",
    confidence_level: float = 0.95,
) -> SubjectTest:
    """Test a group effect by Student's t over the subjects' own effects (``scipy.stats``).

    Each subject's effect is computed from all its rows (the same :class:`SubjectEffect` as
    the bootstrap); the subjects are the replication units (Holmes & Friston 1998). Exact
    for normal effects whatever the within-subject noise; it needs at least two subjects.

    Parameters
    ----------
    table : pandas.DataFrame
        Rows of sessions or trials with the subject and the effect's columns.
    effect : SubjectEffect
        The within-subject effect.
    subject : str
        Subject column.
    confidence_level : float
        Coverage of the interval.

    Returns
    -------
    SubjectTest
        Estimate, t interval, p-value and the subjects' effects.
    """
    missing = sorted({subject, *effect.columns} - set(table.columns))
    if missing:
        raise ValueError(f"the table lacks column(s) {missing} for the subject t test.")
    table = table.reset_index(drop=True)
    labels = table[subject].astype(str).to_numpy()
    effects = np.array(
        [
            effect(table[labels == name], np.ones((1, int(np.sum(labels == name)))))[0]
            for name in np.unique(labels)
        ]
    )
    finite = effects[np.isfinite(effects)]
    if finite.size < 2:
        nan = float("nan")
        return SubjectTest(nan, nan, nan, nan, effects, int(finite.size))
    res = stats.ttest_1samp(finite, 0.0)
    ci = res.confidence_interval(confidence_level)
    return SubjectTest(
        estimate=float(finite.mean()),
        ci_low=float(ci.low),
        ci_high=float(ci.high),
        p_value=float(res.pvalue),
        subject_effects=effects,
        n_subjects=int(finite.size),
    )
