"""Figure 5: human microwire units decode the same task variables as macaque units.

Rows = species (human microwire units, macaque array units), columns = decoded variables (+ the
cross-condition generalisation of ``stay``); one line per region and session, with the null
band and significant clusters (see :mod:`panneuro.figures.fig3_monkey_decoding`).
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from panneuro.figures.fig3_monkey_decoding import (  # noqa: E402
    DEFAULT_VARIABLES,
    ccgp_panel,
    group_panel,
    label_colors,
    session_label,
    timecourse_panel,
)


def _labelled(table: pd.DataFrame) -> pd.DataFrame:
    table = table.copy()
    table["label"] = table["region"].astype(str) + " " + session_label(table)
    return table


def plot_human_units(
    human_table: pd.DataFrame,
    monkey_table: pd.DataFrame,
    human_ccgp: pd.DataFrame | None = None,
    monkey_ccgp: pd.DataFrame | None = None,
    *,
    variables: Sequence[str] = DEFAULT_VARIABLES,
    alpha: float = 0.05,
    ccgp_region: str = "hippocampus",
    human_group: pd.DataFrame | None = None,
    monkey_group: pd.DataFrame | None = None,
) -> Figure:
    """Figure 5: human vs macaque single-unit population decoding, side by side.

    Parameters
    ----------
    human_table, monkey_table : pandas.DataFrame
        Concatenated decoding tables (with ``subject``/``session``) of the human microwire
        sessions and of the macaque sessions.
    human_ccgp, monkey_ccgp : pandas.DataFrame, optional
        Their cross-condition tables; a CCGP column is added when both are given.
    variables : sequence of str
        Decoded variables, one column each.
    alpha : float
        Significance level marked in the CCGP panels.
    ccgp_region : str
        Region whose CCGP is compared across species (the region both species share); all
        regions are pooled when a species has no unit there.
    human_group, monkey_group : pandas.DataFrame, optional
        Group statistics across each species' sessions
        (:func:`panneuro.decoding.group.group_decoding`), overlaid per region where it has two
        or more sessions.

    Returns
    -------
    matplotlib.figure.Figure
        Rows = species, columns = variables (+ CCGP).
    """
    species = {
        "human (microwire)": (human_table, human_ccgp),
        "macaque (arrays)": (monkey_table, monkey_ccgp),
    }
    groups = {"human (microwire)": human_group, "macaque (arrays)": monkey_group}
    with_ccgp = human_ccgp is not None and monkey_ccgp is not None
    n_cols = len(variables) + with_ccgp
    fig, axes = plt.subplots(2, n_cols, figsize=(3.0 * n_cols, 5.4), squeeze=False, sharey=True)
    for r, (name, (table, ccgp)) in enumerate(species.items()):
        table = _labelled(table[table["analysis"] == "time_resolved"])
        colors = label_colors(table["label"])
        for c, variable in enumerate(variables):
            ax = axes[r, c]
            timecourse_panel(ax, table[table["variable"] == variable], colors=colors)
            group = groups[name]
            if group is not None:
                for region in pd.unique(group["region"]):
                    group_panel(
                        ax, group[(group["region"] == region) & (group["variable"] == variable)]
                    )
            ax.set_title(f"{name}: {variable}", fontsize=9)
        if with_ccgp:
            ax = axes[r, -1]
            rows = _labelled(ccgp)
            shown = "all regions"
            if (rows["region"] == ccgp_region).any():
                rows, shown = rows[rows["region"] == ccgp_region], ccgp_region
            if len(rows):
                ccgp_panel(ax, rows, alpha=alpha)
            ax.set_title(f"{name}:\nabstraction ({shown})", fontsize=9)
    fig.suptitle("Single units across species", fontsize=11)
    fig.tight_layout()
    return fig
