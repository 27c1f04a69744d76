"""Band-pass, bad-channel removal and common reference of one probe, saved as a binary folder.

High-density probes are also motion-corrected; the estimated motion is written beside the
folder (``motion.tsv``, no rows when the recording was not corrected).
"""

import logging
import sys

from panneuro.compendium.datalad_io import fetch_raw_inputs
from panneuro.compendium.provenance import write_provenance
from panneuro.ephys.motion import write_motion
from panneuro.ephys.preprocessing import (
    preprocess,
    preprocess_kwargs,
    read_recording,
    save_recording,
)
from panneuro.seeding import derived_seed

smk = snakemake  # noqa: F821
fetch_raw_inputs(smk)  # get the raw content this job reads (DataLad)
sys.stderr = open(smk.log[0], "w")  # noqa: SIM115  (SpikeInterface warnings go to the log)
logging.basicConfig(stream=sys.stderr, level=logging.INFO)
wc = smk.wildcards
settings = smk.params.preprocessing
# read_recording reads the reader sidecar <file>.json (dtype, channels, rate, gain, geometry);
# fetch_raw_inputs got it with the raw file (panneuro.compendium.datalad_io.companions).
recording = read_recording(smk.input.recording, smk.params.format)
logging.info("read %s: %s", smk.input.recording, recording)
preprocessed, bad_channels = preprocess(
    recording,
    **preprocess_kwargs(settings),
    n_jobs=smk.threads,
    seed=derived_seed(smk.config["seed"], "bad_channels", wc.subject, wc.session, wc.probe),
)
logging.info("bad channels:\n%s", bad_channels[bad_channels["bad"]].to_string())
save_recording(
    preprocessed,
    smk.output.folder,
    n_jobs=smk.threads,
    chunk_duration=smk.params.chunk_duration,
    bad_channels=bad_channels,
)
logging.info("saved %s", smk.output.folder)
write_motion(bad_channels.attrs.get("motion"), smk.output.motion)  # no rows: not corrected
write_provenance(smk)  # results/…/<output>.prov.json
