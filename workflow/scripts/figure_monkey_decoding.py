"""Figure 3: macaque population decoding per region and cross-condition generalisation."""

import logging

from panneuro.compendium.provenance import write_provenance
from panneuro.decoding.cross_condition import CCGP_COLUMNS
from panneuro.decoding.time_resolved import DECODING_COLUMNS, read_session_tables
from panneuro.figures.fig3_monkey_decoding import plot_monkey_decoding
from panneuro.figures.save import save_figure
from panneuro.io.tables import read_tsv

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO)  # noqa: F821
smk = snakemake  # noqa: F821
sessions = smk.params.sessions
table = read_session_tables(smk.input.decoding, sessions, columns=DECODING_COLUMNS)
ccgp = read_session_tables(smk.input.ccgp, sessions, columns=CCGP_COLUMNS)
group = read_tsv(smk.input.group)  # rule group_decoding
fig = plot_monkey_decoding(
    table, ccgp, variables=smk.params.variables, alpha=smk.params.alpha, group=group
)
save_figure(fig, smk.output.pdf, smk.output.png)
write_provenance(smk)  # results/…/<output>.prov.json
