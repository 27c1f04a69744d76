"""Figure 10: every group effect of the study design (results/group/*_effects.tsv)."""

import logging

from panneuro.compendium.provenance import write_provenance
from panneuro.figures.fig10_group_summary import plot_group_summary
from panneuro.figures.save import save_figure
from panneuro.io.tables import read_tsv

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO)  # noqa: F821
smk = snakemake  # noqa: F821
fig = plot_group_summary([read_tsv(path) for path in smk.input])
save_figure(fig, smk.output.pdf, smk.output.png)
write_provenance(smk)  # results/…/<output>.prov.json
