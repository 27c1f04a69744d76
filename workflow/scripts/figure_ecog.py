"""Figure 4 (ECoG) from every session's high-gamma epochs and statistics; truth scores."""

import logging

from panneuro.compendium.provenance import write_provenance
from panneuro.figures.fig4_ecog import plot_ecog_figure, truth_table
from panneuro.figures.save import save_figure
from panneuro.io.tables import write_tsv
from panneuro.results import read_ecog_session

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO)  # noqa: F821
smk = snakemake  # noqa: F821
truths = list(smk.input.truth) or [None] * len(smk.params.labels)
sessions = [
    read_ecog_session(label, epochs_file, stats_file, truth_file)
    for label, epochs_file, stats_file, truth_file in zip(
        smk.params.labels, smk.input.epochs, smk.input.stats, truths, strict=True
    )
]
scores = truth_table(sessions)
for row in scores.itertuples():
    logging.info(
        "%s: sensitivity %.2f (%d/%d planted), %d false discoveries",
        row.session,
        row.sensitivity,
        row.n_hits,
        row.n_planted,
        row.n_false_discoveries,
    )
write_tsv(scores, smk.output.truth_table)
save_figure(plot_ecog_figure(sessions), smk.output.pdf, smk.output.png)
write_provenance(smk)  # results/…/<output>.prov.json
