import numpy as np
import pandas as pd

from panneuro.decoding.latent_regression import (
    REGRESSION_COLUMNS,
    RegressionResult,
    regression_table,
)
from panneuro.figures.fig6_model import plot_model_neural
from panneuro.figures.save import save_figure


def fake_regression(rng):
    parts = []
    times = np.round(np.arange(-0.4, 1.0, 0.1), 3)
    for subject, session, species, regions in (
        ("M1", "04", "macaque", ["prefrontal", "hippocampus"]),
        ("H2", "01", "human", ["hippocampus"]),
    ):
        for region in regions:
            for latent in ("belief_chosen", "prediction_error"):
                scores = rng.normal(-0.02, 0.02, len(times))
                scores[4:7] += 0.3
                table = regression_table(
                    RegressionResult(scores, rng.normal(-0.02, 0.02, (40, len(times)))), times
                )
                table.insert(0, "region", region)
                table.insert(1, "n_units", 20)
                table.insert(2, "latent", latent)
                table.insert(3, "align", "response")
                table.insert(0, "subject", subject)
                table.insert(1, "session", session)
                table.insert(2, "species", species)
                parts.append(table)
    return pd.concat(parts, ignore_index=True)


def test_fig6_smoke(tmp_path):
    table = fake_regression(np.random.default_rng(0))
    assert set(REGRESSION_COLUMNS) <= set(table.columns)
    assert table["significant"].sum() > 0
    fig = plot_model_neural(table)
    axes = np.array(fig.axes).reshape(2, 2)
    assert axes[0, 0].get_title() == "prefrontal: belief_chosen"
    assert axes[1, 1].get_title() == "hippocampus: prediction_error"
    labels = sorted(t.get_text() for t in axes[0, 1].get_legend().get_texts())
    assert labels == ["human sub-H2 ses-01", "macaque sub-M1 ses-04"]

    def color_of(ax, label):
        return next(line.get_color() for line in ax.lines if line.get_label() == label)

    # a session keeps its colour across panels
    assert color_of(axes[0, 0], "macaque sub-M1 ses-04") == color_of(
        axes[0, 1], "macaque sub-M1 ses-04"
    )
    save_figure(fig, tmp_path / "f.pdf", tmp_path / "f.png")
    assert (tmp_path / "f.png").stat().st_size > 10_000


def test_fig6_empty():
    fig = plot_model_neural(pd.DataFrame(columns=["subject", "session", *REGRESSION_COLUMNS]))
    assert len(fig.axes) == 1
