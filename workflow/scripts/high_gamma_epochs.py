"""High-gamma epochs around feedback of one ECoG session (read, preprocess, envelope, epoch)."""

import logging
import time

from panneuro.ecog.high_gamma import (
    epoch_high_gamma,
    high_gamma_envelope,
    preprocess_ecog,
    read_ecog,
    write_high_gamma,
)
from panneuro.io.tables import read_events

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO)  # noqa: F821
smk = snakemake  # noqa: F821
start = time.perf_counter()
raw = read_ecog(smk.input.ecog)
events = read_events(smk.input.events)
clean, bad_channels = preprocess_ecog(
    raw,
    line_frequency=float(smk.params.line_frequency),
    reference=smk.params.reference,
    detect_bads=bool(smk.params.bad_channel_detection),
)
for row in bad_channels[bad_channels["bad"]].itertuples():
    logging.info("bad channel %s: %s", row.channel, row.reason)
envelope = high_gamma_envelope(
    clean,
    tuple(smk.params.band),
    int(smk.params.n_subbands),
    sfreq_out=float(smk.params.envelope_sfreq),
)
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
