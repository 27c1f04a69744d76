"""Cross-condition generalisation performance (CCGP) of an abstract variable.

Bernardi et al. (2020, Cell) call a variable *abstract* when a linear decoder trained on the
trials of one condition generalises to the trials of another. Here the decoder of ``stay``
(repeat the previous trial's object) is trained on the trials of one condition — one choice
side, or one half of the problems' object pairs (alternate problems) — and tested on the other;
the score is the mean over the two directions. It is computed separately in the early and late
half of the session's problems (the code's gain grows with learning), next to the ordinary
within-epoch cross-validated accuracy (``analysis = "cv"``). The null reruns everything on
``stay`` labels permuted within problems (:func:`panneuro.stats.permutation.permuted_labels`).

The decoder is the time-resolved decoding's (:mod:`panneuro.decoding.time_resolved`:
standardisation, shrinkage LDA with the classes' covariances pooled by their training counts,
equal-prior threshold), solved in closed form for the observed and every permuted label vector
at once (:func:`panneuro.decoding.time_resolved.hits_for_splits`; scikit-learn per label vector
for ``shrinkage="auto"``), and the ``cv`` folds are split once on the observed labels and kept
for the null, as there. Until 2026-12-07 both analyses refitted scikit-learn's
``LinearDiscriminantAnalysis(priors=[0.5, 0.5])`` per label vector (the classes' covariances
pooled 1/2 : 1/2, folds re-split per permutation): the same decoder when the training classes
are balanced, and 1800 fits a session's oracle, most of its time in scikit-learn's input checks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from panneuro.decoding.populations import population_counts, stack_tables
from panneuro.decoding.time_resolved import fold_splits, hits_for_splits, scores_for_splits
from panneuro.seeding import rng_for
from panneuro.simulate.task import task_variables
from panneuro.stats.permutation import permutation_p_values, permuted_labels

#: Columns of the cross-condition table (``results/decoding/sub-X_ses-Y_ccgp.tsv``).
CCGP_COLUMNS: tuple[str, ...] = (
    "region",
    "n_units",
    "variable",
    "epoch",
    "condition",
    "analysis",
    "align",
    "window_start",
    "window_stop",
    "n_trials",
    "score",
    "null_mean",
    "null_q95",
    "p_value",
)


def cross_condition_generalisation(
    counts: np.ndarray,
    labels: np.ndarray,
    condition: np.ndarray,
    *,
    shrinkage: float | str = 0.1,
) -> float:
    """Train on one condition, test on the other, average the two directions.

    Parameters
    ----------
    counts : numpy.ndarray
        Spike counts, shape (trials, units).
    labels : numpy.ndarray
        0/1 label of the decoded variable per trial.
    condition : numpy.ndarray
        0/1 condition per trial (e.g. choice side).
    shrinkage : float or "auto"
        LDA covariance shrinkage.

    Returns
    -------
    float
        Mean balanced accuracy over the two train→test directions; NaN when a condition lacks
        two trials of each class to train on or one of each to test on.
    """
    labels = np.asarray(labels).astype(int)
    return float(cross_condition_scores(counts, labels[None], condition, shrinkage=shrinkage)[0])


def cross_condition_scores(
    counts: np.ndarray,
    label_sets: np.ndarray,
    condition: np.ndarray,
    *,
    shrinkage: float | str = 0.1,
) -> np.ndarray:
    """:func:`cross_condition_generalisation` of many label vectors at once.

    Parameters
    ----------
    counts : numpy.ndarray
        Spike counts, shape (trials, units).
    label_sets : numpy.ndarray
        0/1 label vectors, shape (label sets, trials): the observed and the permuted.
    condition : numpy.ndarray
        0/1 condition per trial.
    shrinkage : float or "auto"
        LDA covariance shrinkage.

    Returns
    -------
    numpy.ndarray
        Shape (label sets,); NaN for a label vector whose conditions lack two trials of each
        class to train on or one of each to test on.
    """
    x = np.asarray(counts, dtype=float)[:, :, None]
    label_sets = np.asarray(label_sets).astype(int)
    condition = np.asarray(condition).astype(int)
    total = np.zeros(len(label_sets))
    valid = np.ones(len(label_sets), dtype=bool)
    for train_condition in (0, 1):
        train = np.flatnonzero(condition == train_condition)
        test = np.flatnonzero(condition != train_condition)
        train_1, test_1 = label_sets[:, train].sum(axis=1), label_sets[:, test].sum(axis=1)
        train_0, test_0 = len(train) - train_1, len(test) - test_1
        valid &= (np.minimum(train_0, train_1) >= 2) & (np.minimum(test_0, test_1) >= 1)
        hits_1, hits_0 = hits_for_splits(
            x, label_sets, [(train, test)], shrinkage, np.array([0]), False
        )
        total += (hits_1[:, 0] / np.maximum(test_1, 1) + hits_0[:, 0] / np.maximum(test_0, 1)) / 2
    return np.where(valid, total / 2, np.nan)


def cross_condition_table(
    counts: np.ndarray,
    labels: np.ndarray,
    conditions: Mapping[str, np.ndarray],
    epochs: np.ndarray,
    groups: np.ndarray,
    *,
    rng: np.random.Generator,
    n_permutations: int = 50,
    n_folds: int = 5,
    shrinkage: float | str = 0.1,
) -> pd.DataFrame:
    """CCGP per epoch and condition split, and within-epoch CV accuracy, with their nulls.

    Parameters
    ----------
    counts : numpy.ndarray
        Spike counts in one window, shape (trials, units).
    labels : numpy.ndarray
        0/1 label per trial (no NaN).
    conditions : mapping
        Name → 0/1 condition per trial for each split (e.g. ``{"choice": ..., "object_pair":
        ...}``).
    epochs : numpy.ndarray
        Epoch name per trial (e.g. ``"early"``/``"late"``); each epoch is analysed on its own.
    groups : numpy.ndarray
        Problem per trial (blocks of the permutation).
    rng : numpy.random.Generator
        Draws fold seeds and permutations.
    n_permutations, n_folds : int
        Null size and CV folds (folds reduced to the rarer class count when needed).
    shrinkage : float or "auto"
        LDA covariance shrinkage.

    Returns
    -------
    pandas.DataFrame
        Columns ``epoch``, ``condition`` (the split, or ``"none"`` for ``cv``), ``analysis``
        (``ccgp`` or ``cv``), ``n_trials``, ``score``, ``null_mean``, ``null_q95``, ``p_value``.
    """
    counts = np.asarray(counts, dtype=float)
    labels = np.asarray(labels).astype(int)
    epochs = np.asarray(epochs)
    groups = np.asarray(groups)
    rows = []
    for epoch in pd.unique(epochs):
        sel = epochs == epoch
        x, y, g = counts[sel], labels[sel], groups[sel]
        label_sets = np.vstack([y[None, :], permuted_labels(y, g, n_permutations, rng)])
        fold_seed = int(rng.integers(2**31 - 1))
        analyses: dict[tuple[str, str], np.ndarray] = {}
        for name, cond in conditions.items():
            analyses[("ccgp", name)] = cross_condition_scores(
                x, label_sets, np.asarray(cond)[sel], shrinkage=shrinkage
            )
        min_class = np.bincount(y, minlength=2).min()
        if min_class >= 2:
            splits = fold_splits(y, int(min(n_folds, min_class)), fold_seed)
            analyses[("cv", "none")] = scores_for_splits(
                x[:, :, None], label_sets, splits, shrinkage, np.array([0]), False
            )[:, 0]
        else:
            analyses[("cv", "none")] = np.full(len(label_sets), np.nan)
        for (analysis, name), values in analyses.items():
            observed, null = float(values[0]), np.asarray(values[1:], dtype=float)
            finite = null[np.isfinite(null)]
            rows.append(
                {
                    "epoch": epoch,
                    "condition": name,
                    "analysis": analysis,
                    "n_trials": int(sel.sum()),
                    "score": observed,
                    "null_mean": float(finite.mean()) if finite.size else np.nan,
                    "null_q95": float(np.quantile(finite, 0.95)) if finite.size else np.nan,
                    "p_value": _p(observed, finite),
                }
            )
    return pd.DataFrame(
        rows,
        columns=[
            "epoch",
            "condition",
            "analysis",
            "n_trials",
            "score",
            "null_mean",
            "null_q95",
            "p_value",
        ],
    )


def _p(observed: float, null: np.ndarray) -> float:
    if not np.isfinite(observed) or null.size == 0:
        return float("nan")
    return float(permutation_p_values(np.asarray(observed), null.reshape(-1)))


def session_conditions(events: pd.DataFrame) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Condition splits and early/late epochs of a session's trials.

    Parameters
    ----------
    events : pandas.DataFrame
        The trial table.

    Returns
    -------
    conditions : dict
        ``choice`` (1 = right) and ``object_pair`` (1 on every other problem of the session,
        so both halves of the object pairs span the whole session).
    epochs : numpy.ndarray
        ``"early"`` for trials of the first half of the session's problems, else ``"late"``.
    """
    problem = events["problem"].to_numpy()
    order = {p: i for i, p in enumerate(pd.unique(problem))}
    rank = np.array([order[p] for p in problem])
    n_problems = len(order)
    conditions = {
        "choice": (events["choice"] == "right").to_numpy(dtype=int),
        "object_pair": rank % 2,
    }
    epochs = np.where(rank < n_problems / 2, "early", "late")
    return conditions, epochs


