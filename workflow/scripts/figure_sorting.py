"""Figure 2: sorting yield, quality metrics, waveforms, ground-truth accuracy and motion per probe.

Panel g (the estimated motion against any planted drift) is drawn only when a probe was
motion-corrected: its ``motion.tsv`` has rows.
"""

import logging
import sys

from panneuro.compendium.provenance import write_provenance
from panneuro.figures.fig2_sorting import plot_sorting_figure
from panneuro.figures.save import save_figure
from panneuro.results import read_probe_sorting

smk = snakemake  # noqa: F821
sys.stderr = open(smk.log[0], "w")  # noqa: SIM115
logging.basicConfig(stream=sys.stderr, level=logging.INFO)
gt_files = list(smk.input.gt) or [None] * len(smk.params.labels)
# the planted drift of the probes whose simulation planted one (none for a lab's data)
planted = dict(zip(smk.params.drifting, smk.input.planted_motion, strict=True))
summaries = [
    read_probe_sorting(label, region, metrics, waveforms, gt, motion, planted.get(label))
    for label, region, metrics, waveforms, gt, motion in zip(
        smk.params.labels,
        smk.params.regions,
        smk.input.metrics,
        smk.input.waveforms,
        gt_files,
        smk.input.motion,
        strict=True,
    )
]
figure = plot_sorting_figure(summaries, well_detected_accuracy=smk.params.well_detected_accuracy)
save_figure(figure, smk.output.pdf, smk.output.png)
write_provenance(smk)  # results/…/<output>.prov.json
