import numpy as np

from panneuro.figures.fig5_human_units import plot_human_units
from panneuro.figures.save import save_figure


def test_fig5_smoke(tmp_path, fake_decoding, fake_ccgp):
    rng = np.random.default_rng(0)
    human = fake_decoding(rng, ["hippocampus"], sessions=[("H2", "01")])
    monkey = fake_decoding(rng, ["prefrontal", "hippocampus"])
    fig = plot_human_units(
        human,
        monkey,
        fake_ccgp(rng, ["hippocampus"], [("H2", "01")]),
        fake_ccgp(rng, ["prefrontal", "hippocampus"]),
    )
    axes = np.array(fig.axes).reshape(2, 4)
    assert axes[0, 0].get_title().startswith("human")
    assert axes[1, 0].get_title().startswith("macaque")
    assert axes[1, 3].get_title().endswith("(hippocampus)")  # like with like across species
    assert len(axes[1, 3].patches) == 6  # 2 epochs x 3 measures, hippocampus only
    # one score line per region and session in the monkey panel (+ chance and zero lines)
    labels = [t.get_text() for t in axes[1, 0].get_legend().get_texts()]
    assert sorted(labels) == ["hippocampus sub-M1 ses-04", "prefrontal sub-M1 ses-04"]
    save_figure(fig, tmp_path / "f.pdf", tmp_path / "f.png")
    assert (tmp_path / "f.png").stat().st_size > 10_000


def test_fig5_without_ccgp(fake_decoding):
    rng = np.random.default_rng(1)
    fig = plot_human_units(
        fake_decoding(rng, ["hippocampus"]),
        fake_decoding(rng, ["prefrontal"]),
        variables=["choice"],
    )
    assert len(fig.axes) == 2


def test_fig5_group_overlay_only_with_two_sessions(fake_decoding):
    from panneuro.decoding.group import group_decoding

    rng = np.random.default_rng(2)
    human = fake_decoding(rng, ["hippocampus"], sessions=[("H2", "01")])
    monkey = fake_decoding(rng, ["prefrontal"], sessions=[("M1", "01"), ("M2", "01")])
    fig = plot_human_units(
        human,
        monkey,
        variables=["choice"],
        human_group=group_decoding(human, np.random.default_rng(0)),
        monkey_group=group_decoding(monkey, np.random.default_rng(0)),
    )
    human_labels = [line.get_label() for line in fig.axes[0].lines]
    monkey_labels = [line.get_label() for line in fig.axes[1].lines]
    assert not any(lab.startswith("group") for lab in human_labels)  # one session: none
    assert "group (n=2 sessions)" in monkey_labels
