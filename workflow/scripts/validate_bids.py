"""Validate the (converted) raw dataset with the official BIDS validator; fail on any error."""

import logging
import tempfile
from pathlib import Path

from panneuro.compendium.bids_validation import run_bids_validator
from panneuro.compendium.datalad_io import fetch_raw_inputs
from panneuro.compendium.provenance import write_provenance
from panneuro.ingest.bids_view import converted_view
from panneuro.io.tables import write_json

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO)  # noqa: F821
smk = snakemake  # noqa: F821
fetch_raw_inputs(smk)  # get the raw content this job reads (DataLad)
root = Path(smk.input.description).parent
with tempfile.TemporaryDirectory(prefix="bids-view-") as folder:
    # recordings converted to NWB in place, their originals under sourcedata/
    view = converted_view(
        root, Path(folder) / root.name, smk.params.conversions, scope=smk.params.scope
    )
    summary = run_bids_validator(view)
for issue in summary["errors"]:
    logging.error("%s %s", issue["code"], issue["location"])
if summary["n_errors"]:
    raise SystemExit(
        f"{root}: the BIDS validator reports {summary['n_errors']} error(s) "
        f"({sorted({e['code'] for e in summary['errors']})}); see {smk.log[0]}."
    )
write_json(summary, smk.output[0])
write_provenance(smk)  # results/…/<output>.prov.json
