"""Figure 8 from synthetic group tables."""

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from panneuro.figures.fig8_inactivation import plot_inactivation
from panneuro.figures.save import save_figure
from panneuro.io.tables import read_tsv, write_tsv
from panneuro.stats.design_effects import (
    inactivation_behaviour,
    inactivation_neural,
    inactivation_scores,
    session_rates,
    session_stay_scores,
    trial2_table,
)

sys.path.insert(0, str(Path(__file__).parent))
from test_design_effects import _ccgp, _design, _events  # noqa: E402


def inactivation_tables(tmp_path):
    design = _design(tmp_path, ("M1", "M2"))
    rng = np.random.default_rng(0)
    ccgp, metrics, events, expected = {}, {}, {}, {}
    for row in design.itertuples():
        key = (row.subject, row.session)
        pfc = 0.65 - 0.1 * row.inactivated
        ccgp[key] = _ccgp({"prefrontal": (pfc, pfc + 0.01), "hippocampus": (0.6, 0.62)})
        metrics[(*key, "hippocampus")] = pd.DataFrame(
            {"firing_rate": rng.uniform(2, 6, 10) * (0.25 if row.inactivated else 1), "keep": True}
        )
        expected[key] = 0.8 - 0.2 * row.inactivated
        events[key] = _events(expected[key], rng)
    species = {"M1": "macaque", "M2": "macaque"}
    scores, rates = session_stay_scores(ccgp), session_rates(metrics)
    trials = trial2_table(events, design, expected)
    effects = pd.concat(
        [
            inactivation_behaviour(trials, species, np.random.default_rng(1), n_resamples=200),
            inactivation_neural(
                scores, rates, design, species, np.random.default_rng(2), n_resamples=200
            ),
        ],
        ignore_index=True,
    )
    return inactivation_scores(scores, rates, trials, design, species), effects


def test_fig8_smoke(tmp_path):
    scores, effects = inactivation_tables(tmp_path)
    fig = plot_inactivation(scores, effects)
    # behaviour, hippocampus and prefrontal stay code, hippocampus rate
    assert len(fig.axes) == 4
    assert "trial 2" in fig.axes[0].get_title()
    assert "firing rate" in fig.axes[3].get_title()
    assert fig.axes[3].get_yscale() == "log"
    # two monkeys: their bootstrap intervals are marked, and the legend says why
    assert "†" in fig.axes[0].get_title()
    assert any("†" in t.get_text() for t in fig.legends[0].get_texts())
    save_figure(fig, tmp_path / "f.pdf", tmp_path / "f.png")
    assert (tmp_path / "f.png").stat().st_size > 10_000


def test_fig8_of_a_behaviour_only_design(tmp_path):
    """Behaviour-only inactivation sessions only: the trial-2 panel alone, labelled as such."""
    design = _design(tmp_path, ("M1", "M2"))
    design = design.assign(learning_stage="n/a", stage_index=np.nan)
    rng = np.random.default_rng(0)
    expected = {(r.subject, r.session): 0.8 - 0.2 * r.inactivated for r in design.itertuples()}
    events = {key: _events(p, rng) for key, p in expected.items()}
    species = {"M1": "macaque", "M2": "macaque"}
    trials = trial2_table(events, design, expected)
    empty = session_stay_scores({})
    effects = pd.concat(
        [
            inactivation_behaviour(trials, species, np.random.default_rng(1), n_resamples=200),
            inactivation_neural(
                empty, session_rates({}), design, species, np.random.default_rng(2)
            ),
        ],
        ignore_index=True,
    )
    assert set(effects["region"]) == {"behaviour"}
    # as the figure rule reads it: "n/a" stages come back missing
    write_tsv(
        inactivation_scores(empty, session_rates({}), trials, design, species), tmp_path / "s.tsv"
    )
    fig = plot_inactivation(read_tsv(tmp_path / "s.tsv"), effects)
    assert len(fig.axes) == 1 and "trial 2" in fig.axes[0].get_title()
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert labels == ["M1 (behaviour only)", "M2 (behaviour only)"]
    assert len(fig.axes[0].lines) == 2 * 2 + 1  # estimate and truth per subject, chance
    save_figure(fig, tmp_path / "f.pdf", tmp_path / "f.png")


def test_fig8_of_a_lab_run_has_no_truth_in_its_legend(tmp_path):
    """A lab's run has no planted truth: the legend names the subjects and no truth."""
    scores, effects = inactivation_tables(tmp_path)
    with_truth = [t.get_text() for t in plot_inactivation(scores, effects).legends[0].get_texts()]
    assert "planted truth" in with_truth
    truths = [c for c in scores.columns if c.endswith("_truth")]
    fig = plot_inactivation(scores.assign(**dict.fromkeys(truths, np.nan)), effects)
    texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert texts == [t for t in with_truth if t != "planted truth"], texts
