"""Figure 5: human microwire units vs macaque units, the same decoding side by side."""

import logging

from panneuro.compendium.provenance import write_provenance
from panneuro.decoding.cross_condition import CCGP_COLUMNS
from panneuro.decoding.time_resolved import DECODING_COLUMNS, read_session_tables
from panneuro.figures.fig5_human_units import plot_human_units
from panneuro.figures.save import save_figure
from panneuro.io.tables import read_tsv

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO)  # noqa: F821
smk = snakemake  # noqa: F821
human, monkey = smk.params.human_sessions, smk.params.monkey_sessions
human_table = read_session_tables(smk.input.human, human, columns=DECODING_COLUMNS)
monkey_table = read_session_tables(smk.input.monkey, monkey, columns=DECODING_COLUMNS)
# the group tables of rule group_decoding
groups = {"human": read_tsv(smk.input.human_group), "macaque": read_tsv(smk.input.monkey_group)}
fig = plot_human_units(
    human_table,
    monkey_table,
    read_session_tables(smk.input.human_ccgp, human, columns=CCGP_COLUMNS),
    read_session_tables(smk.input.monkey_ccgp, monkey, columns=CCGP_COLUMNS),
    variables=smk.params.variables,
    alpha=smk.params.alpha,
    human_group=groups["human"],
    monkey_group=groups["macaque"],
)
save_figure(fig, smk.output.pdf, smk.output.png)
write_provenance(smk)  # results/…/<output>.prov.json
