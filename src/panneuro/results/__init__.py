"""Open a run of the compendium: its config, sample sheet and result files, as figures need them.

The workflow's rules list their inputs from the sample sheet (:class:`panneuro.study.Study`);
:class:`Run` derives the same lists (probes, sessions, labels) so that notebooks and the
figure scripts read a run through one set of functions. Paths follow ``docs/architecture.md``.

A run can also be read in place from an S3 prefix (``open_run("s3://bucket/prefix")``, the
layout ``snakemake --default-storage-prefix`` leaves there): tables and other small results are
read whole (:meth:`Run.result` returns a local copy), NWB files are never downloaded but read by
HTTP byte range (remfile + h5py), so a unit's spikes cost a small part of its session file
(:func:`read_unit_spike_times`; :attr:`S3Prefix.counter` counts the bytes received).

The modules, by concern (their public names are all importable from here):

- :mod:`panneuro.results.run`: :func:`open_run`, :class:`Run` (a folder or a bucket);
- :mod:`panneuro.results.bucket`: :class:`S3Prefix`, reading objects whole or by byte range;
- :mod:`panneuro.results.readers`: one reader per result table, the figures' options;
- :mod:`panneuro.results.design_readers`: the study design's group effects, their session
  scores and the sleep tables (empty when the run plans none);
- :mod:`panneuro.results.display`: :func:`show` (the workflow's bytes), one unit's plot;
- :mod:`panneuro.results.planning`: each figure's rule and script, planning the workflow.

Examples
--------
>>> from panneuro.figures.fig2_sorting import plot_sorting_figure
>>> run = open_run()                       # $PANNEURO_ROOT, else this repository
>>> fig = plot_sorting_figure(read_sorting_summaries(run), **sorting_figure_options(run))
>>> show(fig, "fig2_sorting", folder=figures_dir(run))  # the workflow's bytes
"""

from panneuro.results.bucket import ByteCount, S3Prefix
from panneuro.results.design_readers import (
    read_group_effects,
    read_inactivation_scores,
    read_reactivation,
    read_ripple_scores,
    read_stage_scores,
)
from panneuro.results.display import FIGURES_ENV, PngFigure, figures_dir, plot_session_unit, show
from panneuro.results.planning import figure_sources, plan_workflow
from panneuro.results.readers import (
    decoding_figure_options,
    model_figure_options,
    read_behaviour,
    read_decoding,
    read_ecog_session,
    read_ecog_sessions,
    read_json,
    read_latent_regressions,
    read_latents,
    read_probe_sorting,
    read_session_trials,
    read_session_units,
    read_sorting_summaries,
    read_unit_spike_times,
    sorting_figure_options,
)
from panneuro.results.run import PROBE_DATATYPES, ROOT_ENV, Run, compendium_root, open_run

__all__ = [
    "FIGURES_ENV",
    "PROBE_DATATYPES",
    "ROOT_ENV",
    "ByteCount",
    "PngFigure",
    "Run",
    "S3Prefix",
    "compendium_root",
    "decoding_figure_options",
    "figure_sources",
    "figures_dir",
    "model_figure_options",
    "open_run",
    "plan_workflow",
    "plot_session_unit",
    "read_behaviour",
    "read_decoding",
    "read_ecog_session",
    "read_ecog_sessions",
    "read_group_effects",
    "read_inactivation_scores",
    "read_json",
    "read_latent_regressions",
    "read_latents",
    "read_probe_sorting",
    "read_reactivation",
    "read_ripple_scores",
    "read_session_trials",
    "read_session_units",
    "read_sorting_summaries",
    "read_stage_scores",
    "read_unit_spike_times",
    "show",
    "sorting_figure_options",
]
