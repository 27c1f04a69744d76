"""Regress the agent's latents on a session's population activity per region and time bin."""

import logging

from panneuro.compendium.provenance import write_provenance
from panneuro.decoding.latent_regression import check_latents, regress_session
from panneuro.ephys.nwb_units import read_units
from panneuro.io.tables import read_events, read_tsv, write_tsv

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO)  # noqa: F821
smk = snakemake  # noqa: F821
settings = smk.params.settings
units, spike_times = read_units(smk.input.units)
events = read_events(smk.input.events)
latents = read_tsv(smk.input.latents)
check_latents(latents, events, settings["latents"]["variables"], source=smk.input.latents)
table = regress_session(
    units,
    spike_times,
    events,
    latents,
    settings,
    seed=smk.params.seed,
    keys=(smk.wildcards.subject, smk.wildcards.session),
)
logging.info("%d rows", len(table))
write_tsv(table, smk.output[0])
write_provenance(smk)  # results/…/<output>.prov.json
