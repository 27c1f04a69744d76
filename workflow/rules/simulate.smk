# The embedded study: simulated from the seed in config into a BIDS DataLad dataset, with the
# ground truth beside it; then checked by the official BIDS validator. Raw recordings enter
# the DAG through key records (panneuro.datalad_io): annexed content may be absent or dropped.
from panneuro.simulate.study import expected_outputs

SIMULATED = expected_outputs(SAMPLES, RAW, GT)
if REMOTE_STORAGE:
    # every file goes to the bucket: the whole dataset is the simulation's output
    SIMULATED["raw"] = raw_dataset_files(SAMPLES, RAW)


if RAW_SIMULATED:

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
        threads: 1
        resources:
            mem_mb=4000,
            runtime=30,
        params:
            seed=config["seed"],
            size=SIZE,
            simulation=config["simulation"],
        script:
            "../scripts/simulate_dataset.py"


rule raw_key:
    input:
        raw_handle(),
    output:
        f"{RAW_KEYS}/{{rawpath}}.json",
    log:
        f"{LOGS}/raw_key/{{rawpath}}.log",
    wildcard_constraints:
        rawpath=".+",
    localrule: True
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=200,
        runtime=1,
    params:
        record=raw_key_params,
    script:
        "../scripts/raw_key.py"


rule validate_bids:
    input:
        description=raw_handle(),
        files=raw_inputs(SAMPLES),
    output:
        *with_provenance("results/qc/bids_validation.json"),
    log:
        f"{LOGS}/validate_bids.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/validate_bids.py"
