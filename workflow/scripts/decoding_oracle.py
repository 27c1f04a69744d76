"""Ground truth of a simulated session's planted decoding effects (the oracle)."""

import logging
import sys
import time

from panneuro.compendium.provenance import write_provenance
from panneuro.decoding.oracle import oracle_decoding
from panneuro.io.tables import read_events, write_tsv
from panneuro.simulate.ephys import read_session_ground_truth

smk = snakemake  # noqa: F821
sys.stderr = open(smk.log[0], "w")  # noqa: SIM115
logging.basicConfig(stream=sys.stderr, level=logging.INFO)
start = time.perf_counter()
truth = read_session_ground_truth([p[: -len("_spikes.npz")] for p in smk.input.gt_spikes])
oracle = oracle_decoding(
    read_events(smk.input.events),
    truth.units,
    smk.params.settings,
    seed=smk.params.seed,
    keys=(smk.wildcards.subject, smk.wildcards.session),
    n_replicates=int(smk.params.n_replicates),
    sampling_frequency=truth.sampling_frequency,
    ground_truth_trains=truth.trains,
    codings=truth.codings,
    n_jobs=smk.threads,
)
logging.info(
    "oracle: %d replicates in %.1f s (%d processes)",
    smk.params.n_replicates,
    time.perf_counter() - start,
    smk.threads,
)
write_tsv(oracle, smk.output.oracle)
write_provenance(smk)  # results/…/<output>.prov.json
