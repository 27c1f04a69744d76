"""Permutation statistics for decoding time courses.

Restricted permutations, p-values, cluster-mass tests over time and bootstrap confidence
intervals.

The decoders produce their own null distribution (the whole cross-validated pipeline rerun on
permuted labels), so the cluster test here works on precomputed ``observed``/``null`` score
arrays. ``mne.stats.permutation_cluster_test`` and friends permute the *data* themselves (sign
flips or group labels) and cannot take a precomputed null, hence the cluster-mass test is
written here (with ``scipy.ndimage.label`` for the connected clusters, in 1-D or 2-D).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy import ndimage, stats
from scipy.optimize import elementwise


def permuted_labels(
    labels: np.ndarray,
    groups: np.ndarray,
    n_permutations: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Draw label permutations restricted to the design's exchangeability blocks.

    Labels are shuffled **within** each group (a problem) when the variable varies within
    groups, so that slow drifts across problems and each problem's label counts stay in the
    null. When the variable is constant within every group (e.g. ``rewarded_object``, fixed
    for a problem), shuffling within groups would change nothing, so whole groups exchange
    their labels instead (a block permutation).

    Parameters
    ----------
    labels : numpy.ndarray
        One label per trial.
    groups : numpy.ndarray
        The block (problem) of each trial.
    n_permutations : int
        Number of permutations.
    rng : numpy.random.Generator
        The generator (from :func:`panneuro.seeding.rng_for`).

    Returns
    -------
    numpy.ndarray
        Shape (n_permutations, trials): one permuted label vector per row.
    """
    labels = np.asarray(labels)
    groups = np.asarray(groups)
    if labels.shape != groups.shape or labels.ndim != 1:
        raise ValueError("labels and groups must be 1-D arrays of the same length.")
    out = np.empty((n_permutations, labels.size), dtype=labels.dtype)
    uniq, inverse = np.unique(groups, return_inverse=True)
    # constant within every group -> exchange whole groups
    first = np.zeros(len(uniq), dtype=int)
    first[inverse[::-1]] = np.arange(labels.size)[::-1]
    constant = bool(np.all(labels == labels[first][inverse]))
    by_group = np.argsort(inverse, kind="stable")
    for k in range(n_permutations):
        if constant and len(uniq) > 1:
            group_labels = labels[first][rng.permutation(len(uniq))]
            out[k] = group_labels[inverse]
        else:
            order = np.lexsort((rng.random(labels.size), inverse))
            out[k, by_group] = labels[order]
    return out


def permutation_p_values(
    observed: np.ndarray, null: np.ndarray, *, alternative: str = "greater"
) -> np.ndarray:
    """Permutation p-values with the +1 correction, never 0.

    ``p = (1 + #{null >= observed}) / (1 + n_permutations)`` (Phipson & Smyth 2010).

    Parameters
    ----------
    observed : numpy.ndarray
        Observed statistic, any shape.
    null : numpy.ndarray
        Null statistics, shape (n_permutations, *observed.shape).
    alternative : {"greater", "less", "two-sided"}
        Direction of the test; two-sided compares absolute deviations from the null mean.

    Returns
    -------
    numpy.ndarray
        P-values with the shape of ``observed``.
    """
    observed = np.asarray(observed, dtype=float)
    null = np.asarray(null, dtype=float)
    if null.shape[1:] != observed.shape:
        raise ValueError(
            f"null has shape {null.shape}; expected (n_permutations, *{observed.shape})."
        )
    if alternative == "greater":
        exceed = null >= observed
    elif alternative == "less":
        exceed = null <= observed
    elif alternative == "two-sided":
        centre = null.mean(axis=0)
        exceed = np.abs(null - centre) >= np.abs(observed - centre)
    else:
        raise ValueError(
            f"alternative must be 'greater', 'less' or 'two-sided', not {alternative!r}."
        )
    p = (1.0 + exceed.sum(axis=0)) / (1.0 + null.shape[0])
    return np.where(np.isnan(observed), np.nan, p)


