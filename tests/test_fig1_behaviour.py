import hashlib
import json

import numpy as np
import pandas as pd
import pytest

from panneuro.behaviour.learning_set import learning_set_curves
from panneuro.behaviour.model import LearningSetParams, fit_subjects, fit_to_curves, simulate_agent
from panneuro.behaviour.reference import HARLOW, read_reference_curves
from panneuro.behaviour.statistics import learning_statistics
from panneuro.figures.fig1_behaviour import plot_behaviour
from panneuro.figures.save import save_figure

AGENTS = {
    "macaque": LearningSetParams(n_half=45.0, beta=0.65),
    "human": LearningSetParams(n_half=5.0, beta=1.0),
}


@pytest.fixture(scope="module")
def inputs():
    rng = np.random.default_rng(0)
    tables = []
    for subject, species, n in [
        ("M1", "macaque", 120),
        ("M2", "macaque", 120),
        ("H1", "human", 40),
        ("H2", "human", 40),
    ]:
        sim = simulate_agent(AGENTS[species], np.arange(1, n + 1), rng)
        sim["rewarded_object"] = 2 * sim["problem"]
        sim["chosen_object"] = np.where(
            sim["correct"] == 1, 2 * sim["problem"], 2 * sim["problem"] - 1
        )
        tables.append(sim.assign(subject=subject, species=species))
    events = pd.concat(tables, ignore_index=True)
    truth = {
        s: AGENTS[sp].as_dict()
        for s, sp in [("M1", "macaque"), ("M2", "macaque"), ("H1", "human"), ("H2", "human")]
    }
    curves = learning_set_curves(events, block_size=20, n_bootstrap=50, seed=1)
    parameters = fit_subjects(events, seed=1, n_starts=2, truth=truth)
    reference = read_reference_curves("resources/reference/learning_set_curves.csv")
    harlow = json.loads(
        json.dumps(fit_to_curves(reference[reference["source"] == HARLOW], n_starts=3).as_dict())
    )
    stats = learning_statistics(events)
    return curves, parameters, harlow, reference, stats


def test_plot_behaviour_draws_every_panel(inputs, tmp_path):
    fig = plot_behaviour(*inputs, n_blocks=3)
    axes = fig.axes
    assert len(axes) == 6
    for ax in axes:
        assert ax.lines or ax.collections, ax.get_title()
    # Harlow panel cites its source and gives the RMSE in the legend
    texts = [t.get_text() for t in axes[2].texts]
    assert any("Harlow 1949; Wang et al. 2018" in t for t in texts)
    legend = [t.get_text() for t in axes[2].get_legend().get_texts()]
    assert any("RMSE" in t for t in legend)
    # the macaque panel shows 3 blocks with data and model lines
    assert len([line for line in axes[0].lines if line.get_linestyle() == "-"]) >= 3
    pdf, png = tmp_path / "f.pdf", tmp_path / "f.png"
    save_figure(fig, pdf, png)
    first = hashlib.sha256(png.read_bytes()).hexdigest()
    save_figure(plot_behaviour(*inputs, n_blocks=3), tmp_path / "g.pdf", tmp_path / "g.png")
    assert hashlib.sha256((tmp_path / "g.png").read_bytes()).hexdigest() == first
    assert (tmp_path / "g.pdf").read_bytes() == pdf.read_bytes()


def test_plot_behaviour_without_ground_truth(inputs):
    curves, parameters, harlow, reference, stats = inputs
    parameters = parameters.drop(columns=[c for c in parameters if c.startswith("true_")])
    fig = plot_behaviour(curves, parameters, harlow, reference, stats)
    assert "Fitted agent parameters" in fig.axes[5].get_title()
