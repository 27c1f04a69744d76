# qc stage: the de-identification check of human data. It runs once every figure is made (so
# every result exists) and scans the raw dataset's sidecars and everything under results/ for
# names, birth dates, unshifted dates and free text (panneuro.compendium.deidentification).


# The figure rules of the figures the sheet supports (Study.figures).
FIGURE_OUTPUTS = outputs_of(
    FIGURES,
    {
        "fig1_behaviour": rules.figure_behaviour,
        "fig2_sorting": rules.figure_sorting,
        "fig3_monkey_decoding": rules.figure_monkey_decoding,
        "fig4_ecog": rules.figure_ecog,
        "fig5_human_units": rules.figure_human_units,
        "fig6_model": rules.figure_model,
        "fig7_learning_stages": rules.figure_learning_stages,
        "fig8_inactivation": rules.figure_inactivation,
        "fig9_sleep": rules.figure_sleep,
        "fig10_group_summary": rules.figure_group_summary,
    },
)


# Every result the check reads, declared: it reruns when one changes, and under remote storage
# it receives them all (the S3 test compares its report with the local run's).
CHECKED_RESULTS = [
    *outputs_over(rules.learning_set_curves),
    *outputs_over(rules.fit_model),
    *outputs_over(rules.fit_harlow),
    *outputs_over(rules.model_latents, UNIT_SESSIONS),
    *outputs_over(rules.convert_recording, STUDY.conversions()),
    *outputs_over(rules.preprocess_probe, EPHYS_PROBES),
    *outputs_over(rules.sort_probe, EPHYS_PROBES),
    *outputs_over(rules.curate_units, EPHYS_PROBES),
    *(
        outputs_over(rules.compare_ground_truth, EPHYS_PROBES)
        if STUDY.simulated
        else []
    ),
    *outputs_over(rules.export_session_nwb, STUDY.probe_sessions()),
    *outputs_over(rules.decode_session, UNIT_SESSIONS),
    *outputs_over(rules.regress_latents, UNIT_SESSIONS),
    *(outputs_over(rules.decoding_oracle, UNIT_SESSIONS) if STUDY.simulated else []),
    *(outputs_over(rules.planted_effects, UNIT_SESSIONS) if STUDY.simulated else []),
    *outputs_over(rules.group_decoding, GROUP_SPECIES, ("species",)),
    *outputs_over(rules.ccgp_oracle, CCGP_ORACLE_SESSIONS),
    *outputs_of(
        STUDY.group_analyses(),
        {
            "stage_effects": rules.stage_effects,
            "inactivation_effects": rules.inactivation_effects,
        },
    ),
    *outputs_over(rules.convert_ecog, STUDY.ecog_conversions()),
    *outputs_over(rules.high_gamma_epochs, ECOG_SESSIONS),
    *outputs_over(rules.ecog_statistics, ECOG_SESSIONS),
    *outputs_over(rules.ecog_stay_code, ECOG_SESSIONS),
    *outputs_over(rules.ecog_stay_oracle, ECOG_ORACLE_SESSIONS),
    *outputs_over(rules.validate_bids),
    *outputs_over(
        rules.convert_sleep_recording, STUDY.sleep_conversions(), SLEEP_RUN_NAMES
    ),
    *outputs_over(rules.preprocess_sleep, STUDY.sleep_runs(), SLEEP_RUN_NAMES),
    *outputs_over(rules.match_sleep_units, STUDY.sleep_runs(), SLEEP_RUN_NAMES),
    *outputs_over(rules.detect_ripples, STUDY.sleep_runs(), SLEEP_RUN_NAMES),
    *(
        outputs_over(rules.score_ripples, STUDY.sleep_runs(), SLEEP_RUN_NAMES)
        if STUDY.simulated
        else []
    ),
    *outputs_over(rules.sleep_reactivation, STUDY.sleep_probes()),
    *(outputs_over(rules.sleep_group) if STUDY.sleep_probes() else []),
    *FIGURE_OUTPUTS,
]


rule check_deidentification:
    input:
        results=CHECKED_RESULTS,
        bids="results/qc/bids_validation.json",
        raw=f"{RAW}/dataset_description.json",
        recordings=RAW_INPUTS,
    output:
        *with_provenance("results/qc/deidentification.json"),
    log:
        f"{LOGS}/check_deidentification.log",
    conda:
        CONDA_ENV
    script:
        "../scripts/check_deidentification.py"
