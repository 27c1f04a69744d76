"""Reactivation of the task's co-firing patterns during sleep ripples.

Spike counts come from pynapple (:func:`event_counts`: one count per unit and ripple, or per
bin of the task epoch, ``TsGroup.count``). Two measures of reactivation are computed from them:

* **Explained variance** (Kudrimoti, Barnes & McNaughton 1999): the pairwise correlations of
  the units during the task (T), the sleep before it (S1) and after it (S2) are correlated
  across pairs (``r_T,S2`` etc.), and ``EV`` is the squared partial correlation of T and S2
  given S1; the reverse ``REV`` (T and S1 given S2) is its control. Reactivation is
  ``EV > REV`` (:func:`explained_variance`).
* **Assembly templates** (Lopes-dos-Santos, Ribeiro & Tort 2013; Peyrache et al. 2009): the
  task's z-scored counts are decomposed by PCA; components whose eigenvalue exceeds the
  Marchenko–Pastur bound of independent units are kept and unmixed by fast ICA into assembly
  patterns; an assembly's strength in a sleep bin is ``z' P z`` with ``P`` the pattern's outer
  product, diagonal removed (:func:`assembly_patterns`, :func:`assembly_strength`).

Neither elephant nor pynapple implements either measure: elephant's assembly methods (CAD,
SPADE, ASSET) find repeated spike patterns without a template-matching strength, and its
correlation matrices need contiguous binned trains, not one count per ripple; pynapple has no
reactivation module. So the measures are written here on numpy and scikit-learn (PCA by
``numpy.linalg.eigh``, ``sklearn.decomposition.FastICA``); pynapple does the epoch-restricted
counting.

The test of "post > pre" (:func:`reactivation_test`) permutes the sleep events between the
epochs before and after the task: under the null that the ripples of both epochs are
exchangeable, the statistic's permutation distribution is exact (``p = (1 + #{null >=
observed}) / (1 + n)``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import pynapple as nap


def event_counts(
    spike_times: Mapping[object, np.ndarray], epochs: nap.IntervalSet | pd.DataFrame
) -> np.ndarray:
    """Count each unit's spikes in each interval of an epoch set (pynapple).

    Parameters
    ----------
    spike_times : mapping
        Unit id -> spike times (s).
    epochs : pynapple.IntervalSet or pandas.DataFrame
        The intervals (ripples, or bins); a DataFrame needs ``start_time``/``end_time``.

    Returns
    -------
    numpy.ndarray
        Counts, shape (intervals, units), units in the mapping's order.
    """
    import pynapple as nap

    if isinstance(epochs, pd.DataFrame):
        epochs = nap.IntervalSet(
            start=epochs["start_time"].to_numpy(float), end=epochs["end_time"].to_numpy(float)
        )
    group = nap.TsGroup(
        {i: nap.Ts(np.asarray(t, float)) for i, t in enumerate(spike_times.values())}
    )
    return np.asarray(group.count(ep=epochs), dtype=float)


def binned_counts(
    spike_times: Mapping[object, np.ndarray], start: float, end: float, bin_size: float
) -> np.ndarray:
    """Count each unit's spikes in bins of an epoch (pynapple ``TsGroup.count``).

    Parameters
    ----------
    spike_times : mapping
        Unit id -> spike times (s).
    start, end : float
        The epoch (s), e.g. the task.
    bin_size : float
        Bin width (s); 0.1 s is usual for explained variance.

    Returns
    -------
    numpy.ndarray
        Counts, shape (bins, units).
    """
    import pynapple as nap

    group = nap.TsGroup(
        {i: nap.Ts(np.asarray(t, float)) for i, t in enumerate(spike_times.values())}
    )
    return np.asarray(group.count(bin_size, ep=nap.IntervalSet(start, end)), dtype=float)


def _pair_correlations(counts: np.ndarray) -> np.ndarray:
    """Pearson correlation of every unit pair (upper triangle), NaN for silent units."""
    with np.errstate(invalid="ignore", divide="ignore"):
        c = np.corrcoef(np.asarray(counts, float), rowvar=False)
    return c[np.triu_indices(c.shape[0], k=1)]


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a, b)[0, 1])


@dataclass(frozen=True)
class ExplainedVariance:
    """Explained variance and its reverse control.

    Attributes
    ----------
    ev, rev : float
        EV (task vs after given before) and REV (task vs before given after).
    r_task_pre, r_task_post, r_pre_post : float
        The correlations across pairs they are made of.
    n_pairs : int
        Pairs with a defined correlation in all three epochs.
    """

    ev: float
    rev: float
    r_task_pre: float
    r_task_post: float
    r_pre_post: float
    n_pairs: int


def explained_variance(task: np.ndarray, pre: np.ndarray, post: np.ndarray) -> ExplainedVariance:
    """Explained variance of the task's pair correlations by sleep after vs before it.

    ``EV = ((r_TS2 - r_TS1 r_S1S2) / sqrt((1 - r_TS1²)(1 - r_S1S2²)))²`` and ``REV`` with S1
    and S2 swapped (Kudrimoti et al. 1999).

    Parameters
    ----------
    task, pre, post : numpy.ndarray
        Counts, shape (bins or events, units), the same units in the same order.

    Returns
    -------
    ExplainedVariance
        EV, REV and their parts.
    """
    n_units = {np.shape(x)[1] for x in (task, pre, post)}
    if len(n_units) != 1:
        raise ValueError(f"task, pre and post counts have different unit counts {n_units}.")
    t, s1, s2 = (_pair_correlations(x) for x in (task, pre, post))
    ok = np.isfinite(t) & np.isfinite(s1) & np.isfinite(s2)
    if ok.sum() < 3:
        nan = float("nan")
        return ExplainedVariance(nan, nan, nan, nan, nan, int(ok.sum()))
    t, s1, s2 = t[ok], s1[ok], s2[ok]
    r_t1, r_t2, r_12 = _corr(t, s1), _corr(t, s2), _corr(s1, s2)
    with np.errstate(invalid="ignore", divide="ignore"):
        ev = ((r_t2 - r_t1 * r_12) / np.sqrt((1 - r_t1**2) * (1 - r_12**2))) ** 2
        rev = ((r_t1 - r_t2 * r_12) / np.sqrt((1 - r_t2**2) * (1 - r_12**2))) ** 2
    return ExplainedVariance(float(ev), float(rev), r_t1, r_t2, r_12, int(ok.sum()))


def _zscore(counts: np.ndarray) -> np.ndarray:
    counts = np.asarray(counts, float)
    sd = counts.std(axis=0)
    return np.where(sd > 0, (counts - counts.mean(axis=0)) / np.where(sd > 0, sd, 1), 0.0)


def marchenko_pastur_bound(n_units: int, n_bins: int) -> float:
    """Largest eigenvalue of the correlation matrix of independent units (Marchenko–Pastur).

    Parameters
    ----------
    n_units, n_bins : int
        Matrix size.

    Returns
    -------
    float
        ``(1 + sqrt(n_units / n_bins))²``.
    """
    return float((1 + np.sqrt(n_units / n_bins)) ** 2)


def assembly_patterns(task: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Assembly patterns of the task's co-firing (PCA, Marchenko–Pastur, fast ICA).

    Parameters
    ----------
    task : numpy.ndarray
        Task counts, shape (bins, units).
    rng : numpy.random.Generator
        Seeds fast ICA's start.

    Returns
    -------
    numpy.ndarray
        Patterns, shape (assemblies, units): unit norm, the largest weight positive; zero
        rows when no eigenvalue passes the bound.
    """
    from sklearn.decomposition import FastICA

    z = _zscore(task)
    n_bins, n_units = z.shape
    corr = (z.T @ z) / n_bins
    values, vectors = np.linalg.eigh(corr)
    keep = values > marchenko_pastur_bound(n_units, n_bins)
    k = int(keep.sum())
    if k == 0:
        return np.zeros((0, n_units))
    pcs = vectors[:, keep]
    if k == 1:
        patterns = pcs.T
    else:
        ica = FastICA(
            n_components=k,
            random_state=int(rng.integers(2**31 - 1)),
            whiten="unit-variance",
            max_iter=1000,
        )
        ica.fit(z @ pcs)
        patterns = (pcs @ ica.components_.T).T
    patterns = patterns / np.linalg.norm(patterns, axis=1, keepdims=True)
    biggest = np.argmax(np.abs(patterns), axis=1)
    signs = np.sign(patterns[np.arange(k), biggest])
    return patterns * signs[:, None]


