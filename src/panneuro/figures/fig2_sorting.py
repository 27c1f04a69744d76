"""Figure 2: spike sorting of every probe — yield, quality metrics, waveforms, ground truth."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

#: Example waveforms drawn per probe.
N_EXAMPLE_WAVEFORMS = 5
#: Metric panels: (column, axis label, log scale).
METRIC_PANELS = (
    ("snr", "SNR", False),
    ("isi_violations_ratio", "ISI violation ratio", False),
    ("firing_rate", "firing rate (Hz)", True),
)


@dataclass
class ProbeSortingSummary:
    """What figure 2 shows of one probe.

    Attributes
    ----------
    label : str
        Short name, e.g. ``M1 04 PFC``.
    region : str
        Brain region.
    metrics : pandas.DataFrame
        The probe's ``metrics.tsv`` (``unit_id``, metrics, ``keep``).
    waveforms : dict
        The probe's ``waveforms.npz`` arrays.
    gt : pandas.DataFrame or None
        The probe's ``gt_comparison.tsv`` (simulated data only).
    motion : pandas.DataFrame or None
        The motion estimated by preprocessing (``motion.tsv``: ``time_s, depth_um,
        displacement_um``); None if the probe was not motion-corrected (arrays, bundles).
    planted_motion : pandas.DataFrame or None
        The planted drift (``time_s, displacement_um``; simulated drifting probes only).
    """

    label: str
    region: str
    metrics: pd.DataFrame
    waveforms: dict
    gt: pd.DataFrame | None = None
    motion: pd.DataFrame | None = None
    planted_motion: pd.DataFrame | None = None


def yield_table(probes: Sequence[ProbeSortingSummary]) -> pd.DataFrame:
    """Count units per probe at each step.

    Parameters
    ----------
    probes : sequence of ProbeSortingSummary
        The probes.

    Returns
    -------
    pandas.DataFrame
        ``probe, region, sorted, curated, ground_truth, well_detected`` (the last two NaN
        without ground truth).
    """
    rows = []
    for p in probes:
        rows.append(
            {
                "probe": p.label,
                "region": p.region,
                "sorted": len(p.metrics),
                "curated": int(p.metrics["keep"].astype(bool).sum()) if len(p.metrics) else 0,
                "ground_truth": len(p.gt) if p.gt is not None else np.nan,
                "well_detected": int(p.gt["well_detected"].astype(bool).sum())
                if p.gt is not None
                else np.nan,
            }
        )
    return pd.DataFrame(rows)


def plot_sorting_figure(
    probes: Sequence[ProbeSortingSummary], *, well_detected_accuracy: float | None = None
) -> Figure:
    """Draw figure 2.

    Panels: (a) units per probe (ground truth, sorted, curated, well detected); (b–d) quality
    metric distributions per probe, kept units filled and rejected ones open; (e) example mean
    waveforms on the peak channel; (f) ground-truth accuracy against planted SNR; and, only
    when some probe was motion-corrected, (g) its estimated motion over time with the planted
    drift and their error where there is ground truth (:func:`motion_trace`), naming the
    probes that were not corrected. Without a corrected probe the figure is exactly the
    six-panel one.

    Parameters
    ----------
    probes : sequence of ProbeSortingSummary
        The probes, in display order.
    well_detected_accuracy : float, optional
        Drawn as a dashed line on panel f.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    if not probes:
        raise ValueError(
            "figure 2 needs at least one probe; the sample sheet has no array or microwire rows."
        )
    colors = plt.get_cmap("tab10")(np.arange(len(probes)) % 10)
    with_motion = any(p.motion is not None for p in probes)
    if with_motion:
        fig = plt.figure(figsize=(13, 10.5))
        grid = fig.add_gridspec(3, 4, hspace=0.5, wspace=0.35)
    else:  # the six-panel figure, unchanged
        fig = plt.figure(figsize=(13, 7.5))
        grid = fig.add_gridspec(2, 4, hspace=0.45, wspace=0.35)

    ax = fig.add_subplot(grid[0, 0])
    counts = yield_table(probes)
    steps = [
        ("ground_truth", "ground truth"),
        ("sorted", "sorted"),
        ("curated", "curated"),
        ("well_detected", "well detected (GT)"),
    ]
    width = 0.8 / len(steps)
    x = np.arange(len(probes))
    for k, (column, name) in enumerate(steps):
        ax.bar(
            x + (k - (len(steps) - 1) / 2) * width,
            counts[column].fillna(0),
            width,
            label=name,
            color=plt.get_cmap("Greys")(0.3 + 0.2 * k),
        )
    ax.set_xticks(x, counts["probe"], rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("units")
    ax.set_ylim(0, 1.4 * max(1.0, float(np.nanmax(counts[[c for c, _ in steps]].to_numpy()))))
    ax.set_title("a  yield", loc="left", fontsize=10)
    ax.legend(fontsize=7, frameon=False, ncols=2, loc="upper left")

    rng = np.random.default_rng(0)  # horizontal jitter of the strip plots only
    for j, (column, name, log) in enumerate(METRIC_PANELS):
        ax = fig.add_subplot(grid[0, j + 1])
        for i, p in enumerate(probes):
            if column not in p.metrics or len(p.metrics) == 0:
                continue
            values = p.metrics[column].to_numpy(float)
            keep = p.metrics["keep"].astype(bool).to_numpy()
            jitter = i + rng.uniform(-0.2, 0.2, values.size)
            ax.scatter(jitter[keep], values[keep], s=12, color=colors[i])
            ax.scatter(jitter[~keep], values[~keep], s=12, facecolors="none", edgecolors=colors[i])
        if log:
            ax.set_yscale("log")
        ax.set_xticks(
            np.arange(len(probes)), [p.label for p in probes], rotation=30, ha="right", fontsize=8
        )
        # the title names the metric: a y label as well ran into the ticks of the panel before
        ax.set_title(f"{'bcd'[j]}  {name}", loc="left", fontsize=10)

    ax = fig.add_subplot(grid[1, :2])
    offset = 0.0
    for i, p in enumerate(probes):
        templates = np.asarray(p.waveforms.get("templates", np.zeros((0, 0, 0))))
        keep_ids = set(p.metrics.loc[p.metrics["keep"].astype(bool), "unit_id"].astype(str))
        ids = [str(u) for u in p.waveforms.get("unit_ids", [])]
        chosen = [k for k, u in enumerate(ids) if u in keep_ids][:N_EXAMPLE_WAVEFORMS]
        fs = float(p.waveforms.get("sampling_frequency", 30000.0))
        for k in chosen:
            peak = int(np.abs(templates[k]).max(axis=0).argmax())
            trace = templates[k, :, peak]
            t = np.arange(trace.size) / fs * 1000.0
            ax.plot(
                offset + t,
                trace,
                color=colors[i],
                lw=1.2,
                label=p.label if k == chosen[0] else None,
            )
            offset += t[-1] + 0.5
        offset += 1.0
    ax.set_xticks([])
    ax.set_xlabel("example curated units (each trace 3 ms)")
    ax.set_ylabel("mean waveform, peak channel (µV)")
    ax.set_title("e  mean waveforms", loc="left", fontsize=10)
    ax.legend(fontsize=7, frameon=False, ncols=min(len(probes), 4))

    ax = fig.add_subplot(grid[1, 2:])
    has_gt = False
    for i, p in enumerate(probes):
        if p.gt is None or "snr" not in p.gt:
            continue
        has_gt = True
        ax.scatter(p.gt["snr"], p.gt["accuracy"], s=16, color=colors[i], label=p.label)
    if has_gt:
        if well_detected_accuracy is not None:
            ax.axhline(well_detected_accuracy, color="0.5", ls="--", lw=0.8)
        ax.set_xlabel("planted SNR (peak / band noise s.d.)")
        ax.set_ylabel("accuracy vs ground truth")
        ax.set_ylim(-0.05, 1.05)
        ax.legend(fontsize=7, frameon=False)
    else:
        ax.text(
            0.5,
            0.5,
            "no ground truth (recorded data)",
            ha="center",
            va="center",
            transform=ax.transAxes,
        )
        ax.set_axis_off()
    ax.set_title("f  ground-truth accuracy", loc="left", fontsize=10)
    if with_motion:
        _plot_motion_panel(fig.add_subplot(grid[2, :]), probes, colors)
    return fig


def motion_trace(
    motion: pd.DataFrame, planted: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, float | None]:
    """One motion trace of a probe: the estimate averaged over depth windows.

    A motion estimate is defined up to a constant and SpikeInterface's sign is the probe's
    displacement relative to the tissue; with a planted drift the trace is given the sign and
    offset that best match it (as :func:`panneuro.ephys.motion.motion_error`), and the RMS
    difference at the planted trace's times is returned. Without one it is centred on zero.

    Parameters
    ----------
    motion : pandas.DataFrame
        ``time_s, depth_um, displacement_um`` (a probe's ``motion.tsv``).
    planted : pandas.DataFrame, optional
        ``time_s, displacement_um``.

    Returns
    -------
    trace : pandas.DataFrame
        ``time_s, displacement_um``.
    rms_um : float or None
        RMS error of the trace against the planted drift (None without one).
    """
    mean = motion.groupby("time_s", sort=True)["displacement_um"].mean()
    t, est = mean.index.to_numpy(float), mean.to_numpy(float)
    if planted is None or len(planted) == 0:
        return pd.DataFrame({"time_s": t, "displacement_um": est - est.mean()}), None
    truth_t = planted["time_s"].to_numpy(float)
    inside = (truth_t >= t.min()) & (truth_t <= t.max())
    ref = planted["displacement_um"].to_numpy(float)[inside]
    at_truth = np.interp(truth_t[inside], t, est)
    sign = 1.0 if np.dot(at_truth - at_truth.mean(), ref - ref.mean()) >= 0 else -1.0
    offset = float(np.mean(sign * at_truth - ref))
    error = sign * at_truth - offset - ref
    trace = pd.DataFrame({"time_s": t, "displacement_um": sign * est - offset})
    return trace, float(np.sqrt(np.mean(error**2)))


def _plot_motion_panel(ax, probes: Sequence[ProbeSortingSummary], colors) -> None:
    """Panel g: the estimated motion of every corrected probe; the others named."""
    for i, p in enumerate(probes):
        if p.motion is None or len(p.motion) == 0:
            continue
        trace, rms = motion_trace(p.motion, p.planted_motion)
        label = p.label if rms is None else f"{p.label} (RMS error {rms:.1f} µm)"
        ax.plot(trace["time_s"], trace["displacement_um"], color=colors[i], lw=1.4, label=label)
        if p.planted_motion is not None:
            ax.plot(
                p.planted_motion["time_s"],
                p.planted_motion["displacement_um"],
                color=colors[i],
                lw=0.8,
                ls="--",
                label=f"{p.label} planted",
            )
    uncorrected = [p.label for p in probes if p.motion is None]
    if uncorrected:
        ax.text(
            0.99,
            0.03,
            "not motion-corrected (not high-density): " + ", ".join(uncorrected),
            ha="right",
            va="bottom",
            fontsize=7,
            transform=ax.transAxes,
        )
    ax.set_xlabel("time (s)")
    ax.set_ylabel("displacement (µm)")
    ax.legend(fontsize=7, frameon=False, ncols=2, loc="upper left")
    ax.set_title("g  estimated motion (mean over depth windows)", loc="left", fontsize=10)