def find_clusters(
    statistic: np.ndarray, threshold: np.ndarray | float
) -> tuple[np.ndarray, np.ndarray]:
    """Label the connected supra-threshold clusters of a statistic and their masses.

    Parameters
    ----------
    statistic : numpy.ndarray
        A 1-D time course or a 2-D (train time × test time) map.
    threshold : numpy.ndarray or float
        Cluster-forming threshold, broadcastable to ``statistic``.

    Returns
    -------
    labels : numpy.ndarray
        Integer labels (0 outside clusters, 1..n inside), the shape of ``statistic``.
    masses : numpy.ndarray
        Mass of each cluster: the summed excess ``statistic - threshold`` over its bins.
    """
    statistic = np.asarray(statistic, dtype=float)
    excess = statistic - threshold
    above = np.nan_to_num(excess, nan=-1.0) > 0
    labels, n = ndimage.label(above)
    if n == 0:
        return labels, np.zeros(0)
    masses = ndimage.sum_labels(excess, labels, index=np.arange(1, n + 1))
    return labels, np.asarray(masses, dtype=float)


def cluster_permutation_test(
    observed: np.ndarray,
    null: np.ndarray,
    *,
    threshold_quantile: float = 0.95,
) -> pd.DataFrame:
    """Cluster-mass permutation test over time (or a time × time map), one-sided (greater).

    The cluster-forming threshold of each bin is the ``threshold_quantile`` of the null at
    that bin. A cluster's mass is its summed excess over the threshold; each permutation
    contributes the largest cluster mass it produces with the same threshold (0 if none),
    and a cluster's p-value is ``(1 + #{max null mass >= mass}) / (1 + n_permutations)``,
    which controls the family-wise error over bins (Maris & Oostenveld 2007).

    Parameters
    ----------
    observed : numpy.ndarray
        Observed scores, shape (bins,) or (bins, bins).
    null : numpy.ndarray
        Null scores, shape (n_permutations, *observed.shape).
    threshold_quantile : float
        Quantile of the null per bin that forms clusters.

    Returns
    -------
    pandas.DataFrame
        One row per cluster: ``cluster`` (the label :func:`find_clusters` gives it with
        :func:`cluster_threshold`), ``size`` (bins), ``mass``, ``p_value``, and for 1-D input
        ``start`` and ``stop`` (bin indices, stop exclusive).
    """
    observed = np.asarray(observed, dtype=float)
    null = np.asarray(null, dtype=float)
    if null.shape[1:] != observed.shape or null.shape[0] < 1:
        raise ValueError(
            f"null has shape {null.shape}; expected (n_permutations >= 1, *{observed.shape})."
        )
    threshold = cluster_threshold(null, threshold_quantile)
    labels, masses = find_clusters(observed, threshold)
    max_null = np.zeros(null.shape[0])
    for k in range(null.shape[0]):
        _, null_masses = find_clusters(null[k], threshold)
        if null_masses.size:
            max_null[k] = null_masses.max()
    rows = []
    for label, mass in enumerate(masses, start=1):
        where = np.nonzero(labels == label)
        row = {
            "cluster": label,
            "size": int(where[0].size),
            "mass": float(mass),
            "p_value": float((1 + np.sum(max_null >= mass)) / (1 + null.shape[0])),
        }
        if observed.ndim == 1:
            row["start"] = int(where[0].min())
            row["stop"] = int(where[0].max()) + 1
        rows.append(row)
    columns = ["cluster", "size", "mass", "p_value"]
    if observed.ndim == 1:
        columns = ["cluster", "start", "stop", "size", "mass", "p_value"]
    return pd.DataFrame(rows, columns=columns)


def cluster_threshold(null: np.ndarray, threshold_quantile: float = 0.95) -> np.ndarray:
    """Return the per-bin cluster-forming threshold of :func:`cluster_permutation_test`.

    Parameters
    ----------
    null : numpy.ndarray
        Null scores, shape (n_permutations, ...).
    threshold_quantile : float
        Quantile of the null per bin.

    Returns
    -------
    numpy.ndarray
        The threshold, shape ``null.shape[1:]``.
    """
    if not 0 < threshold_quantile < 1:
        raise ValueError(f"threshold_quantile must be in (0, 1), not {threshold_quantile}.")
    return np.nanquantile(np.asarray(null, dtype=float), threshold_quantile, axis=0)


