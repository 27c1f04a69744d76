"""Figure 2: sorting yield, metrics, waveforms and ground-truth accuracy."""

import numpy as np
import pandas as pd
import pytest

from panneuro.figures.fig2_sorting import (
    ProbeSortingSummary,
    motion_trace,
    plot_sorting_figure,
    yield_table,
)
from panneuro.figures.save import save_figure


def _summary(label, n_units, n_gt, seed, with_gt=True):
    rng = np.random.default_rng(seed)
    metrics = pd.DataFrame(
        {
            "unit_id": [str(u) for u in range(n_units)],
            "snr": rng.uniform(2, 15, n_units),
            "isi_violations_ratio": rng.uniform(0, 0.6, n_units),
            "firing_rate": rng.uniform(0.05, 20, n_units),
        }
    )
    metrics["keep"] = (metrics["snr"] > 3) & (metrics["isi_violations_ratio"] < 0.5)
    waveforms = {
        "unit_ids": metrics["unit_id"].to_numpy(),
        "templates": rng.normal(0, 5, (n_units, 90, 4)),
        "sampling_frequency": np.float64(30000.0),
    }
    gt = None
    if with_gt:
        accuracy = rng.uniform(0, 1, n_gt)
        gt = pd.DataFrame(
            {
                "gt_unit_id": [str(u) for u in range(n_gt)],
                "accuracy": accuracy,
                "well_detected": accuracy >= 0.8,
                "snr": rng.uniform(4, 14, n_gt),
            }
        )
    return ProbeSortingSummary(label, "prefrontal", metrics, waveforms, gt)


def test_yield_counts():
    probes = [_summary("M1 04 PFC", 20, 25, 1), _summary("H2 01 MW", 6, 8, 2, with_gt=False)]
    table = yield_table(probes)
    assert table["sorted"].tolist() == [20, 6]
    assert table.loc[0, "curated"] == probes[0].metrics["keep"].sum()
    assert table.loc[0, "ground_truth"] == 25
    assert table.loc[0, "well_detected"] == probes[0].gt["well_detected"].sum()
    assert np.isnan(table.loc[1, "ground_truth"]) and np.isnan(table.loc[1, "well_detected"])


@pytest.mark.parametrize("with_gt", [True, False])
def test_figure_is_drawn_and_saved(tmp_path, with_gt):
    probes = [
        _summary("M1 04 PFC", 20, 25, 1, with_gt),
        _summary("M1 04 HPC", 15, 25, 2, with_gt),
        _summary("H2 01 MW", 6, 8, 3, with_gt),
    ]
    figure = plot_sorting_figure(probes, well_detected_accuracy=0.8)
    axes = figure.get_axes()
    assert len(axes) == 6
    titles = [ax.get_title(loc="left") for ax in axes]
    assert titles[0].startswith("a") and titles[-1].startswith("f")
    # panel e draws up to five kept units per probe
    n_lines = len(axes[4].get_lines())
    expected = sum(min(5, int(p.metrics["keep"].sum())) for p in probes)
    assert n_lines == expected
    # panel f: one scatter per probe with ground truth, else a note
    assert len(axes[5].collections) == (3 if with_gt else 0)
    save_figure(figure, tmp_path / "fig2.pdf", tmp_path / "fig2.png")
    assert (tmp_path / "fig2.png").stat().st_size > 5000


def test_figure_needs_a_probe():
    with pytest.raises(ValueError, match="at least one probe"):
        plot_sorting_figure([])


def _motion(sign=-1.0, offset=7.0):
    t = np.arange(0, 60, 2.0)
    planted = pd.DataFrame(
        {"time_s": np.arange(0, 60, 0.2), "displacement_um": 20 * np.sin(np.arange(0, 60, 0.2) / 6)}
    )
    rows = [
        pd.DataFrame(
            {"time_s": t, "depth_um": depth, "displacement_um": offset + sign * 20 * np.sin(t / 6)}
        )
        for depth in (100.0, 300.0)
    ]
    return pd.concat(rows, ignore_index=True), planted


def test_motion_trace_matches_sign_and_offset_to_the_planted_drift():
    motion, planted = _motion()
    trace, rms = motion_trace(motion, planted)
    assert rms < 0.5  # the 2 s bins interpolated onto the 0.2 s planted trace
    assert np.allclose(trace["displacement_um"], 20 * np.sin(trace["time_s"] / 6), atol=0.5)
    centred, none = motion_trace(motion)
    assert none is None and abs(centred["displacement_um"].mean()) < 1e-9


def test_motion_panel_only_when_a_probe_was_corrected(tmp_path):
    motion, planted = _motion()
    hd = _summary("M1 04 NP", 20, 25, 1)
    hd.motion, hd.planted_motion = motion, planted
    figure = plot_sorting_figure([hd, _summary("M1 04 HPC", 15, 25, 2)])
    axes = figure.get_axes()
    assert len(axes) == 7 and axes[6].get_title(loc="left").startswith("g")
    assert len(axes[6].get_lines()) == 2  # estimate and planted of the one corrected probe
    assert "M1 04 HPC" in " ".join(text.get_text() for text in axes[6].texts)
    assert "RMS error" in axes[6].get_legend().get_texts()[0].get_text()
    save_figure(figure, tmp_path / "fig2.pdf", tmp_path / "fig2.png")
