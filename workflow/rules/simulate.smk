# The embedded study: simulated from the seed in config into a BIDS DataLad dataset, with the
# ground truth beside it; then checked by the official BIDS validator.
from panneuro.simulate.study import expected_outputs

SIMULATED = expected_outputs(SAMPLES, RAW, GT)


if config["simulate"]:

    rule simulate_dataset:
        input:
            samples=config["samples"],
        output:
            raw=SIMULATED["raw"],
            truth=SIMULATED["truth"],
        params:
            raw_root=RAW,
            gt_root=GT,
            seed=config["seed"],
            size=SIZE,
            simulation=config["simulation"],
        log:
            f"{LOGS}/simulate_dataset.log",
        threads: 1
        resources:
            mem_mb=4000,
            runtime=30,
        conda:
            CONDA_ENV
        script:
            "../scripts/simulate_dataset.py"


rule validate_bids:
    input:
        [f"{RAW}/{path}" for path in SAMPLES["path"]],
        f"{RAW}/dataset_description.json",
    output:
        "results/qc/bids_validation.json",
    params:
        root=RAW,
    log:
        f"{LOGS}/validate_bids.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../scripts/validate_bids.py"
