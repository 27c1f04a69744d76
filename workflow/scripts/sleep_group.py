"""Group effects of the sleep stage: reactivation after vs before the task, ripple scores."""

import pandas as pd

from panneuro.compendium.provenance import write_provenance
from panneuro.io.tables import read_tsv, write_tsv
from panneuro.seeding import derived_seed
from panneuro.sleep.sleep_effects import sleep_effects

smk = snakemake  # noqa: F821
reactivation = pd.concat([read_tsv(p) for p in smk.input.reactivation], ignore_index=True)
scores = (
    pd.concat([read_tsv(p) for p in smk.input.scores], ignore_index=True)
    if smk.input.scores
    else None
)
table = sleep_effects(
    reactivation,
    scores,
    derived_seed(smk.config["seed"], "sleep_group"),
    n_resamples=smk.params.settings["n_resamples"],
)
write_tsv(table, smk.output[0])
write_provenance(smk)  # results/…/<output>.prov.json
