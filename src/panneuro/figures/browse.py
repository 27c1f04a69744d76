"""Views for browsing a run in a notebook: one unit, one electrode, one cross-temporal matrix.

Each function draws one item (a call per unit or electrode replaces a widget) from the tables
the :mod:`panneuro.results` readers return.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from panneuro.ecog.high_gamma import HighGammaEpochs  # noqa: E402

#: Trial events a unit's spikes can be aligned to: trials-table column of the time after
#: ``start_time`` (``None`` for the trial start itself).
ALIGN_EVENTS: dict[str, str | None] = {
    "onset": None,
    "response": "response_time",
    "feedback": "feedback_time",
}
_OUTCOME = {1: ("rewarded", "#1b7837"), 0: ("unrewarded", "#762a83")}


def align_spikes(
    spike_times: np.ndarray,
    trials: pd.DataFrame,
    *,
    align: str = "feedback",
    window: tuple[float, float] = (-0.5, 1.0),
) -> list[np.ndarray]:
    """Cut a spike train into trials, in seconds from a trial event.

    Parameters
    ----------
    spike_times : numpy.ndarray
        Spike times (s, session clock).
    trials : pandas.DataFrame
        Trials table (``start_time`` and the ``ALIGN_EVENTS`` columns), as
        :func:`panneuro.results.read_session_trials` returns it.
    align : str
        A key of :data:`ALIGN_EVENTS`.
    window : (float, float)
        Kept times around the event (s).

    Returns
    -------
    list of numpy.ndarray
        Per trial, the spike times relative to the event inside the window.
    """
    if align not in ALIGN_EVENTS:
        raise ValueError(f"align={align!r}: choose one of {list(ALIGN_EVENTS)}.")
    events = trials["start_time"].to_numpy(float)
    if ALIGN_EVENTS[align] is not None:
        events = events + trials[ALIGN_EVENTS[align]].to_numpy(float)
    spikes = np.sort(np.asarray(spike_times, dtype=float))
    out = []
    for event in events:
        lo, hi = np.searchsorted(spikes, [event + window[0], event + window[1]])
        out.append(spikes[lo:hi] - event)
    return out


def plot_unit(
    spike_times: np.ndarray,
    trials: pd.DataFrame,
    *,
    waveform: np.ndarray | None,
    sampling_frequency: float = 30000.0,
    align: str = "feedback",
    window: tuple[float, float] = (-0.5, 1.0),
    bin_size: float = 0.05,
    title: str = "",
) -> Figure:
    """Draw one unit: mean waveform, raster and firing rate by outcome around a trial event.

    Parameters
    ----------
    spike_times : numpy.ndarray
        The unit's spike times (s).
    trials : pandas.DataFrame
        The session's trials (with ``correct``).
    waveform : numpy.ndarray or None
        Mean waveform, samples × channels (the peak channel is drawn), or None.
    sampling_frequency : float
        Of the waveform (Hz).
    align, window : see :func:`align_spikes`
    bin_size : float
        Firing-rate bin (s).
    title : str
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        Three panels.
    """
    aligned = align_spikes(spike_times, trials, align=align, window=window)
    correct = trials["correct"].to_numpy(int)
    order = np.argsort(-correct, kind="stable")  # rewarded trials on top
    fig, axes = plt.subplots(
        1, 3, figsize=(11, 3.2), layout="constrained", gridspec_kw={"width_ratios": [1, 2, 2]}
    )
    ax = axes[0]
    if waveform is not None and np.size(waveform):
        waveform = np.asarray(waveform, dtype=float)
        peak = int(np.abs(waveform).max(axis=0).argmax())
        t = np.arange(waveform.shape[0]) / sampling_frequency * 1000.0
        ax.plot(t, waveform[:, peak], color="k")
        ax.set_xlabel("ms")
        ax.set_ylabel(f"µV (channel {peak})")
    else:
        ax.text(0.5, 0.5, "no waveform", ha="center", va="center", transform=ax.transAxes)
    ax.set_title("mean waveform", fontsize=9)
    ax = axes[1]
    for row, k in enumerate(order):
        ax.vlines(aligned[k], row + 0.5, row + 1.5, color=_OUTCOME[int(correct[k])][1], lw=0.6)
    ax.axhline(int((correct == 1).sum()) + 0.5, color="0.5", lw=0.8)
    ax.set_ylim(len(order) + 0.5, 0.5)
    ax.set_ylabel("trial (rewarded first)")
    ax.set_title("raster", fontsize=9)
    ax = axes[2]
    edges = np.arange(window[0], window[1] + bin_size / 2, bin_size)
    centres = (edges[:-1] + edges[1:]) / 2
    for outcome, (name, colour) in _OUTCOME.items():
        chosen = [aligned[k] for k in np.flatnonzero(correct == outcome)]
        if not chosen:
            continue
        counts = np.histogram(np.concatenate(chosen), edges)[0]
        ax.plot(
            centres, counts / len(chosen) / bin_size, color=colour, label=f"{name} ({len(chosen)})"
        )
    ax.set_ylabel("firing rate (Hz)")
    ax.legend(fontsize=7, frameon=False)
    ax.set_title("rate by outcome", fontsize=9)
    for ax in axes[1:]:
        ax.axvline(0, color="0.5", lw=0.8)
        ax.set_xlim(*window)
        ax.set_xlabel(f"time from {align} (s)")
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def plot_electrode(
    epochs: HighGammaEpochs, channel: str, *, responsive: Sequence[str] = (), title: str = ""
) -> Figure:
    """Draw one ECoG electrode: high gamma per trial, mean by outcome, place on the grid.

    Parameters
    ----------
    epochs : HighGammaEpochs
        A session's epochs (:func:`panneuro.ecog.high_gamma.read_high_gamma`).
    channel : str
        The electrode.
    responsive : sequence of str
        Electrodes to ring on the map (e.g. the session's responsive electrodes).
    title : str
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        Three panels.
    """
    if channel not in epochs.channels:
        raise KeyError(f"electrode {channel!r} not in the epochs; pick one of {epochs.channels}.")
    index = epochs.channels.index(channel)
    data = epochs.data[:, index, :] * 100.0
    correct = epochs.trials["correct"].to_numpy(int)
    order = np.argsort(-correct, kind="stable")
    fig, axes = plt.subplots(
        1, 3, figsize=(12, 3.4), layout="constrained", gridspec_kw={"width_ratios": [2, 2, 1.3]}
    )
    limit = float(np.nanpercentile(np.abs(data), 98)) or 1.0
    image = axes[0].imshow(
        data[order],
        aspect="auto",
        cmap="RdBu_r",
        vmin=-limit,
        vmax=limit,
        interpolation="nearest",
        extent=(epochs.times[0], epochs.times[-1], len(order) + 0.5, 0.5),
    )
    axes[0].axhline(int((correct == 1).sum()) + 0.5, color="k", lw=0.8)
    axes[0].set_ylabel("trial (rewarded first)")
    axes[0].set_title("high gamma per trial", fontsize=9)
    fig.colorbar(image, ax=axes[0], label="% change")
    for outcome, (name, colour) in _OUTCOME.items():
        rows = data[correct == outcome]
        if len(rows) == 0:
            continue
        mean = rows.mean(axis=0)
        sem = rows.std(axis=0, ddof=1) / np.sqrt(len(rows)) if len(rows) > 1 else 0 * mean
        axes[1].plot(epochs.times, mean, color=colour, label=f"{name} ({len(rows)})")
        axes[1].fill_between(epochs.times, mean - sem, mean + sem, color=colour, alpha=0.2, lw=0)
    axes[1].set_ylabel("high gamma (% change)")
    axes[1].legend(fontsize=7, frameon=False)
    axes[1].set_title("mean ± s.e.m.", fontsize=9)
    for ax in axes[:2]:
        ax.axvline(0, color="k", lw=0.8)
        ax.set_xlabel("time from feedback (s)")
    ax = axes[2]
    positions = np.asarray(epochs.positions, dtype=float)[:, :2]
    if not np.isfinite(positions).all():
        k = np.arange(len(epochs.channels))
        positions = np.column_stack([k % 4, k // 4]) * 10.0
    ax.scatter(positions[:, 0], positions[:, 1], s=40, color="0.85", edgecolors="0.6")
    ringed = [i for i, c in enumerate(epochs.channels) if c in set(responsive)]
    ax.scatter(
        positions[ringed, 0],
        positions[ringed, 1],
        s=140,
        facecolors="none",
        edgecolors="k",
        linewidths=1.5,
        label="responsive",
        zorder=3,
    )
    ax.scatter(*positions[index], s=90, color="#d6604d", label=channel)
    ax.set_aspect("equal")
    ax.margins(0.15)
    ax.set_axis_off()
    ax.legend(fontsize=7, frameon=False, loc="upper center", bbox_to_anchor=(0.5, 0.0))
    ax.set_title("electrode on the grid", fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def plot_cross_temporal(table: pd.DataFrame, *, title: str = "") -> Figure:
    """Draw a cross-temporal decoding matrix (train time × test time) with its clusters.

    Parameters
    ----------
    table : pandas.DataFrame
        ``cross_temporal`` rows of one decoding (one region, variable and session):
        ``train_time``, ``time``, ``score``, ``significant``.
    title : str
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        The matrix; significant cells outlined.
    """
    if table.empty:
        raise ValueError(
            "plot_cross_temporal: no rows; select cross_temporal rows of one region and variable."
        )
    score = table.pivot_table(index="train_time", columns="time", values="score")
    significant = table.pivot_table(index="train_time", columns="time", values="significant")
    times = score.columns.to_numpy(float)
    step = float(np.median(np.diff(times))) if len(times) > 1 else 0.1
    extent = (times[0] - step / 2, times[-1] + step / 2, times[0] - step / 2, times[-1] + step / 2)
    fig, ax = plt.subplots(figsize=(4.6, 4.0), layout="constrained")
    limit = max(0.05, float(np.nanmax(np.abs(score.to_numpy() - 0.5))))
    image = ax.imshow(
        score.to_numpy(),
        origin="lower",
        extent=extent,
        cmap="RdBu_r",
        vmin=0.5 - limit,
        vmax=0.5 + limit,
        interpolation="nearest",
    )
    if np.nansum(significant.to_numpy()) > 0:
        ax.contour(
            times,
            score.index.to_numpy(float),
            significant.to_numpy(),
            levels=[0.5],
            colors="k",
            linewidths=1.0,
        )
    ax.plot(extent[:2], extent[2:], color="0.5", lw=0.6, ls="--")
    align = table["align"].iloc[0] if "align" in table.columns else "event"
    ax.set_xlabel(f"test time from {align} (s)")
    ax.set_ylabel(f"train time from {align} (s)")
    fig.colorbar(image, ax=ax, label="balanced accuracy")
    if title:
        ax.set_title(title, fontsize=9)
    return fig
