"""Ground truth of a simulated session's planted decoding effects (the oracle)."""

import logging
import sys
import time

import pandas as pd

from panneuro.compendium.provenance import write_provenance
from panneuro.decoding.oracle import oracle_decoding
from panneuro.io.tables import read_events, write_tsv
from panneuro.simulate.ephys import read_probe_coding, read_probe_ground_truth

smk = snakemake  # noqa: F821
sys.stderr = open(smk.log[0], "w")  # noqa: SIM115
logging.basicConfig(stream=sys.stderr, level=logging.INFO)
start = time.perf_counter()
events = read_events(smk.input.events)
units, trains, rates, codings = [], [], set(), {}
for path in smk.input.gt_spikes:
    prefix = path[: -len("_spikes.npz")]
    sorting, probe_units = read_probe_ground_truth(prefix)
    probe = prefix.rsplit("_acq-", 1)[1]
    codings[probe] = read_probe_coding(prefix)  # the study design's (None otherwise)
    probe_units = probe_units.assign(probe=probe)
    fs = sorting.get_sampling_frequency()
    rates.add(fs)
    units.append(probe_units)
    trains += [sorting.get_unit_spike_train(u) / fs for u in probe_units["unit_id"]]
if len(rates) != 1:
    raise ValueError(f"{smk.input.gt_spikes}: probes sampled at {sorted(rates)} Hz; the oracle "
                     "needs one sampling frequency per session.")
oracle = oracle_decoding(events, pd.concat(units, ignore_index=True), smk.params.settings,
                         seed=smk.params.seed,
                         keys=(smk.wildcards.subject, smk.wildcards.session),
                         n_replicates=int(smk.params.n_replicates),
                         sampling_frequency=rates.pop(), ground_truth_trains=trains,
                         codings=codings, n_jobs=smk.threads)
logging.info("oracle: %d replicates in %.1f s (%d processes)", smk.params.n_replicates,
             time.perf_counter() - start, smk.threads)
write_tsv(oracle, smk.output.oracle)
write_provenance(smk)  # results/…/<output>.prov.json
