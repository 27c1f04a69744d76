"""Stay code (CCGP and CV accuracy) of one ECoG session's high gamma."""

import logging
import time

from panneuro.compendium.datalad_io import fetch_raw_inputs
from panneuro.compendium.provenance import write_provenance
from panneuro.ecog.chunked_envelope import envelope_settings, high_gamma_in_chunks
from panneuro.ecog.high_gamma import read_ecog
from panneuro.ecog.stay_code import stay_code_table
from panneuro.io.tables import read_events, write_tsv

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO)  # noqa: F821
smk = snakemake  # noqa: F821
fetch_raw_inputs(smk)  # get the raw content this job reads (DataLad)
start = time.perf_counter()
events = read_events(smk.input.events)  # a bad trial table fails before the heavy part
envelope, _ = high_gamma_in_chunks(
    read_ecog(smk.input.ecog, preload=False), **envelope_settings(dict(smk.params.items()))
)
table = stay_code_table(
    envelope,
    events,
    smk.params.settings,
    region=smk.params.region,
    seed=int(smk.params.seed),
    keys=(smk.wildcards.subject, smk.wildcards.session),
)
write_tsv(table, smk.output[0])
logging.info("stay code in %.1f s\n%s", time.perf_counter() - start, table.to_string())
write_provenance(smk)  # results/…/<output>.prov.json
