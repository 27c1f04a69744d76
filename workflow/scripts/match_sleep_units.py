"""The task session's curated units found in one preprocessed sleep run (template matching)."""

import logging
import sys

from panneuro.compendium.provenance import write_provenance
from panneuro.ephys.preprocessing import load_preprocessed
from panneuro.ephys.sorting import load_sorting
from panneuro.io.tables import read_tsv
from panneuro.seeding import derived_seed
from panneuro.simulate.ephys import write_spike_trains
from panneuro.sleep.matching import match_units, task_templates

smk = snakemake  # noqa: F821
sys.stderr = open(smk.log[0], "w")  # noqa: SIM115  (SpikeInterface warnings go to the log)
logging.basicConfig(stream=sys.stderr, level=logging.INFO)
wc = smk.wildcards
metrics = read_tsv(smk.input.task_metrics)
kept = set(metrics.loc[metrics["keep"].astype(bool), "unit_id"].astype(str))
sorting = load_sorting(smk.input.task_sorting)
templates = task_templates(
    load_preprocessed(smk.input.task_recording),
    sorting,
    [u for u in sorting.unit_ids if str(u) in kept],
    seed=derived_seed(smk.config["seed"], "sleep_templates", wc.subject, wc.session, wc.probe)
    % 2**31,
    n_jobs=smk.threads,
)
matched = match_units(
    load_preprocessed(smk.input.recording), templates, method=smk.params.method, n_jobs=smk.threads
)
write_spike_trains(matched, smk.output.units)
logging.info(
    "%d task units matched: %s spikes", len(matched.unit_ids), matched.count_num_spikes_per_unit()
)
write_provenance(smk)  # results/…/<output>.prov.json
