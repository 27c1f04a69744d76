"""Detected vs planted ripples of one sleep run (simulated study): recall and precision."""

from panneuro.compendium.provenance import write_provenance
from panneuro.io.tables import read_tsv, write_tsv
from panneuro.sleep.sleep_runs import ripple_score

smk = snakemake  # noqa: F821
wc = smk.wildcards
key = {
    "subject": wc.subject,
    "session": wc.session,
    "probe": wc.probe,
    "run": wc.run,
    **smk.params.probe,
}
write_tsv(
    ripple_score(read_tsv(smk.input.ripples), read_tsv(smk.input.planted), key), smk.output[0]
)
write_provenance(smk)  # results/…/<output>.prov.json
