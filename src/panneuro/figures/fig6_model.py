"""Figure 6: the learning-to-learn agent's latents are read out from population activity.

Rows = latents (``belief_chosen``, ``prediction_error``), columns = regions; each line is a
session's cross-validated R² of the ridge read-out over time, with its null band and
significant clusters (see :mod:`panneuro.decoding.latent_regression`).
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from panneuro.figures.fig3_monkey_decoding import (  # noqa: E402
    label_colors,
    ordered_regions,
    session_label,
    timecourse_panel,
)


def plot_model_neural(table: pd.DataFrame, latents: Sequence[str] | None = None) -> Figure:
    """Figure 6: cross-validated R² of each model latent from each region over time.

    Parameters
    ----------
    table : pandas.DataFrame
        Concatenated latent-regression tables
        (:data:`panneuro.decoding.latent_regression.REGRESSION_COLUMNS`, plus ``subject``,
        ``session`` and optionally ``species``).
    latents : sequence of str, optional
        Latents to draw (rows); default those in the table.

    Returns
    -------
    matplotlib.figure.Figure
        Rows = latents, columns = regions.
    """
    table = table.copy()
    label = session_label(table)
    if "species" in table.columns:
        label = table["species"].astype(str) + " " + label
    table["label"] = label
    colors = label_colors(table["label"])
    latents = list(latents) if latents is not None else list(pd.unique(table["latent"]))
    latents = latents or ["(none)"]
    regions = ordered_regions(table["region"]) or ["(no units)"]
    fig, axes = plt.subplots(
        len(latents),
        len(regions),
        figsize=(3.2 * len(regions), 2.6 * len(latents)),
        squeeze=False,
        sharey="row",
    )
    for r, latent in enumerate(latents):
        for c, region in enumerate(regions):
            ax = axes[r, c]
            rows = table[(table["latent"] == latent) & (table["region"] == region)]
            timecourse_panel(ax, rows, chance=0.0, ylabel="cross-validated R²", colors=colors)
            ax.set_title(f"{region}: {latent}", fontsize=9)
    fig.suptitle("Model latents in population codes", fontsize=11)
    fig.tight_layout()
    return fig
