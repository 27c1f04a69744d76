"""Reactivation of the task's co-firing in one probe's ripples after vs before the task."""

from spikeinterface.core import NpzSortingExtractor

from panneuro.compendium.provenance import write_provenance
from panneuro.ephys.preprocessing import load_preprocessed
from panneuro.ephys.sorting import load_sorting
from panneuro.io.tables import read_tsv, write_tsv
from panneuro.seeding import derived_seed
from panneuro.sleep.matching import spike_times
from panneuro.sleep.sleep_runs import session_reactivation

smk = snakemake  # noqa: F821
wc, inp = smk.wildcards, smk.input
metrics = read_tsv(inp.task_metrics)
kept = set(metrics.loc[metrics["keep"].astype(bool), "unit_id"].astype(str))
sorting = load_sorting(inp.task_sorting)
task = spike_times(sorting.select_units([u for u in sorting.unit_ids if str(u) in kept]))
pre, post = (spike_times(NpzSortingExtractor(path)) for path in inp.units)
truth = None
if "gt_spikes" in inp.keys():
    truth = {
        "task": spike_times(NpzSortingExtractor(inp.gt_task_spikes[0])),
        "pre": spike_times(NpzSortingExtractor(inp.gt_spikes[0])),
        "post": spike_times(NpzSortingExtractor(inp.gt_spikes[1])),
        "ripples": [read_tsv(path) for path in inp.gt_ripples],
    }
table = session_reactivation(
    task,
    pre,
    post,
    [read_tsv(path) for path in inp.ripples],
    task_duration=load_preprocessed(inp.task_recording).get_total_duration(),
    key={"subject": wc.subject, "session": wc.session, "probe": wc.probe, **smk.params.probe},
    seed=derived_seed(smk.config["seed"], "reactivation", wc.subject, wc.session, wc.probe),
    bin_s=smk.params.settings["task_bin_s"],
    n_permutations=smk.params.settings["n_permutations"],
    truth=truth,
)
write_tsv(table, smk.output[0])
write_provenance(smk)  # results/…/<output>.prov.json
