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
# # Human single units beside the macaque result (figure 5)
#
# Opens a run (`$PANNEURO_ROOT`, else this repository), redraws figure 5 with the workflow's
# plotting function, then browses the human microwire units one call at a time.

# %%
import pandas as pd

from panneuro.figures.fig5_human_units import plot_human_units
from panneuro.results import (
    decoding_figure_options,
    figures_dir,
    open_run,
    plot_session_unit,
    read_decoding,
    read_session_trials,
    read_session_units,
    show,
)

run = open_run()
out = figures_dir(run)
print(f"run: {run.root}\nfigures saved to: {out}")

# %% [markdown]
# ## Figure 5
#
# The human sessions are those with microwire rows in the sample sheet; the macaque ones
# every session with an array or microwire row (as in `workflow/rules/decoding.smk`).

# %%
human, human_ccgp = read_decoding(run, "human", datatypes=("microwire",))
monkey, monkey_ccgp = read_decoding(run, "macaque")
show(plot_human_units(human, monkey, human_ccgp, monkey_ccgp, **decoding_figure_options(run)),
     "fig5_human_units", folder=out)

# %% [markdown]
# The same variables, peak accuracy per species and region:

# %%
both = [human.assign(species="human"), monkey.assign(species="macaque")]
resolved = pd.concat(both)
resolved = resolved[resolved["analysis"] == "time_resolved"]
(resolved.groupby(["species", "region", "variable"])
 .agg(n_units=("n_units", "first"), peak=("score", "max"), significant=("significant", "max"))
 .round(3))

# %% [markdown]
# ## Browse the human units
#
# `show_unit(unit_id)`: mean waveform, raster and firing rate around feedback, rewarded vs
# unrewarded (`align="response"` for the choice).

# %%
sessions = run.probe_sessions(("microwire",), "human")
subject, session = sessions[0]
units, spike_times = read_session_units(run, subject, session)
trials = read_session_trials(run.units_nwb(subject, session))
print(f"human sessions with units: {sessions}; sub-{subject} ses-{session}: {len(units)} "
      f"units, {len(trials)} trials")
units[["probe", "region", "probe_unit_id"]
      + [c for c in ("snr", "firing_rate", "isi_violations_ratio") if c in units]].round(2)


# %%
def show_unit(unit_id: int, align: str = "feedback"):
    """Draw one unit of the session: waveform, raster and rate by outcome."""
    return show(plot_session_unit(run, subject, session, unit_id, align=align))


for unit_id in units.index[:2]:
    display(show_unit(unit_id))  # noqa: F821 (IPython's display)
