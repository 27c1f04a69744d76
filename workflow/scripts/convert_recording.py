"""A probe's raw recording (task or sleep run) in an acquisition format, converted to NWB."""

import logging
import sys

from panneuro.compendium.datalad_io import fetch_raw_inputs
from panneuro.compendium.provenance import write_provenance
from panneuro.ingest.nwb_conversion import (
    convert_recording_to_nwb,
    write_epoch_events,
    write_recording_events,
)
from panneuro.ingest.session_metadata import (
    metadata_root,
    recording_metadata,
    session_metadata,
)

smk = snakemake  # noqa: F821
fetch_raw_inputs(smk)  # get the raw content this job reads (DataLad)
sys.stderr = open(smk.log[0], "w")  # noqa: SIM115  (NeuroConv/SpikeInterface warnings)
logging.basicConfig(stream=sys.stderr, level=logging.INFO)
wc, params = smk.wildcards, smk.params.recording
root = metadata_root(smk.input.metadata, smk.config["raw_dir"])
meta = session_metadata(root, wc.subject, wc.session)
duration = convert_recording_to_nwb(
    smk.input.recording,
    params["format"],
    smk.output[0],
    subject=wc.subject,
    session=wc.session,
    probe=wc.probe,
    region=params["region"],
    species=meta["species"] or params["species"],
    session_start=meta["session_start"],
    age=meta["age"],
    sex=meta["sex"],
    line_frequency=params["line_frequency"],
    task=params["task"],
    # the site, device and reference the lab's dataset states (task-<task>_ieeg.json)
    stated=recording_metadata(root, params["task"]),
    probe_sidecars=params["probe_sidecars"],
)
# a task recording's events: the session's trials (header only for a session without
# behaviour); a sleep run's: the run as one epoch
events = next(o for o in smk.output if o.endswith("_events.tsv"))
if params["probe_sidecars"]:
    write_recording_events(smk.input.events[0] if smk.input.events else None, events)
else:
    write_epoch_events(events, duration, params["task"])
logging.info("converted %s (%s) to %s", smk.input.recording, params["format"], smk.output[0])
write_provenance(smk)  # results/…/<output>.prov.json
