"""Figure 10 from synthetic group tables."""

import sys
from pathlib import Path

import numpy as np

from panneuro.figures.fig10_group_summary import balanced_split, plot_group_summary
from panneuro.figures.save import save_figure

sys.path.insert(0, str(Path(__file__).parent))
from test_fig7_learning_stages import stage_tables  # noqa: E402
from test_fig8_inactivation import inactivation_tables  # noqa: E402


def test_fig10_smoke(tmp_path):
    """One panel per effect, one labelled row per species, region and method."""
    (tmp_path / "stage").mkdir()
    _, stage = stage_tables(tmp_path / "stage")
    _, inact = inactivation_tables(tmp_path)
    fig = plot_group_summary([stage, inact])
    effects = list(dict.fromkeys([*stage["effect"], *inact["effect"]]))
    assert [ax.get_title(loc="left").split(":")[0] for ax in fig.axes] == effects
    # every row of a panel is labelled; truth crosses where the truth is known
    first = fig.axes[0]
    assert len(first.get_yticklabels()) == int((stage["effect"] == effects[0]).sum())
    save_figure(fig, tmp_path / "f.pdf", tmp_path / "f.png")
    assert (tmp_path / "f.png").stat().st_size > 10_000


def test_fig10_of_a_lab_run_has_no_truth_in_its_legend(tmp_path):
    """A lab's run has no planted truth: no crosses, and the legend does not name one."""
    _, stage = stage_tables(tmp_path)
    fig = plot_group_summary([stage])
    assert "planted truth" in [t.get_text() for t in fig.legends[0].get_texts()]
    fig = plot_group_summary([stage.assign(truth=np.nan, truth_in_ci=None)])
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["estimate, 95 % interval"]
    assert not any(line.get_marker() == "x" and len(line.get_xdata()) for line in fig.axes[0].lines)


def test_long_titles_are_wrapped_within_the_figure(tmp_path):
    """The right column's long titles ran past the figure's edge (decoding_rewarded_object_
    inactivation: ...): they are wrapped, and every title lies inside the figure."""
    (tmp_path / "stage").mkdir()
    _, stage = stage_tables(tmp_path / "stage")
    _, inact = inactivation_tables(tmp_path)
    long = inact.assign(effect="decoding_rewarded_object_inactivation")
    fig = plot_group_summary([stage, long])
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    width = fig.get_size_inches()[0] * fig.dpi
    for ax in fig.axes:
        title = ax._left_title  # the left-aligned title (matplotlib keeps no public handle)
        assert max(len(line) for line in title.get_text().splitlines()) <= 80
        assert title.get_window_extent(renderer).x1 <= width + 1, title.get_text()


def test_fig10_without_tables(tmp_path):
    fig = plot_group_summary([])
    save_figure(fig, tmp_path / "f.pdf", tmp_path / "f.png")
    assert (tmp_path / "f.png").exists()


def test_fig10_clips_the_one_degree_of_freedom_t_intervals(tmp_path):
    import pandas as pd

    from panneuro.figures.fig10_group_summary import effect_label

    rows = pd.DataFrame(
        {
            "effect": "x",
            "species": "macaque",
            "region": "prefrontal",
            "estimate": [0.1, 0.1],
            "ci_low": [0.05, -3.0],
            "ci_high": [0.15, 3.0],
            "method": ["hierarchical_bootstrap", "subject_t_test"],
            "truth": [0.12, 0.12],
        }
    )
    fig = plot_group_summary([rows])
    low, high = fig.axes[0].get_xlim()
    assert -0.1 < low < 0 and 0.15 < high < 0.3
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels[1].endswith("(interval clipped)") and "clipped" not in labels[0]
    assert "decoding of choice" in effect_label("decoding_choice_inactivation")


def test_panels_run_down_two_columns_of_about_equal_height(tmp_path):
    """The split keeps the panels' order and the taller column as short as it can be."""
    assert balanced_split([5, 1, 1, 1, 1, 1]) == 1
    assert balanced_split([2, 2, 2, 2]) == 2
    assert balanced_split([3]) == 1
    (tmp_path / "stage").mkdir()
    _, stage = stage_tables(tmp_path / "stage")
    _, inact = inactivation_tables(tmp_path)
    fig = plot_group_summary([stage, inact])
    fig.canvas.draw()
    width_px = fig.get_size_inches()[0] * fig.dpi
    lefts = {ax.get_window_extent().x0 > width_px / 2 for ax in fig.axes}
    assert lefts == {False, True}  # panels in both halves: two columns
    width, height = fig.get_size_inches()
    assert height < width


def test_a_row_without_estimate_says_why(tmp_path):
    """One subject has no t test over subjects; a failed fit is said to be one."""
    _, stage = stage_tables(tmp_path)
    first = stage["effect"] == stage["effect"].iloc[0]
    rows = stage[first].copy()
    rows.loc[rows.index[0], ["estimate", "ci_low", "ci_high", "n_subjects"]] = [np.nan] * 3 + [1]
    rows.loc[rows.index[1], ["estimate", "ci_low", "ci_high"]] = [np.nan] * 3
    labels = [t.get_text() for t in plot_group_summary([rows]).axes[0].get_yticklabels()]
    assert labels[0].endswith("(one subject: none)")
    assert labels[1].endswith("(no fit)") and rows["n_subjects"].iloc[1] >= 2
    assert not any("no fit" in label or "one subject" in label for label in labels[2:])
