"""Truth of a simulated session's stay code (CCGP and CV accuracy): the Monte Carlo oracle."""

import logging
import sys
import time

from panneuro.compendium.provenance import write_provenance
from panneuro.decoding.oracle import oracle_cross_condition
from panneuro.io.tables import read_events, read_tsv, write_tsv
from panneuro.simulate.ephys import read_probe_coding

smk = snakemake  # noqa: F821
sys.stderr = open(smk.log[0], "w")  # noqa: SIM115
logging.basicConfig(stream=sys.stderr, level=logging.INFO)
start = time.perf_counter()
events = read_events(smk.input.events)
probes = [
    (read_tsv(units), read_probe_coding(units[: -len("_units.tsv")]))
    for units in smk.input.gt_units
]
oracle = oracle_cross_condition(
    events,
    probes,
    smk.params.settings,
    seed=smk.params.seed,
    keys=(smk.wildcards.subject, smk.wildcards.session),
    n_replicates=int(smk.params.n_replicates),
    sampling_frequency=float(smk.params.sampling_frequency),
)
logging.info(
    "stay-code oracle: %d replicates in %.1f s\n%s",
    smk.params.n_replicates,
    time.perf_counter() - start,
    oracle.to_string(),
)
write_tsv(oracle, smk.output[0])
write_provenance(smk)  # results/…/<output>.prov.json
