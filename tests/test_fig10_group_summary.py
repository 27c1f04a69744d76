"""Figure 10 from synthetic group tables."""

import sys
from pathlib import Path

from panneuro.figures.fig10_group_summary import plot_group_summary
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


def test_fig10_without_tables(tmp_path):
    fig = plot_group_summary([])
    save_figure(fig, tmp_path / "f.pdf", tmp_path / "f.png")
    assert (tmp_path / "f.png").exists()
