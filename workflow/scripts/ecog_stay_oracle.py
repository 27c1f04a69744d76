"""Truth of a simulated ECoG session's stay code (CCGP and CV accuracy): the Monte Carlo oracle."""

import json
import logging
import time

from panneuro.compendium.provenance import write_provenance
from panneuro.ecog.chunked_envelope import envelope_settings
from panneuro.ecog.stay_oracle import oracle_stay_code
from panneuro.io.tables import read_events, write_tsv

smk = snakemake  # noqa: F821
logging.basicConfig(filename=smk.log[0], level=logging.INFO)
start = time.perf_counter()
with open(smk.input.truth, encoding="utf-8") as handle:
    truth = json.load(handle)
oracle = oracle_stay_code(
    read_events(smk.input.events),
    truth,
    smk.params.settings,
    high_gamma=envelope_settings(dict(smk.params.items())),
    sfreq=float(smk.params.sfreq),
    region=smk.params.region,
    seed=int(smk.params.seed),
    keys=(smk.wildcards.subject, smk.wildcards.session),
    n_replicates=int(smk.params.n_replicates),
    n_jobs=smk.threads,
)
write_tsv(oracle, smk.output[0])
logging.info(
    "ECoG stay-code oracle: %d replicates in %.1f s\n%s",
    smk.params.n_replicates,
    time.perf_counter() - start,
    oracle.to_string(),
)
write_provenance(smk)  # results/…/<output>.prov.json
