"""Statistics of ECoG high-gamma epochs: outcome-responsive electrodes and outcome decoding.

Responsive electrodes: a cluster-based permutation test over time (``mne.stats``) of rewarded
versus unrewarded trials, run on all electrodes at once with no adjacency between electrodes,
so clusters stay within one electrode while the permutation null is the maximum cluster mass
over all electrodes and times: the family-wise error is controlled over electrodes and time
(a max-statistic correction; no further Bonferroni step is needed).

Decoding: time-resolved, cross-validated decoding of the outcome from all electrodes
(``mne.decoding.SlidingEstimator`` + ``cross_val_multiscore``, ROC AUC), with a seeded label
permutation null and significant time clusters.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import mne
import numpy as np
import pandas as pd
from scipy import ndimage, sparse


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
        raise ValueError(f"responsive_electrodes: data {data.shape} must be trials × "
                         f"electrodes × times with {len(correct)} trials and {len(channels)} "
                         "electrodes.")
    rewarded, unrewarded = data[correct == 1], data[correct == 0]
    if min(len(rewarded), len(unrewarded)) < 2:
        raise ValueError(f"responsive_electrodes: {len(rewarded)} rewarded and "
                         f"{len(unrewarded)} unrewarded trials; each outcome needs ≥ 2 trials.")
    in_window = (times >= window[0]) & (times <= window[1])
    test_times = times[in_window]
    # (observations, times, electrodes); an empty electrode adjacency keeps every cluster
    # inside one electrode (time is adjacent to itself automatically).
    x_rew = np.transpose(rewarded[:, :, in_window], (0, 2, 1))
    x_unr = np.transpose(unrewarded[:, :, in_window], (0, 2, 1))
    n_electrodes = len(channels)
    adjacency = sparse.coo_matrix((n_electrodes, n_electrodes))
    f_obs, clusters, cluster_p, _ = mne.stats.permutation_cluster_test(
        [x_rew, x_unr], n_permutations=n_permutations, adjacency=adjacency, tail=1,
        out_type="mask", rng=int(seed), n_jobs=n_jobs, verbose=False)
    difference = x_rew.mean(axis=0) - x_unr.mean(axis=0)  # times × electrodes

    cluster_rows = []
    for mask, p_value in zip(clusters, cluster_p, strict=True):
        time_idx, elec_idx = np.nonzero(mask)
        electrode = int(elec_idx[0])
        cluster_rows.append({
            "channel": channels[electrode],
            "start": float(test_times[time_idx.min()]),
            "stop": float(test_times[time_idx.max()]),
            "mass": float(f_obs[mask].sum()),
            "p_value": float(p_value),
            "effect": float(difference[time_idx, electrode].mean()),
            "_electrode": electrode,
            "_times": time_idx,
        })
    rows = []
    for e, name in enumerate(channels):
        own = [c for c in cluster_rows if c["_electrode"] == e]
        best = min(own, key=lambda c: c["p_value"]) if own else None
        significant = best is not None and best["p_value"] < alpha
        peak = int(np.argmax(np.abs(difference[:, e])))
        rows.append({
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
        })
    clusters_table = pd.DataFrame(
        [{k: v for k, v in c.items() if not k.startswith("_")} for c in cluster_rows],
        columns=["channel", "start", "stop", "mass", "p_value", "effect"])
    return {
        "electrodes": pd.DataFrame(rows),
        "clusters": clusters_table.sort_values(["channel", "start"]).reset_index(drop=True),
        "correction": "cluster mass permutation test over time (F statistic, rewarded vs "
                      "unrewarded), max-statistic null over all electrodes and times "
                      f"({n_permutations} permutations)",
        "window": [float(window[0]), float(window[1])],
    }


def _bin_times(data: np.ndarray, times: np.ndarray, bin_width: float
               ) -> tuple[np.ndarray, np.ndarray]:
    """Average ``(trials, electrodes, times)`` in consecutive bins of ``bin_width`` s."""
    step = times[1] - times[0]
    per_bin = max(1, int(round(bin_width / step)))
    n_bins = len(times) // per_bin
    usable = n_bins * per_bin
    binned = data[..., :usable].reshape(*data.shape[:-1], n_bins, per_bin).mean(axis=-1)
    centres = times[:usable].reshape(n_bins, per_bin).mean(axis=-1)
    return binned, centres


def _time_clusters(above: np.ndarray, excess: np.ndarray) -> list[tuple[int, int, float]]:
    """Contiguous runs of ``above`` with their summed ``excess``: (first, last, mass)."""
    labels, n = ndimage.label(above)
    return [(int(np.flatnonzero(labels == k)[0]), int(np.flatnonzero(labels == k)[-1]),
             float(excess[labels == k].sum())) for k in range(1, n + 1)]


def decode_outcome(
    data: np.ndarray,
    correct: np.ndarray,
    times: np.ndarray,
    *,
    n_folds: int = 5,
    n_permutations: int = 100,
    seed: int = 0,
    bin_width: float = 0.05,
    alpha: float = 0.05,
    n_jobs: int = 1,
) -> dict[str, Any]:
    """Decode the outcome over time from all electrodes, with a permutation null and clusters.

    A shrinkage linear discriminant (Ledoit–Wolf, on standardised electrodes; fast enough for
    a permutation null, and insensitive to class imbalance under ROC AUC) is trained and tested
    at each time bin (``SlidingEstimator``) in stratified k-fold cross-validation
    (``cross_val_multiscore``, ROC AUC). The null repeats this with permuted outcomes. Bins
    whose AUC exceeds the null's ``1 - alpha`` quantile form clusters; a cluster's mass (summed
    AUC above the null mean) is compared with the largest cluster mass of each permutation
    (computed against the same thresholds). The cluster step is written here because the MNE
    cluster tests permute observations, whereas this null consists of cross-validated scores.

    Parameters
    ----------
    data : numpy.ndarray
        ``(trials, electrodes, times)`` baseline-normalised high gamma.
    correct : numpy.ndarray
        Outcome per trial (1 rewarded).
    times : numpy.ndarray
        Seconds from feedback.
    n_folds : int
        Cross-validation folds (reduced to the minority-class count when smaller).
    n_permutations : int
        Label permutations of the null.
    seed : int
        Seed of the folds and permutations.
    bin_width : float
        Seconds averaged per decoding bin.
    alpha : float
        Threshold of bins and of clusters.
    n_jobs : int
        Parallel jobs of the sliding estimator.

    Returns
    -------
    dict
        ``scores``: DataFrame per bin (``time``, ``auc``, ``null_mean``, ``null_q95``,
        ``p_value`` (per bin, uncorrected), ``cluster`` (id or -1), ``significant``);
        ``clusters``: DataFrame (``cluster``, ``start``, ``stop``, ``mass``, ``p_value``);
        ``chance``: 0.5.
    """
    from mne.decoding import SlidingEstimator, cross_val_multiscore
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    y = np.asarray(correct).astype(int)
    counts = np.bincount(y, minlength=2)
    if counts.min() < 2:
        raise ValueError(f"decode_outcome: {counts[1]} rewarded and {counts[0]} unrewarded "
                         "trials; decoding needs ≥ 2 of each.")
    binned, centres = _bin_times(np.asarray(data, dtype=float), np.asarray(times), bin_width)
    folds = int(min(n_folds, counts.min()))
    rng = np.random.default_rng(seed)

    def _scores(labels: np.ndarray, fold_seed: int) -> np.ndarray:
        estimator = SlidingEstimator(
            make_pipeline(StandardScaler(),
                          LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto")),
            scoring="roc_auc", n_jobs=n_jobs, verbose=False)
        cv = StratifiedKFold(folds, shuffle=True, random_state=fold_seed)
        return cross_val_multiscore(estimator, binned, labels, cv=cv, n_jobs=1,
                                    verbose=False).mean(axis=0)

    fold_seed = int(rng.integers(2**31 - 1))
    observed = _scores(y, fold_seed)
    null = np.array([_scores(rng.permutation(y), fold_seed) for _ in range(n_permutations)])
    null_mean = null.mean(axis=0)
    threshold = np.quantile(null, 1 - alpha, axis=0)
    p_bin = (1 + (null >= observed).sum(axis=0)) / (1 + n_permutations)

    observed_clusters = _time_clusters(observed > threshold, observed - null_mean)
    null_max = np.array([max([m for *_, m in _time_clusters(s > threshold, s - null_mean)],
                             default=0.0) for s in null])
    cluster_id = np.full(len(centres), -1)
    significant = np.zeros(len(centres), dtype=bool)
    cluster_rows = []
    for k, (first, last, mass) in enumerate(observed_clusters):
        p_value = (1 + (null_max >= mass).sum()) / (1 + n_permutations)
        cluster_id[first:last + 1] = k
        significant[first:last + 1] = p_value < alpha
        cluster_rows.append({"cluster": k, "start": float(centres[first]),
                             "stop": float(centres[last]), "mass": mass,
                             "p_value": float(p_value)})
    scores = pd.DataFrame({"time": centres, "auc": observed, "null_mean": null_mean,
                           "null_q95": threshold, "p_value": p_bin, "cluster": cluster_id,
                           "significant": significant})
    return {"scores": scores,
            "clusters": pd.DataFrame(cluster_rows,
                                     columns=["cluster", "start", "stop", "mass", "p_value"]),
            "chance": 0.5, "n_folds": folds, "n_permutations": int(n_permutations),
            "bin_width": float(bin_width)}


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


def statistics_to_json(responsive: Mapping[str, Any], decoding: Mapping[str, Any],
                       n_trials: Mapping[str, int]) -> dict[str, Any]:
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
            "scoring": "roc_auc",
        },
        "n_trials": {k: int(v) for k, v in n_trials.items()},
    }
