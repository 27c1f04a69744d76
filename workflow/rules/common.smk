# Config and sample-sheet loading, validation and the input functions every stage uses.
import os
from types import SimpleNamespace

import pandas as pd
from snakemake.utils import min_version

from panneuro.io.validation import (
    check_sample_files,
    read_samples,
    validate_config,
    validate_samples,
)
from panneuro.io.storage import (
    STORAGE_PREFIX_VARIABLE,
    declared_companions,
    declared_sheet_files,
    local_storage_prefix,
)
from panneuro.provenance import sidecar_path
from panneuro.resources import estimate, recording_channel_seconds

min_version("9.0")


# Validation before any job starts: one-line errors naming the key or sheet line and the fix
# (panneuro.io.validation; the cases are tabled in docs/bad-input.md). The sample sheet is
# configuration: with simulate: false a row naming a missing file stops the run (checked below,
# once the raw dataset is installed from raw_source).
validate_config(config, workflow.source_path("../schemas/config.schema.yaml"))
SAMPLES = read_samples(config["samples"])
validate_samples(
    SAMPLES,
    workflow.source_path("../schemas/samples.schema.yaml"),
    sheet=config["samples"],
)

# Remote default storage (--default-storage-provider, e.g. S3 on Kubernetes): every input and
# output is an object in the bucket, so raw files enter the DAG as files, with their companions,
# instead of DataLad key records; results' provenance sidecars name paths as if local.
REMOTE_STORAGE = workflow.storage_settings.default_storage_provider is not None
if REMOTE_STORAGE:
    os.environ[STORAGE_PREFIX_VARIABLE] = local_storage_prefix(
        workflow.storage_settings.local_storage_prefix,
        workflow.storage_settings.default_storage_provider,
        workflow.storage_settings.default_storage_prefix,
    )

RAW = config["raw_dir"]
GT = config["groundtruth_dir"]
SIZE = config["sizes"][config["size"]]
LOGS = "logs"

FIGURES = [
    "fig1_behaviour",
    "fig2_sorting",
    "fig3_monkey_decoding",
    "fig4_ecog",
    "fig5_human_units",
    "fig6_model",
]

CONDA_ENV = "../envs/panneuro.yaml"


def output_patterns(producer):
    """Output patterns of a rule as written in its file (remote storage prefix removed)."""
    prefix = (workflow.storage_settings.default_storage_prefix or "").rstrip("/")
    patterns = []
    for item in producer.output:
        storage_object = getattr(item, "flags", {}).get("storage_object")
        query = storage_object.query if storage_object is not None else str(item)
        patterns.append(query.removeprefix(f"{prefix}/") if storage_object else query)
    return patterns


def outputs_over(producer, keys=((),), names=("subject", "session", "probe")):
    """Every output (sidecars included) of a rule for the given wildcard tuples."""
    return [
        path
        for key in keys
        for path in expand(output_patterns(producer), **dict(zip(names, map(str, key))))
    ]


def with_provenance(*paths, **named):
    """A rule's outputs followed by their provenance sidecars (``<output>.prov.json``).

    Scripts write the sidecars (panneuro.provenance.write_provenance); declaring them makes
    them results like any other: removed with an incomplete job, sent to remote storage.
    Positional use (``*with_provenance(path)``) returns a list, named use
    (``**with_provenance(name=path)``) a dict with ``<name>_provenance`` entries.
    """
    if paths and named:
        raise ValueError("with_provenance: give either positional or named outputs")
    if paths:
        return [*paths, *(str(sidecar_path(p)) for p in paths)]
    sidecars = {f"{k}_provenance": str(sidecar_path(v)) for k, v in named.items()}
    return {**named, **sidecars}


wildcard_constraints:
    subject="[A-Za-z0-9]+",
    session="[A-Za-z0-9]+",
    probe="[A-Za-z0-9]+",


def _index_sheet(samples):
    """Rows of the sample sheet keyed for the input functions' lookups (built once)."""
    by_key, by_probe, session_probes_ = {}, {}, {}
    for row in samples.to_dict("records"):
        key = (row["subject"], row["session"])
        by_key.setdefault((*key, row["datatype"]), []).append(row)
        if row["datatype"] in ("array", "microwire"):
            by_probe.setdefault((*key, row["probe"]), []).append(row)
            session_probes_.setdefault(key, []).append(row["probe"])
    return by_key, by_probe, session_probes_


