# Config and sample-sheet loading and validation, the study object every rule asks
# (panneuro.study.Study) and the one-line input functions of the rules.
import os
import sys

from snakemake.utils import min_version

from panneuro.compendium import datalad_io
from panneuro.compendium.storage import STORAGE_PREFIX_VARIABLE, local_storage_prefix
from panneuro.io.validation import (
    check_sample_files,
    coerce_command_line_values,
    read_samples,
    validate_config,
    validate_samples,
)
from panneuro.compendium.provenance import with_sidecars as with_provenance
from panneuro.study import EPHYS, GT_PROBE, Study

min_version("9.0")

# Validation before any job starts: one-line errors naming the key or sheet line and the fix
# (panneuro.io.validation; the cases are tabled in docs/bad-input.md).
CONFIG_SCHEMA = workflow.source_path("../schemas/config.schema.yaml")
coerce_command_line_values(config, CONFIG_SCHEMA)  # --config simulate=false
validate_config(config, CONFIG_SCHEMA)
# Threads of one job of each kind, from config "threads" (1 when a config lacks the key, 2
# for the simulation); --set-threads overrides them per job kind.
THREADS = {"ephys": 1, "decoding": 1, "simulate": 2, **config.get("threads", {})}
SAMPLES = read_samples(config["samples"])
validate_samples(
    SAMPLES,
    workflow.source_path("../schemas/samples.schema.yaml"),
    sheet=config["samples"],
)

# Remote default storage (S3 on Kubernetes): every input and output is an object in the
# bucket, so raw files enter the DAG as files instead of DataLad key records.
REMOTE_STORAGE = workflow.storage_settings.default_storage_provider is not None
if REMOTE_STORAGE:
    os.environ[STORAGE_PREFIX_VARIABLE] = local_storage_prefix(
        workflow.storage_settings.local_storage_prefix,
        workflow.storage_settings.default_storage_provider,
        workflow.storage_settings.default_storage_prefix,
    )

RAW = config["raw_dir"]
GT = config["groundtruth_dir"]
LOGS = "logs"
CONDA_ENV = "../envs/panneuro.yaml"
STUDY = Study.from_config(
    config, SAMPLES, remote_storage=REMOTE_STORAGE, key_dir=datalad_io.KEY_DIR
)
FIGURES = STUDY.figures()
# The memory/runtime of heavy jobs sized from their recordings (panneuro.study.Study), as
# `resources: **HEAVY_RESOURCES`. Light rules declare no resources: the profiles'
# default-resources size them (workflow/profiles/*/config.yaml).
HEAVY_RESOURCES = {"mem_mb": STUDY.mem_mb, "runtime": STUDY.runtime}
if STUDY.left_out_message():
    print(STUDY.left_out_message(), file=sys.stderr)

# DataLad raw inputs (docs/architecture.md, "DataLad layout"): the raw dataset is simulated
# here or installed from its source on first use, without content (each job gets its own).
datalad_io.install_study_datasets(config, raw_simulated=STUDY.raw_simulated)
if not config["simulate"]:
    check_sample_files(SAMPLES, RAW, sheet=config["samples"])

# The raw dataset's description is the DAG's link to the dataset (kept in git); raw files enter
# as their DataLad key records (panneuro.compendium.datalad_io), or as files under remote storage.
RAW_HANDLE = f"{RAW}/dataset_description.json"
if not STUDY.raw_simulated:
    RAW_HANDLE = ancient(RAW_HANDLE)
RAW_INPUTS = STUDY.raw_inputs()


wildcard_constraints:
    subject="[A-Za-z0-9]+",
    session="[A-Za-z0-9]+",
    probe="[A-Za-z0-9]+",
    species="macaque|human",
    run="[0-9]+",


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
    patterns, keys = output_patterns(producer), [
        k if isinstance(k, tuple) else (k,) for k in keys
    ]
    return [p for key in keys for p in expand(patterns, **dict(zip(names, key)))]


def figure_files(stem):
    """A figure's outputs: ``png`` (in the report, captioned by ../report/<name>.rst) and ``pdf``."""
    name = stem.rsplit("/", 1)[-1]
    png = report(f"{stem}.png", caption=f"../report/{name}.rst", category="Figures")
    return {"png": png, "pdf": f"{stem}.pdf"}


def events_file(wildcards):
    """The behavioural events (trial table) of a subject's session."""
    return STUDY.events_file(wildcards.subject, wildcards.session)


def outputs_of(names, rules_by_name):
    """Every output of the named rules (figures: Study.figures, analyses: group_analyses)."""
    return [p for name in names for p in outputs_over(rules_by_name[name])]
