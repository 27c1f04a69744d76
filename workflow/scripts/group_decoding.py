"""Group-level decoding across the sessions of one species (the table figures 3 and 5 draw)."""

import logging

from panneuro.compendium.provenance import write_provenance
from panneuro.decoding.group import group_decoding
from panneuro.decoding.time_resolved import DECODING_COLUMNS, read_session_tables
from panneuro.io.tables import write_tsv
from panneuro.seeding import rng_for

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO)  # noqa: F821
smk = snakemake  # noqa: F821
species = smk.wildcards.species
table = read_session_tables(list(smk.input), smk.params.sessions, columns=DECODING_COLUMNS)
group = group_decoding(
    table, rng_for(smk.params.seed, "group_decoding", species), alpha=smk.params.alpha
)
logging.info(
    "%s group decoding across %d sessions:\n%s",
    species,
    len(smk.params.sessions),
    group.to_string(),
)
write_tsv(group, smk.output[0])
write_provenance(smk)  # results/…/<output>.prov.json
