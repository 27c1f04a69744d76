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
# # A tour of the pipeline
#
# This compendium regenerates every figure of the paper from the raw data with one
# [Snakemake](https://snakemake.readthedocs.io) workflow:
#
# raw BIDS dataset (DataLad) → preprocessing → spike sorting → curation → NWB → decoding →
# statistics → figures and an HTML report.
#
# Three places hold everything:
#
# * `Snakefile` and `workflow/rules/*.smk`: the **rules**, one file per stage; a rule names
#   its input and output files, and snakemake chains rules by matching file names;
# * `workflow/scripts/*.py`: one **script** per rule, which only reads the inputs, calls the
#   package and writes the outputs;
# * `src/panneuro/`: the **package**, where the science is (functions taking arrays and tables).
#
# What runs is decided by `config/config.yaml` and the **sample sheet** `config/samples.tsv`
# (one row per raw file). This notebook draws the workflow's graph, traces each figure back to
# its code, and shows what adding a session does. It only asks snakemake to *plan* (in a
# scratch folder): nothing here runs the pipeline or writes into the compendium.

# %%
import pandas as pd

from panneuro.figures.rulegraph import parse_dot, plot_rulegraph, upstream
from panneuro.results import figure_sources, figures_dir, open_run, plan_workflow, show

run = open_run()
out = figures_dir(run)
print(f"compendium: {run.root}\nfigures saved to: {out}")

# %% [markdown]
# ## The sample sheet
#
# Every row is one raw file: behaviour (`beh`, the trial table of a session), a microelectrode
# probe (`array` in macaques, `microwire` in humans, with its brain `region`) or an `ecog` grid.
# Every session has a `beh` row.

# %%
run.samples

# %% [markdown]
# ## The rule graph
#
# `snakemake --rulegraph` prints the dependencies between rules in the dot language. There is
# no graphviz here, so `panneuro.figures.rulegraph` parses the text and draws it in layers:
# each arrow goes from a rule to a rule that reads its output. The rules that draw the paper's
# figures have thick frames.

# %%
rulegraph_text = plan_workflow(run, "--rulegraph")
print(rulegraph_text[:400], "...")

# %%
graph = parse_dot(rulegraph_text)
# the figures this run's sheet makes (a study design adds figures 7-10, sleep runs figure 9)
sources = figure_sources(run)
sources = sources[sources["rule"].isin(graph.rules)].reset_index(drop=True)
show(plot_rulegraph(graph, title="panneuro: rules (snakemake --rulegraph)",
                    highlight=list(sources["rule"])), "pipeline_rulegraph", folder=out)

# %% [markdown]
# ## Where each figure comes from
#
# A figure traces back to the raw files in three hops: its **rule** (named after the figure)
# → the rule's **script** → the **package function** that draws it. The notebooks of this
# folder call the same functions on the run's results.

# %%
sources

# %% [markdown]
# Everything a figure depends on, upstream of its rule:

# %%
pd.DataFrame({"figure": sources["figure"],
              "upstream rules (sources first)": [", ".join(upstream(graph, r))
                                                 for r in sources["rule"]]})

# %% [markdown]
# ## The jobs
#
# A rule runs once per file it makes: per session, per probe, or once for everything.
# `snakemake --dag` lists the jobs of a run from scratch (here with the run's own config):

# %%
jobs = parse_dot(plan_workflow(run, "--dag"))
per_rule = pd.Series(jobs.rules).value_counts().rename("jobs")
print(f"{len(jobs.labels)} jobs, {len(jobs.edges)} dependencies")
per_rule.to_frame()

# %%
show(plot_rulegraph(jobs, title="panneuro: jobs (snakemake --dag)", fontsize=5))

# %% [markdown]
# ## Adding a session
#
# A session is rows of the sample sheet: its behaviour (`beh`) and each recording. Add them to
# `config/samples.tsv` (or a sheet of your own, named by `samples:` in `config/config.yaml`),
# with the raw files at `path` under `raw_dir` (on simulated data the simulation makes them),
# and run `snakemake --cores all`: only the jobs whose inputs changed run. (With
# `simulate: true` the sheet is the simulation's input: a new row remakes the simulated study,
# hence every job.)
#
# Here a new macaque session with a prefrontal array is added to a copy of the sheet, and
# snakemake is asked which jobs the new rows add:

# %%
subject = run.samples.loc[run.samples["species"] == "macaque", "subject"].iloc[0]
taken = run.samples.loc[run.samples["subject"] == subject, "session"]
new_session = f"{max(int(s) for s in taken) + 1:02d}"
stem = f"sub-{subject}/ses-{new_session}"
new_rows = pd.DataFrame([
    {"subject": subject, "session": new_session, "species": "macaque", "datatype": "beh",
     "probe": "n/a", "region": "n/a", "format": "tsv",
     "path": f"{stem}/beh/sub-{subject}_ses-{new_session}_task-harlow_events.tsv"},
    {"subject": subject, "session": new_session, "species": "macaque", "datatype": "array",
     "probe": "PFC", "region": "prefrontal", "format": "nwb",
     "path": f"{stem}/ieeg/sub-{subject}_ses-{new_session}_task-harlow_acq-PFC_ieeg.nwb"},
])[run.samples.columns]
new_rows

# %%
bigger = parse_dot(plan_workflow(run, "--dag",
                                 samples=pd.concat([run.samples, new_rows], ignore_index=True)))
before = pd.Series(jobs.rules).value_counts()
after = pd.Series(bigger.rules).value_counts()
change = after.sub(before, fill_value=0).astype(int)
added = change[change > 0].rename("new jobs")
print(f"{len(bigger.labels)} jobs instead of {len(jobs.labels)}; the new session adds:")
added.to_frame()

# %% [markdown]
# Rules that run once for the whole study (figures, statistics over sessions) get no new job:
# their one job reads the new session's outputs too (it gains inputs), so it reruns. Those
# whose job gains an input job here:


# %%
def inputs_of_single_job(dag, rule: str) -> int:
    """Number of jobs feeding the one job of ``rule`` in a job graph."""
    (node,) = [n for n, label in dag.labels.items() if label.split("\n")[0] == rule]
    return sum(target == node for _, target in dag.edges)


sorted(rule for rule, n in after.items() if n == 1 and before.get(rule) == 1
       and inputs_of_single_job(bigger, rule) > inputs_of_single_job(jobs, rule))
