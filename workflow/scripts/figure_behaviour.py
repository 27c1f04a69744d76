"""Figure 1: learning-set curves, the fitted agent, Harlow (1949) and the regression."""

import json
import logging

from panneuro.behaviour.reference import read_reference_curves
from panneuro.compendium.provenance import write_provenance
from panneuro.figures.fig1_behaviour import plot_behaviour
from panneuro.figures.save import save_figure
from panneuro.io.tables import read_tsv

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO, force=True)  # noqa: F821
smk = snakemake  # noqa: F821

with open(smk.input.harlow_fit) as handle:
    harlow_fit = json.load(handle)
fig = plot_behaviour(
    read_tsv(smk.input.curves),
    read_tsv(smk.input.parameters),
    harlow_fit,
    read_reference_curves(smk.input.reference),
    read_tsv(smk.input.stats),
    n_blocks=int(smk.params.n_blocks),
)
save_figure(fig, smk.output.pdf, smk.output.png)
write_provenance(smk)  # results/…/<output>.prov.json
