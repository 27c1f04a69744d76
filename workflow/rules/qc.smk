# qc stage: the de-identification check of human data. It runs once every figure is made (so
# every result exists) and scans the raw dataset's sidecars and everything under results/ for
# names, birth dates, unshifted dates and free text (panneuro.deidentification).


rule check_deidentification:
    input:
        figures=expand(
            "results/figures/{figure}.{ext}", figure=FIGURES, ext=["pdf", "png"]
        ),
        bids="results/qc/bids_validation.json",
        raw=f"{RAW}/dataset_description.json",
        recordings=raw_inputs(SAMPLES),
    output:
        "results/qc/deidentification.json",
    log:
        f"{LOGS}/check_deidentification.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/check_deidentification.py"
