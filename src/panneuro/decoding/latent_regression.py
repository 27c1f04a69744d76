"""Model latents vs population codes: cross-validated ridge regression per region and bin.

The learning-to-learn agent's trial-by-trial latents (``belief_chosen``, ``prediction_error``)
are predicted from each region's spike counts in each time bin by ``RidgeCV`` (standardised
counts, ridge penalty chosen by efficient leave-one-out inside each training fold), scored by
the out-of-fold R² pooled over ``KFold(shuffle=True)`` folds. The null refits on latents
permuted within problems (trial-by-trial tracking beyond problem-level drifts); all permuted
latents are fitted in the same multi-target ``RidgeCV`` call (``alpha_per_target=True``), which
is exactly the per-permutation fit, once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.linear_model import RidgeCV
from sklearn.metrics import r2_score
from sklearn.model_selection import KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from panneuro.decoding.populations import population_counts, stack_tables
from panneuro.decoding.time_resolved import null_summary
from panneuro.seeding import rng_for
from panneuro.stats.permutation import (
    permuted_labels,
)

#: Latent columns the behaviour stage writes (``results/model/sub-X_ses-Y_latents.tsv``).
LATENT_COLUMNS: tuple[str, ...] = ("belief_chosen", "prediction_error", "learning_rate")

#: Columns of ``results/decoding/sub-X_ses-Y_latents_regression.tsv``.
REGRESSION_COLUMNS: tuple[str, ...] = (
    "region",
    "n_units",
    "latent",
    "align",
    "time",
    "score",
    "null_mean",
    "null_q95",
    "p_value",
    "cluster",
    "cluster_p",
    "significant",
)

DEFAULT_ALPHAS: tuple[float, ...] = (0.1, 1.0, 10.0, 100.0, 1000.0)


@dataclass
class RegressionResult:
    """Cross-validated R² per bin and its permutation null.

    Attributes
    ----------
    scores : numpy.ndarray
        Out-of-fold R², shape (bins,).
    null : numpy.ndarray
        Shape (n_permutations, bins).
    """

    scores: np.ndarray
    null: np.ndarray


def latent_regression(
    counts: np.ndarray,
    target: np.ndarray,
    *,
    groups: np.ndarray,
    rng: np.random.Generator,
    n_folds: int = 5,
    n_permutations: int = 50,
    alphas: Sequence[float] = DEFAULT_ALPHAS,
) -> RegressionResult:
    """Predict a continuous latent from the population in each bin (ridge, CV R²).

    Parameters
    ----------
    counts : numpy.ndarray
        Spike counts, shape (trials, units, bins).
    target : numpy.ndarray
        The latent per trial (finite).
    groups : numpy.ndarray
        Problem per trial (blocks of the permutation).
    rng : numpy.random.Generator
        Draws the fold seed and the permutations.
    n_folds : int
        ``KFold`` folds.
    n_permutations : int
        Permutations of the null.
    alphas : sequence of float
        Ridge penalties searched by ``RidgeCV`` in each training fold.

    Returns
    -------
    RegressionResult
        R² per bin (can be negative: worse than the training mean) and its null.
    """
    counts = np.asarray(counts, dtype=float)
    target = np.asarray(target, dtype=float)
    if counts.ndim != 3 or counts.shape[0] != target.shape[0]:
        raise ValueError(
            f"counts must be (trials, units, bins) with one target per trial; "
            f"got counts {counts.shape} and {target.shape[0]} targets."
        )
    if not (np.all(np.isfinite(target)) and np.all(np.isfinite(counts))):
        raise ValueError("target/counts contain NaN or inf; drop those trials first.")
    fold_seed = int(rng.integers(2**31 - 1))
    targets = np.column_stack(
        [target, permuted_labels(target, np.asarray(groups), n_permutations, rng).T]
    )
    n_trials, _, n_bins = counts.shape
    predicted = np.empty((n_trials, n_bins, targets.shape[1]))
    folds = KFold(n_splits=int(min(n_folds, n_trials)), shuffle=True, random_state=fold_seed)
    for train, test in folds.split(counts):
        for b in range(n_bins):
            model = make_pipeline(
                StandardScaler(), RidgeCV(alphas=list(alphas), alpha_per_target=True)
            )
            model.fit(counts[train, :, b], targets[train])
            predicted[test, b, :] = model.predict(counts[test, :, b])
    r2 = np.stack(
        [r2_score(targets, predicted[:, b, :], multioutput="raw_values") for b in range(n_bins)],
        axis=1,
    )  # (1 + permutations, bins)
    return RegressionResult(r2[0], r2[1:])


def regression_table(
    result: RegressionResult,
    bin_centers: np.ndarray,
    *,
    threshold_quantile: float = 0.95,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Tidy table of a regression result with per-bin p-values and cluster-mass clusters.

    Parameters
    ----------
    result : RegressionResult
        From :func:`latent_regression`.
    bin_centers : numpy.ndarray
        Bin centres, seconds from the alignment event.
    threshold_quantile : float
        Cluster-forming quantile of the null.
    alpha : float
        Cluster p-value below which bins are ``significant``.

    Returns
    -------
    pandas.DataFrame
        Columns ``time``, ``score``, ``null_mean``, ``null_q95``, ``p_value``, ``cluster``,
        ``cluster_p``, ``significant``.
    """
    table = pd.DataFrame(
        {
            "time": np.asarray(bin_centers, dtype=float),
            "score": result.scores,
            **null_summary(result.scores, result.null, threshold_quantile=threshold_quantile),
        }
    )
    table["significant"] = (table["cluster_p"] < alpha).astype(int)
    return table[
        ["time", "score", "null_mean", "null_q95", "p_value", "cluster", "cluster_p", "significant"]
    ]


