"""Simulate the embedded study into the raw BIDS DataLad dataset and its ground truth."""

import logging
from pathlib import Path

import pandas as pd

from panneuro.simulate.study import simulate_study

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO)  # noqa: F821
smk = snakemake  # noqa: F821
samples = pd.read_csv(smk.input.samples, sep="\t", dtype=str, keep_default_na=False)
simulate_study(
    samples,
    seed=smk.params.seed,
    size=smk.params.size,
    simulation=smk.params.simulation,
    raw_root=Path(smk.params.raw_root),
    gt_root=Path(smk.params.gt_root),
)
logging.info("simulated %d sample-sheet rows", len(samples))