def assembly_strength(patterns: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Strength of each assembly pattern in each bin: ``z' P z``, diagonal of ``P`` removed.

    Parameters
    ----------
    patterns : numpy.ndarray
        Shape (assemblies, units) (:func:`assembly_patterns`).
    counts : numpy.ndarray
        Counts, shape (bins or events, units), z-scored here over the bins given (pass the
        events before and after the task together so both share one scale).

    Returns
    -------
    numpy.ndarray
        Shape (bins, assemblies).
    """
    z = _zscore(counts)
    projection = z @ patterns.T
    return projection**2 - (z**2) @ (patterns.T**2)


@dataclass(frozen=True)
class ReactivationTest:
    """A post-vs-pre reactivation test.

    Attributes
    ----------
    statistic : float
        ``ev - rev`` (method "ev") or the mean assembly strength after minus before
        (method "assembly").
    p_value : float
        One-sided permutation p-value of "after > before".
    method : str
        The measure.
    n_pre, n_post : int
        Sleep events (or bins) before and after.
    detail : dict
        EV and REV, or the number of assemblies and the two mean strengths.
    """

    statistic: float
    p_value: float
    method: str
    n_pre: int
    n_post: int
    detail: dict


def reactivation_test(
    task: np.ndarray,
    pre: np.ndarray,
    post: np.ndarray,
    rng: np.random.Generator,
    *,
    method: str = "ev",
    n_permutations: int = 500,
) -> ReactivationTest:
    """Test whether the task's co-firing is reactivated more after the task than before.

    The sleep events of both epochs are pooled and relabelled at random (sizes kept): the
    null is that the ripples before and after the task are exchangeable.

    Parameters
    ----------
    task, pre, post : numpy.ndarray
        Counts, shape (bins or events, units).
    rng : numpy.random.Generator
        Draws the permutations (and seeds fast ICA).
    method : {"ev", "assembly"}
        ``EV - REV``, or the mean strength over assemblies after minus before.
    n_permutations : int
        Relabellings.

    Returns
    -------
    ReactivationTest
        Statistic, p-value and details.
    """
    pre, post = np.asarray(pre, float), np.asarray(post, float)
    n_pre = pre.shape[0]
    sleep = np.vstack([pre, post])
    if method == "ev":

        def stat(order: np.ndarray) -> float:
            res = explained_variance(task, sleep[order[:n_pre]], sleep[order[n_pre:]])
            return res.ev - res.rev

        observed = explained_variance(task, pre, post)
        detail = {"ev": observed.ev, "rev": observed.rev, "n_pairs": observed.n_pairs}
    elif method == "assembly":
        patterns = assembly_patterns(task, rng)
        strength = (
            assembly_strength(patterns, sleep).mean(axis=1)
            if len(patterns)
            else (np.zeros(len(sleep)))
        )

        def stat(order: np.ndarray) -> float:
            return float(strength[order[n_pre:]].mean() - strength[order[:n_pre]].mean())

        detail = {
            "n_assemblies": len(patterns),
            "pre": float(strength[:n_pre].mean()),
            "post": float(strength[n_pre:].mean()),
        }
    else:
        raise ValueError(f"method must be 'ev' or 'assembly', not {method!r}.")
    identity = np.arange(len(sleep))
    value = stat(identity)
    null = np.array([stat(rng.permutation(len(sleep))) for _ in range(n_permutations)])
    if np.isfinite(value):
        finite = null[np.isfinite(null)]
        p = float((1 + np.sum(finite >= value)) / (1 + finite.size))
    else:
        p = float("nan")
    return ReactivationTest(
        statistic=float(value),
        p_value=p,
        method=method,
        n_pre=n_pre,
        n_post=len(sleep) - n_pre,
        detail=detail,
    )
