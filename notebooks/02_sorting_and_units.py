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
# # Spike sorting, curation and the units (figure 2)
#
# Opens a run (`$PANNEURO_ROOT`, else this repository), redraws figure 2 with the workflow's
# plotting function, then browses the curated units of a session from its NWB file
# (`results/nwb/sub-X_ses-Y_units.nwb`): one call of `show_unit` per unit.

# %%
from panneuro.figures.fig2_sorting import plot_sorting_figure, yield_table
from panneuro.results import (
    figures_dir,
    open_run,
    plot_session_unit,
    read_session_trials,
    read_session_units,
    read_sorting_summaries,
    show,
    sorting_figure_options,
)

run = open_run()
out = figures_dir(run)
print(f"run: {run.root}\nfigures saved to: {out}")

# %% [markdown]
# ## Figure 2
#
# One summary per probe of the sample sheet: its quality metrics (`metrics.tsv`, with the
# curation decision `keep`), mean waveforms and, on simulated data, the accuracy of each
# planted unit against the ground truth.

# %%
summaries = read_sorting_summaries(run)
show(plot_sorting_figure(summaries, **sorting_figure_options(run)), "fig2_sorting", folder=out)

# %%
yield_table(summaries)

# %% [markdown]
# Why units were rejected, per probe:

# %%
for s in summaries:
    reasons = s.metrics.loc[~s.metrics["keep"].astype(bool), "reject_reason"]
    print(f"{s.label} ({s.region}): {len(s.metrics)} sorted, {int(s.metrics['keep'].sum())} "
          f"kept; rejected for: {dict(reasons.value_counts()) or 'none'}")

# %% [markdown]
# ## Browse the units of a session
#
# The session NWB holds the curated units of all its probes with their metrics, and the
# trials. Pick a session, list its units, then call `show_unit(unit_id)` for any of them:
# mean waveform, raster and firing rate around feedback, rewarded vs unrewarded trials
# (`align="response"` or `"onset"` for other events).

# %%
sessions = run.probe_sessions()
subject, session = (run.probe_sessions(species="macaque") or sessions)[0]
units, spike_times = read_session_units(run, subject, session)
trials = read_session_trials(run.units_nwb(subject, session))
print(f"sub-{subject} ses-{session}: {len(units)} units, {len(trials)} trials; "
      f"sessions with units: {sessions}")
units[["probe", "region", "probe_unit_id"]
      + [c for c in ("snr", "firing_rate", "isi_violations_ratio") if c in units]].round(2)


# %%
def show_unit(unit_id: int, align: str = "feedback"):
    """Draw one unit of the session: waveform, raster and rate by outcome."""
    return show(plot_session_unit(run, subject, session, unit_id, align=align))


show_unit(units.index[0])

# %% [markdown]
# The unit with the most spikes, aligned to the choice instead:

# %%
busiest = units.index[max(range(len(units)), key=lambda k: len(spike_times[k]))]
show_unit(busiest, align="response")

# %% [markdown]
# ## The same unit, read in place from a bucket
#
# A run made on S3 storage (`snakemake --default-storage-provider s3 --default-storage-prefix
# s3://BUCKET/PREFIX`) can be browsed where it lies: `open_run("s3://BUCKET/PREFIX")` reads its
# tables whole and its NWB files by byte range, so one unit's spikes cost a small part of the
# session file. Set `PANNEURO_S3_RUN=s3://BUCKET/PREFIX` (and `AWS_ENDPOINT_URL` for an S3
# service other than AWS; credentials as boto3 finds them) to run this cell.

# %%
import os

from panneuro.results import read_unit_spike_times

bucket_run = os.environ.get("PANNEURO_S3_RUN")
if bucket_run:
    remote = open_run(bucket_run)
    nwb = remote.units_nwb(subject, session)
    size = remote.result_size(nwb)
    before = remote.store.counter.n_bytes
    spikes = read_unit_spike_times(remote, subject, session, int(busiest))
    received = remote.store.counter.n_bytes - before
    print(f"{bucket_run}: unit {busiest} of sub-{subject} ses-{session}, {spikes.size} spikes: "
          f"{received} of the file's {size} bytes received ({received / size:.1%})")
    display(show(plot_session_unit(remote, subject, session, int(busiest), align="response")))
else:
    print("PANNEURO_S3_RUN is not set: nothing read from a bucket.")
