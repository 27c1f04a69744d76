"""Planted decoding effects of a simulated session against their ground truth (the oracle)."""

import logging
import sys

import pandas as pd

from panneuro.compendium.provenance import write_provenance
from panneuro.decoding.planted import planted_effect_recovery
from panneuro.io.tables import read_tsv, write_tsv

smk = snakemake  # noqa: F821
sys.stderr = open(smk.log[0], "w")  # noqa: SIM115
logging.basicConfig(stream=sys.stderr, level=logging.INFO)
units = pd.concat([read_tsv(path) for path in smk.input.gt_units], ignore_index=True)
planted = planted_effect_recovery(
    read_tsv(smk.input.decoding),
    units,
    bin_size=float(smk.params.bin_size),
    oracle=read_tsv(smk.input.oracle),
)
for row in planted.itertuples(index=False):
    logging.info(
        "%s %s: estimate %.3f [%.3f, %.3f] at %.2f s, truth %.3f (sd %.3f), in CI %s",
        row.region,
        row.variable,
        row.estimate,
        row.estimate_ci_low,
        row.estimate_ci_high,
        row.oracle_time,
        row.truth,
        row.truth_sd,
        row.truth_in_ci,
    )
write_tsv(planted, smk.output.planted)
write_provenance(smk)  # results/…/<output>.prov.json
