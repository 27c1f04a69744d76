"""Figure 8: inactivation, behaviour and codes (results/group/inactivation_*.tsv)."""

import logging

from panneuro.compendium.provenance import write_provenance
from panneuro.figures.fig8_inactivation import plot_inactivation
from panneuro.figures.save import save_figure
from panneuro.io.tables import read_tsv

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO)  # noqa: F821
smk = snakemake  # noqa: F821
fig = plot_inactivation(read_tsv(smk.input.scores), read_tsv(smk.input.effects))
save_figure(fig, smk.output.pdf, smk.output.png)
write_provenance(smk)  # results/…/<output>.prov.json