def check_latents(
    latents: pd.DataFrame,
    events: pd.DataFrame,
    variables: Sequence[str],
    source: str = "latents table",
) -> None:
    """Check that a latents table matches its trial table.

    Parameters
    ----------
    latents : pandas.DataFrame
        One row per trial, in events order.
    events : pandas.DataFrame
        The trial table.
    variables : sequence of str
        Latent columns that must be present.
    source : str
        Name of the latents file for the error message.

    Raises
    ------
    ValueError
        On a missing column or a row count that differs from the events'.
    """
    missing = [v for v in variables if v not in latents.columns]
    if missing:
        raise ValueError(
            f"{source}: lacks latent column(s) {missing}; the behaviour stage "
            f"writes {list(LATENT_COLUMNS)} (see docs/architecture.md), or fix "
            "config['decoding']['latents']['variables']."
        )
    if len(latents) != len(events):
        raise ValueError(
            f"{source}: {len(latents)} rows but the session has {len(events)} "
            "trials; the latents must have one row per trial in events order "
            "(rerun the behaviour stage for this session)."
        )


def regress_session(
    units: pd.DataFrame,
    spike_times: Sequence[np.ndarray],
    events: pd.DataFrame,
    latents: pd.DataFrame,
    settings: Mapping,
    *,
    seed: int,
    keys: Sequence[str | int] = (),
) -> pd.DataFrame:
    """Regress each model latent on each region's population over time, for one session.

    Parameters
    ----------
    units : pandas.DataFrame
        Units (``region`` column), in the order of ``spike_times``.
    spike_times : sequence of numpy.ndarray
        Spike times, seconds on the events' clock.
    events : pandas.DataFrame
        The trial table.
    latents : pandas.DataFrame
        Per-trial latents, rows in events order.
    settings : mapping
        ``config["decoding"]``: ``latents`` (``variables``, ``align``, ``alphas``), ``window``,
        ``bin_size``, ``step``, ``n_folds``, ``n_permutations``,
        ``cluster_threshold_quantile``, ``alpha``, ``min_units``.
    seed : int
        The project seed (``rng_for(seed, "latents", *keys, region, latent)``).
    keys : sequence
        Session names for the seed.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`REGRESSION_COLUMNS`.
    """
    spec = settings.get("latents", {})
    variables = list(spec.get("variables", ["belief_chosen", "prediction_error"]))
    check_latents(latents, events, variables)
    align = {latent: spec.get("align", {}).get(latent, "onset") for latent in variables}
    groups = events["problem"].to_numpy()
    parts = []
    for pop in population_counts(
        units,
        spike_times,
        events,
        align,
        window=settings["window"],
        bin_size=settings["bin_size"],
        step=settings["step"],
        min_units=int(settings.get("min_units", 1)),
    ):
        y = latents[pop.target].to_numpy(dtype=float)
        keep = np.isfinite(y)
        result = latent_regression(
            pop.counts[keep],
            y[keep],
            groups=groups[keep],
            rng=rng_for(seed, "latents", *keys, pop.region, pop.target),
            n_folds=int(settings["n_folds"]),
            n_permutations=int(settings["n_permutations"]),
            alphas=spec.get("alphas", DEFAULT_ALPHAS),
        )
        table = regression_table(
            result,
            pop.centers,
            threshold_quantile=float(settings.get("cluster_threshold_quantile", 0.95)),
            alpha=float(settings.get("alpha", 0.05)),
        )
        parts.append(pop.label(table, "latent"))
    return stack_tables(parts, REGRESSION_COLUMNS)
