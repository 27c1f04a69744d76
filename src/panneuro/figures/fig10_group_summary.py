"""Figure 10: every group effect of the study design, its 95 % interval and its truth.

A forest plot of the ``results/group/*_effects.tsv`` tables (learning stages, inactivation,
sleep): one panel per effect (each in its own units), one row per species × region × method,
the estimate with its 95 % interval, the planted truth (red cross) where known, and 0 (dotted).
The panels run down two columns of about equal height (one column was 3888 px tall on the
design's 17 effects).
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

#: Method labels drawn (short).
METHOD_LABELS = {
    "hierarchical_bootstrap": "bootstrap",
    "subject_t_test": "t over subjects",
    "mixedlm-random-slope": "MixedLM (random slope)",
    "gee": "GEE",
}


def _no_estimate(n_subjects: int) -> str:
    """Say why a row has no estimate: one subject (no test over subjects) or a failed fit."""
    return " (one subject: none)" if n_subjects < 2 else " (no fit)"


#: What each effect measures, in its units (the panel titles).
EFFECT_LABELS = {
    "stay_ccgp_stage_slope": "stay CCGP, change per learning stage (balanced accuracy)",
    "stay_cv_stage_slope": "stay CV accuracy, change per learning stage (balanced accuracy)",
    "stay_ccgp_late_minus_early": "stay CCGP, late minus early half of the session",
    "stay_cv_late_minus_early": "stay CV accuracy, late minus early half of the session",
    "trial2_accuracy_difference": "trial-2 accuracy, inactivation minus control (proportion)",
    "trial2_log_odds_ratio": "trial-2 accuracy, inactivation vs control (log-odds ratio)",
    "stay_ccgp_inactivation": "stay CCGP, inactivation minus control",
    "stay_cv_inactivation": "stay CV accuracy, inactivation minus control",
    "log_rate_inactivation": "mean firing rate, inactivation vs control (log ratio)",
    "n_units_inactivation": "curated units, inactivation minus control",
}


def effect_label(effect: str) -> str | None:
    """Return what an effect measures (``decoding_<variable>_inactivation`` included)."""
    if effect in EFFECT_LABELS:
        return EFFECT_LABELS[effect]
    if effect.startswith("decoding_") and effect.endswith("_inactivation"):
        variable = effect.removeprefix("decoding_").removesuffix("_inactivation")
        return f"decoding of {variable} (balanced accuracy), inactivation minus control"
    return None


#: Characters per line of a panel's title (it starts at the panel's left, after the labels).
TITLE_WIDTH = 80


def _limits(rows: pd.DataFrame) -> tuple[float, float]:
    """Return the x limits of a panel: estimates, truths, 0 and the informative intervals.

    The t intervals over two subjects (one degree of freedom) are an order of magnitude
    wider than the others; they are cut at the panel's edges (a triangle marks the cut).
    """
    narrow = rows["method"] != "subject_t_test"
    values = np.concatenate(
        [
            rows["estimate"].to_numpy(float),
            rows["truth"].to_numpy(float),
            [0.0],
            rows.loc[narrow, "ci_low"].to_numpy(float),
            rows.loc[narrow, "ci_high"].to_numpy(float),
        ]
    )
    values = values[np.isfinite(values)]
    low, high = float(values.min()), float(values.max())
    pad = 0.08 * (high - low) if high > low else 0.05
    return low - pad, high + pad


def plot_group_summary(tables: Sequence[pd.DataFrame]) -> Figure:
    """Figure 10: forest plot of every group effect with its interval and truth.

    Parameters
    ----------
    tables : sequence of pandas.DataFrame
        Group-effect tables (:data:`panneuro.stats.design_effects.EFFECT_COLUMNS`).

    Returns
    -------
    matplotlib.figure.Figure
        One panel per effect.
    """
    table = pd.concat(list(tables), ignore_index=True) if tables else pd.DataFrame()
    if table.empty:
        fig, ax = plt.subplots(figsize=(6, 2))
        ax.text(0.5, 0.5, "no group effect", ha="center", va="center")
        ax.set_axis_off()
        return fig
    effects = list(dict.fromkeys(table["effect"]))
    sizes = [int((table["effect"] == e).sum()) + 1.2 for e in effects]
    split = balanced_split(sizes)
    columns = [c for c in (effects[:split], effects[split:]) if c]
    tallest = max(sum(sizes[: len(columns[0])]), sum(sizes[len(columns[0]) :]))
    fig = plt.figure(
        figsize=(9.0 * len(columns), 1.2 + 0.28 * tallest + 0.2 * len(effects) / len(columns)),
        layout="constrained",
    )
    axes = []
    for subfig, column in zip(
        fig.subfigures(1, len(columns), squeeze=False)[0], columns, strict=True
    ):
        column_sizes = sizes[effects.index(column[0]) :][: len(column)]
        # each column as tall as the taller one: the rows keep one height across the figure
        ratios = [*column_sizes, max(tallest - sum(column_sizes), 1e-3)]
        grid = subfig.subplots(
            len(ratios), 1, squeeze=False, gridspec_kw={"height_ratios": ratios}
        )[:, 0]
        grid[-1].remove()  # the slot stays empty
        axes += list(grid[:-1])
    for ax, effect in zip(axes, effects, strict=True):
        rows = table[table["effect"] == effect].reset_index(drop=True)
        y = np.arange(len(rows))[::-1]
        low, high = _limits(rows)
        cut_low = rows["ci_low"].to_numpy(float) < low
        cut_high = rows["ci_high"].to_numpy(float) > high
        clipped = cut_low | cut_high
        rows = rows.assign(
            ci_low=rows["ci_low"].clip(lower=low), ci_high=rows["ci_high"].clip(upper=high)
        )
        finite = rows["estimate"].notna()
        ax.errorbar(
            rows.loc[finite, "estimate"],
            y[finite.to_numpy()],
            xerr=[
                rows.loc[finite, "estimate"] - rows.loc[finite, "ci_low"],
                rows.loc[finite, "ci_high"] - rows.loc[finite, "estimate"],
            ],
            fmt="o",
            color="0.15",
            ms=4,
            capsize=2,
            lw=1,
        )
        truth = rows["truth"].notna()
        ax.plot(
            rows.loc[truth, "truth"],
            y[truth.to_numpy()],
            "x",
            color="tab:red",
            ms=7,
            mew=1.8,
            label="planted truth",
        )
        ax.axvline(0, color="0.6", lw=0.8, ls=":")
        ax.plot(np.full(cut_low.sum(), low), y[cut_low], "<", color="0.15", ms=5)
        ax.plot(np.full(cut_high.sum(), high), y[cut_high], ">", color="0.15", ms=5)
        ax.set_xlim(low, high)
        labels = [
            f"{r.species} {r.region}, {METHOD_LABELS.get(r.method, r.method)}"
            + ("" if np.isfinite(r.estimate) else _no_estimate(r.n_subjects))
            + (" (interval clipped)" if clipped[k] else "")
            for k, r in enumerate(rows.itertuples())
        ]
        ax.set_yticks(y, labels, fontsize=7)
        ax.set_ylim(-0.7, len(rows) - 0.3)
        label = effect_label(effect)
        # wrapped: a long title ran past the figure's right edge (the right column's)
        title = textwrap.fill(f"{effect}: {label}" if label else effect, TITLE_WIDTH)
        ax.set_title(title, fontsize=8, loc="left")
        ax.tick_params(axis="x", labelsize=7)
        ax.spines[["top", "right"]].set_visible(False)
    handles = [plt.Line2D([], [], marker="o", color="0.15", ls="-", ms=4)]
    labels = ["estimate, 95 % interval"]
    if table["truth"].notna().any():  # a lab's run has no truth: no legend entry for it
        handles.append(plt.Line2D([], [], marker="x", color="tab:red", ls="", ms=7, mew=1.8))
        labels.append("planted truth")
    fig.legend(
        handles,
        labels,
        # outside the panels (constrained layout makes room): inside, it covered a panel title
        loc="outside upper right",
        ncol=2,
        fontsize=8,
        frameon=False,
    )
    fig.suptitle("Group effects of the study design", fontsize=11, x=0.02, ha="left")
    return fig


def balanced_split(sizes: Sequence[float]) -> int:
    """Return where to cut the panels (in order) into two columns of the closest heights."""
    totals = np.cumsum(sizes)
    if len(sizes) < 2:
        return len(sizes)
    gaps = [max(totals[k - 1], totals[-1] - totals[k - 1]) for k in range(1, len(sizes))]
    return int(np.argmin(gaps)) + 1
