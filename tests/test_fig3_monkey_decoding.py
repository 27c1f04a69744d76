import numpy as np
import pandas as pd

from panneuro.decoding.cross_condition import CCGP_COLUMNS
from panneuro.decoding.time_resolved import DECODING_COLUMNS
from panneuro.figures.fig3_monkey_decoding import ordered_regions, plot_monkey_decoding
from panneuro.figures.save import save_figure


def test_fig3_smoke(tmp_path, fake_decoding, fake_ccgp):
    rng = np.random.default_rng(0)
    table = fake_decoding(rng, ["hippocampus", "prefrontal"], sessions=[("M1", "04"),
                                                                         ("M2", "04")])
    assert set(DECODING_COLUMNS) <= set(table.columns)
    assert table["significant"].sum() > 0  # the planted bins are marked
    ccgp = fake_ccgp(rng, ["hippocampus", "prefrontal"])
    assert set(CCGP_COLUMNS) <= set(ccgp.columns)
    fig = plot_monkey_decoding(table, ccgp)
    axes = np.array(fig.axes).reshape(2, 4)
    assert axes[0, 0].get_title() == "prefrontal: choice"  # prefrontal first
    assert len(axes[0, 0].lines) >= 2 * 1 + 2  # two sessions + chance + zero lines
    save_figure(fig, tmp_path / "f.pdf", tmp_path / "f.png")
    assert (tmp_path / "f.png").stat().st_size > 10_000
    assert (tmp_path / "f.pdf").stat().st_size > 1_000


def test_fig3_without_ccgp_and_empty_table(fake_decoding):
    rng = np.random.default_rng(1)
    fig = plot_monkey_decoding(fake_decoding(rng, ["prefrontal"]))
    assert len(fig.axes) == 3
    empty = pd.DataFrame(columns=["subject", "session", *DECODING_COLUMNS])
    fig = plot_monkey_decoding(empty, pd.DataFrame(columns=["subject", "session",
                                                            *CCGP_COLUMNS]))
    assert len(fig.axes) == 4


def test_ordered_regions():
    assert ordered_regions(["amygdala", "hippocampus", "prefrontal", "amygdala"]) == [
        "prefrontal", "hippocampus", "amygdala"]