def bootstrap_ci(
    values: np.ndarray,
    rng: np.random.Generator,
    *,
    statistic: Callable[..., np.ndarray] = np.mean,
    n_resamples: int = 1000,
    confidence_level: float = 0.95,
) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of a statistic (``scipy.stats.bootstrap``).

    Parameters
    ----------
    values : numpy.ndarray
        1-D sample (e.g. per-session effect sizes).
    rng : numpy.random.Generator
        The generator.
    statistic : callable
        Vectorised statistic taking ``axis`` (default the mean).
    n_resamples : int
        Bootstrap resamples.
    confidence_level : float
        Coverage of the interval.

    Returns
    -------
    (float, float)
        Lower and upper bounds; NaN when there are fewer than two finite values.
    """
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size < 2:
        return float("nan"), float("nan")
    res = stats.bootstrap(
        (values,),
        statistic,
        n_resamples=n_resamples,
        confidence_level=confidence_level,
        method="percentile",
        rng=rng,
    )
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def percentile_interval(
    samples: np.ndarray, confidence_level: float = 0.95, axis: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Central percentile interval of samples (a null or bootstrap distribution).

    Parameters
    ----------
    samples : numpy.ndarray
        Samples along ``axis``.
    confidence_level : float
        Coverage.
    axis : int
        The sample axis.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Lower and upper quantiles.
    """
    tail = (1.0 - confidence_level) / 2
    return (np.nanquantile(samples, tail, axis=axis), np.nanquantile(samples, 1 - tail, axis=axis))


#: Exponent of the decay of the extra cross-validation variance away from chance in
#: :func:`balanced_accuracy_ci` (chosen by coverage under the model, see there).
CHANCE_VARIANCE_DECAY = 4


def balanced_accuracy_ci(
    score: np.ndarray,
    n_0: int,
    n_1: int,
    *,
    null_var: np.ndarray | float | None = None,
    confidence_level: float = 0.95,
    decay: float = CHANCE_VARIANCE_DECAY,
) -> tuple[np.ndarray, np.ndarray]:
    """Score-type confidence interval of a cross-validated balanced accuracy.

    The interval is the set of true accuracies ``θ`` with ``|score − θ| ≤ z · sd(θ)``: the
    standard deviation is taken at ``θ``, not at the estimate (Wilson's score interval), so the
    interval stays inside [0, 1] and is asymmetric near 1, where a Wald interval
    (``score ± z · sd(score)``) undercovers. The variance is

        sd(θ)² = θ (1 − θ) (1/n_0 + 1/n_1) / 4  +  extra · (4 θ (1 − θ)) ** decay

    The first term is the binomial variance of the mean of two recalls both equal to ``θ``; with
    ``null_var`` absent it is the only one and the interval is Wilson's for a proportion over the
    effective count ``4 / (1/n_0 + 1/n_1)`` (``statsmodels`` ``proportion_confint(method=
    "wilson")``, which the tests check). Cross-validation adds variance the binomial term ignores
    (the folds share training trials and each test trial is left out of its own decoder's
    training); at chance that extra variance is what the permutation null shows:
    ``extra = max(null_var − θ₀(1 − θ₀)(1/n_0 + 1/n_1)/4, 0)`` at ``θ₀ = 0.5``. It fades as the
    classes separate, hence the weight ``(4 θ (1 − θ)) ** decay`` (1 at chance, 0 at perfect
    decoding; ``decay = 1`` would be a constant design effect, a variance inflated by the same
    factor everywhere).

    Measured under the model on the default preset (``bench/bench_ci_coverage.py``,
    2026-11-25: the oracle's 200 replicate sessions of M1 and of H2 drawn from the planted
    rates, each decoded with its own 50-permutation null, truth the replicates' mean; 126 time
    bins), mean coverage of the truth for truths < 0.6 / 0.6–0.8 / > 0.8 (72 / 20 / 34 bins):
    Wald 0.877 / 0.927 / 0.943; Wilson (no ``null_var``) 0.880 / 0.934 / 0.951;
    Clopper–Pearson 0.892 / 0.942 / 0.963; this interval with ``decay`` 1: 0.944 / 0.976 /
    0.987, 2: 0.944 / 0.969 / 0.970, 4: 0.943 / 0.959 / 0.955, 8: 0.943 / 0.945 / 0.951.
    ``decay = 4`` is the default (chosen on these data; on the tiny preset, not used to choose
    it, the oracle's coverage is 0.945 / 0.949 / 0.952). Binomial intervals (Wald, Wilson,
    Clopper–Pearson; a bootstrap over trials of the out-of-fold hits resamples the same
    binomial counts) cover ~0.88 near chance, where the cross-validated accuracy's s.d. is
    ~1.25 times the binomial one.

    It describes the sampling uncertainty of the estimate (an effect size's interval);
    significance comes from the permutation tests.

    Parameters
    ----------
    score : numpy.ndarray
        Balanced accuracies, any shape.
    n_0, n_1 : int
        Trials of each class.
    null_var : numpy.ndarray or float, optional
        Variance of the permutation null of each score (broadcastable to ``score``); NaN or
        ``None`` for none (then the extra term is 0).
    confidence_level : float
        Coverage.
    decay : float
        Exponent of the weight of the extra variance away from chance.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Lower and upper bounds, the shape of ``score``; NaN where ``score`` is NaN or a class
        has no trial.
    """
    score = np.asarray(score, dtype=float)
    if n_0 < 1 or n_1 < 1:
        nan = np.full(score.shape, np.nan)
        return nan, nan
    z2 = stats.norm.ppf(0.5 + confidence_level / 2) ** 2
    binomial = (1 / n_0 + 1 / n_1) / 4
    extra = np.zeros(()) if null_var is None else np.asarray(null_var, dtype=float)
    extra = np.maximum(np.nan_to_num(extra - 0.25 * binomial, nan=0.0), 0.0)
    b, extra = np.broadcast_arrays(score, extra)
    finite = np.isfinite(b)
    b = np.clip(np.where(finite, b, 0.5), 0.0, 1.0)

    def excess(t: np.ndarray, b: np.ndarray, extra: np.ndarray) -> np.ndarray:
        # ≤ 0 inside the interval
        var = t * (1 - t)
        return (b - t) ** 2 - z2 * (var * binomial + extra * (4 * var) ** decay)

    # the bounds are the roots of ``excess`` on either side of the estimate (a root finder
    # vectorised over bins: scipy's elementwise bracketed Chandrupatla search). The bracket
    # ends stop 1e-12 short of an estimate of exactly 0 or 1, where ``excess`` is 0.
    inner = np.clip(b, 1e-12, 1 - 1e-12)
    zero, one = np.zeros_like(b), np.ones_like(b)
    low = elementwise.find_root(excess, (zero, inner), args=(b, extra)).x
    high = elementwise.find_root(excess, (inner, one), args=(b, extra)).x
    low = np.where(excess(zero, b, extra) <= 0, 0.0, low)
    high = np.where(excess(one, b, extra) <= 0, 1.0, high)
    return np.where(finite, low, np.nan), np.where(finite, high, np.nan)


