"""Figure 9: sharp-wave ripples in sleep and reactivation of the task's co-firing after it.

Panels: (a) an example LFP of a sleep run after the task, ripple-band channel, with the
detected ripples shaded and the planted ones marked (simulated study); (b) ripple rate per
run, detected (and planted), with the detector's recall and precision; (c) per session the
reactivation measure before vs after the task (explained variance: REV before, EV after),
estimate and its realised truth; (d) the group effects (after minus before) with their 95 %
hierarchical-bootstrap intervals and truths.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from panneuro.figures.fig7_learning_stages import FEW_SUBJECTS  # noqa: E402

#: Colours: detected/estimate, planted/truth.
ESTIMATE_COLOR = "#1f77b4"
TRUTH_COLOR = "#d62728"
#: Seconds of LFP drawn in panel (a).
EXAMPLE_SECONDS = 3.0


def _example_window(lfp: Mapping[str, np.ndarray], ripples: pd.DataFrame) -> tuple[float, float]:
    """Start at the first detected ripple (minus 0.5 s) so the window shows events."""
    time = np.asarray(lfp["time"])
    start = float(ripples["start_time"].min()) - 0.5 if len(ripples) else float(time[0])
    start = min(max(start, float(time[0])), max(float(time[-1]) - EXAMPLE_SECONDS, 0.0))
    return start, start + EXAMPLE_SECONDS


def _panel_lfp(ax, lfp, ripples, planted, label) -> None:
    """LFP (top) and its ripple band (150–250 Hz, below), ripples shaded and planted marked."""
    from panneuro.sleep.ripples import ripple_band

    t0, t1 = _example_window(lfp, ripples)
    time = np.asarray(lfp["time"])
    sel = (time >= t0) & (time <= t1)
    trace = np.asarray(lfp["lfp"], dtype=float)[sel]
    fs = float(lfp.get("sampling_frequency", 1.0 / np.median(np.diff(time))))
    band = ripple_band(trace[:, None], fs)[:, 0] if len(trace) > 400 else np.zeros_like(trace)
    offset = float(np.nanmin(trace)) - float(np.nanmax(np.abs(band))) - 10.0
    ax.plot(time[sel] - t0, trace, color="0.2", lw=0.4, label="LFP 1–400 Hz")
    ax.plot(time[sel] - t0, offset + band, color="0.45", lw=0.4, label="ripple band 150–250 Hz")
    for _, r in ripples.iterrows():
        if r["end_time"] >= t0 and r["start_time"] <= t1:
            ax.axvspan(
                r["start_time"] - t0, r["end_time"] - t0, color=ESTIMATE_COLOR, alpha=0.3, lw=0
            )
    top = float(np.nanmax(trace)) if len(trace) else 1.0
    if planted is not None:
        peaks = planted["peak_time"].to_numpy(float)
        peaks = peaks[(peaks >= t0) & (peaks <= t1)] - t0
        ax.plot(
            peaks,
            np.full(len(peaks), top + 15.0),
            "v",
            color=TRUTH_COLOR,
            ms=5,
            label="planted ripple",
        )
    ax.axvspan(0, 0, color=ESTIMATE_COLOR, alpha=0.3, label="detected ripple")
    ax.set_xlim(0, t1 - t0)
    span = top - offset + 2 * float(np.nanmax(np.abs(band)))
    ax.set_ylim(offset - float(np.nanmax(np.abs(band))) - 0.3 * span, top + 0.12 * span)
    ax.set_xlabel(f"time (s) from {t0:.1f} s of the run")
    ax.set_ylabel("µV")
    ax.set_title(f"a  LFP, {label}", loc="left", fontsize=9)
    ax.legend(loc="lower left", fontsize=6, frameon=False, ncol=2)


def _panel_rates(ax, runs: pd.DataFrame) -> None:
    x = np.arange(len(runs))
    highest = float(np.nanmax([runs["rate_detected"].max(), runs["rate_planted"].max(), 1.0]))
    ax.set_ylim(0, 1.6 * highest)  # room above the bars for the scores and legends
    ax.bar(x - 0.2, runs["rate_detected"], 0.4, color=ESTIMATE_COLOR, label="detected")
    if runs["rate_planted"].notna().any():
        ax.bar(x + 0.2, runs["rate_planted"], 0.4, color=TRUTH_COLOR, alpha=0.6, label="planted")
    ax.set_xticks(x, runs["label"], rotation=90, fontsize=6)
    ax.set_ylabel("ripples / min")
    ax.set_title("b  ripple rate per run", loc="left", fontsize=9)
    if runs["recall"].notna().any():
        twin = ax.twinx()
        twin.plot(x, runs["recall"], "o", color="k", ms=3, label="recall")
        twin.plot(x, runs["precision"], "s", mfc="none", color="k", ms=3, label="precision")
        twin.set_ylim(0, 1.3)
        twin.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
        twin.set_ylabel("recall, precision (vs planted)")
        twin.legend(loc="upper right", fontsize=6, frameon=False, ncol=2)
    ax.legend(loc="upper left", fontsize=6, frameon=False, ncol=2)


def _panel_sessions(ax, reactivation: pd.DataFrame) -> None:
    ev = reactivation[reactivation["method"] == "ev"].reset_index(drop=True)
    for i, r in ev.iterrows():
        ax.plot(
            [0, 1],
            [r["pre"], r["post"]],
            "-o",
            color=ESTIMATE_COLOR,
            ms=3,
            lw=0.8,
            alpha=0.8,
            label="estimate" if i == 0 else None,
        )
        if np.isfinite(r["truth_pre"]):
            ax.plot(
                [0.08, 1.08],
                [r["truth_pre"], r["truth_post"]],
                "--^",
                color=TRUTH_COLOR,
                ms=3,
                lw=0.6,
                alpha=0.8,
                label="truth" if i == 0 else None,
            )
    ax.set_xticks([0, 1], ["before task\n(REV)", "after task\n(EV)"])
    ax.set_xlim(-0.3, 1.4)
    ax.set_ylabel("explained variance")
    ax.set_title(f"c  reactivation per session ({len(ev)} sessions)", loc="left", fontsize=9)
    ax.legend(fontsize=7, frameon=False, loc="upper left")


def _panel_group(ax, effects: pd.DataFrame) -> None:
    rows = effects[
        (effects["method"] == "hierarchical_bootstrap")
        & effects["effect"].str.startswith("reactivation")
    ].reset_index(drop=True)
    names = {
        "reactivation_ev_minus_rev": "EV − REV",
        "reactivation_assembly_post_minus_pre": "assembly\nafter − before",
    }
    y = np.arange(len(rows))[::-1]
    for yi, (_, r) in zip(y, rows.iterrows(), strict=True):
        ax.plot([r["ci_low"], r["ci_high"]], [yi, yi], color=ESTIMATE_COLOR, lw=2)
        ax.plot(
            r["estimate"],
            yi,
            "o",
            color=ESTIMATE_COLOR,
            ms=5,
            label="estimate, 95 % CI" if yi == y[0] else None,
        )
        if np.isfinite(r["truth"]):
            ax.plot(
                r["truth"],
                yi,
                "x",
                color=TRUTH_COLOR,
                ms=7,
                mew=2,
                label="truth" if yi == y[0] else None,
            )
    few = rows["n_subjects"] < FEW_SUBJECTS
    labels = [
        f"{r['species']} {names.get(r['effect'], r['effect'])}\n"
        f"({r['n_subjects']} subj, {r['n_sessions']} ses){' †' if f else ''}"
        for (_, r), f in zip(rows.iterrows(), few, strict=True)
    ]
    ax.set_yticks(y, labels, fontsize=7)
    ax.axvline(0, color="0.5", lw=0.6)
    ax.set_xlabel("after − before")
    ax.set_title("d  group: reactivation after vs before", loc="left", fontsize=9)
    if len(rows):
        ax.legend(fontsize=7, frameon=False, loc="best")
    if few.any():
        ax.set_xlabel(
            f"after − before\n† fewer than {FEW_SUBJECTS} subjects: the bootstrap interval is not "
            "informative",
            fontsize=8,
        )


def run_table(
    ripples: Sequence[pd.DataFrame],
    durations: Sequence[float],
    labels: Sequence[str],
    planted: Sequence[pd.DataFrame] | None = None,
    scores: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per run: label, detected (and planted) ripple rate per minute, recall, precision.

    Parameters
    ----------
    ripples : sequence of pandas.DataFrame
        Each run's detected ripples.
    durations : sequence of float
        Each run's length, s.
    labels : sequence of str
        Each run's label.
    planted : sequence of pandas.DataFrame, optional
        Each run's planted ripples.
    scores : pandas.DataFrame, optional
        The runs' ripple scores in the same order (``recall``, ``precision``).

    Returns
    -------
    pandas.DataFrame
        ``label, rate_detected, rate_planted, recall, precision``.
    """
    nan = np.full(len(labels), np.nan)
    return pd.DataFrame(
        {
            "label": list(labels),
            "rate_detected": [60.0 * len(r) / d for r, d in zip(ripples, durations, strict=True)],
            "rate_planted": (
                [60.0 * len(p) / d for p, d in zip(planted, durations, strict=True)]
                if planted is not None
                else nan
            ),
            "recall": scores["recall"].to_numpy(float) if scores is not None else nan,
            "precision": scores["precision"].to_numpy(float) if scores is not None else nan,
        }
    )


