import json

import numpy as np
import pytest

from panneuro.ecog.high_gamma import epoch_high_gamma, high_gamma_envelope, preprocess_ecog
from panneuro.ecog.statistics import decode_outcome, responsive_electrodes, statistics_to_json
from panneuro.figures.fig4_ecog import EcogFigureSession, plot_ecog_figure, truth_table
from panneuro.figures.save import save_figure
from panneuro.simulate.ecog import simulate_ecog
from panneuro.simulate.task import build_events


@pytest.fixture(scope="module")
def session():
    rng = np.random.default_rng(3)
    n_trials = 48
    problem = np.repeat(np.arange(1, n_trials // 6 + 1), 6)
    trial = np.tile(np.arange(1, 7), n_trials // 6)
    correct = (rng.random(n_trials) < 0.6).astype(int)
    events = build_events(problem, trial, correct, rng, trial_duration=1.5)
    sim = simulate_ecog(
        events, n_electrodes=12, sfreq=1000.0, n_planted=3, gain=1.5, line_frequency=60.0, seed=5
    )
    clean, bads = preprocess_ecog(sim.raw, line_frequency=60.0)
    epochs = epoch_high_gamma(
        high_gamma_envelope(clean, (70.0, 150.0), 2, sfreq_out=100.0), events, bad_channels=bads
    )
    y = epochs.trials["correct"].to_numpy()
    responsive = responsive_electrodes(
        epochs.data, y, epochs.times, epochs.channels, n_permutations=50, seed=1
    )
    decoding = decode_outcome(
        epochs.data, y, epochs.times, n_folds=3, n_permutations=2, seed=2, bin_width=0.25
    )
    stats = json.loads(json.dumps(statistics_to_json(responsive, decoding, {"rewarded": 1})))
    return EcogFigureSession("sub-H1 ses-01", epochs, stats, sim.truth)


def test_figure_renders_and_saves(session, tmp_path):
    fig = plot_ecog_figure(
        [session, EcogFigureSession("no truth", session.epochs, session.stats, None)]
    )
    assert len(fig.axes) >= 8
    titles = " ".join(ax.get_title() for ax in fig.axes)
    assert "false discoveries" in titles
    pdf, png = tmp_path / "fig4_ecog.pdf", tmp_path / "fig4_ecog.png"
    save_figure(fig, pdf, png)
    assert pdf.stat().st_size > 10_000 and png.stat().st_size > 10_000


def test_truth_table_scores_sessions(session):
    table = truth_table([session, EcogFigureSession("x", session.epochs, session.stats, None)])
    assert len(table) == 1
    row = table.iloc[0]
    assert row["n_planted"] == 3
    assert row["n_hits"] == len(row["hits"].split(",")) if row["hits"] else row["n_hits"] == 0
    assert 0.0 <= row["sensitivity"] <= 1.0


def test_no_session_is_an_error():
    with pytest.raises(ValueError, match="no ECoG session"):
        plot_ecog_figure([])
