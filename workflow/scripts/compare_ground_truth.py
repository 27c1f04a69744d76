"""Accuracy of one probe's sorting against the simulation's ground truth."""

import logging
import sys

from panneuro.compendium.provenance import write_provenance
from panneuro.ephys.ground_truth import compare_to_ground_truth
from panneuro.ephys.sorting import load_sorting
from panneuro.io.tables import read_tsv, write_tsv
from panneuro.simulate.ephys import read_probe_ground_truth

smk = snakemake  # noqa: F821
sys.stderr = open(smk.log[0], "w")  # noqa: SIM115
logging.basicConfig(stream=sys.stderr, level=logging.INFO)
prefix = smk.input.gt_spikes[: -len("_spikes.npz")]
gt_sorting, gt_units = read_probe_ground_truth(prefix)
table = compare_to_ground_truth(
    gt_sorting,
    load_sorting(smk.input.sorting),
    match_score=float(smk.params.ground_truth["match_score"]),
    well_detected_accuracy=float(smk.params.ground_truth["well_detected_accuracy"]),
    gt_units=gt_units,
    curated=read_tsv(smk.input.metrics).astype({"unit_id": str}),
)
write_tsv(table, smk.output[0])
logging.info("%d of %d GT units well detected", int(table["well_detected"].sum()), len(table))
write_provenance(smk)  # results/…/<output>.prov.json
