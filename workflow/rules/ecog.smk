# ecog stage: high-gamma epochs around feedback per ECoG session, outcome-responsive electrodes
# and outcome decoding, and figure 4 (with sensitivity / false discoveries on simulated data).


ECOG_SESSIONS = list(zip(rows("ecog")["subject"], rows("ecog")["session"]))


rule high_gamma_epochs:
    input:
        ecog=ecog_file,
        events=events_file,
        companions=ecog_companions,
    output:
        *with_provenance("results/ecog/sub-{subject}_ses-{session}_high_gamma.npz"),
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
        "results/ecog/sub-{subject}_ses-{session}_high_gamma.npz",
    output:
        *with_provenance("results/ecog/sub-{subject}_ses-{session}_ecog_stats.json"),
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
        epochs=[
            f"results/ecog/sub-{s}_ses-{ses}_high_gamma.npz"
            for s, ses in ECOG_SESSIONS
        ],
        stats=[
            f"results/ecog/sub-{s}_ses-{ses}_ecog_stats.json"
            for s, ses in ECOG_SESSIONS
        ],
        truth=(
            [
                f"{GT}/sub-{s}/ses-{ses}/sub-{s}_ses-{ses}_ecog-truth.json"
                for s, ses in ECOG_SESSIONS
            ]
            if ground_truth_available()
            else []
        ),
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
        labels=[f"sub-{s} ses-{ses}" for s, ses in ECOG_SESSIONS],
    script:
        "../scripts/figure_ecog.py"
