"""Quality metrics, threshold curation and mean waveforms of one probe's sorted units."""

import logging
import sys

from panneuro.compendium.provenance import write_provenance
from panneuro.ephys.curation import compute_unit_metrics, curate, write_waveforms
from panneuro.ephys.preprocessing import load_preprocessed
from panneuro.ephys.sorting import load_sorting
from panneuro.io.tables import write_tsv
from panneuro.seeding import derived_seed

smk = snakemake  # noqa: F821
sys.stderr = open(smk.log[0], "w")  # noqa: SIM115
logging.basicConfig(stream=sys.stderr, level=logging.INFO)
wc = smk.wildcards
metrics, waveforms = compute_unit_metrics(
    load_preprocessed(smk.input.recording),
    load_sorting(smk.input.sorting),
    n_jobs=smk.threads,
    chunk_duration=smk.params.chunk_duration,
    seed=derived_seed(smk.config["seed"], "curation", wc.subject, wc.session, wc.probe) % 2**31,
)
table = curate(metrics, smk.params.thresholds)
write_tsv(table, smk.output.metrics)
write_waveforms(waveforms, smk.output.waveforms)
logging.info("%d of %d units kept", int(table["keep"].sum()), len(table))
write_provenance(smk)  # results/…/<output>.prov.json
