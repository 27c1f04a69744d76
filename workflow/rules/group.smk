# Group stage: effects across the sessions of the study design (learning stages, inactivation),
# planned only when the raw dataset states the design (sub-X_sessions.tsv design columns) and
# has enough sessions (Study.group_plan), with their planted truth in the simulated study, and
# figures 7, 8 and 10.
GROUP_TABLES = STUDY.group_tables()
CCGP_ORACLE_SESSIONS = STUDY.ccgp_oracle_sessions()
# Every target of the group stage (the `all` rule asks for these; figures go through FIGURES).
GROUP_TARGETS = [
    *GROUP_TABLES,
    *STUDY.session_results("ccgp_oracle", CCGP_ORACLE_SESSIONS),
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
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        settings=config["decoding"],
        n_replicates=STUDY.size.get(
            "oracle_replicates", config["decoding"]["oracle"]["n_replicates"]
        ),
        sampling_frequency=STUDY.sampling_frequency,
        seed=config["seed"],
    script:
        "../scripts/ccgp_oracle.py"


rule stage_effects:
    input:
        unpack(STUDY.stage_effects_inputs),
    output:
        **with_provenance(
            effects="results/group/stage_effects.tsv",
            scores="results/group/stage_scores.tsv",
        ),
    log:
        f"{LOGS}/stage_effects.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        group=STUDY.stage_effects_params,
        seed=config["seed"],
    script:
        "../scripts/stage_effects.py"


rule inactivation_effects:
    input:
        unpack(STUDY.inactivation_effects_inputs),
    output:
        **with_provenance(
            effects="results/group/inactivation_effects.tsv",
            scores="results/group/inactivation_scores.tsv",
        ),
    log:
        f"{LOGS}/inactivation_effects.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        group=STUDY.inactivation_effects_params,
        bin_size=config["decoding"]["bin_size"],
        seed=config["seed"],
    script:
        "../scripts/inactivation_effects.py"


rule figure_learning_stages:
    input:
        effects="results/group/stage_effects.tsv",
        scores="results/group/stage_scores.tsv",
    output:
        **with_provenance(
            png=report(
                "results/figures/fig7_learning_stages.png",
                caption="../report/fig7_learning_stages.rst",
                category="Figures",
            ),
            pdf="results/figures/fig7_learning_stages.pdf",
        ),
    log:
        f"{LOGS}/figure_learning_stages.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/figure_learning_stages.py"


rule figure_inactivation:
    input:
        effects="results/group/inactivation_effects.tsv",
        scores="results/group/inactivation_scores.tsv",
    output:
        **with_provenance(
            png=report(
                "results/figures/fig8_inactivation.png",
                caption="../report/fig8_inactivation.rst",
                category="Figures",
            ),
            pdf="results/figures/fig8_inactivation.pdf",
        ),
    log:
        f"{LOGS}/figure_inactivation.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/figure_inactivation.py"


rule figure_group_summary:
    input:
        STUDY.group_effect_tables(),
    output:
        **with_provenance(
            png=report(
                "results/figures/fig10_group_summary.png",
                caption="../report/fig10_group_summary.rst",
                category="Figures",
            ),
            pdf="results/figures/fig10_group_summary.pdf",
        ),
    log:
        f"{LOGS}/figure_group_summary.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/figure_group_summary.py"
