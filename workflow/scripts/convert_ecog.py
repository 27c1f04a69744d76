"""A session's ECoG recording in a format BIDS iEEG does not accept (FIF), as BrainVision."""

import logging
import sys

from panneuro.compendium.datalad_io import fetch_raw_inputs
from panneuro.compendium.provenance import write_provenance
from panneuro.ingest.ecog_conversion import convert_ecog_to_brainvision

smk = snakemake  # noqa: F821
fetch_raw_inputs(smk)  # get the raw content this job reads (DataLad)
sys.stderr = open(smk.log[0], "w")  # noqa: SIM115  (MNE/mne-bids warnings go to the log)
logging.basicConfig(stream=sys.stderr, level=logging.INFO)
files = convert_ecog_to_brainvision(
    smk.input.recording, smk.output[0], line_frequency=float(smk.params.line_frequency)
)
logging.info("converted %s to %s", smk.input.recording, [str(f) for f in files])
write_provenance(smk)  # a sidecar beside each output (panneuro.compendium.provenance)