# Lookups by (subject, session, datatype), (subject, session, probe) and (subject, session):
# dictionaries built once, so planning stays linear in the sessions (bench/bench_planning.py).
_ROWS_BY_KEY, _ROWS_BY_PROBE, _SESSION_PROBES = _index_sheet(SAMPLES)
_ROWS_BY_DATATYPE = {
    datatype: SAMPLES[SAMPLES["datatype"] == datatype]
    for datatype in SAMPLES["datatype"].unique()
}


def rows(datatype):
    """Sample-sheet rows of one datatype (beh, array, microwire, ecog)."""
    return _ROWS_BY_DATATYPE.get(datatype, SAMPLES.iloc[0:0])


def raw_path(row):
    """Path of a sample-sheet row's raw file under the raw dataset."""
    return f"{RAW}/{row['path']}"


def events_file(wildcards):
    """The behavioural events (trial table) of a subject's session."""
    row = _one_row(wildcards.subject, wildcards.session, "beh")
    return raw_path(row)


def recording_row(wildcards):
    """The sample-sheet row (a dict) of a probe (array or microwire) of a session."""
    sel = _ROWS_BY_PROBE.get(
        (wildcards.subject, wildcards.session, wildcards.probe), []
    )
    if len(sel) != 1:
        raise ValueError(
            f"{config['samples']}: expected one array/microwire row for sub-{wildcards.subject} "
            f"ses-{wildcards.session} probe {wildcards.probe}, found {len(sel)}."
        )
    return sel[0]


def recording_file(wildcards):
    """The raw recording file of a probe."""
    return raw_path(recording_row(wildcards))


def ecog_file(wildcards):
    """The raw ECoG file of a session."""
    return raw_path(_one_row(wildcards.subject, wildcards.session, "ecog"))


def _one_row(subject, session, datatype):
    sel = _ROWS_BY_KEY.get((subject, session, datatype), [])
    if len(sel) != 1:
        raise ValueError(
            f"{config['samples']}: expected one '{datatype}' row for sub-{subject} "
            f"ses-{session}, found {len(sel)}; add or fix that row."
        )
    return sel[0]


def probes(datatypes=("array", "microwire"), species=None):
    """(subject, session, probe) of every probe of the given datatypes."""
    sel = SAMPLES[SAMPLES["datatype"].isin(list(datatypes))]
    if species is not None:
        sel = sel[sel["species"] == species]
    return list(sel[["subject", "session", "probe"]].itertuples(index=False, name=None))


def probe_sessions(datatypes=("array", "microwire"), species=None):
    """(subject, session) pairs that have at least one probe of the given datatypes."""
    return sorted({(s, ses) for s, ses, _ in probes(datatypes, species)})


def session_probes(wildcards):
    """Probe labels of a session (arrays and microwires), in sample-sheet order."""
    return list(_SESSION_PROBES.get((wildcards.subject, wildcards.session), []))


# Resources of the heavy rules, sized from the recording(s) a job processes
# (panneuro.resources): rule name -> stage cost. Raw recordings are sized from their files when
# present (a lab's data), else from the size preset (the simulated study before it exists).
HEAVY_STAGES = {
    "preprocess_probe": "preprocess",
    "sort_probe": "sort",
    "curate_units": "curate",
    "export_session_nwb": "export",
    "high_gamma_epochs": "high_gamma",
}
EPHYS_SAMPLING_FREQUENCY = float(config["simulation"]["sampling_frequency_ephys"])


def _channel_seconds(wildcards, rulename):
    """Channels x seconds of the raw recording(s) of a heavy job."""
    if rulename == "high_gamma_epochs":
        row = _one_row(wildcards.subject, wildcards.session, "ecog")
        rows_ = [row]
    elif rulename == "export_session_nwb":
        rows_ = [
            recording_row(
                SimpleNamespace(
                    subject=wildcards.subject, session=wildcards.session, probe=probe
                )
            )
            for probe in session_probes(wildcards)
        ]
    else:
        rows_ = [recording_row(wildcards)]
    return sum(
        recording_channel_seconds(
            raw_path(row), row["datatype"], SIZE, EPHYS_SAMPLING_FREQUENCY
        )
        for row in rows_
    )


