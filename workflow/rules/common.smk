# Config and sample-sheet loading, validation and the input functions every stage uses.
import pandas as pd
from snakemake.utils import min_version, validate

min_version("9.0")


validate(config, schema="../schemas/config.schema.yaml")

SAMPLES = pd.read_csv(
    config["samples"], sep="\t", dtype=str, keep_default_na=False, na_values=[]
)
validate(SAMPLES, schema="../schemas/samples.schema.yaml")

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


wildcard_constraints:
    subject="[A-Za-z0-9]+",
    session="[A-Za-z0-9]+",
    probe="[A-Za-z0-9]+",


def rows(datatype):
    """Sample-sheet rows of one datatype (beh, array, microwire, ecog)."""
    return SAMPLES[SAMPLES["datatype"] == datatype]


def raw_path(row):
    """Path of a sample-sheet row's raw file under the raw dataset."""
    return f"{RAW}/{row['path']}"


def events_file(wildcards):
    """The behavioural events (trial table) of a subject's session."""
    row = _one_row(wildcards.subject, wildcards.session, "beh")
    return raw_path(row)


def recording_row(wildcards):
    """The sample-sheet row of a probe (array or microwire) of a session."""
    sel = SAMPLES[
        (SAMPLES["subject"] == wildcards.subject)
        & (SAMPLES["session"] == wildcards.session)
        & (SAMPLES["probe"] == wildcards.probe)
        & SAMPLES["datatype"].isin(["array", "microwire"])
    ]
    if len(sel) != 1:
        raise ValueError(
            f"{config['samples']}: expected one array/microwire row for sub-{wildcards.subject} "
            f"ses-{wildcards.session} probe {wildcards.probe}, found {len(sel)}."
        )
    return sel.iloc[0]


def recording_file(wildcards):
    """The raw recording file of a probe."""
    return raw_path(recording_row(wildcards))


def ecog_file(wildcards):
    """The raw ECoG file of a session."""
    return raw_path(_one_row(wildcards.subject, wildcards.session, "ecog"))


def _one_row(subject, session, datatype):
    sel = SAMPLES[
        (SAMPLES["subject"] == subject)
        & (SAMPLES["session"] == session)
        & (SAMPLES["datatype"] == datatype)
    ]
    if len(sel) != 1:
        raise ValueError(
            f"{config['samples']}: expected one '{datatype}' row for sub-{subject} "
            f"ses-{session}, found {len(sel)}; add or fix that row."
        )
    return sel.iloc[0]


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
    """Probe labels of a session (arrays and microwires)."""
    return [
        p
        for s, ses, p in probes()
        if s == wildcards.subject and ses == wildcards.session
    ]


def ground_truth_available():
    """True when the raw dataset is the simulated one (ground truth is beside it)."""
    return bool(config["simulate"])
