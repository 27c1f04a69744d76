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
# # Behaviour and the learning-to-learn model (figures 1 and 6)
#
# Opens a run of the compendium (the folder in `$PANNEURO_ROOT`, else this repository),
# redraws figures 1 and 6 with the workflow's own plotting functions, then looks at one subject
# and one session more closely.
#
# Figure 1 comes from the rule `figure_behaviour` (`workflow/rules/behaviour.smk`), figure 6
# from `figure_model` (`workflow/rules/decoding.smk`); see `00_pipeline_tour.py`.

# %%
import matplotlib.pyplot as plt

from panneuro.figures.fig1_behaviour import plot_behaviour
from panneuro.figures.fig6_model import plot_model_neural
from panneuro.results import (
    figures_dir,
    model_figure_options,
    open_run,
    read_behaviour,
    read_latent_regressions,
    read_latents,
    show,
)

run = open_run()
out = figures_dir(run)
print(f"run: {run.root}\nfigures saved to: {out}")

# %% [markdown]
# ## Figure 1: learning-set curves, the agent, Harlow (1949)
#
# `read_behaviour` reads the same files as the rule (curves, regression, fitted parameters,
# the Harlow fit, the published reference curves) and the config's `figure_blocks`.

# %%
behaviour = read_behaviour(run)
show(plot_behaviour(**behaviour), "fig1_behaviour", folder=out)

# %% [markdown]
# The fitted agent parameters beside the true ones (the simulation planted them):

# %%
parameters = behaviour["parameters"]
fitted = [c.removesuffix("_ci_low") for c in parameters.columns if c.endswith("_ci_low")]
true = [c for c in parameters.columns if c.startswith("true_")]
parameters[["subject", "species", "n_problems", *fitted, *true]].round(3)

# %% [markdown]
# ## One subject's learning set
#
# Each block of problems gives a curve over the six trials of a problem; the curves of one
# subject show the learning set forming (trial 2 rising from chance). Change `subject` to any
# of the sample sheet's subjects.

# %%
curves = behaviour["curves"]


def subject_curves(subject: str):
    """Percent correct per trial of a problem, one line per block of problems."""
    rows = curves[curves["subject"] == subject]
    if rows.empty:
        raise ValueError(f"no subject {subject!r}; pick one of {sorted(curves['subject'])}")
    fig, ax = plt.subplots(figsize=(5, 3.4), layout="constrained")
    colours = plt.get_cmap("viridis")
    blocks = sorted(rows["block"].unique())
    for k, block in enumerate(blocks):
        b = rows[rows["block"] == block].sort_values("trial")
        label = f"problems {b['problem_first'].iloc[0]}–{b['problem_last'].iloc[0]}"
        ax.plot(b["trial"], b["percent_correct"], "o-", ms=3,
                color=colours(k / max(1, len(blocks) - 1)), label=label)
    ax.axhline(50, color="0.6", ls="--", lw=0.8)
    ax.set(xlabel="trial of problem", ylabel="correct (%)", ylim=(0, 102),
           title=f"{subject} ({rows['species'].iloc[0]})")
    ax.legend(fontsize=6, frameon=False)
    return show(fig)


subject_curves(sorted(curves["subject"].unique())[0])

# %% [markdown]
# ## The agent's latents, trial by trial
#
# For every recorded session the fitted agent gives, per trial, its belief in the chosen
# object, the prediction error and the learning rate (`results/model/sub-X_ses-Y_latents.tsv`).
# These are the variables figure 6 reads out of the population.

# %%
recorded = run.probe_sessions()
print("recorded sessions:", recorded)


def session_latents(subject: str, session: str):
    """Belief in the chosen object and prediction error over the session's trials."""
    latents = read_latents(run, subject, session)
    fig, axes = plt.subplots(2, 1, figsize=(9, 4), sharex=True, layout="constrained")
    x = range(len(latents))
    axes[0].scatter(x, latents["belief_chosen"], c=latents["trial"], cmap="viridis", s=8)
    axes[0].set_ylabel("belief (chosen)")
    axes[1].bar(x, latents["prediction_error"],
                color=["#1b7837" if c else "#762a83" for c in latents["correct"]])
    axes[1].set(ylabel="prediction error", xlabel="trial of the session")
    axes[0].set_title(f"sub-{subject} ses-{session}: colour = trial of problem (top), "
                      "rewarded/unrewarded (bottom)", fontsize=9)
    return show(fig)


session_latents(*recorded[0])

# %% [markdown]
# ## Figure 6: the latents read out of population activity

# %%
regressions = read_latent_regressions(run)
show(plot_model_neural(regressions, **model_figure_options(run)), "fig6_model", folder=out)

# %% [markdown]
# The best cross-validated R² of each latent per region and session (and whether a
# significant cluster exists):

# %%
(regressions.groupby(["species", "subject", "session", "region", "latent"])
 .agg(best_r2=("score", "max"), significant=("significant", "max")).round(3))
