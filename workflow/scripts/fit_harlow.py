"""Fit the learning-to-learn agent to Harlow's (1949) learning-set curves."""

import logging

from panneuro.behaviour.model import fit_to_curves
from panneuro.behaviour.reference import HARLOW, read_reference_curves
from panneuro.compendium.provenance import write_provenance
from panneuro.io.tables import write_json

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO, force=True)  # noqa: F821
log = logging.getLogger("fit_harlow")
smk = snakemake  # noqa: F821

reference = read_reference_curves(smk.input.reference)
fit = fit_to_curves(
    reference[reference["source"] == HARLOW],
    trial_weights=list(smk.params.trial_weights),
    n_starts=int(smk.params.n_starts),
    seed=int(smk.params.seed),
)
log.info("Harlow fit: %s, trial-2 RMSE %.2f pts", fit.params, fit.rmse_trial2)
summary = fit.as_dict()
summary["source"] = "Harlow (1949) Psychol Rev 56:51-65, replotted in Wang et al. (2018) Fig. 5b"
write_json(summary, smk.output.fit)
write_provenance(smk)  # results/…/<output>.prov.json
