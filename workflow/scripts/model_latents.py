"""Per-trial latent variables of the fitted agent for one session."""

import logging

from panneuro.behaviour.model import params_from_row, session_latents
from panneuro.compendium.provenance import write_provenance
from panneuro.io.tables import read_events, read_tsv, write_tsv

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO, force=True)  # noqa: F821
smk = snakemake  # noqa: F821

parameters = read_tsv(smk.input.parameters)
parameters["subject"] = parameters["subject"].astype(str)
row = parameters[parameters["subject"] == str(smk.wildcards.subject)]
if len(row) != 1:
    raise ValueError(
        f"{smk.input.parameters}: expected one row for subject "
        f"{smk.wildcards.subject}, found {len(row)}; rerun the fit_model rule."
    )
events = read_events(smk.input.events)
write_tsv(session_latents(params_from_row(row.iloc[0]), events), smk.output.latents)
write_provenance(smk)  # results/…/<output>.prov.json
