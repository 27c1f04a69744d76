"""One NWB file per session: the curated units of all its probes, electrodes and trials."""

import logging
import sys

from panneuro.compendium.datalad_io import fetch_raw_inputs
from panneuro.compendium.provenance import write_provenance
from panneuro.ephys.curation import read_waveforms
from panneuro.ephys.nwb_units import ProbeUnits, write_session_units_nwb
from panneuro.ephys.sorting import load_sorting
from panneuro.ingest.session_metadata import (
    metadata_root,
    recording_institution,
    session_metadata,
)
from panneuro.io.tables import read_events, read_tsv

smk = snakemake  # noqa: F821
fetch_raw_inputs(smk)  # get the raw content this job reads (DataLad)
sys.stderr = open(smk.log[0], "w")  # noqa: SIM115
logging.basicConfig(stream=sys.stderr, level=logging.INFO)
wc, session = smk.wildcards, smk.params.session
probes = []
for probe, region, sorting_dir, metrics_path, waveforms_path in zip(
    session["probes"],
    session["regions"],
    smk.input.sortings,
    smk.input.metrics,
    smk.input.waveforms,
    strict=True,
):
    metrics = read_tsv(metrics_path).astype({"unit_id": str})
    kept = metrics[metrics["keep"].astype(bool)].reset_index(drop=True)
    sorting = load_sorting(sorting_dir)
    ids = {str(u): u for u in sorting.unit_ids}
    spike_times = {
        u: sorting.get_unit_spike_train(ids[u], return_times=True) for u in kept["unit_id"]
    }
    probes.append(
        ProbeUnits(
            probe=probe,
            region=region,
            spike_times=spike_times,
            metrics=kept,
            waveforms=read_waveforms(waveforms_path),
        )
    )
    logging.info("%s: %d curated units", probe, len(kept))
# session start, age, sex, species: from the dataset's BIDS files, whatever the raw format
root = metadata_root(smk.input.metadata, smk.config["raw_dir"])
meta = session_metadata(root, wc.subject, wc.session)
# where the data were recorded, as the dataset's task-<task>_ieeg.json states it
institution = recording_institution(root, session["task"], simulated=smk.config["simulate"])
events = read_events(smk.input.events[0]) if smk.input.events else None
write_session_units_nwb(
    smk.output[0],
    probes,
    events,
    subject=wc.subject,
    session=wc.session,
    species=meta["species"] or session["species"],
    session_start=meta["session_start"],
    age=meta["age"],
    sex=meta["sex"],
    institution=institution,
)
write_provenance(smk)  # results/…/<output>.prov.json
