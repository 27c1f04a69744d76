"""Figure 9: ripples in sleep and reactivation of the task's co-firing after the task."""

import logging

import numpy as np
import pandas as pd

from panneuro.compendium.provenance import write_provenance
from panneuro.figures.fig9_sleep import plot_sleep, run_table
from panneuro.figures.save import save_figure
from panneuro.io.tables import read_tsv

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO)  # noqa: F821
smk = snakemake  # noqa: F821
inp, labels = smk.input, smk.params.labels
lfps = [dict(np.load(p)) for p in inp.lfp]
ripples = [read_tsv(p) for p in inp.ripples]
planted = [read_tsv(p) for p in inp.planted] if inp.planted else None
scores = pd.concat([read_tsv(p) for p in inp.scores], ignore_index=True) if inp.scores else None
durations = [float(np.asarray(x["time"])[-1] - np.asarray(x["time"])[0]) for x in lfps]
i = smk.params.example  # the first run after a task
fig = plot_sleep(
    lfps[i],
    ripples[i],
    planted[i] if planted else None,
    labels[i],
    run_table(ripples, durations, labels, planted, scores),
    pd.concat([read_tsv(p) for p in inp.reactivation], ignore_index=True),
    read_tsv(inp.effects),
)
save_figure(fig, smk.output.pdf, smk.output.png)
write_provenance(smk)  # results/…/<output>.prov.json
