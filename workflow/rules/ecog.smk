# ecog stage: high-gamma epochs around feedback per ECoG session, outcome-responsive electrodes
# and outcome decoding, and figure 4 (with sensitivity / false discoveries on simulated data).


ECOG_SESSIONS = STUDY.ecog_sessions()
HIGH_GAMMA = "results/ecog/sub-{subject}_ses-{session}_high_gamma.npz"
ECOG_STATS = "results/ecog/sub-{subject}_ses-{session}_ecog_stats.json"


rule convert_ecog:
    input:
        unpack(STUDY.convert_ecog_inputs),
    output:
        *with_provenance(*STUDY.converted_ecog("{subject}", "{session}")),
    log:
        f"{LOGS}/convert_ecog/sub-{{subject}}_ses-{{session}}.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=heavy_mem_mb,
        runtime=heavy_runtime,
    params:
        line_frequency=config["ecog"]["line_frequency"],
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
    threads: 1
    resources:
        mem_mb=heavy_mem_mb,
        runtime=heavy_runtime,
    params:
        line_frequency=config["ecog"]["line_frequency"],
        reference=config["ecog"]["reference"],
        bad_channel_detection=config["ecog"]["bad_channel_detection"],
        band=config["ecog"]["high_gamma_band"],
        n_subbands=config["ecog"]["n_subbands"],
        envelope_sfreq=config["ecog"]["envelope_sfreq"],
        window=config["ecog"]["epoch_window"],
        baseline=config["ecog"]["baseline"],
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
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        seed=config["seed"],
        window=config["ecog"]["test_window"],
        alpha=config["ecog"]["alpha"],
        n_permutations=config["ecog"]["n_permutations"],
        decoding_bin=config["ecog"]["decoding_bin"],
        decoding_n_folds=config["ecog"]["decoding_n_folds"],
        decoding_n_permutations=config["ecog"]["decoding_n_permutations"],
    script:
        "../scripts/ecog_statistics.py"


rule figure_ecog:
    input:
        epochs=STUDY.session_files(HIGH_GAMMA, ECOG_SESSIONS),
        stats=STUDY.session_files(ECOG_STATS, ECOG_SESSIONS),
        truth=STUDY.ecog_truths(),
    output:
        **with_provenance(
            png=report(
                "results/figures/fig4_ecog.png",
                caption="../report/fig4_ecog.rst",
                category="Figures",
            ),
            pdf="results/figures/fig4_ecog.pdf",
            truth_table="results/ecog/ecog_groundtruth.tsv",
        ),
    log:
        f"{LOGS}/figure_ecog/all.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        labels=STUDY.session_labels(ECOG_SESSIONS),
    script:
        "../scripts/figure_ecog.py"
