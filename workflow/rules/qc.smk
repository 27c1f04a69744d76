# qc stage: the de-identification check of human data. It runs once every figure is made (so
# every result exists) and scans the raw dataset's sidecars and everything under results/ for
# names, birth dates, unshifted dates and free text (panneuro.deidentification).


# Every result the check reads, declared: it reruns when one changes, and under remote storage
# it receives them all (the S3 test compares its report with the local run's).
CHECKED_RESULTS = [
    *outputs_over(rules.learning_set_curves),
    *outputs_over(rules.fit_model),
    *outputs_over(rules.fit_harlow),
    *outputs_over(rules.model_latents, UNIT_SESSIONS),
    *outputs_over(rules.preprocess_probe, EPHYS_PROBES),
    *outputs_over(rules.sort_probe, EPHYS_PROBES),
    *outputs_over(rules.curate_units, EPHYS_PROBES),
    *(
        outputs_over(rules.compare_ground_truth, EPHYS_PROBES)
        if ground_truth_available()
        else []
    ),
    *outputs_over(rules.export_session_nwb, UNIT_SESSIONS),
    *outputs_over(rules.decode_session, UNIT_SESSIONS),
    *outputs_over(rules.regress_latents, UNIT_SESSIONS),
    *(
        outputs_over(rules.planted_effects, UNIT_SESSIONS)
        if ground_truth_available()
        else []
    ),
    *outputs_over(rules.group_decoding, [(s,) for s in GROUP_SESSIONS], ("species",)),
    *outputs_over(rules.high_gamma_epochs, ECOG_SESSIONS),
    *outputs_over(rules.ecog_statistics, ECOG_SESSIONS),
    *outputs_over(rules.figure_behaviour),
    *outputs_over(rules.figure_sorting),
    *outputs_over(rules.figure_monkey_decoding),
    *outputs_over(rules.figure_ecog),
    *outputs_over(rules.figure_human_units),
    *outputs_over(rules.figure_model),
    *outputs_over(rules.validate_bids),
]


rule check_deidentification:
    input:
        results=CHECKED_RESULTS,
        bids="results/qc/bids_validation.json",
        raw=f"{RAW}/dataset_description.json",
        recordings=raw_inputs(SAMPLES),
    output:
        *with_provenance("results/qc/deidentification.json"),
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