def plot_sleep(
    example: Mapping[str, np.ndarray],
    example_ripples: pd.DataFrame,
    example_planted: pd.DataFrame | None,
    example_label: str,
    runs: pd.DataFrame,
    reactivation: pd.DataFrame,
    effects: pd.DataFrame,
) -> Figure:
    """Figure 9: ripples in sleep and reactivation of the task's co-firing.

    Parameters
    ----------
    example : mapping
        A run's LFP (``time``, ``lfp``: :func:`panneuro.sleep.sleep_runs.run_ripples`).
    example_ripples, example_planted : pandas.DataFrame
        Its detected ripples and (simulated study) planted ones, or None.
    example_label : str
        Its label.
    runs : pandas.DataFrame
        :func:`run_table`.
    reactivation : pandas.DataFrame
        The sessions' reactivation tables (:data:`panneuro.sleep.sleep_runs.REACTIVATION_COLUMNS`).
    effects : pandas.DataFrame
        ``results/group/sleep_effects.tsv``.

    Returns
    -------
    matplotlib.figure.Figure
        Four panels.
    """
    fig = plt.figure(figsize=(11, 7), layout="constrained")
    grid = fig.add_gridspec(2, 2)
    _panel_lfp(
        fig.add_subplot(grid[0, 0]), example, example_ripples, example_planted, example_label
    )
    _panel_rates(fig.add_subplot(grid[0, 1]), runs)
    _panel_sessions(fig.add_subplot(grid[1, 0]), reactivation)
    _panel_group(fig.add_subplot(grid[1, 1]), effects)
    return fig