def heavy_mem_mb(wildcards, attempt, rulename):
    """Memory (MB) of a heavy job: from its recording's size, times the attempt."""
    stage = HEAVY_STAGES[rulename]
    return estimate(stage, _channel_seconds(wildcards, rulename), attempt).mem_mb


def heavy_runtime(wildcards, attempt, rulename):
    """Runtime (minutes) of a heavy job: from its recording's size, times the attempt."""
    stage = HEAVY_STAGES[rulename]
    return estimate(stage, _channel_seconds(wildcards, rulename), attempt).runtime


def ground_truth_available():
    """True when the raw dataset is the simulated one (ground truth is beside it)."""
    return bool(config["simulate"])


# DataLad raw inputs (panneuro.datalad_io; docs/architecture.md, "DataLad layout"). The raw
# dataset is simulated by this workflow (simulate: true, no raw_source) or installed from its
# source on first use, without content: each job gets its own. Annexed recordings never enter
# the DAG as files (a dropped one would be a broken symlink): key records stand in for them.
from panneuro import datalad_io
from panneuro.simulate.study import raw_dataset_files

RAW_SOURCE = config.get("raw_source", "")
GT_SOURCE = config.get("groundtruth_source", "")
RAW_SIMULATED = bool(config["simulate"]) and not RAW_SOURCE
RAW_KEYS = datalad_io.KEY_DIR
if not RAW_SIMULATED:
    datalad_io.ensure_installed(RAW, RAW_SOURCE or None)
if GT_SOURCE:
    datalad_io.ensure_installed(GT, GT_SOURCE)
elif config["simulate"] and RAW_SOURCE and not datalad_io.is_installed(GT):
    raise datalad_io.RawDataError(
        f"{GT}: the simulated study's ground truth is not installed; fix: set "
        "groundtruth_source (where it was published) or datalad clone <source URL> "
        f"{GT}"
    )
if not config["simulate"]:
    check_sample_files(SAMPLES, RAW, sheet=config["samples"])


def raw_handle():
    """The raw dataset's description, the DAG's link to the dataset (kept in git)."""
    path = f"{RAW}/dataset_description.json"
    return path if RAW_SIMULATED else ancient(path)


def raw_key_file(path):
    """The key record standing in for a raw file as a job input."""
    return datalad_io.key_record_path(path, RAW)


def raw_key_params(wildcards):
    """A raw file's key record: its path and (unless still to be simulated) annex keys."""
    return datalad_io.key_record(
        f"{RAW}/{wildcards.rawpath}", identify=not RAW_SIMULATED
    )


def raw_inputs(samples):
    """Inputs for every row of a sheet: trial tables (in git) as is, recordings as key records.

    Under remote default storage: every file of the raw dataset (the BIDS validator and the
    de-identification check read the sidecars too; panneuro.io.storage).
    """
    if REMOTE_STORAGE:
        if config["simulate"]:
            return raw_dataset_files(samples, RAW)
        return declared_sheet_files(samples, RAW)  # a lab's dataset in the bucket
    return [
        raw_path(row) if row["datatype"] == "beh" else raw_key_file(raw_path(row))
        for row in samples.to_dict("records")
    ]


_sheet_recording_file = recording_file
_sheet_ecog_file = ecog_file


def recording_file(wildcards):
    """The raw recording of a probe, as its key record (the job gets the content)."""
    if REMOTE_STORAGE:
        return _sheet_recording_file(wildcards)
    return raw_key_file(_sheet_recording_file(wildcards))


def ecog_file(wildcards):
    """The raw ECoG header of a session, as its key record (the job gets the data)."""
    if REMOTE_STORAGE:
        return _sheet_ecog_file(wildcards)
    return raw_key_file(_sheet_ecog_file(wildcards))


def ecog_companions(wildcards):
    """Under remote storage, the files the ECoG header names (else the job gets them itself)."""
    if not REMOTE_STORAGE:
        return []
    row = _one_row(wildcards.subject, wildcards.session, "ecog")
    return declared_companions(raw_path(row), row["format"])


def recording_companions(wildcards):
    """Under remote storage, a probe recording's companions (reader sidecar, SpikeGLX meta)."""
    if not REMOTE_STORAGE:
        return []
    row = recording_row(wildcards)
    return declared_companions(raw_path(row), row["format"])