@dataclass(frozen=True)
class CrossConditionDesign:
    """What the config asks of a session's CCGP analysis (:func:`cross_condition_design`).

    Attributes
    ----------
    variable : str
        The decoded variable (``stay``).
    window : list of float
        Its window, seconds from ``event``.
    event : str
        The alignment event (``response``).
    labels : numpy.ndarray
        The variable per trial (NaN where undefined).
    conditions : dict
        Every condition split of the session (:func:`session_conditions`).
    epochs : numpy.ndarray
        ``early``/``late`` per trial.
    wanted : list of str
        The splits the config asks for.
    """

    variable: str
    window: list[float]
    event: str
    labels: np.ndarray
    conditions: dict[str, np.ndarray]
    epochs: np.ndarray
    wanted: list[str]


def cross_condition_design(events: pd.DataFrame, settings: Mapping) -> CrossConditionDesign:
    """Read the CCGP analysis the config asks for, on a session's trials.

    Parameters
    ----------
    events : pandas.DataFrame
        The trial table.
    settings : mapping
        ``config["decoding"]``: ``cross_condition`` (``variable``, ``window``, ``conditions``)
        and ``align``.

    Returns
    -------
    CrossConditionDesign
        The variable, window, alignment, labels, splits and epochs.

    Raises
    ------
    ValueError
        If the variable or a split is unknown (naming the config key).
    """
    cc = settings.get("cross_condition", {})
    variable = cc.get("variable", "stay")
    variables = task_variables(events)
    if variable not in variables.columns:
        raise ValueError(
            f"config['decoding']['cross_condition']['variable'] is {variable!r}; "
            f"choose from {list(variables.columns)}."
        )
    conditions, epochs = session_conditions(events)
    wanted = list(cc.get("conditions", list(conditions)))
    unknown = [c for c in wanted if c not in conditions]
    if unknown:
        raise ValueError(
            f"config['decoding']['cross_condition']['conditions'] names {unknown}; "
            f"choose from {list(conditions)}."
        )
    return CrossConditionDesign(
        variable=variable,
        window=[float(w) for w in cc.get("window", [-0.3, 0.0])],
        event=settings.get("align", {}).get(variable, "response"),
        labels=variables[variable].to_numpy(dtype=float),
        conditions=conditions,
        epochs=epochs,
        wanted=wanted,
    )


