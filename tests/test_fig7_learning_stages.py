"""Figure 7 from synthetic group tables."""

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from panneuro.figures.fig7_learning_stages import effect_title, plot_learning_stages
from panneuro.figures.save import save_figure
from panneuro.stats.design_effects import annotate, session_stay_scores, stage_effects

sys.path.insert(0, str(Path(__file__).parent))
from test_design_effects import _ccgp, _design  # noqa: E402


def stage_tables(tmp_path):
    design = _design(tmp_path, ("M1", "M2"))
    human = pd.DataFrame(
        {
            "subject": ["H2", "H4"],
            "session": "01",
            "condition": "control",
            "inactivated_region": "n/a",
            "learning_stage": "n/a",
            "first_problem": 1,
            "last_problem": 20,
            "stage_index": np.nan,
            "inactivated": 0,
        }
    )
    design = pd.concat([design, human], ignore_index=True)
    rng = np.random.default_rng(0)
    ccgp, truth = {}, {}
    for row in design.itertuples():
        if row.subject.startswith("M"):
            m = 0.55 + 0.08 * row.stage_index
            values = {"prefrontal": (m, m + 0.02), "hippocampus": (m - 0.02, m)}
        else:
            values = {"hippocampus": (0.55, 0.7)}
        ccgp[(row.subject, row.session)] = _ccgp(
            {k: (a + rng.normal(0, 0.02), b + rng.normal(0, 0.02)) for k, (a, b) in values.items()}
        )
        truth[(row.subject, row.session)] = _ccgp(values)
    species = {s: "human" if s.startswith("H") else "macaque" for s in design["subject"]}
    scores = session_stay_scores(ccgp)
    oracle = session_stay_scores(truth, value="truth")
    effects = stage_effects(
        scores, design, species, np.random.default_rng(1), truth=oracle, n_resamples=200
    )
    return annotate(scores, design, species, oracle), effects


def test_fig7_smoke(tmp_path):
    scores, effects = stage_tables(tmp_path)
    assert "truth" in effect_title(effects, "stay_ccgp_stage_slope", "macaque", "prefrontal")
    # two monkeys: the bootstrap interval is marked as about these subjects
    assert "†" in effect_title(effects, "stay_ccgp_stage_slope", "macaque", "prefrontal")
    three = effects.assign(n_subjects=3)
    assert "†" not in effect_title(three, "stay_ccgp_stage_slope", "macaque", "prefrontal")
    assert effect_title(effects, "stay_ccgp_stage_slope", "human", "prefrontal") == ""
    fig = plot_learning_stages(scores, effects)
    axes = fig.axes
    # 3 columns (macaque hippocampus, macaque prefrontal, human hippocampus) x 2 rows
    assert len(axes) == 6
    assert "late − early" in axes[2].get_title() and "human hippocampus" in axes[2].get_title()
    # macaque panel: one solid line and one truth line per subject
    assert len(axes[0].get_lines()) == 1 + 2 * 2
    save_figure(fig, tmp_path / "f.pdf", tmp_path / "f.png")
    assert (tmp_path / "f.png").stat().st_size > 10_000


def test_fig7_of_a_lab_run_has_no_truth_in_its_legend(tmp_path):
    """A lab's run has no planted truth: no truth lines, and the legend does not name one."""
    scores, effects = stage_tables(tmp_path)
    scores = scores.assign(ccgp_truth=np.nan, cv_truth=np.nan)
    fig = plot_learning_stages(scores, effects.assign(truth=np.nan))
    assert len(fig.axes[0].get_lines()) == 1 + 2  # chance and one line per subject
    texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "M1" in texts and not any("truth" in t for t in texts), texts