def sign_flip_max_test(
    effects: np.ndarray, rng: np.random.Generator, *, n_flips: int = 10000
) -> np.ndarray:
    """Group-level one-sided sign-flip test over units of replication, max-statistic over bins.

    ``effects`` holds one chance-corrected effect per replication unit (session or subject)
    and bin. Under the null each unit's effect time course is symmetric about 0, so flipping
    its sign leaves the distribution unchanged; the group statistic is the mean effect, and
    each flip contributes its maximum over bins, which controls the family-wise error over
    bins (Nichols & Holmes 2002). All ``2**n`` flips are enumerated when that is at most
    ``n_flips`` (the identity included), else ``n_flips`` random flips plus the identity.

    Parameters
    ----------
    effects : numpy.ndarray
        Shape (units, bins); NaN bins are ignored in the means.
    rng : numpy.random.Generator
        Draws random flips.
    n_flips : int
        Maximum number of sign flips.

    Returns
    -------
    numpy.ndarray
        Family-wise p-value of each bin's group mean, shape (bins,); NaN with fewer than two
        units (no group test; the smallest attainable p is ``2**-n``).
    """
    effects = np.atleast_2d(np.asarray(effects, dtype=float))
    n_units, n_bins = effects.shape
    if n_units < 2:
        return np.full(n_bins, np.nan)
    if 2**n_units <= n_flips:
        grid = np.array(np.meshgrid(*[[1.0, -1.0]] * n_units, indexing="ij"))
        signs = grid.reshape(n_units, -1).T
    else:
        signs = np.vstack([np.ones(n_units), rng.choice([-1.0, 1.0], size=(n_flips, n_units))])
    observed = np.nanmean(effects, axis=0)
    flipped = np.einsum("fu,ub->fb", signs, np.nan_to_num(effects)) / np.maximum(
        np.sum(np.isfinite(effects), axis=0), 1
    )
    max_null = flipped.max(axis=1)
    p = (np.sum(max_null[:, None] >= observed[None, :] - 1e-12, axis=0)) / len(signs)
    return np.where(np.isnan(observed), np.nan, p)