def session_cross_condition(
    units: pd.DataFrame,
    spike_times: Sequence[np.ndarray],
    events: pd.DataFrame,
    settings: Mapping,
    *,
    seed: int,
    keys: Sequence[str | int] = (),
) -> pd.DataFrame:
    """CCGP of the abstract variable for each region of a session.

    Parameters
    ----------
    units : pandas.DataFrame
        Units (``region`` column), in the order of ``spike_times``.
    spike_times : sequence of numpy.ndarray
        Spike times, seconds on the events' clock.
    events : pandas.DataFrame
        The trial table.
    settings : mapping
        ``config["decoding"]``: ``cross_condition`` (``variable``, ``window``, ``conditions``),
        ``align``, ``n_folds``, ``n_permutations``, ``shrinkage``, ``min_units``.
    seed : int
        The project seed (``rng_for(seed, "ccgp", *keys, region)``).
    keys : sequence
        Session names for the seed.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`CCGP_COLUMNS`.
    """
    design = cross_condition_design(events, settings)
    variable, window, event = design.variable, design.window, design.event
    conditions, epochs, wanted = design.conditions, design.epochs, design.wanted
    y = design.labels
    keep = ~np.isnan(y)
    groups = events["problem"].to_numpy()
    width = window[1] - window[0]
    parts = []
    for pop in population_counts(
        units,
        spike_times,
        events,
        {variable: event},
        window=window,
        bin_size=width,
        step=width,
        min_units=int(settings.get("min_units", 1)),
    ):
        table = cross_condition_table(
            pop.counts[keep, :, 0],
            y[keep].astype(int),
            {c: conditions[c][keep] for c in wanted},
            epochs[keep],
            groups[keep],
            rng=rng_for(seed, "ccgp", *keys, pop.region),
            n_permutations=int(settings["n_permutations"]),
            n_folds=int(settings["n_folds"]),
            shrinkage=settings.get("shrinkage", 0.1),
        )
        table = pop.label(table)
        table["window_start"] = window[0]
        table["window_stop"] = window[1]
        parts.append(table)
    return stack_tables(parts, CCGP_COLUMNS)
