"""Group effects of learning stage on the stay code (results/group/stage_effects.tsv)."""

import logging
import sys

from panneuro.compendium.provenance import write_provenance
from panneuro.io.tables import read_tsv, write_tsv
from panneuro.seeding import rng_for
from panneuro.stats.design_effects import (
    annotate,
    read_session_design,
    session_stay_scores,
    stage_effects,
)

smk = snakemake  # noqa: F821
sys.stderr = open(smk.log[0], "w")  # noqa: SIM115
logging.basicConfig(stream=sys.stderr, level=logging.INFO)
sessions = [tuple(k) for k in smk.params.group["sessions"]]
species = dict(smk.params.group["species"])
design = read_session_design(smk.input.design)
scores = session_stay_scores(
    {k: read_tsv(p) for k, p in zip(sessions, smk.input.ccgp, strict=True)}
)
truth = (
    session_stay_scores(
        {k: read_tsv(p) for k, p in zip(sessions, smk.input.oracle, strict=True)}, value="truth"
    )
    if smk.input.oracle
    else None
)
effects = stage_effects(
    scores, design, species, rng_for(smk.params.seed, "group", "stage"), truth=truth
)
logging.info("learning-stage effects over %d sessions:\n%s", len(sessions), effects.to_string())
write_tsv(effects, smk.output.effects)
write_tsv(annotate(scores, design, species, truth), smk.output.scores)
write_provenance(smk)  # results/…/<output>.prov.json
