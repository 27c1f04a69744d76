import numpy as np
import pandas as pd

from panneuro.decoding.cross_condition import CCGP_COLUMNS
from panneuro.decoding.time_resolved import DECODING_COLUMNS
from panneuro.figures.fig3_monkey_decoding import ordered_regions, plot_monkey_decoding
from panneuro.figures.save import save_figure


def test_fig3_smoke(tmp_path, fake_decoding, fake_ccgp):
    rng = np.random.default_rng(0)
    table = fake_decoding(rng, ["hippocampus", "prefrontal"], sessions=[("M1", "04"), ("M2", "04")])
    assert set(DECODING_COLUMNS) <= set(table.columns)
    assert table["significant"].sum() > 0  # the planted bins are marked
    ccgp = fake_ccgp(rng, ["hippocampus", "prefrontal"])
    assert set(CCGP_COLUMNS) <= set(ccgp.columns)
    fig = plot_monkey_decoding(table, ccgp)
    axes = np.array(fig.axes).reshape(2, 5)
    assert axes[0, 0].get_title() == "prefrontal: choice"  # prefrontal first
    # the cross-temporal matrix of choice: an image with the planted block outlined
    assert axes[0, 3].get_title().startswith("prefrontal: choice, train")
    image = axes[0, 3].images[0].get_array()
    assert image.shape == (14, 14) and image[6, 6] > 0.7 and image[0, 12] < 0.65
    assert axes[0, 3].collections  # the significance contour
    assert axes[0, 0].get_ylim() == axes[0, 1].get_ylim()
    assert len(axes[0, 0].lines) >= 2 * 1 + 2  # two sessions + chance + zero lines
    save_figure(fig, tmp_path / "f.pdf", tmp_path / "f.png")
    assert (tmp_path / "f.png").stat().st_size > 10_000
    assert (tmp_path / "f.pdf").stat().st_size > 1_000


def test_fig3_without_ccgp_and_empty_table(fake_decoding):
    rng = np.random.default_rng(1)
    fig = plot_monkey_decoding(fake_decoding(rng, ["prefrontal"]))
    assert len(fig.axes) == 4
    assert (
        len(plot_monkey_decoding(fake_decoding(rng, ["prefrontal"]), cross_temporal=None).axes) == 3
    )
    empty = pd.DataFrame(columns=["subject", "session", *DECODING_COLUMNS])
    fig = plot_monkey_decoding(empty, pd.DataFrame(columns=["subject", "session", *CCGP_COLUMNS]))
    assert len(fig.axes) == 4


def test_ordered_regions():
    assert ordered_regions(["amygdala", "hippocampus", "prefrontal", "amygdala"]) == [
        "prefrontal",
        "hippocampus",
        "amygdala",
    ]


def test_fig3_overlays_the_group_across_sessions(fake_decoding):
    from panneuro.decoding.group import group_decoding

    rng = np.random.default_rng(2)
    table = fake_decoding(rng, ["prefrontal"], sessions=[("M1", "01"), ("M2", "01"), ("M3", "01")])
    group = group_decoding(table, np.random.default_rng(0), n_bootstrap=100)
    assert set(group["n_sessions"]) == {3}
    # the planted bins (0.1-0.3 s) carry the group effect, its interval above 0
    planted = group[group["time"].round(1).isin([0.1, 0.2, 0.3])]
    assert (planted["ci_low"] > 0.1).all()
    plain = plot_monkey_decoding(table)
    fig = plot_monkey_decoding(table, group=group)
    labels = [line.get_label() for line in fig.axes[0].lines]
    assert "group (n=3 sessions)" in labels
    assert len(fig.axes[0].lines) > len(plain.axes[0].lines)
