"""Figure 3: what macaque prefrontal and hippocampal populations encode, and how abstractly.

Per region, time-resolved decoding (balanced accuracy) of ``choice``, ``correct`` and
``rewarded_object`` with chance, the permutation null band (null mean to its 95th percentile)
and significant clusters (cluster-mass test) as bars, the score's 95 % interval dotted and, with
two or more sessions, the group effect across sessions (black, hierarchical bootstrap interval,
sign-flip max-statistic test); then the cross-temporal generalisation matrix of one variable
(train × test time); the last column shows the cross-condition generalisation of ``stay``
early vs late in the session.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

#: Preferred region order (others follow alphabetically).
REGION_ORDER: tuple[str, ...] = ("prefrontal", "hippocampus")
DEFAULT_VARIABLES: tuple[str, ...] = ("choice", "correct", "rewarded_object")
_COLORS = plt.get_cmap("tab10").colors


def session_label(table: pd.DataFrame) -> pd.Series:
    """Label each row by its session (``sub-X ses-Y``), or ``"session"`` without those columns.

    Parameters
    ----------
    table : pandas.DataFrame
        A decoding table, optionally with ``subject`` and ``session`` columns.

    Returns
    -------
    pandas.Series
        One label per row.
    """
    if {"subject", "session"} <= set(table.columns):
        return "sub-" + table["subject"].astype(str) + " ses-" + table["session"].astype(str)
    return pd.Series("session", index=table.index)


def ordered_regions(regions: Sequence[str]) -> list[str]:
    """Order region names: :data:`REGION_ORDER` first, then the rest alphabetically.

    Parameters
    ----------
    regions : sequence of str
        Region names (duplicates allowed).

    Returns
    -------
    list of str
        Unique names in display order.
    """
    unique = set(regions)
    return [r for r in REGION_ORDER if r in unique] + sorted(unique - set(REGION_ORDER))


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Start/stop (exclusive) index pairs of the True runs of a 1-D mask."""
    padded = np.concatenate([[False], np.asarray(mask, dtype=bool), [False]])
    edges = np.flatnonzero(np.diff(padded.astype(int)))
    return list(zip(edges[::2], edges[1::2], strict=True))


def label_colors(labels: Sequence[str]) -> dict[str, tuple]:
    """Assign each line label one colour, the same in every panel of a figure.

    Parameters
    ----------
    labels : sequence of str
        Line labels (duplicates allowed); colours follow their sorted order.

    Returns
    -------
    dict
        Label → RGB colour of the ``tab10`` cycle.
    """
    return {label: _COLORS[k % len(_COLORS)] for k, label in enumerate(sorted(set(labels)))}


def timecourse_panel(
    ax: Axes,
    table: pd.DataFrame,
    *,
    group: str = "label",
    chance: float | None = 0.5,
    ylabel: str = "balanced accuracy",
    colors: dict | None = None,
) -> None:
    """Draw score time courses with their null bands, intervals and significant-cluster bars.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Target axes.
    table : pandas.DataFrame
        Rows of one panel: ``time``, ``score``, ``null_mean``, ``null_q95``, ``significant``
        and the ``group`` column (one line per group); optional ``ci_low``/``ci_high`` (the
        score's 95 % interval) are drawn dotted.
    group : str
        Column that names the lines.
    chance : float or None
        Chance level drawn as a dashed line.
    ylabel : str
        Y-axis label.
    colors : dict, optional
        Group → colour (:func:`label_colors`); default the panel's own cycle.
    """
    groups = sorted(pd.unique(table[group])) if len(table) else []
    colors = colors or label_colors(groups)
    for k, name in enumerate(groups):
        rows = table[table[group] == name].sort_values("time")
        color = colors.get(name, _COLORS[k % len(_COLORS)])
        t = rows["time"].to_numpy(dtype=float)
        ax.fill_between(
            t,
            rows["null_mean"].to_numpy(dtype=float),
            rows["null_q95"].to_numpy(dtype=float),
            color=color,
            alpha=0.15,
            linewidth=0,
        )
        ax.plot(t, rows["score"].to_numpy(dtype=float), color=color, label=str(name))
        if {"ci_low", "ci_high"} <= set(rows.columns):  # the score's 95 % interval
            for bound in ("ci_low", "ci_high"):
                ax.plot(
                    t, rows[bound].to_numpy(dtype=float), color=color, linewidth=0.6, linestyle=":"
                )
        significant = rows["significant"].fillna(0).to_numpy(dtype=float) > 0
        step = np.median(np.diff(t)) if len(t) > 1 else 0.1
        for start, stop in _runs(significant):
            # bars at the top of the axes (y in axes fraction), one height per line
            ax.plot(
                [t[start] - step / 2, t[stop - 1] + step / 2],
                [0.97 - 0.04 * k] * 2,
                color=color,
                linewidth=3,
                solid_capstyle="butt",
                transform=ax.get_xaxis_transform(),
            )
    if groups:  # headroom for the cluster bars
        low, high = ax.get_ylim()
        ax.set_ylim(low, high + 0.15 * (high - low))
    if chance is not None:
        ax.axhline(chance, color="0.4", linestyle="--", linewidth=0.8)
    ax.axvline(0.0, color="0.6", linewidth=0.8)
    align = table["align"].iloc[0] if "align" in table.columns and len(table) else "event"
    ax.set_xlabel(f"time from {align} (s)")
    ax.set_ylabel(ylabel)
    if groups:
        ax.legend(fontsize=6, frameon=False, loc="lower right")


