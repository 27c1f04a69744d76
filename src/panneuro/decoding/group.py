"""Group-level decoding statistics across sessions and subjects.

Each session's decoding table (:func:`panneuro.decoding.time_resolved.decoding_table`) carries
the effect size ``effect = score - null_mean`` per region × variable × time bin, with its
session-level permutation and cluster tests. :func:`group_decoding` combines sessions:

* the group effect is the mean over **subjects** of each subject's mean over its sessions
  (subjects weigh equally, sessions are nested in subjects);
* its 95 % interval is a hierarchical percentile bootstrap (subjects resampled, then sessions
  within each resampled subject); with a single session it is that session's own interval of
  ``score`` (:func:`panneuro.stats.permutation.balanced_accuracy_ci`) minus its null mean;
* its test is a sign-flip test over subjects (or over sessions when there is one subject) with
  the maximum over time bins, family-wise over bins
  (:func:`panneuro.stats.permutation.sign_flip_max_test`); with fewer than two replication
  units there is no group test (``p_fwer`` NaN) and the session's cluster test stands.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from panneuro.stats.permutation import sign_flip_max_test

#: Columns of :func:`group_decoding`'s table.
GROUP_COLUMNS: tuple[str, ...] = (
    "region",
    "variable",
    "align",
    "time",
    "n_subjects",
    "n_sessions",
    "replication",
    "effect",
    "ci_low",
    "ci_high",
    "p_fwer",
    "significant",
)


def _hierarchical_bootstrap(
    effects: np.ndarray, subjects: np.ndarray, rng: np.random.Generator, n_resamples: int
) -> np.ndarray:
    """Bootstrap distribution of the mean-of-subject-means, shape (n_resamples, bins)."""
    names = np.unique(subjects)
    rows = {s: np.flatnonzero(subjects == s) for s in names}
    out = np.empty((n_resamples, effects.shape[1]))
    with warnings.catch_warnings():
        # A session without a score in a bin (too few trials of a class to decode) is NaN; a
        # resample of only such sessions gives NaN, which the means and quantiles skip.
        warnings.filterwarnings("ignore", "Mean of empty slice", RuntimeWarning)
        for k in range(n_resamples):
            chosen = rng.choice(names, size=len(names), replace=True)
            means = [
                np.nanmean(effects[rng.choice(rows[s], size=len(rows[s]), replace=True)], axis=0)
                for s in chosen
            ]
            out[k] = np.nanmean(means, axis=0)
    return out


def group_decoding(
    table: pd.DataFrame,
    rng: np.random.Generator,
    *,
    n_bootstrap: int = 2000,
    n_flips: int = 10000,
    alpha: float = 0.05,
    by: Sequence[str] = ("region", "variable"),
) -> pd.DataFrame:
    """Combine the sessions' time-resolved decoding into group effects, intervals and tests.

    Parameters
    ----------
    table : pandas.DataFrame
        Stacked session decoding tables (``subject``, ``session`` and the columns of
        :data:`panneuro.decoding.time_resolved.DECODING_COLUMNS`); only
        ``analysis == "time_resolved"`` rows are used.
    rng : numpy.random.Generator
        Draws the bootstrap resamples and random sign flips.
    n_bootstrap : int
        Hierarchical bootstrap resamples.
    n_flips : int
        Maximum sign flips of the group test.
    alpha : float
        Family-wise level of ``significant``.
    by : sequence of str
        Columns defining one group time course (e.g. add ``species``).

    Returns
    -------
    pandas.DataFrame
        One row per group × time bin: :data:`GROUP_COLUMNS` (plus any extra ``by`` column);
        ``replication`` says whether the test flips ``subjects``, ``sessions`` or is ``none``.
    """
    need = {
        "subject",
        "session",
        "analysis",
        "time",
        "effect",
        "score",
        "ci_low",
        "ci_high",
        "null_mean",
        *by,
    }
    missing = sorted(need - set(table.columns))
    if missing:
        raise ValueError(
            f"decoding tables lack column(s) {missing}; stack them with "
            "read_session_tables and rerun decode_session if 'effect' is missing."
        )
    rows = table[table["analysis"] == "time_resolved"]
    extra = [c for c in by if c not in GROUP_COLUMNS]
    parts = []
    for key, group in rows.groupby(list(by), sort=True):
        key = key if isinstance(key, tuple) else (key,)
        group = group.assign(
            _unit=group["subject"].astype(str) + "/" + group["session"].astype(str)
        )
        wide = group.pivot_table(
            index="_unit", columns="time", values="effect", aggfunc="mean", dropna=False
        )
        units = wide.index.to_numpy()
        subjects = np.array([u.split("/")[0] for u in units])
        effects = wide.to_numpy(float)
        times = wide.columns.to_numpy(float)
        subject_means = pd.DataFrame(effects).groupby(subjects).mean().to_numpy(float)
        effect = np.nanmean(subject_means, axis=0)
        if len(units) == 1:
            one = group.sort_values("time")
            low = (one["ci_low"] - one["null_mean"]).to_numpy(float)
            high = (one["ci_high"] - one["null_mean"]).to_numpy(float)
        else:
            boot = _hierarchical_bootstrap(effects, subjects, rng, n_bootstrap)
            low, high = np.nanquantile(boot, [0.025, 0.975], axis=0)
        if subject_means.shape[0] >= 2:
            p, replication = sign_flip_max_test(subject_means, rng, n_flips=n_flips), "subjects"
        elif len(units) >= 2:
            p, replication = sign_flip_max_test(effects, rng, n_flips=n_flips), "sessions"
        else:
            p, replication = np.full(len(times), np.nan), "none"
        out = pd.DataFrame(
            {
                **dict(zip(by, key, strict=True)),
                "align": group["align"].iloc[0] if "align" in group.columns else "",
                "time": times,
                "n_subjects": len(set(subjects)),
                "n_sessions": len(units),
                "replication": replication,
                "effect": effect,
                "ci_low": low,
                "ci_high": high,
                "p_fwer": p,
            }
        )
        out["significant"] = (out["p_fwer"] < alpha).astype(int)
        parts.append(out)
    columns = [*GROUP_COLUMNS, *extra]
    if not parts:
        return pd.DataFrame(columns=columns)
    return pd.concat(parts, ignore_index=True)[columns]
