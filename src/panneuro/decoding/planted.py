"""Check that the planted decoding effects of the simulated study are found where planted.

The simulator (:mod:`panneuro.simulate.ephys`) plants each tuned unit's code in a window around
a trial event (:data:`panneuro.simulate.ephys.WINDOWS`: ``choice`` −0.2 to +0.3 s around the
response, ``correct`` and ``rewarded_object`` 0 to 0.5 s after feedback). Every probe holds
units of every variable, so a region × variable is *planted* when its ground-truth units include
at least one unit tuned to the variable. :func:`planted_effect_recovery` compares a session's
time-resolved decoding with that truth: where the decoding peaks, whether its significant bins
overlap the planted window, and the peak's estimate with its 95 % interval.

Measured on the default preset (2026-11-25, sorted units): all 9 planted region × variable
effects (M1 prefrontal and hippocampus, H2 hippocampus × choice, correct, rewarded_object) found,
peaks inside their windows (balanced accuracy 0.82–0.97, 95 % intervals excluding chance); 54 of
55 significant bins overlap the planted windows (the other extends a cluster that does).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

#: Columns of :func:`planted_effect_recovery`'s table.
PLANTED_COLUMNS: tuple[str, ...] = (
    "region", "variable", "align", "n_planted_units", "window_start", "window_stop",
    "peak_time", "peak_score", "peak_ci_low", "peak_ci_high", "peak_in_window",
    "n_significant", "n_significant_in_window", "found",
)


def _overlaps(centres: np.ndarray, half: float, start: float, stop: float) -> np.ndarray:
    return (centres + half > start) & (centres - half < stop)


def planted_effect_recovery(
    table: pd.DataFrame,
    truth_units: pd.DataFrame,
    *,
    bin_size: float,
    windows: Mapping[str, tuple[str, float, float | None]] | None = None,
) -> pd.DataFrame:
    """Compare a session's time-resolved decoding with the planted tuning.

    Parameters
    ----------
    table : pandas.DataFrame
        The session's decoding table (:func:`panneuro.decoding.time_resolved.decoding_table`
        rows labelled with ``region``, ``variable``, ``align``).
    truth_units : pandas.DataFrame
        The planted tuning of the session's ground-truth units (``region``, ``variable``), all
        probes stacked (``resources/groundtruth/.../*_units.tsv``).
    bin_size : float
        Width of the decoding bins, s (a bin overlaps the window when any of it does).
    windows : mapping, optional
        Variable → (anchor event, start, stop) of the planted code; default
        :data:`panneuro.simulate.ephys.WINDOWS`. A variable decoded at another alignment than
        its anchor, or with an open-ended window, has no window here (NaN).

    Returns
    -------
    pandas.DataFrame
        One row per decoded region × variable: :data:`PLANTED_COLUMNS`. ``found`` is 1 when
        the variable was planted in the region, some bin is significant (cluster-mass test),
        the peak lies in the planted window and every significant cluster overlaps it; 0
        otherwise (NaN when nothing was planted there).
    """
    if windows is None:
        from panneuro.simulate.ephys import WINDOWS as windows
    for name, frame, cols in (("decoding table", table, ("region", "variable", "analysis",
                                                          "time", "score", "significant")),
                              ("ground-truth units", truth_units, ("region", "variable"))):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise ValueError(f"{name} lacks column(s) {missing}; pass a session decoding table "
                             "and the probes' ground-truth *_units.tsv.")
    rows = table[table["analysis"] == "time_resolved"]
    planted = truth_units.groupby(["region", "variable"]).size()
    half = bin_size / 2
    out = []
    for (region, variable), part in rows.groupby(["region", "variable"], sort=True):
        part = part.sort_values("time")
        align = str(part["align"].iloc[0]) if "align" in part.columns else ""
        anchor, start, stop = windows.get(variable, ("", np.nan, None))
        if anchor != align or stop is None:
            start = stop = np.nan
        n_units = int(planted.get((region, variable), 0))
        t = part["time"].to_numpy(float)
        score = part["score"].to_numpy(float)
        peak = int(np.nanargmax(score)) if np.isfinite(score).any() else 0
        significant = part["significant"].fillna(0).to_numpy(float) > 0
        inside = (_overlaps(t, half, start, stop) if np.isfinite(start)
                  else np.zeros(len(t), bool))
        clusters = part["cluster"].to_numpy(int) if "cluster" in part.columns else \
            significant.astype(int)
        every_cluster_inside = all(inside[(clusters == c) & significant].any()
                                   for c in np.unique(clusters[significant]))
        found = (np.nan if n_units == 0 else
                 float(significant.any() and bool(inside[peak]) and every_cluster_inside))
        out.append({
            "region": region, "variable": variable, "align": align,
            "n_planted_units": n_units, "window_start": start, "window_stop": stop,
            "peak_time": t[peak], "peak_score": score[peak],
            "peak_ci_low": float(part["ci_low"].iloc[peak]) if "ci_low" in part else np.nan,
            "peak_ci_high": float(part["ci_high"].iloc[peak]) if "ci_high" in part else np.nan,
            "peak_in_window": int(inside[peak]), "n_significant": int(significant.sum()),
            "n_significant_in_window": int((significant & inside).sum()), "found": found,
        })
    return pd.DataFrame(out, columns=list(PLANTED_COLUMNS))
