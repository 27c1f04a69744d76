"""Spike-sort one probe's preprocessed recording; save the sorting as a NumpyFolder."""

import logging
import sys

from panneuro.compendium.provenance import write_provenance
from panneuro.ephys.preprocessing import load_preprocessed
from panneuro.ephys.sorting import run_sorter_for_probe
from panneuro.seeding import derived_seed

smk = snakemake  # noqa: F821
sys.stderr = open(smk.log[0], "w")  # noqa: SIM115  (sorter output goes to the log)
sys.stdout = sys.stderr
logging.basicConfig(stream=sys.stderr, level=logging.INFO)
wc = smk.wildcards
recording = load_preprocessed(smk.input.recording)
sorting = run_sorter_for_probe(
    recording,
    smk.params.sorting["sorter"],
    smk.params.sorting.get("params") or {},
    smk.output.folder,
    n_jobs=smk.threads,
    label=f"sub-{wc.subject} ses-{wc.session} acq-{wc.probe}",
    seed=derived_seed(smk.config["seed"], "sorting", wc.subject, wc.session, wc.probe) % 2**31,
)
logging.info("%s: %d units", smk.output.folder, len(sorting.unit_ids))
write_provenance(smk)  # results/…/<output>.prov.json
