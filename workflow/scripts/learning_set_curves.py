"""Learning-set curves and the trial-2 regression of every subject's behaviour."""

import logging

from panneuro.behaviour.learning_set import learning_set_curves, read_behaviour
from panneuro.behaviour.statistics import learning_statistics
from panneuro.compendium.provenance import write_provenance
from panneuro.io.tables import write_tsv

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO, force=True)  # noqa: F821
log = logging.getLogger("learning_set_curves")
smk = snakemake  # noqa: F821

events = read_behaviour(list(smk.input.events), smk.params.subjects, smk.params.species)
log.info("%d trials from %d files", len(events), len(smk.input.events))
curves = learning_set_curves(
    events,
    block_size=int(smk.params.block_size),
    n_bootstrap=int(smk.params.n_bootstrap),
    seed=int(smk.params.seed),
)
write_tsv(curves, smk.output.curves)
stats = learning_statistics(events, seed=int(smk.params.seed))
log.info("regression:\n%s", stats.to_string())
write_tsv(stats, smk.output.stats)
write_provenance(smk)  # results/…/<output>.prov.json
