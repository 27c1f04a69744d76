"""Figure 4: human ECoG high-gamma responses to feedback, outcome decoding, responsive map.

One row per ECoG session: (A) high-gamma time courses after rewarded and unrewarded feedback,
for the responsive (or planted) electrodes and the others; (B) rewarded − unrewarded difference
per electrode over time; (C) time-resolved outcome decoding with its permutation null and
significant clusters; (D) the grid coloured by the outcome effect, responsive electrodes
ringed, planted ones crossed (simulated data).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from panneuro.ecog.high_gamma import HighGammaEpochs  # noqa: E402
from panneuro.ecog.statistics import compare_to_truth  # noqa: E402

REWARDED_COLOUR = "#1b7837"
UNREWARDED_COLOUR = "#762a83"


@dataclass
class EcogFigureSession:
    """What figure 4 shows of one session.

    Attributes
    ----------
    label : str
        Row title (e.g. ``"sub-H1 ses-01"``).
    epochs : HighGammaEpochs
        The high-gamma epochs.
    stats : dict
        The session's statistics JSON (``panneuro.ecog.statistics.statistics_to_json``).
    truth : dict or None
        The simulation truth, when the data are simulated.
    """

    label: str
    epochs: HighGammaEpochs
    stats: Mapping[str, Any]
    truth: Mapping[str, Any] | None = None


def truth_table(sessions: Sequence[EcogFigureSession]) -> pd.DataFrame:
    """Sensitivity and false discoveries of the responsive electrodes per simulated session.

    Parameters
    ----------
    sessions : sequence of EcogFigureSession
        The sessions (those without truth are skipped).

    Returns
    -------
    pandas.DataFrame
        One row per session with truth: ``session``, ``n_planted``, ``n_hits``,
        ``sensitivity``, ``n_false_discoveries``, ``hits``, ``misses``, ``false_discoveries``
        (comma-separated channel names).
    """
    rows = []
    for s in sessions:
        if s.truth is None:
            continue
        electrodes = pd.DataFrame(s.stats["electrodes"])
        scored = compare_to_truth(electrodes, s.truth)
        rows.append(
            {
                "session": s.label,
                "n_planted": scored["n_planted"],
                "n_hits": len(scored["hits"]),
                "sensitivity": scored["sensitivity"],
                "n_false_discoveries": scored["n_false_discoveries"],
                "hits": ",".join(scored["hits"]),
                "misses": ",".join(scored["misses"]),
                "false_discoveries": ",".join(scored["false_discoveries"]),
            }
        )
    columns = [
        "session",
        "n_planted",
        "n_hits",
        "sensitivity",
        "n_false_discoveries",
        "hits",
        "misses",
        "false_discoveries",
    ]
    return pd.DataFrame(rows, columns=columns)


def _mean_sem(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = x.mean(axis=0)
    sem = x.std(axis=0, ddof=1) / np.sqrt(len(x)) if len(x) > 1 else np.zeros_like(mean)
    return mean, sem


def _panel_timecourse(
    ax: plt.Axes, s: EcogFigureSession, group: list[int], group_name: str
) -> None:
    ep = s.epochs
    correct = ep.trials["correct"].to_numpy() == 1
    others = [i for i in range(len(ep.channels)) if i not in group]
    for indices, style, name in ((group, "-", group_name), (others, ":", "other")):
        if not indices:
            continue
        for mask, colour, outcome in (
            (correct, REWARDED_COLOUR, "rewarded"),
            (~correct, UNREWARDED_COLOUR, "unrewarded"),
        ):
            if mask.sum() == 0:
                continue
            trial_means = ep.data[mask][:, indices].mean(axis=1) * 100.0
            mean, sem = _mean_sem(trial_means)
            ax.plot(ep.times, mean, style, color=colour, lw=1.5, label=f"{name}, {outcome}")
            ax.fill_between(ep.times, mean - sem, mean + sem, color=colour, alpha=0.2, lw=0)
    if s.truth is not None:
        ax.axvspan(*s.truth["window"], color="0.85", zorder=0, label="planted window")
    ax.axvline(0, color="k", lw=0.8)
    ax.axhline(0, color="0.5", lw=0.5)
    ax.set_xlabel("time from feedback (s)")
    ax.set_ylabel("high gamma (% change)")
    ax.legend(fontsize=6, frameon=False, loc="upper right")


def _panel_difference(ax: plt.Axes, s: EcogFigureSession, responsive: set[str]) -> None:
    ep = s.epochs
    correct = ep.trials["correct"].to_numpy() == 1
    difference = (ep.data[correct].mean(axis=0) - ep.data[~correct].mean(axis=0)) * 100.0
    order = np.argsort(-difference[:, (ep.times >= 0)].mean(axis=1), kind="stable")
    limit = float(np.nanmax(np.abs(difference))) or 1.0
    image = ax.imshow(
        difference[order],
        aspect="auto",
        cmap="RdBu_r",
        vmin=-limit,
        vmax=limit,
        origin="upper",
        interpolation="nearest",
        extent=(ep.times[0], ep.times[-1], len(order) - 0.5, -0.5),
    )
    labels = [ep.channels[i] + (" *" if ep.channels[i] in responsive else "") for i in order]
    ax.set_yticks(np.arange(len(order)))
    ax.set_yticklabels(labels, fontsize=4)
    ax.axvline(0, color="k", lw=0.8)
    ax.set_xlabel("time from feedback (s)")
    ax.set_title("rewarded − unrewarded (* responsive)", fontsize=8)
    ax.figure.colorbar(image, ax=ax, fraction=0.05, pad=0.02, label="Δ high gamma (%)")


def _panel_decoding(ax: plt.Axes, stats: Mapping[str, Any]) -> None:
    scores = pd.DataFrame(stats["decoding"]["scores"])
    ax.plot(scores["time"], scores["auc"], color="k", lw=1.5, label="outcome decoding")
    ax.plot(
        scores["time"], scores["null_q95"], color="0.5", lw=1, ls="--", label="null 95th percentile"
    )
    ax.axhline(stats["decoding"]["chance"], color="0.5", lw=0.5)
    step = float(stats["decoding"]["bin_width"]) / 2
    for cluster in stats["decoding"]["clusters"]:
        if cluster["p_value"] < 0.05:
            ax.axvspan(
                cluster["start"] - step, cluster["stop"] + step, color="#fdb863", alpha=0.5, lw=0
            )
    ax.axvline(0, color="k", lw=0.8)
    ax.set_ylim(0.3, 1.0)
    ax.set_xlabel("time from feedback (s)")
    ax.set_ylabel("ROC AUC (cross-validated)")
    ax.set_title("shaded: significant cluster", fontsize=8)
    ax.legend(fontsize=6, frameon=False, loc="upper right")


def _panel_map(ax: plt.Axes, s: EcogFigureSession, responsive: set[str]) -> None:
    ep = s.epochs
    electrodes = pd.DataFrame(s.stats["electrodes"]).set_index("channel")
    positions = np.asarray(ep.positions, dtype=float)[:, :2]
    if not np.isfinite(positions).all():  # no positions: lay the contacts out in order
        index = np.arange(len(ep.channels))
        positions = np.column_stack([index % 4, index // 4]) * 10.0
    effect = electrodes.loc[ep.channels, "peak_effect"].to_numpy(float) * 100.0
    limit = float(np.nanmax(np.abs(effect))) or 1.0
    points = ax.scatter(
        positions[:, 0],
        positions[:, 1],
        c=effect,
        cmap="RdBu_r",
        vmin=-limit,
        vmax=limit,
        s=120,
        edgecolors="0.6",
        linewidths=0.5,
    )
    ringed = [i for i, c in enumerate(ep.channels) if c in responsive]
    ax.scatter(
        positions[ringed, 0],
        positions[ringed, 1],
        s=220,
        facecolors="none",
        edgecolors="k",
        linewidths=1.6,
        label="responsive",
    )
    if s.truth is not None:
        planted = [i for i, c in enumerate(ep.channels) if c in set(s.truth["planted_electrodes"])]
        ax.scatter(
            positions[planted, 0],
            positions[planted, 1],
            marker="x",
            color="w",
            s=30,
            linewidths=1.0,
            label="planted",
        )
        scored = compare_to_truth(electrodes.reset_index(), s.truth)
        ax.set_title(
            f"sensitivity {scored['sensitivity']:.2f}, "
            f"{scored['n_false_discoveries']} false discoveries",
            fontsize=8,
        )
    for i, name in enumerate(ep.channels):
        ax.annotate(name, positions[i], fontsize=4, ha="center", va="center")
    ax.set_aspect("equal")
    ax.margins(0.15)
    ax.set_xlabel("x (mm)")
    ax.set_ylabel("y (mm)")
    ax.legend(fontsize=6, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2)
    ax.figure.colorbar(points, ax=ax, fraction=0.05, pad=0.02, label="peak Δ (%)")


def plot_ecog_figure(sessions: Sequence[EcogFigureSession]) -> Figure:
    """Draw figure 4: one row of four panels per ECoG session.

    Parameters
    ----------
    sessions : sequence of EcogFigureSession
        The sessions, in display order.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.

    Raises
    ------
    ValueError
        If there is no session.
    """
    if not sessions:
        raise ValueError("plot_ecog_figure: no ECoG session; the sample sheet has no ecog row.")
    fig, axes = plt.subplots(
        len(sessions), 4, figsize=(17, 4.2 * len(sessions)), squeeze=False, layout="constrained"
    )
    for row, s in zip(axes, sessions, strict=True):
        responsive = set(s.stats["responsive_electrodes"])
        if s.truth is not None:
            group = [
                i
                for i, c in enumerate(s.epochs.channels)
                if c in set(s.truth["planted_electrodes"])
            ]
            group_name = "planted"
        else:
            group = [i for i, c in enumerate(s.epochs.channels) if c in responsive]
            group_name = "responsive"
        _panel_timecourse(row[0], s, group, group_name)
        _panel_difference(row[1], s, responsive)
        _panel_decoding(row[2], s.stats)
        _panel_map(row[3], s, responsive)
        row[0].set_title(f"{s.label}: high gamma after feedback", fontsize=9)
        for ax, letter in zip(row, "ABCD", strict=True):
            ax.text(-0.12, 1.04, letter, transform=ax.transAxes, fontsize=12, fontweight="bold")
    return fig
