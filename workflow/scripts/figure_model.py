"""Figure 6: the agent's latents read out from population activity over time."""

import logging

from panneuro.compendium.provenance import write_provenance
from panneuro.decoding.latent_regression import REGRESSION_COLUMNS
from panneuro.decoding.time_resolved import read_session_tables
from panneuro.figures.fig6_model import plot_model_neural
from panneuro.figures.save import save_figure

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO)  # noqa: F821
smk = snakemake  # noqa: F821
table = read_session_tables(
    list(smk.input), smk.params.sessions, columns=REGRESSION_COLUMNS, species=smk.params.species
)
fig = plot_model_neural(table, latents=smk.params.latents)
save_figure(fig, smk.output.pdf, smk.output.png)
write_provenance(smk)  # results/…/<output>.prov.json
