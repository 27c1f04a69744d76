"""Simulate the embedded study into the raw BIDS DataLad dataset and its ground truth."""

import logging
from pathlib import Path

import pandas as pd

from panneuro.simulate.study import simulate_study

# The sessions are simulated in spawned processes, which import this file again as
# "__mp_main__": the guard keeps them from running the rule a second time.
if __name__ == "__main__":
    smk = snakemake  # noqa: F821
    logging.basicConfig(filename=smk.log[0], level=logging.INFO)
    samples = pd.read_csv(smk.input.samples, sep="\t", dtype=str, keep_default_na=False)
    simulate_study(
        samples,
        seed=smk.params.seed,
        size=smk.params.size,
        simulation=smk.params.simulation,
        # the dataset description sits at the raw root; agent files at <gt>/sub-X/sub-X_agent.json
        raw_root=Path(smk.output.raw[0]).parent,
        gt_root=Path(smk.output.truth[0]).parents[1],
        n_jobs=smk.threads,
    )
    logging.info("simulated %d sample-sheet rows", len(samples))
