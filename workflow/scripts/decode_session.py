"""Decode task variables from a session's units: time-resolved decoding and CCGP tables."""

import logging
import time

from panneuro.compendium.provenance import write_provenance
from panneuro.decoding.cross_condition import session_cross_condition
from panneuro.decoding.time_resolved import decode_session
from panneuro.ephys.nwb_units import read_units
from panneuro.io.tables import read_events, write_tsv

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO)  # noqa: F821
smk = snakemake  # noqa: F821
start = time.perf_counter()
units, spike_times = read_units(smk.input.units)
events = read_events(smk.input.events)
keys = (smk.wildcards.subject, smk.wildcards.session)
logging.info(
    "%s: %d units in regions %s; %d trials",
    smk.input.units,
    len(units),
    sorted(set(units["region"])),
    len(events),
)
decoding = decode_session(
    units,
    spike_times,
    events,
    smk.params.settings,
    seed=smk.params.seed,
    keys=keys,
    n_jobs=smk.threads,
)
logging.info("decoding done in %.1f s", time.perf_counter() - start)
ccgp = session_cross_condition(
    units, spike_times, events, smk.params.settings, seed=smk.params.seed, keys=keys
)
logging.info("cross-condition done in %.1f s", time.perf_counter() - start)
write_tsv(decoding, smk.output.decoding)
write_tsv(ccgp, smk.output.ccgp)
write_provenance(smk)  # results/…/<output>.prov.json
