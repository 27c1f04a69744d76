# ecog stage: high-gamma epochs around feedback per ECoG session, outcome-responsive electrodes
# and outcome decoding, and figure 4 (with sensitivity / false discoveries on simulated data);
# the stay code (CCGP and CV accuracy on high gamma, as for units) per ECoG session.
from panneuro.study import ECOG_CCGP, ECOG_CCGP_ORACLE

ECOG_SESSIONS = STUDY.ecog_sessions()
HIGH_GAMMA = "results/ecog/sub-{subject}_ses-{session}_high_gamma.npz"
ECOG_STATS = "results/ecog/sub-{subject}_ses-{session}_ecog_stats.json"
ECOG_STAY_TARGETS = STUDY.session_files(ECOG_CCGP, ECOG_SESSIONS)


rule convert_ecog:
    input:
        unpack(STUDY.convert_ecog_inputs),
    output:
        *with_provenance(*STUDY.converted_ecog("{subject}", "{session}")),
    log:
        f"{LOGS}/convert_ecog/sub-{{subject}}_ses-{{session}}.log",
    conda:
        CONDA_ENV
    resources:
        **HEAVY_RESOURCES,
    params:
        **STUDY.config_params("convert_ecog"),
    script:
        "../scripts/convert_ecog.py"


rule high_gamma_epochs:
    input:
        unpack(STUDY.high_gamma_inputs),
    output:
        *with_provenance(HIGH_GAMMA),
    log:
        f"{LOGS}/high_gamma_epochs/sub-{{subject}}_ses-{{session}}.log",
    conda:
        CONDA_ENV
    resources:
        **HEAVY_RESOURCES,
    params:
        **STUDY.config_params("high_gamma_epochs"),
    script:
        "../scripts/high_gamma_epochs.py"


rule ecog_statistics:
    input:
        HIGH_GAMMA,
    output:
        *with_provenance(ECOG_STATS),
    log:
        f"{LOGS}/ecog_statistics/sub-{{subject}}_ses-{{session}}.log",
    conda:
        CONDA_ENV
    params:
        **STUDY.config_params("ecog_statistics"),
    script:
        "../scripts/ecog_statistics.py"


rule figure_ecog:
    input:
        epochs=STUDY.session_files(HIGH_GAMMA, ECOG_SESSIONS),
        stats=STUDY.session_files(ECOG_STATS, ECOG_SESSIONS),
        truth=STUDY.ecog_truths(),
    output:
        **with_provenance(
            **figure_files("results/figures/fig4_ecog"),
            truth_table="results/ecog/ecog_groundtruth.tsv",
        ),
    log:
        f"{LOGS}/figure_ecog/all.log",
    conda:
        CONDA_ENV
    params:
        labels=STUDY.session_labels(ECOG_SESSIONS),
    script:
        "../scripts/figure_ecog.py"


rule ecog_stay_code:
    input:
        unpack(STUDY.high_gamma_inputs),
    output:
        *with_provenance(ECOG_CCGP),
    log:
        f"{LOGS}/ecog_stay_code/sub-{{subject}}_ses-{{session}}.log",
    conda:
        CONDA_ENV
    params:
        **STUDY.config_params("ecog_stay_code"),
        region=STUDY.ecog_region,
    script:
        "../scripts/ecog_stay_code.py"
