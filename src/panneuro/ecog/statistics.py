"""Statistics of ECoG high-gamma epochs: outcome-responsive electrodes and outcome decoding.

Responsive electrodes: a cluster-based permutation test over time (``mne.stats``) of rewarded
versus unrewarded trials, run on all electrodes at once with no adjacency between electrodes,
so clusters stay within one electrode while the permutation null is the maximum cluster mass
over all electrodes and times: the family-wise error is controlled over electrodes and time
(a max-statistic correction; no further Bonferroni step is needed).

Decoding: time-resolved, cross-validated decoding of the outcome from all electrodes (shrinkage
LDA, ROC AUC), solved in closed form for the observed and all permuted outcomes at once (see
:func:`decode_outcome` for where this departs from scikit-learn and why), with significant time
clusters.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import mne
import numpy as np
import pandas as pd
from scipy import sparse, stats

#: Fixed LDA shrinkage of the outcome decoder (closed form needs a fixed value).
DECODING_SHRINKAGE = 0.1


def responsive_electrodes(
    data: np.ndarray,
    correct: np.ndarray,
    times: np.ndarray,
    channels: list[str],
    *,
    window: tuple[float, float] = (0.0, 1.0),
    n_permutations: int = 500,
    seed: int = 0,
    alpha: float = 0.05,
    n_jobs: int = 1,
) -> dict[str, Any]:
    """Find electrodes whose high gamma differs after rewarded and unrewarded feedback.

    Parameters
    ----------
    data : numpy.ndarray
        ``(trials, electrodes, times)`` baseline-normalised high gamma.
    correct : numpy.ndarray
        Outcome of each trial (1 rewarded, 0 unrewarded).
    times : numpy.ndarray
        Seconds from feedback.
    channels : list of str
        Electrode names.
    window : tuple of float
        Test window, s from feedback.
    n_permutations : int
        Permutations of the cluster test.
    seed : int
        Seed of the permutations.
    alpha : float
        Family-wise error rate.
    n_jobs : int
        Parallel jobs of the permutations (results do not depend on it).

    Returns
    -------
    dict
        ``electrodes``: DataFrame (one row per electrode: ``channel``, ``responsive``,
        ``p_value`` (smallest cluster p, 1 when none), ``cluster_start``/``cluster_stop`` (s)
        of its most significant cluster, ``effect`` (mean rewarded − unrewarded over its
        significant cluster, else over the window), ``peak_effect``, ``peak_time``,
        ``mean_rewarded``, ``mean_unrewarded`` (over the window)); ``clusters``: DataFrame
        (``channel``, ``start``, ``stop``, ``mass``, ``p_value``); ``correction``: text.

    Raises
    ------
    ValueError
        If shapes disagree or a condition has fewer than two trials.
    """
    data = np.asarray(data, dtype=float)
    correct = np.asarray(correct).astype(int)
    if data.ndim != 3 or data.shape[0] != len(correct) or data.shape[1] != len(channels):
        raise ValueError(
            f"responsive_electrodes: data {data.shape} must be trials × "
            f"electrodes × times with {len(correct)} trials and {len(channels)} "
            "electrodes."
        )
    rewarded, unrewarded = data[correct == 1], data[correct == 0]
    if min(len(rewarded), len(unrewarded)) < 2:
        raise ValueError(
            f"responsive_electrodes: {len(rewarded)} rewarded and "
            f"{len(unrewarded)} unrewarded trials; each outcome needs ≥ 2 trials."
        )
    in_window = (times >= window[0]) & (times <= window[1])
    test_times = times[in_window]
    # (observations, times, electrodes); an empty electrode adjacency keeps every cluster
    # inside one electrode (time is adjacent to itself automatically).
    x_rew = np.transpose(rewarded[:, :, in_window], (0, 2, 1))
    x_unr = np.transpose(unrewarded[:, :, in_window], (0, 2, 1))
    n_electrodes = len(channels)
    adjacency = sparse.coo_matrix((n_electrodes, n_electrodes))
    f_obs, clusters, cluster_p, _ = mne.stats.permutation_cluster_test(
        [x_rew, x_unr],
        n_permutations=n_permutations,
        adjacency=adjacency,
        tail=1,
        out_type="mask",
        rng=int(seed),
        n_jobs=n_jobs,
        verbose=False,
    )
    difference = x_rew.mean(axis=0) - x_unr.mean(axis=0)  # times × electrodes

    cluster_rows = []
    for mask, p_value in zip(clusters, cluster_p, strict=True):
        time_idx, elec_idx = np.nonzero(mask)
        electrode = int(elec_idx[0])
        cluster_rows.append(
            {
                "channel": channels[electrode],
                "start": float(test_times[time_idx.min()]),
                "stop": float(test_times[time_idx.max()]),
                "mass": float(f_obs[mask].sum()),
                "p_value": float(p_value),
                "effect": float(difference[time_idx, electrode].mean()),
                "_electrode": electrode,
                "_times": time_idx,
            }
        )
    rows = []
    for e, name in enumerate(channels):
        own = [c for c in cluster_rows if c["_electrode"] == e]
        best = min(own, key=lambda c: c["p_value"]) if own else None
        significant = best is not None and best["p_value"] < alpha
        peak = int(np.argmax(np.abs(difference[:, e])))
        rows.append(
            {
                "channel": name,
                "responsive": bool(significant),
                "p_value": float(best["p_value"]) if best else 1.0,
                "cluster_start": float(best["start"]) if best else np.nan,
                "cluster_stop": float(best["stop"]) if best else np.nan,
                "effect": float(best["effect"]) if significant else float(difference[:, e].mean()),
                "peak_effect": float(difference[peak, e]),
                "peak_time": float(test_times[peak]),
                "mean_rewarded": float(x_rew[:, :, e].mean()),
                "mean_unrewarded": float(x_unr[:, :, e].mean()),
            }
        )
    clusters_table = pd.DataFrame(
        [{k: v for k, v in c.items() if not k.startswith("_")} for c in cluster_rows],
        columns=["channel", "start", "stop", "mass", "p_value", "effect"],
    )
    return {
        "electrodes": pd.DataFrame(rows),
        "clusters": clusters_table.sort_values(["channel", "start"]).reset_index(drop=True),
        "correction": "cluster mass permutation test over time (F statistic, rewarded vs "
        "unrewarded), max-statistic null over all electrodes and times "
        f"({n_permutations} permutations)",
        "window": [float(window[0]), float(window[1])],
    }


def _bin_times(
    data: np.ndarray, times: np.ndarray, bin_width: float
) -> tuple[np.ndarray, np.ndarray]:
    """Average ``(trials, electrodes, times)`` in consecutive bins of ``bin_width`` s."""
    step = times[1] - times[0]
    per_bin = max(1, int(round(bin_width / step)))
    n_bins = len(times) // per_bin
    usable = n_bins * per_bin
    binned = data[..., :usable].reshape(*data.shape[:-1], n_bins, per_bin).mean(axis=-1)
    centres = times[:usable].reshape(n_bins, per_bin).mean(axis=-1)
    return binned, centres


def _closed_form_auc(
    binned: np.ndarray,
    label_sets: np.ndarray,
    splits: list[tuple[np.ndarray, np.ndarray]],
    shrinkage: float,
) -> np.ndarray:
    """Cross-validated ROC AUC of a shrinkage LDA per bin, for many label vectors at once.

    Same decoder as ``make_pipeline(StandardScaler(), LinearDiscriminantAnalysis(
    solver="lsqr", shrinkage=shrinkage))`` fitted per training fold and bin and scored by ROC AUC
    on the test fold (the mean over folds, as ``cross_val_multiscore``), but solved in closed form
    for every label vector at once: the LDA weights ``w = Σ⁻¹ (μ1 − μ0)`` come from one ``eigh``
    of the (label-free) training covariance per fold and bin and a Sherman–Morrison update per
    label vector (the derivation is in
    :func:`panneuro.decoding.time_resolved._closed_form_scores`). ROC AUC only ranks the test
    decisions, so the intercept (and the class priors) play no part.

    Parameters
    ----------
    binned : numpy.ndarray
        ``(trials, electrodes, bins)``.
    label_sets : numpy.ndarray
        ``(label vectors, trials)`` 0/1 labels (the observed vector first, then permutations).
    splits : list of (train, test)
        Folds, fixed for every label vector.
    shrinkage : float
        LDA covariance shrinkage in [0, 1].

    Returns
    -------
    numpy.ndarray
        ``(label vectors, bins)`` AUC, averaged over the folds where the test fold holds both
        classes (a training fold without one class gives constant decisions: AUC 0.5).
    """
    from panneuro.decoding.time_resolved import _fold_scaler

    n_trials, n_electrodes, n_bins = binned.shape
    alpha = float(shrinkage)
    total = np.zeros((label_sets.shape[0], n_bins))
    counted = np.zeros((label_sets.shape[0], 1))
    for train, test in splits:
        train_x, test_x = binned[train], binned[test]
        mean, scale = _fold_scaler(train_x)
        y_train = label_sets[:, train].astype(float)
        y_test = label_sets[:, test].astype(bool)
        n = len(train)
        n_1 = y_train.sum(axis=1)
        n_0 = n - n_1
        pi_1, pi_0 = n_1 / n, n_0 / n
        diff_w = y_train / np.maximum(n_1, 1)[:, None] - (1 - y_train) / np.maximum(n_0, 1)[:, None]
        diff_w[(n_1 == 0) | (n_0 == 0)] = 0.0  # one class only: w = 0, every decision ties
        gamma = (1 - alpha) * pi_0 * pi_1
        t_1 = y_test.sum(axis=1)
        t_0 = len(test) - t_1
        both = (t_1 > 0) & (t_0 > 0)
        counted[both] += 1
        for b in range(n_bins):
            z = (train_x[:, :, b] - mean[:, b]) / scale[:, b]
            zc = z - z.mean(axis=0)
            g = zc.T @ zc / n
            lam, v = np.linalg.eigh((1 - alpha) * g)
            u = diff_w @ (z @ v)  # μ1 − μ0 in the eigenbasis
            c = alpha / n_electrodes * (np.trace(g) - pi_0 * pi_1 * np.einsum("kp,kp->k", u, u))
            denom = lam[None, :] + c[:, None]
            tol = n_electrodes * np.finfo(float).eps * np.abs(denom).max(axis=1, keepdims=True)
            inv = np.divide(1.0, denom, out=np.zeros_like(denom), where=np.abs(denom) > tol)
            q = np.einsum("kp,kp->k", u * inv, u)
            w = (v @ (u * inv / (1 - gamma * q)[:, None]).T) / scale[:, b][:, None]
            decision = (test_x[:, :, b] @ w).T  # (label vectors, test)
            ranks = stats.rankdata(decision, axis=1)
            auc = ((ranks * y_test).sum(axis=1) - t_1 * (t_1 + 1) / 2) / np.maximum(t_1 * t_0, 1)
            total[both, b] += auc[both]
    return total / np.maximum(counted, 1)


def decode_outcome(
    data: np.ndarray,
    correct: np.ndarray,
    times: np.ndarray,
    *,
    groups: np.ndarray | None = None,
    n_folds: int = 5,
    n_permutations: int = 100,
    seed: int = 0,
    bin_width: float = 0.05,
    alpha: float = 0.05,
    shrinkage: float = DECODING_SHRINKAGE,
) -> dict[str, Any]:
    """Decode the outcome over time from all electrodes, with a permutation null and clusters.

    A shrinkage linear discriminant on standardised electrodes is trained and tested at each
    time bin in stratified k-fold cross-validation and scored by ROC AUC (insensitive to class
    imbalance), averaged over folds. The null repeats this with outcomes permuted within
    ``groups`` (problems; :func:`panneuro.stats.permutation.permuted_labels`). Significant time
    clusters come from :func:`panneuro.stats.permutation.cluster_permutation_test`: bins above
    the null's ``1 - alpha`` quantile form clusters, whose mass (summed excess over that
    threshold) is compared with the largest cluster mass of each permutation.

    Departures from the scikit-learn loop it replaces (``SlidingEstimator`` +
    ``cross_val_multiscore`` refitted per permutation), for speed (issue 4: hundreds of times
    faster per permutation, ``bench/bench_ecog.py``, so the null can have a thousand
    permutations): (1) the folds are split once and reused for every permutation
    (``permutation_test_score`` would re-split), so the standardisation and the training
    covariance are label-free and factorised once per fold and bin. The folds are shuffled
    ``KFold`` splits, drawn without looking at the outcomes: folds stratified on the observed
    outcomes would balance the observed labels' test folds but not the permuted ones', making
    the observed and permuted scores differently distributed (a conservative null: 2.0% false
    positives over 400 null simulations instead of 5%); (2) the shrinkage
    is fixed (``shrinkage``) instead of Ledoit–Wolf's ``"auto"``, which has no closed form over
    label vectors. The decoder is then solved for all label vectors at once
    (:func:`_closed_form_auc`; equal to scikit-learn's fits on the same folds to rounding, a
    test checks it). The false-positive rate of this null over simulated sessions without an
    effect is measured by ``bench/bench_ecog_calibration.py``.

    Parameters
    ----------
    data : numpy.ndarray
        ``(trials, electrodes, times)`` baseline-normalised high gamma.
    correct : numpy.ndarray
        Outcome per trial (1 rewarded).
    times : numpy.ndarray
        Seconds from feedback.
    groups : numpy.ndarray, optional
        Exchangeability block (problem) of each trial; ``None``: one block.
    n_folds : int
        Cross-validation folds (shuffled ``KFold``; reduced to the minority-class count when
        smaller). Folds whose test trials hold one outcome only are left out of the mean AUC.
    n_permutations : int
        Label permutations of the null.
    seed : int
        Seed of the folds and permutations.
    bin_width : float
        Seconds averaged per decoding bin.
    alpha : float
        Threshold quantile (``1 - alpha``) of bins and significance level of clusters.
    shrinkage : float
        LDA covariance shrinkage in [0, 1].

    Returns
    -------
    dict
        ``scores``: DataFrame per bin (``time``, ``auc``, ``null_mean``, ``null_q95`` (the
        cluster-forming threshold), ``p_value`` (per bin, uncorrected), ``cluster`` (id or -1),
        ``significant``); ``clusters``: DataFrame (``cluster``, ``start``, ``stop``, ``mass``,
        ``p_value``); ``chance``: 0.5; settings.

    Raises
    ------
    ValueError
        If an outcome has fewer than two trials or the shrinkage is outside [0, 1].
    """
    from sklearn.model_selection import KFold
    from threadpoolctl import threadpool_limits

    from panneuro.stats.permutation import (
        cluster_permutation_test,
        permutation_p_values,
        permuted_labels,
    )

    y = np.asarray(correct).astype(int)
    counts = np.bincount(y, minlength=2)
    if counts.min() < 2:
        raise ValueError(
            f"decode_outcome: {counts[1]} rewarded and {counts[0]} unrewarded "
            "trials; decoding needs ≥ 2 of each."
        )
    if not 0.0 <= float(shrinkage) <= 1.0:
        raise ValueError(f"decode_outcome: shrinkage {shrinkage} must lie in [0, 1].")
    binned, centres = _bin_times(np.asarray(data, dtype=float), np.asarray(times), bin_width)
    folds = int(min(n_folds, counts.min()))
    rng = np.random.default_rng(seed)
    fold_seed = int(rng.integers(2**31 - 1))
    groups = np.zeros(len(y), dtype=int) if groups is None else np.asarray(groups)
    label_sets = np.vstack([y[None, :], permuted_labels(y, groups, n_permutations, rng)])
    splits = list(KFold(folds, shuffle=True, random_state=fold_seed).split(y))
    # many small matrix products: multithreaded BLAS only adds overhead (measured: 6x slower
    # wall time, 10x more CPU time on 2 busy cores)
    with threadpool_limits(limits=1, user_api="blas"):
        auc = _closed_form_auc(binned, label_sets, splits, float(shrinkage))
    observed, null = auc[0], auc[1:]
    clusters = cluster_permutation_test(observed, null, threshold_quantile=1 - alpha)
    cluster_id = np.full(len(centres), -1)
    significant = np.zeros(len(centres), dtype=bool)
    cluster_rows = []
    for k, row in enumerate(clusters.itertuples()):
        cluster_id[row.start : row.stop] = k
        significant[row.start : row.stop] = row.p_value < alpha
        cluster_rows.append(
            {
                "cluster": k,
                "start": float(centres[row.start]),
                "stop": float(centres[row.stop - 1]),
                "mass": float(row.mass),
                "p_value": float(row.p_value),
            }
        )
    scores = pd.DataFrame(
        {
            "time": centres,
            "auc": observed,
            "null_mean": null.mean(axis=0),
            "null_q95": np.quantile(null, 1 - alpha, axis=0),
            "p_value": permutation_p_values(observed, null),
            "cluster": cluster_id,
            "significant": significant,
        }
    )
    return {
        "scores": scores,
        "clusters": pd.DataFrame(
            cluster_rows, columns=["cluster", "start", "stop", "mass", "p_value"]
        ),
        "chance": 0.5,
        "n_folds": folds,
        "n_permutations": int(n_permutations),
        "bin_width": float(bin_width),
        "shrinkage": float(shrinkage),
    }


def compare_to_truth(electrodes: pd.DataFrame, truth: Mapping[str, Any]) -> dict[str, Any]:
    """Score the responsive electrodes against the planted ones of a simulation.

    Parameters
    ----------
    electrodes : pandas.DataFrame
        ``responsive_electrodes(...)["electrodes"]`` (``channel``, ``responsive``).
    truth : mapping
        The simulation truth (``planted_electrodes``).

    Returns
    -------
    dict
        ``n_planted``, ``hits``, ``misses``, ``false_discoveries`` (lists of channels),
        ``sensitivity`` (hits / planted present among the tested electrodes) and
        ``n_false_discoveries``.
    """
    planted = set(truth["planted_electrodes"])
    tested = set(electrodes["channel"])
    found = set(electrodes.loc[electrodes["responsive"], "channel"])
    present = planted & tested
    hits = sorted(found & present)
    return {
        "n_planted": len(planted),
        "n_planted_tested": len(present),
        "hits": hits,
        "misses": sorted(present - found),
        "false_discoveries": sorted(found - planted),
        "n_false_discoveries": len(found - planted),
        "sensitivity": len(hits) / len(present) if present else float("nan"),
    }


def statistics_to_json(
    responsive: Mapping[str, Any], decoding: Mapping[str, Any], n_trials: Mapping[str, int]
) -> dict[str, Any]:
    """Assemble the JSON-ready summary of a session's ECoG statistics (floats rounded).

    Parameters
    ----------
    responsive : mapping
        Output of :func:`responsive_electrodes`.
    decoding : mapping
        Output of :func:`decode_outcome`.
    n_trials : mapping
        Trial counts (``rewarded``, ``unrewarded``).

    Returns
    -------
    dict
        ``responsive_electrodes`` (names), ``electrodes``, ``clusters``, ``decoding``
        (``scores``, ``clusters`` and settings), ``correction``, ``n_trials``.
    """

    def _records(table: pd.DataFrame) -> list[dict[str, Any]]:
        out = []
        for record in table.to_dict(orient="records"):
            clean = {}
            for key, value in record.items():
                if isinstance(value, (bool, np.bool_)):
                    clean[key] = bool(value)
                elif isinstance(value, (int, np.integer)):
                    clean[key] = int(value)
                elif isinstance(value, (float, np.floating)):
                    clean[key] = None if np.isnan(value) else round(float(value), 6)
                else:
                    clean[key] = value
            out.append(clean)
        return out

    electrodes = responsive["electrodes"]
    return {
        "responsive_electrodes": electrodes.loc[electrodes["responsive"], "channel"].tolist(),
        "electrodes": _records(electrodes),
        "clusters": _records(responsive["clusters"]),
        "correction": responsive["correction"],
        "window": responsive["window"],
        "decoding": {
            "scores": _records(decoding["scores"]),
            "clusters": _records(decoding["clusters"]),
            "chance": decoding["chance"],
            "n_folds": decoding["n_folds"],
            "n_permutations": decoding["n_permutations"],
            "bin_width": decoding["bin_width"],
            "shrinkage": decoding.get("shrinkage"),
            "scoring": "roc_auc",
        },
        "n_trials": {k: int(v) for k, v in n_trials.items()},
    }
