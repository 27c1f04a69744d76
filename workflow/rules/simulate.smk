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


rule validate_bids:
    input:
        description=f"{RAW}/dataset_description.json",
        files=[f"{RAW}/{path}" for path in SAMPLES["path"]],
    output:
        "results/qc/bids_validation.json",
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
