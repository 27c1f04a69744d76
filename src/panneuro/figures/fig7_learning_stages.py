"""Figure 7: the abstract (stay) code across learning-set formation, per region and species.

Columns = regions (macaque arrays by learning stage, then human microwires and ECoG grids by
epoch of their one session), rows = the stay code's cross-condition generalisation (CCGP) and its
within-epoch cross-validated accuracy. One line per subject (its sessions' scores, filled
markers) with the planted truth where known (the oracle: open markers, dashed); the title
gives the group effect (hierarchical bootstrap: slope per stage, or late minus early) with
its 95 % interval and its truth.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from panneuro.figures.fig3_monkey_decoding import label_colors  # noqa: E402

#: Rows of the figure: score column -> axis label.
SCORES = {"ccgp": "stay CCGP (balanced acc.)", "cv": "stay CV accuracy"}
STAGE_LABELS = ("early", "middle", "late")


#: Groups of fewer subjects get a dagger: their bootstrap interval is about these subjects, not
#: the population (12.8 % false positives at 5 % with 2 subjects whose slopes differ;
#: panneuro.stats.hierarchical), as in figure 9.
FEW_SUBJECTS = 3


def add_few_subjects_entry(handles: list, labels: list[str], effects: pd.DataFrame) -> None:
    """Append the legend entry explaining ``†`` when a group has < :data:`FEW_SUBJECTS`."""
    if (effects["n_subjects"].astype(int) < FEW_SUBJECTS).any():
        handles.append(plt.Line2D([], [], ls="none"))
        labels.append(f"† fewer than {FEW_SUBJECTS} subjects: the interval is about these subjects")


def effect_title(effects: pd.DataFrame, effect: str, species: str, region: str) -> str:
    """Return ``estimate [low, high] (†), truth t`` of a group effect (bootstrap row), or ``""``.

    ``†`` marks a group of fewer than :data:`FEW_SUBJECTS` subjects.
    """
    rows = effects[
        (effects["effect"] == effect)
        & (effects["species"] == species)
        & (effects["region"] == region)
        & (effects["method"] == "hierarchical_bootstrap")
    ]
    if rows.empty:
        return ""
    row = rows.iloc[0]
    text = f"{row['estimate']:+.3f} [{row['ci_low']:+.3f}, {row['ci_high']:+.3f}]"
    if int(row["n_subjects"]) < FEW_SUBJECTS:
        text += " †"
    if np.isfinite(row["truth"]):
        text += f"\ntruth {row['truth']:+.3f}"
    return text


def _panels(scores: pd.DataFrame) -> list[tuple[str, str, str]]:
    """(species, region, kind) of each column: macaque stages first, then human epochs."""
    out = []
    staged = scores[scores["stage_index"].notna()]
    for region in sorted(set(staged["region"])):
        for species in sorted(set(staged.loc[staged["region"] == region, "species"])):
            out.append((species, region, "stage"))
    epochs = scores[scores["stage_index"].isna()]
    for species, region in sorted(set(zip(epochs["species"], epochs["region"], strict=True))):
        out.append((species, region, "epoch"))
    return out


def plot_learning_stages(scores: pd.DataFrame, effects: pd.DataFrame) -> Figure:
    """Figure 7: stay code per session across learning stages, with group effects and truth.

    Parameters
    ----------
    scores : pandas.DataFrame
        ``results/group/stage_scores.tsv``
        (:func:`panneuro.stats.design_effects.annotate` of the session stay scores).
    effects : pandas.DataFrame
        ``results/group/stage_effects.tsv``.

    Returns
    -------
    matplotlib.figure.Figure
        Rows = CCGP and CV accuracy, columns = species × region.
    """
    scores = scores.copy()
    scores["subject"] = scores["subject"].astype(str)
    panels = _panels(scores)
    colors = label_colors(scores["subject"])
    truth_drawn = False
    fig, axes = plt.subplots(
        len(SCORES),
        max(len(panels), 1),
        squeeze=False,
        figsize=(3.2 * max(len(panels), 1), 6.4),
        sharey="row",
    )
    for col, (species, region, kind) in enumerate(panels):
        part = scores[(scores["species"] == species) & (scores["region"] == region)]
        if kind == "stage":
            part = part[(part["epoch"] == "all") & (part["condition"] == "control")]
            xcol, ticks, name = "stage_index", STAGE_LABELS, "slope"
        else:
            part = part[part["epoch"].isin(["early", "late"])].assign(
                x=lambda t: (t["epoch"] == "late").astype(float)
            )
            xcol, ticks, name = "x", ("early half", "late half"), "late − early"
        for row, (value, ylabel) in enumerate(SCORES.items()):
            ax = axes[row, col]
            ax.axhline(0.5, color="0.6", lw=0.8, ls=":")
            for subject, rows in part.groupby("subject", sort=True):
                rows = rows.sort_values(xcol)
                ax.plot(rows[xcol], rows[value], "o-", color=colors[subject], label=subject)
                truth = rows.get(f"{value}_truth")
                if truth is not None and truth.notna().any():
                    ax.plot(rows[xcol], truth, "o--", mfc="none", color=colors[subject], alpha=0.7)
                    truth_drawn = True
            effect = f"stay_{value}_{'stage_slope' if kind == 'stage' else 'late_minus_early'}"
            title = f"{species} {region}" if row == 0 else ""
            stat = effect_title(effects, effect, species, region)
            ax.set_title(f"{title}\n{name}: {stat}" if title else f"{name}: {stat}", fontsize=8)
            ax.set_xticks(range(len(ticks)), ticks)
            ax.set_xlim(-0.3, len(ticks) - 0.7)
            if col == 0:
                ax.set_ylabel(ylabel)
            ax.spines[["top", "right"]].set_visible(False)
    handles, labels = [], []
    for ax in axes.ravel():
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    if truth_drawn:  # a lab's run has no truth: no legend entry for it
        handles.append(plt.Line2D([], [], ls="--", marker="o", mfc="none", color="0.3"))
        labels.append("planted truth (oracle)")
    add_few_subjects_entry(handles, labels, effects)
    fig.legend(
        handles, labels, loc="lower center", ncol=min(len(labels), 6), fontsize=8, frameon=False
    )
    fig.suptitle("Abstract (stay) code across learning-set formation", fontsize=11)
    fig.tight_layout(rect=(0, 0.06, 1, 0.96))
    return fig
