"""Fit the learning-to-learn agent to each subject's trials (maximum likelihood)."""

import json
import logging

from panneuro.behaviour.learning_set import read_behaviour
from panneuro.behaviour.model import fit_subjects
from panneuro.compendium.provenance import write_provenance
from panneuro.io.tables import write_tsv

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO, force=True)  # noqa: F821
log = logging.getLogger("fit_model")
smk = snakemake  # noqa: F821

events = read_behaviour(list(smk.input.events), smk.params.subjects, smk.params.species)
truth = None
if smk.input.get("truth"):
    truth = {}
    for subject, path in zip(smk.params.truth_subjects, smk.input.truth, strict=True):
        with open(path) as handle:
            truth[subject] = json.load(handle)
table = fit_subjects(events, int(smk.params.seed), n_starts=int(smk.params.n_starts), truth=truth)
log.info("fits:\n%s", table.to_string())
write_tsv(table, smk.output.parameters)
write_provenance(smk)  # results/…/<output>.prov.json
