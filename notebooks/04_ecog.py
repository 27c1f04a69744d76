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
# # Human ECoG: high gamma after feedback (figure 4)
#
# Opens a run (`$PANNEURO_ROOT`, else this repository), redraws figure 4 with the workflow's
# plotting function, then picks single electrodes: `show_electrode("G03")` draws one.

# %%
import pandas as pd

from panneuro.figures.browse import plot_electrode
from panneuro.figures.fig4_ecog import plot_ecog_figure, truth_table
from panneuro.results import figures_dir, open_run, read_ecog_sessions, show

run = open_run()
out = figures_dir(run)
print(f"run: {run.root}\nfigures saved to: {out}")

# %% [markdown]
# ## Figure 4
#
# `read_ecog_sessions` reads each ECoG session's high-gamma epochs
# (`results/ecog/sub-X_ses-Y_high_gamma.npz`), its statistics (`..._ecog_stats.json`) and, on
# simulated data, the planted electrodes.

# %%
sessions = read_ecog_sessions(run)
show(plot_ecog_figure(sessions), "fig4_ecog", folder=out)

# %% [markdown]
# Planted electrodes recovered (simulated data; the workflow writes the same table to
# `results/ecog/ecog_groundtruth.tsv`):

# %%
truth_table(sessions) if run.simulated else "recorded data: no ground truth"

# %% [markdown]
# ## Pick an electrode
#
# Every electrode's statistics, most significant first:

# %%
session = sessions[0]
electrodes = pd.DataFrame(session.stats["electrodes"])
electrodes.sort_values("p_value").head(10).round(3)


# %%
def show_electrode(channel: str, session_index: int = 0):
    """High gamma per trial, mean by outcome and place on the grid of one electrode."""
    s = sessions[session_index]
    return show(plot_electrode(s.epochs, channel, responsive=s.stats["responsive_electrodes"],
                               title=f"{s.label}: electrode {channel}"))


best = electrodes.sort_values("p_value")["channel"].iloc[0]
print("responsive electrodes:", session.stats["responsive_electrodes"])
show_electrode(best)

# %% [markdown]
# And the least responsive one, for contrast:

# %%
show_electrode(electrodes.sort_values("p_value")["channel"].iloc[-1])
