"""Write the key record standing in for one raw file (panneuro.compendium.datalad_io)."""

from panneuro.io.atomic import write_text_atomic

smk = snakemake  # noqa: F821
write_text_atomic(smk.output[0], smk.params.record + "\n")
