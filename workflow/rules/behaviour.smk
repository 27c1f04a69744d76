# behaviour stage: learning-set curves, the trial-2 regression, the learning-to-learn agent
# (per-subject fits, the Harlow 1949 fit, per-trial latents of recorded sessions) and figure 1.
# Behavioural (events) rows of the sample sheet, in sheet order.
BEHAVIOUR_ROWS = STUDY.rows("beh")
BEHAVIOUR_FILES = STUDY.behaviour_files()


rule learning_set_curves:
    input:
        events=BEHAVIOUR_FILES,
    output:
        **with_provenance(
            curves="results/behaviour/learning_set_curves.tsv",
            stats="results/behaviour/learning_statistics.tsv",
        ),
    log:
        f"{LOGS}/learning_set_curves/all.log",
    conda:
        CONDA_ENV
    params:
        **STUDY.config_params("learning_set_curves"),
        subjects=list(BEHAVIOUR_ROWS["subject"]),
        species=list(BEHAVIOUR_ROWS["species"]),
    script:
        "../scripts/learning_set_curves.py"


rule fit_model:
    input:
        events=BEHAVIOUR_FILES,
        truth=STUDY.agent_truths(),
    output:
        **with_provenance(parameters="results/model/parameters.tsv"),
    log:
        f"{LOGS}/fit_model/all.log",
    conda:
        CONDA_ENV
    params:
        **STUDY.config_params("fit_model"),
        subjects=list(BEHAVIOUR_ROWS["subject"]),
        species=list(BEHAVIOUR_ROWS["species"]),
        truth_subjects=STUDY.behaviour_subjects() if STUDY.simulated else [],
    script:
        "../scripts/fit_model.py"


rule fit_harlow:
    input:
        reference="resources/reference/learning_set_curves.csv",
    output:
        **with_provenance(fit="results/model/harlow_fit.json"),
    log:
        f"{LOGS}/fit_harlow/all.log",
    conda:
        CONDA_ENV
    params:
        **STUDY.config_params("fit_harlow"),
    script:
        "../scripts/fit_harlow.py"


rule model_latents:
    input:
        events=events_file,
        parameters="results/model/parameters.tsv",
    output:
        **with_provenance(
            latents="results/model/sub-{subject}_ses-{session}_latents.tsv"
        ),
    log:
        f"{LOGS}/model_latents/sub-{{subject}}_ses-{{session}}.log",
    conda:
        CONDA_ENV
    script:
        "../scripts/model_latents.py"


rule figure_behaviour:
    input:
        curves="results/behaviour/learning_set_curves.tsv",
        stats="results/behaviour/learning_statistics.tsv",
        parameters="results/model/parameters.tsv",
        harlow_fit="results/model/harlow_fit.json",
        reference="resources/reference/learning_set_curves.csv",
    output:
        **with_provenance(**figure_files("results/figures/fig1_behaviour")),
    log:
        f"{LOGS}/figure_behaviour/all.log",
    conda:
        CONDA_ENV
    params:
        **STUDY.config_params("figure_behaviour"),
    script:
        "../scripts/figure_behaviour.py"