def group_panel(ax: Axes, group: pd.DataFrame, *, chance: float = 0.5) -> None:
    """Overlay the group effect across sessions (black) with its interval and FWE-significant bins.

    Drawn only when the group has at least two sessions (one session is its own line).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Target axes (a :func:`timecourse_panel`).
    group : pandas.DataFrame
        Rows of :func:`panneuro.decoding.group.group_decoding` for one region × variable.
    chance : float
        Added to the chance-corrected effect to draw it on the accuracy axis.
    """
    if group.empty or int(group["n_sessions"].max()) < 2:
        return
    rows = group.sort_values("time")
    t = rows["time"].to_numpy(dtype=float)
    ax.fill_between(
        t,
        chance + rows["ci_low"].to_numpy(dtype=float),
        chance + rows["ci_high"].to_numpy(dtype=float),
        color="k",
        alpha=0.12,
        linewidth=0,
    )
    ax.plot(
        t,
        chance + rows["effect"].to_numpy(dtype=float),
        color="k",
        linewidth=1.6,
        label=f"group (n={int(rows['n_sessions'].max())} sessions)",
    )
    step = np.median(np.diff(t)) if len(t) > 1 else 0.1
    for start, stop in _runs(rows["significant"].to_numpy(dtype=float) > 0):
        ax.plot(
            [t[start] - step / 2, t[stop - 1] + step / 2],
            [0.02] * 2,
            color="k",
            linewidth=3,
            solid_capstyle="butt",
            transform=ax.get_xaxis_transform(),
        )
    ax.legend(fontsize=6, frameon=False, loc="lower right")


def cross_temporal_panel(ax: Axes, table: pd.DataFrame) -> None:
    """Draw the cross-temporal generalisation matrix (train time × test time), session mean.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Target axes.
    table : pandas.DataFrame
        ``analysis == "cross_temporal"`` rows of one region × variable (``train_time``,
        ``time``, ``score``, ``significant``), one or more sessions; the score is averaged
        over sessions and the cells significant in the majority of sessions (cluster-mass
        test over the matrix) are outlined.
    """
    if table.empty:
        ax.text(0.5, 0.5, "no cross-temporal rows", ha="center", transform=ax.transAxes)
        return
    score = table.pivot_table(index="train_time", columns="time", values="score", aggfunc="mean")
    significant = table.pivot_table(
        index="train_time", columns="time", values="significant", aggfunc="mean"
    ).reindex_like(score)
    train, test = score.index.to_numpy(float), score.columns.to_numpy(float)
    step = float(np.median(np.diff(test))) if len(test) > 1 else 0.1
    extent = (test[0] - step / 2, test[-1] + step / 2, train[0] - step / 2, train[-1] + step / 2)
    image = ax.imshow(
        score.to_numpy(float),
        origin="lower",
        extent=extent,
        cmap="RdBu_r",
        vmin=0.2,
        vmax=0.8,
        aspect="auto",
        interpolation="nearest",
    )
    if np.nanmax(significant.to_numpy(float), initial=0) > 0.5:
        ax.contour(
            test, train, significant.to_numpy(float) > 0.5, levels=[0.5], colors="k", linewidths=0.8
        )
    ax.plot(
        [extent[0], extent[1]], [extent[0], extent[1]], color="0.3", linewidth=0.5, linestyle=":"
    )
    align = table["align"].iloc[0] if "align" in table.columns else "event"
    ax.set_xlabel(f"test time from {align} (s)")
    ax.set_ylabel("train time (s)")
    image.set_label("balanced accuracy")


