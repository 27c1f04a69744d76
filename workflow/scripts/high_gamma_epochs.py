"""High-gamma epochs around feedback of one ECoG session (read, preprocess, envelope, epoch).

The recording is read from disk chunk by chunk (bounded memory for long sessions).
"""

import logging
import time

from panneuro.compendium.datalad_io import fetch_raw_inputs
from panneuro.compendium.provenance import write_provenance
from panneuro.ecog.chunked_envelope import envelope_settings, high_gamma_in_chunks
from panneuro.ecog.high_gamma import epoch_high_gamma, read_ecog, write_high_gamma
from panneuro.io.tables import read_events

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO)  # noqa: F821
smk = snakemake  # noqa: F821
fetch_raw_inputs(smk)  # get the raw content this job reads (DataLad)
start = time.perf_counter()
raw = read_ecog(smk.input.ecog, preload=False)
events = read_events(smk.input.events)
envelope, bad_channels = high_gamma_in_chunks(raw, **envelope_settings(dict(smk.params.items())))
for row in bad_channels[bad_channels["bad"]].itertuples():
    logging.info("bad channel %s: %s", row.channel, row.reason)
epochs = epoch_high_gamma(
    envelope,
    events,
    window=tuple(smk.params.window),
    baseline=tuple(smk.params.baseline),
    bad_channels=bad_channels,
)
write_high_gamma(epochs, smk.output[0])
logging.info(
    "%d trials x %d electrodes x %d times in %.1f s",
    *epochs.data.shape,
    time.perf_counter() - start,
)
write_provenance(smk)  # results/…/<output>.prov.json
