# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python (panneuro)
#     language: python
#     name: panneuro
# ---

# %% [markdown]
# # Macaque population decoding (figure 3)
#
# Opens a run (`$PANNEURO_ROOT`, else this repository), redraws figure 3 with the workflow's
# plotting function, then opens the cross-temporal generalisation matrix of a region and a
# task variable of your choice.

# %%
from panneuro.figures.browse import plot_cross_temporal
from panneuro.figures.fig3_monkey_decoding import plot_monkey_decoding
from panneuro.results import decoding_figure_options, figures_dir, open_run, read_decoding, show

run = open_run()
out = figures_dir(run)
print(f"run: {run.root}\nfigures saved to: {out}")

# %% [markdown]
# ## Figure 3
#
# `read_decoding` stacks the per-session decoding and cross-condition tables of the macaque
# sessions (`results/decoding/sub-X_ses-Y_{decoding,ccgp}.tsv`) as the rule does.

# %%
decoding, ccgp = read_decoding(run, "macaque")
options = decoding_figure_options(run)
show(plot_monkey_decoding(decoding, ccgp, **options), "fig3_monkey_decoding", folder=out)

# %% [markdown]
# Peak time-resolved accuracy of each region and variable, with the earliest significant bin:

# %%
resolved = decoding[decoding["analysis"] == "time_resolved"]
summary = resolved.groupby(["subject", "session", "region", "variable"]).agg(
    n_units=("n_units", "first"), peak=("score", "max"),
    first_significant=("time", lambda t: t[resolved.loc[t.index, "significant"] > 0].min()))
summary.round(3)

# %% [markdown]
# ## Pick a region and a variable
#
# The decoder trained at one time bin and tested at every other one: a code that is stable in
# time fills a square, a dynamic one stays on the diagonal. Significant cells (cluster test)
# are outlined.

# %%
matrix = decoding[decoding["analysis"] == "cross_temporal"]


def cross_temporal(region: str, variable: str, subject: str | None = None,
                   session: str | None = None):
    """Cross-temporal matrix of one region and variable (first session by default)."""
    rows = matrix[(matrix["region"] == region) & (matrix["variable"] == variable)]
    if rows.empty:
        raise ValueError(f"no decoding of {variable!r} in {region!r}; regions "
                         f"{sorted(matrix['region'].unique())}, variables "
                         f"{sorted(matrix['variable'].unique())}")
    subject = subject or rows["subject"].iloc[0]
    session = session or rows["session"].iloc[0]
    rows = rows[(rows["subject"] == subject) & (rows["session"] == session)]
    title = f"{variable} in {region}, sub-{subject} ses-{session}"
    return show(plot_cross_temporal(rows, title=title))


regions = sorted(matrix["region"].unique())
print("regions:", regions, "variables:", options["variables"])
cross_temporal(regions[0], options["variables"][0])

# %%
cross_temporal(regions[-1], options["variables"][-1])

# %% [markdown]
# Cross-condition generalisation of `stay` (the abstract, problem-independent code), early vs
# late problems:

# %%
ccgp.pivot_table(index=["region", "condition", "analysis"], columns="epoch",
                 values="score").round(3)