def ccgp_panel(ax: Axes, ccgp: pd.DataFrame, *, alpha: float = 0.05, group: str = "label") -> None:
    """Draw cross-condition generalisation early vs late as bars with the null's 95th centile.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Target axes.
    ccgp : pandas.DataFrame
        Rows of the cross-condition table (``epoch``, ``condition``, ``analysis``, ``score``,
        ``null_q95``, ``p_value``) for one region, possibly several groups (sessions).
    alpha : float
        Bars with ``p_value < alpha`` get a star.
    group : str
        Column that names the groups (averaged within each bar; one dot per group).
    """
    table = ccgp.copy()
    table["measure"] = np.where(
        table["analysis"] == "cv", "cv", "ccgp " + table["condition"].astype(str)
    )
    measures = sorted(pd.unique(table["measure"]), key=lambda m: (m != "cv", m))
    epochs = [e for e in ("early", "late") if e in set(table["epoch"])]
    width = 0.8 / max(1, len(epochs))
    for j, epoch in enumerate(epochs):
        for i, measure in enumerate(measures):
            rows = table[(table["epoch"] == epoch) & (table["measure"] == measure)]
            if rows.empty:
                continue
            x = i + (j - (len(epochs) - 1) / 2) * width
            score = rows["score"].to_numpy(dtype=float)
            ax.bar(
                x,
                np.nanmean(score),
                width=width * 0.9,
                color=_COLORS[j],
                label=epoch if i == 0 else None,
                alpha=0.8,
            )
            ax.plot(np.full(len(score), x), score, "k.", markersize=3)
            ax.plot(
                [x - width / 2, x + width / 2],
                [np.nanmean(rows["null_q95"])] * 2,
                color="k",
                linewidth=1,
            )
            if np.nanmin(rows["p_value"].to_numpy(dtype=float), initial=np.inf) < alpha:
                ax.text(
                    x, min(np.nanmax(score, initial=0.5) + 0.02, 1.02), "*", ha="center", fontsize=9
                )
    ax.axhline(0.5, color="0.4", linestyle="--", linewidth=0.8)
    ax.set_xticks(range(len(measures)))
    ax.set_xticklabels(measures, rotation=20, fontsize=7)
    ax.set_ylim(0.3, 1.05)
    variable = table["variable"].iloc[0] if "variable" in table.columns and len(table) else ""
    ax.set_ylabel(f"{variable} decoding (balanced acc.)")
    ax.legend(fontsize=6, frameon=False, loc="upper left")


def plot_monkey_decoding(
    table: pd.DataFrame,
    ccgp: pd.DataFrame | None = None,
    *,
    variables: Sequence[str] = DEFAULT_VARIABLES,
    alpha: float = 0.05,
    group: pd.DataFrame | None = None,
    cross_temporal: str | None = "choice",
) -> Figure:
    """Figure 3: time-resolved decoding per region and variable, and CCGP early vs late.

    Parameters
    ----------
    table : pandas.DataFrame
        Concatenated decoding tables of the macaque sessions
        (:data:`panneuro.decoding.time_resolved.DECODING_COLUMNS`, plus ``subject`` and
        ``session``); only ``analysis == "time_resolved"`` rows are drawn.
    ccgp : pandas.DataFrame, optional
        Concatenated cross-condition tables of the same sessions.
    variables : sequence of str
        Decoded variables, one column each.
    alpha : float
        Significance level marked in the CCGP panel.
    group : pandas.DataFrame, optional
        Group statistics across sessions (:func:`panneuro.decoding.group.group_decoding`),
        overlaid where a region × variable has two or more sessions.
    cross_temporal : str, optional
        Variable whose cross-temporal generalisation matrix gets its own column (colour scale
        0.2–0.8 balanced accuracy, significant cells outlined); ``None`` for none.

    Returns
    -------
    matplotlib.figure.Figure
        Rows = regions, columns = variables (+ cross-temporal) (+ CCGP).
    """
    matrix = table[table["analysis"] == "cross_temporal"]
    table = table[table["analysis"] == "time_resolved"].copy()
    table["label"] = session_label(table)
    colors = label_colors(table["label"])
    regions = ordered_regions(table["region"]) or ["(no units)"]
    variables = [v for v in variables if v in set(table["variable"])] or list(variables)
    if cross_temporal is not None and cross_temporal not in set(matrix["variable"]):
        cross_temporal = None
    n_cols = len(variables) + (cross_temporal is not None) + (ccgp is not None)
    fig, axes = plt.subplots(
        len(regions), n_cols, figsize=(3.0 * n_cols, 2.6 * len(regions)), squeeze=False
    )
    for r, region in enumerate(regions):
        for c, variable in enumerate(variables):
            ax = axes[r, c]
            rows = table[(table["region"] == region) & (table["variable"] == variable)]
            timecourse_panel(ax, rows, colors=colors)
            if group is not None:
                group_panel(
                    ax, group[(group["region"] == region) & (group["variable"] == variable)]
                )
            ax.set_title(f"{region}: {variable}", fontsize=9)
        lows, highs = zip(*(axes[r, c].get_ylim() for c in range(len(variables))), strict=True)
        for c in range(len(variables)):  # the time courses of a row share their y axis
            axes[r, c].set_ylim(min(lows), max(highs))
        if cross_temporal is not None:
            ax = axes[r, len(variables)]
            cross_temporal_panel(
                ax, matrix[(matrix["region"] == region) & (matrix["variable"] == cross_temporal)]
            )
            ax.set_title(
                f"{region}: {cross_temporal}, train × test\n(0.2–0.8 bal. acc.)", fontsize=8
            )
        if ccgp is not None:
            ax = axes[r, -1]
            rows = ccgp[ccgp["region"] == region].copy()
            rows["label"] = session_label(rows)
            if len(rows):
                ccgp_panel(ax, rows, alpha=alpha)
            ax.set_title(f"{region}: abstraction", fontsize=9)
    fig.suptitle("Macaque population decoding", fontsize=11)
    fig.tight_layout()
    return fig
