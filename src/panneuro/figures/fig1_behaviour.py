"""Figure 1: learning to learn in monkeys and humans, the agent that explains it, Harlow (1949).

Panels: (a, b) learning-set curves (percent correct on trials 1–6, by block of problems) of
the simulated macaques and humans with the fitted agent overlaid; (c) Harlow's (1949)
monkeys with the agent fitted to them; (d) the meta-RL agent of Wang et al. (2018) for
comparison; (e) trial-2 accuracy over problems with the logistic regression; (f) fitted
versus true agent parameters (simulated data) or the fitted parameters per subject.
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from panneuro.behaviour.learning_set import ALL_SUBJECTS  # noqa: E402
from panneuro.behaviour.model import (  # noqa: E402
    PARAM_NAMES,
    block_expected_accuracy,
    params_from_row,
)
from panneuro.behaviour.reference import HARLOW, WANG  # noqa: E402
from panneuro.behaviour.statistics import predicted_trial2  # noqa: E402

SPECIES_COLOURS = {"macaque": "#b2182b", "human": "#2166ac"}
TRIALS = np.arange(1, 7)


def _pick_blocks(blocks: np.ndarray, n: int) -> np.ndarray:
    """Up to ``n`` blocks spread evenly from the first to the last."""
    blocks = np.sort(np.unique(blocks))
    if len(blocks) <= n:
        return blocks
    return blocks[np.unique(np.round(np.linspace(0, len(blocks) - 1, n)).astype(int))]


def _species_model_curves(
    parameters: pd.DataFrame, species: str, first: np.ndarray, last: np.ndarray
) -> np.ndarray | None:
    """Fitted agent's expected accuracy per block, averaged over the species' subjects."""
    rows = parameters[parameters["species"] == species]
    if len(rows) == 0:
        return None
    curves = [
        block_expected_accuracy(params_from_row(row), first, last) for _, row in rows.iterrows()
    ]
    return 100.0 * np.mean(curves, axis=0)


def _panel_species(
    ax, curves: pd.DataFrame, parameters: pd.DataFrame, species: str, n_blocks: int
) -> None:
    data = curves[(curves["species"] == species) & (curves["subject"] == ALL_SUBJECTS)]
    ax.axhline(50, color="0.8", lw=0.8, zorder=0)
    if len(data) == 0:
        ax.text(0.5, 0.5, f"no {species} data", ha="center", transform=ax.transAxes)
        return
    blocks = _pick_blocks(data["block"].to_numpy(), n_blocks)
    cmap = plt.get_cmap("Reds" if species == "macaque" else "Blues")
    colours = cmap(np.linspace(0.35, 0.95, len(blocks)))
    sel = data[data["block"].isin(blocks)].sort_values(["block", "trial"])
    ranges = sel.drop_duplicates("block")[["block", "problem_first", "problem_last"]]
    model = _species_model_curves(
        parameters, species, ranges["problem_first"].to_numpy(), ranges["problem_last"].to_numpy()
    )
    for i, (_, bl) in enumerate(sel.groupby("block", sort=True)):
        first, last = int(bl["problem_first"].iloc[0]), int(bl["problem_last"].iloc[0])
        yerr = np.vstack(
            [bl["percent_correct"] - bl["ci_low"], bl["ci_high"] - bl["percent_correct"]]
        )
        ax.errorbar(
            bl["trial"],
            bl["percent_correct"],
            yerr=np.abs(np.nan_to_num(yerr)),
            fmt="o",
            ms=3.5,
            color=colours[i],
            capsize=1.5,
            lw=0.8,
            label=f"problems {first}–{last}",
        )
        if model is not None:
            ax.plot(TRIALS, model[i], "-", color=colours[i], lw=1.2)
    ax.plot([], [], "-", color="0.3", label="fitted agent")
    ax.set_title(f"{species.capitalize()}s (simulated)", fontsize=9)
    ax.legend(fontsize=6, frameon=False, loc="lower right")


def _panel_harlow(ax, reference: pd.DataFrame, harlow_fit: Mapping) -> None:
    harlow = reference[reference["source"] == HARLOW]
    blocks = harlow.drop_duplicates("block")[["block", "problem_first", "problem_last"]]
    cmap = plt.get_cmap("Greys")
    colours = cmap(np.linspace(0.35, 1.0, len(blocks)))
    pred = pd.DataFrame(harlow_fit.get("curves", []))
    for i, row in enumerate(blocks.itertuples(index=False)):
        bl = harlow[harlow["block"] == row.block].sort_values("trial")
        ax.plot(
            bl["trial"],
            bl["percent_correct"],
            "o",
            ms=3.5,
            color=colours[i],
            label=f"{int(row.problem_first)}–{int(row.problem_last)}",
        )
        if len(pred):
            pb = pred[pred["block"] == row.block].sort_values("trial")
            ax.plot(pb["trial"], pb["model_percent_correct"], "-", color=colours[i], lw=1.1)
    rmse = harlow_fit.get("rmse_trial2", np.nan)
    ax.plot([], [], "-", color="0.3", label=f"agent fit, trial-2 RMSE {rmse:.1f} pts")
    ax.axhline(50, color="0.8", lw=0.8, zorder=0)
    ax.set_title("Harlow 1949 monkeys", fontsize=9)
    ax.text(
        0.02,
        0.97,
        "data: Harlow 1949; Wang et al. 2018",
        transform=ax.transAxes,
        fontsize=6,
        color="0.3",
        va="top",
    )
    ax.legend(fontsize=5.5, frameon=False, loc="lower right", title="problems", title_fontsize=6)


def _panel_wang(ax, reference: pd.DataFrame) -> None:
    wang = reference[reference["source"] == WANG]
    blocks = wang.drop_duplicates("block")["block"].tolist()
    colours = plt.get_cmap("Greens")(np.linspace(0.35, 1.0, max(len(blocks), 1)))
    for i, block in enumerate(blocks):
        bl = wang[wang["block"] == block].sort_values("trial")
        ax.plot(
            bl["trial"],
            bl["percent_correct"],
            "o-",
            ms=3,
            lw=0.9,
            color=colours[i],
            label=block.replace("quantile_", "").replace("_", " "),
        )
    ax.axhline(50, color="0.8", lw=0.8, zorder=0)
    ax.set_title("Meta-RL agent (Wang et al. 2018)", fontsize=9)
    ax.legend(fontsize=5.5, frameon=False, loc="lower right", title="training", title_fontsize=6)


def _panel_trial2(ax, curves: pd.DataFrame, stats: pd.DataFrame) -> None:
    data = curves[(curves["subject"] == ALL_SUBJECTS) & (curves["trial"] == 2)]
    for species, sp in data.groupby("species", sort=True):
        colour = SPECIES_COLOURS.get(species, "0.3")
        mid = (sp["problem_first"] + sp["problem_last"]) / 2.0
        ax.errorbar(
            mid,
            sp["percent_correct"],
            yerr=np.abs(
                np.nan_to_num(
                    np.vstack(
                        [
                            sp["percent_correct"] - sp["ci_low"],
                            sp["ci_high"] - sp["percent_correct"],
                        ]
                    )
                )
            ),
            fmt="o",
            ms=3,
            color=colour,
            capsize=1.5,
            lw=0.8,
            label=species,
        )
        problems = np.linspace(sp["problem_first"].min(), sp["problem_last"].max(), 200)
        fit = predicted_trial2(stats, species, problems)
        slope = stats[(stats["species"] == species) & (stats["term"] == "problem_per_100")]
        label = None
        if len(slope):
            s = slope.iloc[0]
            label = (
                f"logistic fit ({s['method'].split('_')[0]}): "
                f"{s['estimate']:.2f} [{s['ci_low']:.2f}, {s['ci_high']:.2f}] /100 probl."
            )
        ax.plot(problems, 100 * fit, "-", color=colour, lw=1.2, label=label)
    ax.axhline(50, color="0.8", lw=0.8, zorder=0)
    ax.set_xlabel("problem")
    ax.set_ylabel("trial-2 correct (%)")
    ax.set_title("One-trial learning over problems", fontsize=9)
    ax.legend(fontsize=5.5, frameon=False, loc="lower right")


def _panel_parameters(ax, parameters: pd.DataFrame) -> None:
    has_truth = (
        all(f"true_{n}" in parameters.columns for n in PARAM_NAMES)
        and parameters[[f"true_{n}" for n in PARAM_NAMES]].notna().all().all()
    )
    markers = dict(zip(PARAM_NAMES, ["o", "s", "^", "D"][: len(PARAM_NAMES)], strict=True))
    if has_truth:
        lo, hi = np.inf, -np.inf
        for name in PARAM_NAMES:
            true = parameters[f"true_{name}"].to_numpy(float)
            # Estimates at the lower bound are drawn at the axis floor.
            est = np.maximum(parameters[name].to_numpy(float), 1e-3)
            err = np.abs(
                np.vstack([est - parameters[f"{name}_ci_low"], parameters[f"{name}_ci_high"] - est])
            )
            ax.errorbar(
                true,
                est,
                yerr=np.nan_to_num(err),
                fmt=markers[name],
                ms=3.5,
                lw=0.6,
                capsize=1,
                label=name,
                alpha=0.85,
            )
            lo, hi = min(lo, true.min(), est.min()), max(hi, true.max(), est.max())
        lo, hi = max(lo, 1e-3) / 1.5, hi * 2
        ax.plot([lo, hi], [lo, hi], color="0.6", lw=0.8, zorder=0)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        ax.set_xlabel("true parameter")
        ax.set_ylabel("fitted (95% CI)")
        ax.set_title("Parameter recovery", fontsize=9)
    else:
        x = np.arange(len(parameters))
        for name in PARAM_NAMES:
            ax.plot(x, parameters[name], markers[name], label=name)
        ax.set_yscale("log")
        ax.set_xticks(x, parameters["subject"].astype(str), fontsize=7)
        ax.set_ylabel("fitted value")
        ax.set_title("Fitted agent parameters", fontsize=9)
    ax.legend(fontsize=6, frameon=False)


def plot_behaviour(
    curves: pd.DataFrame,
    parameters: pd.DataFrame,
    harlow_fit: Mapping,
    reference: pd.DataFrame,
    stats: pd.DataFrame,
    *,
    n_blocks: int = 5,
) -> Figure:
    """Draw figure 1.

    Parameters
    ----------
    curves : pandas.DataFrame
        Learning-set curves (:func:`panneuro.behaviour.learning_set.learning_set_curves`).
    parameters : pandas.DataFrame
        Fitted parameters per subject (``results/model/parameters.tsv``: ``subject``,
        ``species``, each parameter with ``_ci_low``/``_ci_high``, optional ``true_*``).
    harlow_fit : mapping
        The Harlow fit (:meth:`panneuro.behaviour.model.CurveFit.as_dict`).
    reference : pandas.DataFrame
        Published curves (:func:`panneuro.behaviour.reference.read_reference_curves`).
    stats : pandas.DataFrame
        Regression table (:func:`panneuro.behaviour.statistics.learning_statistics`).
    n_blocks : int
        Blocks of problems drawn per species.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (no timestamps; deterministic).
    """
    fig, axes = plt.subplots(2, 3, figsize=(11, 6.6), layout="constrained")
    ax = axes.ravel()
    _panel_species(ax[0], curves, parameters, "macaque", n_blocks)
    _panel_species(ax[1], curves, parameters, "human", n_blocks)
    _panel_harlow(ax[2], reference, harlow_fit)
    _panel_wang(ax[3], reference)
    _panel_trial2(ax[4], curves, stats)
    _panel_parameters(ax[5], parameters)
    for a in ax[:4]:
        a.set_xticks(TRIALS)
        a.set_xlabel("trial of problem")
        a.set_ylabel("correct (%)")
        a.set_ylim(35, 102)
    for letter, a in zip("abcdef", ax, strict=True):
        a.text(-0.14, 1.04, letter, transform=a.transAxes, fontsize=11, fontweight="bold")
        a.spines[["top", "right"]].set_visible(False)
    return fig
