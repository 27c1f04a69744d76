# The embedded study: simulated from the seed in config into a BIDS DataLad dataset, with the
# ground truth beside it; then checked by the official BIDS validator. Raw recordings enter
# the DAG through key records (panneuro.compendium.datalad_io): annexed content may be absent or dropped.
from panneuro.simulate.study import expected_outputs, raw_dataset_files

SIMULATED = expected_outputs(SAMPLES, RAW, GT)
# Sessions simulated at once, one process each (the dataset does not depend on it).
SIMULATE_THREADS = THREADS["simulate"]
# Recordings converted to NWB for BIDS (rule convert_recording), with their sidecars.
CONVERTED_FILES = STUDY.all_converted_files()
if REMOTE_STORAGE:
    # every file goes to the bucket: the whole dataset is the simulation's output
    SIMULATED["raw"] = raw_dataset_files(SAMPLES, RAW)


if STUDY.raw_simulated:

    rule simulate_dataset:
        input:
            samples=config["samples"],
        output:
            raw=SIMULATED["raw"],
            truth=SIMULATED["truth"],
        log:
            f"{LOGS}/simulate_dataset.log",
        conda:
            CONDA_ENV
        threads: SIMULATE_THREADS
        resources:
            mem_mb=4000,
        params:
            **STUDY.config_params("simulate_dataset"),
        script:
            "../scripts/simulate_dataset.py"


rule raw_key:
    input:
        RAW_HANDLE,
    output:
        f"{datalad_io.KEY_DIR}/{{rawpath}}.json",
    log:
        f"{LOGS}/raw_key/{{rawpath}}.log",
    localrule: True
    conda:
        CONDA_ENV
    params:
        record=STUDY.raw_key_record,
    script:
        "../scripts/raw_key.py"


rule validate_bids:
    input:
        description=RAW_HANDLE,
        files=RAW_INPUTS,
        converted=CONVERTED_FILES,
    output:
        *with_provenance("results/qc/bids_validation.json"),
    log:
        f"{LOGS}/validate_bids.log",
    conda:
        CONDA_ENV
    params:
        **STUDY.bids_view_params(),
    script:
        "../scripts/validate_bids.py"
