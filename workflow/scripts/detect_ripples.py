"""Sharp-wave ripples of one sleep run: LFP from its broadband, ripple-detection's detector."""

import logging
import sys

from panneuro.compendium.datalad_io import fetch_raw_inputs
from panneuro.compendium.provenance import write_provenance
from panneuro.ephys.preprocessing import read_recording
from panneuro.io.arrays import write_npz
from panneuro.io.tables import write_tsv
from panneuro.sleep.sleep_runs import run_ripples

smk = snakemake  # noqa: F821
fetch_raw_inputs(smk)  # get the raw content this job reads (DataLad)
sys.stderr = open(smk.log[0], "w")  # noqa: SIM115  (SpikeInterface warnings go to the log)
logging.basicConfig(stream=sys.stderr, level=logging.INFO)
recording = read_recording(smk.input.recording, smk.params.format)
ripples, lfp = run_ripples(recording, smk.params.settings)
write_tsv(ripples, smk.output.ripples)
write_npz(lfp, smk.output.lfp)
logging.info(
    "%s: %d ripples on channels %s", smk.input.recording, len(ripples), list(lfp["channel_ids"])
)
write_provenance(smk)  # results/…/<output>.prov.json
