# behaviour stage: learning-set curves, the trial-2 regression, the learning-to-learn agent
# (per-subject fits, the Harlow 1949 fit, per-trial latents of recorded sessions) and figure 1.


def behaviour_beh_rows():
    """Sample-sheet rows of every behavioural (events) file, in sheet order."""
    return rows("beh")


def behaviour_subjects():
    """Subjects with behaviour, sorted."""
    return sorted(set(rows("beh")["subject"]))


def behaviour_latent_sessions():
    """(subject, session) of every session with a probe or an ECoG recording."""
    ecog = set(zip(rows("ecog")["subject"], rows("ecog")["session"]))
    return sorted(set(probe_sessions()) | ecog)


def behaviour_latent_files():
    """The per-trial latents the decoding and ECoG stages use."""
    return [
        f"results/model/sub-{s}_ses-{ses}_latents.tsv"
        for s, ses in behaviour_latent_sessions()
    ]


rule learning_set_curves:
    input:
        events=[raw_path(r) for _, r in behaviour_beh_rows().iterrows()],
    output:
        curves="results/behaviour/learning_set_curves.tsv",
        stats="results/behaviour/learning_statistics.tsv",
    log:
        f"{LOGS}/learning_set_curves/all.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=15,
    params:
        subjects=list(behaviour_beh_rows()["subject"]),
        species=list(behaviour_beh_rows()["species"]),
        block_size=config["behaviour"]["block_size"],
        n_bootstrap=config["behaviour"]["n_bootstrap"],
        seed=config["seed"],
    script:
        "../scripts/learning_set_curves.py"


rule fit_model:
    input:
        events=[raw_path(r) for _, r in behaviour_beh_rows().iterrows()],
        truth=(
            [f"{GT}/sub-{s}/sub-{s}_agent.json" for s in behaviour_subjects()]
            if ground_truth_available()
            else []
        ),
    output:
        parameters="results/model/parameters.tsv",
    log:
        f"{LOGS}/fit_model/all.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        subjects=list(behaviour_beh_rows()["subject"]),
        species=list(behaviour_beh_rows()["species"]),
        truth_subjects=behaviour_subjects() if ground_truth_available() else [],
        n_starts=config["behaviour"]["fit_n_starts"],
        seed=config["seed"],
    script:
        "../scripts/fit_model.py"


rule fit_harlow:
    input:
        reference="resources/reference/learning_set_curves.csv",
    output:
        fit="results/model/harlow_fit.json",
    log:
        f"{LOGS}/fit_harlow/all.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        trial_weights=config["behaviour"]["harlow_trial_weights"],
        n_starts=config["behaviour"]["harlow_n_starts"],
        seed=config["seed"],
    script:
        "../scripts/fit_harlow.py"


rule model_latents:
    input:
        events=events_file,
        parameters="results/model/parameters.tsv",
    output:
        latents="results/model/sub-{subject}_ses-{session}_latents.tsv",
    log:
        f"{LOGS}/model_latents/sub-{{subject}}_ses-{{session}}.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
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
        png=report(
            "results/figures/fig1_behaviour.png",
            caption="../report/fig1_behaviour.rst",
            category="Figures",
        ),
        pdf="results/figures/fig1_behaviour.pdf",
    log:
        f"{LOGS}/figure_behaviour/all.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        n_blocks=config["behaviour"]["figure_blocks"],
    script:
        "../scripts/figure_behaviour.py"
