# Sleep stage (sheets with task-sleep runs 1 and 2 around a task session, on a probe the task
# recorded): per run the LFP's sharp-wave ripples (scored against the planted ones on the
# simulated study) and the task's curated units found by template matching in the run's
# preprocessed recording; per probe session the reactivation of the task's co-firing in the
# ripples after vs before the task (beside its realised truth); the group effect; figure 9.
# A lab's sleep runs in an acquisition format are converted to NWB first, as task recordings.
# A sheet without sleep runs plans none of these jobs (panneuro.study.Study.sleep_runs).
from panneuro.study import (
    SLEEP,
    SLEEP_EPHYS,
    SLEEP_PROBE_REACTIVATION,
    SLEEP_RIPPLE_SCORES,
)

# One sleep run's ripples and LFP, and its planted ripples (simulated study).
SLEEP_RUN_RIPPLES = f"{SLEEP}_run-{{run}}_ripples.tsv"
SLEEP_RUN_LFP = f"{SLEEP}_run-{{run}}_lfp.npz"
PLANTED_RIPPLES = (
    f"{GT}/sub-{{subject}}/ses-{{session}}/sub-{{subject}}_ses-{{session}}"
    "_task-sleep_acq-{probe}_run-{run}_ripples.tsv"
)
SLEEP_RIPPLES = STUDY.sleep_run_files(SLEEP_RUN_RIPPLES)
SLEEP_LFP = STUDY.sleep_run_files(SLEEP_RUN_LFP)
SLEEP_SCORES = STUDY.sleep_run_files(SLEEP_RIPPLE_SCORES) if STUDY.simulated else []
SLEEP_PLANTED = STUDY.sleep_run_files(PLANTED_RIPPLES) if STUDY.simulated else []
SLEEP_REACTIVATION = STUDY.sleep_probe_files(SLEEP_PROBE_REACTIVATION)
SLEEP_EFFECTS = ["results/group/sleep_effects.tsv"] if STUDY.sleep_probes() else []
# Wildcards of a sleep run's outputs (outputs_over).
SLEEP_RUN_NAMES = ("subject", "session", "probe", "run")
# Everything the sleep stage makes besides its figure (rule all).
SLEEP_TARGETS = [*SLEEP_RIPPLES, *SLEEP_SCORES, *SLEEP_REACTIVATION, *SLEEP_EFFECTS]


rule convert_sleep_recording:
    input:
        unpack(STUDY.convert_sleep_inputs),
    output:
        *with_provenance(
            *STUDY.converted_sleep_files("{subject}", "{session}", "{probe}", "{run}")
        ),
    log:
        f"{LOGS}/convert_sleep_recording/sub-{{subject}}_ses-{{session}}_acq-{{probe}}_run-{{run}}.log",
    conda:
        CONDA_ENV
    resources:
        **HEAVY_RESOURCES,
    params:
        recording=STUDY.convert_sleep_params,
    script:
        "../scripts/convert_recording.py"


rule preprocess_sleep:
    input:
        unpack(STUDY.sleep_inputs),
    output:
        **with_provenance(
            folder=directory(f"{SLEEP_EPHYS}/preprocessed"),
            motion=f"{SLEEP_EPHYS}/motion.tsv",
        ),
    log:
        f"{LOGS}/preprocess_sleep/sub-{{subject}}_ses-{{session}}_acq-{{probe}}_run-{{run}}.log",
    conda:
        CONDA_ENV
    threads: EPHYS_THREADS
    resources:
        **HEAVY_RESOURCES,
    params:
        **STUDY.config_params("preprocess_sleep"),
        format=STUDY.sleep_format,
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
    conda:
        CONDA_ENV
    threads: EPHYS_THREADS
    resources:
        **HEAVY_RESOURCES,
    params:
        **STUDY.config_params("match_sleep_units"),
    script:
        "../scripts/match_sleep_units.py"


rule detect_ripples:
    input:
        unpack(STUDY.sleep_inputs),
    output:
        **with_provenance(ripples=SLEEP_RUN_RIPPLES, lfp=SLEEP_RUN_LFP),
    log:
        f"{LOGS}/detect_ripples/sub-{{subject}}_ses-{{session}}_acq-{{probe}}_run-{{run}}.log",
    conda:
        CONDA_ENV
    resources:
        **HEAVY_RESOURCES,
    params:
        **STUDY.config_params("detect_ripples"),
        format=STUDY.sleep_format,
    script:
        "../scripts/detect_ripples.py"


rule score_ripples:
    input:
        ripples=SLEEP_RUN_RIPPLES,
        planted=PLANTED_RIPPLES,
    output:
        *with_provenance(SLEEP_RIPPLE_SCORES),
    log:
        f"{LOGS}/score_ripples/sub-{{subject}}_ses-{{session}}_acq-{{probe}}_run-{{run}}.log",
    conda:
        CONDA_ENV
    params:
        probe=STUDY.reactivation_params,
    script:
        "../scripts/score_ripples.py"


rule sleep_reactivation:
    input:
        unpack(STUDY.reactivation_inputs),
    output:
        *with_provenance(SLEEP_PROBE_REACTIVATION),
    log:
        f"{LOGS}/sleep_reactivation/sub-{{subject}}_ses-{{session}}_acq-{{probe}}.log",
    conda:
        CONDA_ENV
    params:
        **STUDY.config_params("sleep_reactivation"),
        probe=STUDY.reactivation_params,
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
    params:
        **STUDY.config_params("sleep_group"),
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
        **with_provenance(**figure_files("results/figures/fig9_sleep")),
    log:
        f"{LOGS}/figure_sleep/all.log",
    conda:
        CONDA_ENV
    params:
        labels=STUDY.sleep_run_labels(),
        example=STUDY.sleep_example_run(),
    script:
        "../scripts/figure_sleep.py"
