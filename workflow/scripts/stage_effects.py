"""Group effects of learning stage on the stay code (results/group/stage_effects.tsv)."""

import logging
import sys

from panneuro.compendium.provenance import write_provenance
from panneuro.io.tables import write_tsv
from panneuro.seeding import rng_for
from panneuro.stats.design_effects import stage_effects
from panneuro.stats.session_scores import annotate, read_group_inputs

smk = snakemake  # noqa: F821
sys.stderr = open(smk.log[0], "w")  # noqa: SIM115
logging.basicConfig(stream=sys.stderr, level=logging.INFO)
group = read_group_inputs(
    smk.params.group,
    smk.input.design,
    smk.input.ccgp,
    smk.input.oracle,
    ecog_ccgp=smk.input.ecog_ccgp,
    ecog_oracle=smk.input.ecog_oracle,
)
effects = stage_effects(
    group.scores,
    group.design,
    group.species,
    rng_for(smk.params.seed, "group", "stage"),
    truth=group.truth,
)
logging.info(
    "learning-stage effects over %d sessions:\n%s", len(group.sessions), effects.to_string()
)
write_tsv(effects, smk.output.effects)
write_tsv(annotate(group.scores, group.design, group.species, group.truth), smk.output.scores)
write_provenance(smk)  # results/…/<output>.prov.json
