"""Check the raw dataset's sidecars and every result for identifying fields; fail on one."""

import logging
import sys
from pathlib import Path

from panneuro.compendium.datalad_io import fetch_raw_inputs
from panneuro.compendium.deidentification import check_deidentification
from panneuro.compendium.provenance import sidecar_path, write_provenance
from panneuro.io.tables import write_json

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO)  # noqa: F821
smk = snakemake  # noqa: F821
fetch_raw_inputs(smk)  # the raw recordings' content (their NWB subject fields are checked too)
# The raw dataset's root (its dataset_description.json) and results/ (results/qc/<this>.json).
raw_dir = Path(smk.input.raw).parent
results_dir = Path(smk.output[0]).parent.parent
# Its own output and sidecar are left out: a run killed after writing them must redo the same check.
own = [smk.output[0], str(sidecar_path(smk.output[0]))]
report = check_deidentification([raw_dir, results_dir], exclude=own)
logging.info(report.summary())
for path in report.unchecked:
    logging.warning("%s: content not present locally, not checked", path)
if not report.passed:
    sys.exit(report.summary())
write_json(report.to_dict(), smk.output[0])
write_provenance(smk)  # results/…/<output>.prov.json
