# Sleep stage (sheets with task-sleep runs 1 and 2 around a task session, on a probe the task
# recorded): per run the LFP's sharp-wave ripples (scored against the planted ones on the
# simulated study) and the task's curated units found by template matching in the run's
# preprocessed recording; per probe session the reactivation of the task's co-firing in the
# ripples after vs before the task (beside its realised truth); the group effect; figure 9.
# A sheet without sleep runs plans none of these jobs (panneuro.study.Study.sleep_runs).
from panneuro.study import SLEEP, SLEEP_EPHYS

SLEEP_RIPPLES = STUDY.sleep_run_files(f"{SLEEP}_run-{{run}}_ripples.tsv")
SLEEP_LFP = STUDY.sleep_run_files(f"{SLEEP}_run-{{run}}_lfp.npz")
SLEEP_SCORES = (
    STUDY.sleep_run_files(f"{SLEEP}_run-{{run}}_ripple_scores.tsv")
    if STUDY.simulated
    else []
)
SLEEP_PLANTED = (
    STUDY.sleep_run_files(
        f"{GT}/sub-{{subject}}/ses-{{session}}/sub-{{subject}}_ses-"
        "{session}_task-sleep_acq-{probe}_run-{run}_ripples.tsv"
    )
    if STUDY.simulated
    else []
)
SLEEP_REACTIVATION = STUDY.sleep_probe_files(f"{SLEEP}_reactivation.tsv")
SLEEP_EFFECTS = ["results/group/sleep_effects.tsv"] if STUDY.sleep_probes() else []
# Wildcards of a sleep run's outputs (outputs_over).
SLEEP_RUN_NAMES = ("subject", "session", "probe", "run")
# Everything the sleep stage makes besides its figure (rule all).
SLEEP_TARGETS = [*SLEEP_RIPPLES, *SLEEP_SCORES, *SLEEP_REACTIVATION, *SLEEP_EFFECTS]


rule preprocess_sleep:
    input:
        unpack(STUDY.sleep_inputs),
    output:
        **with_provenance(folder=directory(f"{SLEEP_EPHYS}/preprocessed")),
    log:
        f"{LOGS}/preprocess_sleep/sub-{{subject}}_ses-{{session}}_acq-{{probe}}_run-{{run}}.log",
    wildcard_constraints:
        run="[0-9]+",
    conda:
        CONDA_ENV
    threads: EPHYS_THREADS
    resources:
        mem_mb=heavy_mem_mb,
        runtime=heavy_runtime,
    params:
        format=STUDY.sleep_format,
        preprocessing=config["ephys"]["preprocessing"],
        chunk_duration=config["ephys"]["chunk_duration"],
    script:
        "../scripts/preprocess_probe.py"


rule match_sleep_units:
    input:
        recording=f"{SLEEP_EPHYS}/preprocessed",
        task_recording=f"{EPHYS}/preprocessed",
        task_sorting=f"{EPHYS}/sorting",
        task_metrics=f"{EPHYS}/metrics.tsv",
    output:
        **with_provenance(units=f"{SLEEP_EPHYS}/units.npz"),
    log:
        f"{LOGS}/match_sleep_units/sub-{{subject}}_ses-{{session}}_acq-{{probe}}_run-{{run}}.log",
    wildcard_constraints:
        run="[0-9]+",
    conda:
        CONDA_ENV
    threads: EPHYS_THREADS
    resources:
        mem_mb=heavy_mem_mb,
        runtime=heavy_runtime,
    params:
        method=config["sleep"]["matching_method"],
    script:
        "../scripts/match_sleep_units.py"


rule detect_ripples:
    input:
        unpack(STUDY.sleep_inputs),
    output:
        **with_provenance(
            ripples=f"{SLEEP}_run-{{run}}_ripples.tsv",
            lfp=f"{SLEEP}_run-{{run}}_lfp.npz",
        ),
    log:
        f"{LOGS}/detect_ripples/sub-{{subject}}_ses-{{session}}_acq-{{probe}}_run-{{run}}.log",
    wildcard_constraints:
        run="[0-9]+",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=heavy_mem_mb,
        runtime=heavy_runtime,
    params:
        format=STUDY.sleep_format,
        settings=config["sleep"],
    script:
        "../scripts/detect_ripples.py"


rule score_ripples:
    input:
        ripples=f"{SLEEP}_run-{{run}}_ripples.tsv",
        planted=(
            f"{GT}/sub-{{subject}}/ses-{{session}}/sub-{{subject}}_ses-{{session}}"
            "_task-sleep_acq-{probe}_run-{run}_ripples.tsv"
        ),
    output:
        *with_provenance(f"{SLEEP}_run-{{run}}_ripple_scores.tsv"),
    log:
        f"{LOGS}/score_ripples/sub-{{subject}}_ses-{{session}}_acq-{{probe}}_run-{{run}}.log",
    wildcard_constraints:
        run="[0-9]+",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        probe=STUDY.reactivation_params,
    script:
        "../scripts/score_ripples.py"


rule sleep_reactivation:
    input:
        unpack(STUDY.reactivation_inputs),
    output:
        *with_provenance(f"{SLEEP}_reactivation.tsv"),
    log:
        f"{LOGS}/sleep_reactivation/sub-{{subject}}_ses-{{session}}_acq-{{probe}}.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        probe=STUDY.reactivation_params,
        settings=config["sleep"],
    script:
        "../scripts/sleep_reactivation.py"


rule sleep_group:
    input:
        reactivation=SLEEP_REACTIVATION,
        scores=SLEEP_SCORES,
    output:
        *with_provenance("results/group/sleep_effects.tsv"),
    log:
        f"{LOGS}/sleep_group/all.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        settings=config["sleep"],
    script:
        "../scripts/sleep_group.py"


rule figure_sleep:
    input:
        lfp=SLEEP_LFP,
        ripples=SLEEP_RIPPLES,
        planted=SLEEP_PLANTED,
        scores=SLEEP_SCORES,
        reactivation=SLEEP_REACTIVATION,
        effects="results/group/sleep_effects.tsv",
    output:
        **with_provenance(
            png=report(
                "results/figures/fig9_sleep.png",
                caption="../report/fig9_sleep.rst",
                category="Figures",
            ),
            pdf="results/figures/fig9_sleep.pdf",
        ),
    log:
        f"{LOGS}/figure_sleep/all.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        labels=STUDY.sleep_run_labels(),
        example=STUDY.sleep_example_run(),
    script:
        "../scripts/figure_sleep.py"
