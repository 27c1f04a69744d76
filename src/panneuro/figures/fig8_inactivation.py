"""Figure 8: reversible inactivation, behaviour and neural codes.

Panels: trial-2 accuracy, each region's stay code (CCGP) and the inactivated region's mean
firing rate, in the inactivation sessions and their neighbouring control sessions (recorded
at the inactivation's learning stage, or behaviour-only: the trial-2 panel only). One line per
subject and stage (``behaviour only`` for the behaviour-only sessions: squares, dotted; filled
markers: the estimate per session; open markers, dashed: the planted truth where known); the
title gives the group effect (inactivation minus control, hierarchical bootstrap, 95 %
interval) and its truth. A design whose inactivation sessions are all behaviour-only has the
trial-2 panel only.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FormatStrFormatter  # noqa: E402

from panneuro.figures.fig3_monkey_decoding import label_colors  # noqa: E402
from panneuro.figures.fig7_learning_stages import (  # noqa: E402
    add_few_subjects_entry,
    effect_title,
)

#: The session scores the panels draw (each with its ``<value>_truth`` where known).
DRAWN = ("trial2_accuracy", "ccgp", "log_rate")


def _panel(ax, part: pd.DataFrame, value: str, colors: dict, transform=None) -> None:
    """Draw control vs inactivation per subject and stage (x = 0 control, 1 inactivation)."""
    transform = transform or (lambda v: v)
    for (subject, stage), rows in part.groupby(["subject", "learning_stage"], sort=True):
        means = rows.groupby("inactivated")[value].mean()
        ax.plot(
            means.index,
            transform(means.to_numpy()),
            # a subject's behaviour-only sessions beside its recorded ones: another marker
            "s:" if stage == "n/a" else "o-",
            color=colors[subject],
            label=f"{subject} ({'behaviour only' if stage == 'n/a' else stage})",
        )
        truth = f"{value}_truth"
        if truth in rows and rows[truth].notna().any():
            tmeans = rows.groupby("inactivated")[truth].mean()
            ax.plot(
                tmeans.index + 0.06,
                transform(tmeans.to_numpy()),
                "o--",
                mfc="none",
                color=colors[subject],
                alpha=0.7,
            )
    ax.set_xticks([0, 1], ["control", "inactivation"])
    ax.set_xlim(-0.3, 1.3)
    ax.spines[["top", "right"]].set_visible(False)


def plot_inactivation(scores: pd.DataFrame, effects: pd.DataFrame) -> Figure:
    """Figure 8: the inactivation's behavioural cost and its effect on the codes.

    Parameters
    ----------
    scores : pandas.DataFrame
        ``results/group/inactivation_scores.tsv``
        (:func:`panneuro.stats.design_effects.inactivation_scores`).
    effects : pandas.DataFrame
        ``results/group/inactivation_effects.tsv``.

    Returns
    -------
    matplotlib.figure.Figure
        Trial-2 accuracy, the stay CCGP of each region, the silenced region's rate.
    """
    scores = scores.copy()
    scores["subject"] = scores["subject"].astype(str)
    # behaviour-only sessions have no stage (``n/a``, read back from the table as missing)
    # (object first: a column read as all-missing is float64, which pandas 4 will not fill
    # with a string)
    scores["learning_stage"] = scores["learning_stage"].astype(object).fillna("n/a").astype(str)
    colors = label_colors(scores["subject"])
    regions = sorted(set(scores["region"]) - {"behaviour"})
    rate_effects = effects[effects["effect"] == "log_rate_inactivation"]
    silenced = sorted(set(rate_effects["region"]))
    n = 1 + len(regions) + len(silenced)
    fig, axes = plt.subplots(1, n, figsize=(max(3.1 * n, 4.4), 4.2), squeeze=False)
    axes = axes[0]
    species = str(scores["species"].iloc[0]) if len(scores) else ""
    beh = scores[scores["region"] == "behaviour"]
    _panel(axes[0], beh, "trial2_accuracy", colors)
    axes[0].axhline(0.5, color="0.6", lw=0.8, ls=":")
    axes[0].set_ylabel("trial-2 accuracy")
    axes[0].set_title(
        "behaviour: trial 2\n"
        + effect_title(effects, "trial2_accuracy_difference", species, "behaviour"),
        fontsize=8,
    )
    for k, region in enumerate(regions, start=1):
        part = scores[scores["region"] == region]
        _panel(axes[k], part, "ccgp", colors)
        axes[k].axhline(0.5, color="0.6", lw=0.8, ls=":")
        axes[k].set_ylabel("stay CCGP (balanced acc.)")
        axes[k].set_title(
            f"{region}: stay code\n"
            + effect_title(effects, "stay_ccgp_inactivation", species, region),
            fontsize=8,
        )
    for k, region in enumerate(silenced, start=1 + len(regions)):
        part = scores[scores["region"] == region]
        _panel(axes[k], part, "log_rate", colors, transform=np.exp)
        axes[k].set_yscale("log")
        axes[k].yaxis.set_major_formatter(FormatStrFormatter("%g"))
        axes[k].yaxis.set_minor_formatter(FormatStrFormatter("%g"))
        axes[k].set_ylabel("mean firing rate of kept units (Hz)")
        axes[k].set_title(
            f"{region}: firing rate\nlog ratio "
            + effect_title(effects, "log_rate_inactivation", species, region),
            fontsize=8,
        )
    handles, labels = axes[0].get_legend_handles_labels()
    truths = [f"{v}_truth" for v in DRAWN if f"{v}_truth" in scores]
    if scores[truths].notna().any().any():  # a lab's run has no truth: no legend entry for it
        handles.append(plt.Line2D([], [], ls="--", marker="o", mfc="none", color="0.3"))
        labels.append("planted truth")
    add_few_subjects_entry(handles, labels, effects)
    fig.legend(
        handles,
        labels,
        loc="lower center",
        ncol=min(len(labels), 6, 2 * n),
        fontsize=8,
        frameon=False,
    )
    fig.suptitle(f"Reversible inactivation ({species})", fontsize=11)
    fig.tight_layout(rect=(0, 0.08, 1, 0.95))
    return fig
