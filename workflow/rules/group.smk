# Group stage: effects across the sessions of the study design (learning stages, inactivation),
# planned only when the raw dataset states the design (sub-X_sessions.tsv design columns) and
# has enough sessions (Study.group_plan), with their planted truth in the simulated study, and
# figures 7, 8 and 10.
from panneuro.study import GROUP_ANALYSES

GROUP_TABLES = STUDY.group_tables()
STAGE_EFFECTS, STAGE_SCORES = GROUP_ANALYSES["stage_effects"]
INACTIVATION_EFFECTS, INACTIVATION_SCORES = GROUP_ANALYSES["inactivation_effects"]
CCGP_ORACLE_SESSIONS = STUDY.ccgp_oracle_sessions()
ECOG_ORACLE_SESSIONS = STUDY.ecog_oracle_sessions()
# Every target of the group stage (the `all` rule asks for these; figures go through FIGURES).
GROUP_TARGETS = [
    *GROUP_TABLES,
    *STUDY.session_results("ccgp_oracle", CCGP_ORACLE_SESSIONS),
    *STUDY.session_files(ECOG_CCGP_ORACLE, ECOG_ORACLE_SESSIONS),
]


rule ccgp_oracle:
    input:
        unpack(STUDY.ccgp_oracle_inputs),
    output:
        *with_provenance("results/decoding/sub-{subject}_ses-{session}_ccgp_oracle.tsv"),
    log:
        f"{LOGS}/ccgp_oracle/sub-{{subject}}_ses-{{session}}.log",
    conda:
        CONDA_ENV
    params:
        **STUDY.config_params("ccgp_oracle"),
        sampling_frequency=STUDY.sampling_frequency,
    script:
        "../scripts/ccgp_oracle.py"


rule ecog_stay_oracle:
    input:
        unpack(STUDY.ecog_stay_oracle_inputs),
    output:
        *with_provenance(ECOG_CCGP_ORACLE),
    log:
        f"{LOGS}/ecog_stay_oracle/sub-{{subject}}_ses-{{session}}.log",
    conda:
        CONDA_ENV
    # the replicates shared among this many processes (same table whatever the count)
    threads: THREADS["decoding"]
    params:
        **STUDY.config_params("ecog_stay_oracle"),
        region=STUDY.ecog_region,
    script:
        "../scripts/ecog_stay_oracle.py"


rule stage_effects:
    input:
        unpack(STUDY.stage_effects_inputs),
    output:
        **with_provenance(effects=STAGE_EFFECTS, scores=STAGE_SCORES),
    log:
        f"{LOGS}/stage_effects.log",
    conda:
        CONDA_ENV
    params:
        **STUDY.config_params("stage_effects"),
        group=STUDY.stage_effects_params,
    script:
        "../scripts/stage_effects.py"


rule inactivation_effects:
    input:
        unpack(STUDY.inactivation_effects_inputs),
    output:
        **with_provenance(effects=INACTIVATION_EFFECTS, scores=INACTIVATION_SCORES),
    log:
        f"{LOGS}/inactivation_effects.log",
    conda:
        CONDA_ENV
    params:
        **STUDY.config_params("inactivation_effects"),
        group=STUDY.inactivation_effects_params,
    script:
        "../scripts/inactivation_effects.py"


rule figure_learning_stages:
    input:
        effects=STAGE_EFFECTS,
        scores=STAGE_SCORES,
    output:
        **with_provenance(**figure_files("results/figures/fig7_learning_stages")),
    log:
        f"{LOGS}/figure_learning_stages.log",
    conda:
        CONDA_ENV
    script:
        "../scripts/figure_learning_stages.py"


rule figure_inactivation:
    input:
        effects=INACTIVATION_EFFECTS,
        scores=INACTIVATION_SCORES,
    output:
        **with_provenance(**figure_files("results/figures/fig8_inactivation")),
    log:
        f"{LOGS}/figure_inactivation.log",
    conda:
        CONDA_ENV
    script:
        "../scripts/figure_inactivation.py"


rule figure_group_summary:
    input:
        STUDY.group_effect_tables(),
    output:
        **with_provenance(**figure_files("results/figures/fig10_group_summary")),
    log:
        f"{LOGS}/figure_group_summary.log",
    conda:
        CONDA_ENV
    script:
        "../scripts/figure_group_summary.py"
