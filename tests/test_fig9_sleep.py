"""Figure 9: ripples in sleep and reactivation, from tables of the workflow's shapes."""

import numpy as np
import pandas as pd

from panneuro.figures.fig9_sleep import plot_sleep, run_table
from panneuro.figures.save import save_figure


def _inputs(with_truth=True):
    t = np.arange(0, 20, 1 / 1500)
    lfp = {"time": t, "lfp": np.sin(2 * np.pi * 200 * t) * (np.sin(t) > 0.95) * 50}
    ripples = pd.DataFrame(
        {"start_time": [2.0, 8.0], "end_time": [2.1, 8.1], "peak_time": [2.05, 8.05]}
    )
    react = pd.DataFrame(
        {
            "method": ["ev", "assembly"] * 2,
            "pre": [0.1, 0.2, 0.05, 0.1],
            "post": [0.4, 0.5, 0.3, 0.6],
            "truth_pre": [0.1, 0.2, 0.0, 0.1] if with_truth else np.nan,
            "truth_post": [0.5, 0.6, 0.4, 0.7] if with_truth else np.nan,
        }
    )
    effects = pd.DataFrame(
        {
            "effect": ["reactivation_ev_minus_rev"] * 2,
            "species": ["macaque", "macaque"],
            "estimate": [0.3, 0.3],
            "ci_low": [0.1, 0.2],
            "ci_high": [0.5, 0.4],
            "method": ["hierarchical_bootstrap", "subject_t_test"],
            "n_subjects": [2, 2],
            "n_sessions": [6, 6],
            "truth": [0.35 if with_truth else np.nan] * 2,
        }
    )
    runs = run_table(
        [ripples, ripples],
        [20.0, 20.0],
        ["M1 01 run-1", "M1 01 run-2"],
        [ripples, ripples] if with_truth else None,
        pd.DataFrame({"recall": [1.0, 0.5], "precision": [1.0, 1.0]}) if with_truth else None,
    )
    return lfp, ripples, ripples if with_truth else None, runs, react, effects


def test_figure_draws_four_panels(tmp_path):
    lfp, ripples, planted, runs, react, effects = _inputs()
    assert runs["rate_detected"].tolist() == [6.0, 6.0]  # 2 ripples in 20 s
    fig = plot_sleep(lfp, ripples, planted, "M1 01 HPC run-2", runs, react, effects)
    assert len(fig.axes) == 5  # four panels and the recall axis of (b)
    save_figure(fig, tmp_path / "f.pdf", tmp_path / "f.png")
    assert (tmp_path / "f.png").stat().st_size > 10000


def test_figure_without_ground_truth(tmp_path):
    lfp, ripples, planted, runs, react, effects = _inputs(with_truth=False)
    fig = plot_sleep(lfp, ripples, planted, "lab run", runs, react, effects)
    assert len(fig.axes) == 4  # no recall axis without planted ripples
