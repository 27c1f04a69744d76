# ephys stage: per probe preprocessing -> spike sorting -> curation (-> ground-truth comparison
# on simulated data); per session the NWB file of curated units; figure 2.
from types import SimpleNamespace

from panneuro.ephys.sorting import estimate_resources

EPHYS = "results/ephys/sub-{subject}/ses-{session}/acq-{probe}"
EPHYS_THREADS = 2
# Ground truth of a probe (written by the simulation beside the raw dataset).
GT_PROBE = f"{GT}/sub-{{subject}}/ses-{{session}}/sub-{{subject}}_ses-{{session}}_acq-{{probe}}"


def _probe_size(wildcards):
    """(channels, seconds) of a probe, from the size preset (the raw file may not exist yet)."""
    kind = recording_row(wildcards)["datatype"]
    duration = SIZE["recorded_problems"] * 6 * SIZE["trial_duration_s"]
    return int(SIZE[f"n_channels_{kind}"]), float(duration)


def _resources(stage, key):
    return lambda wildcards, attempt: estimate_resources(
        stage, *_probe_size(wildcards), attempt
    )[key]


def _probe_wildcards(wildcards, probe):
    return SimpleNamespace(
        subject=wildcards.subject, session=wildcards.session, probe=probe
    )


def _session_files(pattern):
    return lambda wildcards: [
        pattern.format(subject=wildcards.subject, session=wildcards.session, probe=p)
        for p in session_probes(wildcards)
    ]


def _probe_labels():
    return [f"{s} {ses} {p}" for s, ses, p in probes()]


def _probe_regions():
    return [
        recording_row(SimpleNamespace(subject=s, session=ses, probe=p))["region"]
        for s, ses, p in probes()
    ]


def _all_probe_files(name):
    return [f"results/ephys/sub-{s}/ses-{ses}/acq-{p}/{name}" for s, ses, p in probes()]


rule preprocess_probe:
    input:
        recording=recording_file,
    output:
        folder=directory(f"{EPHYS}/preprocessed"),
    log:
        f"{LOGS}/preprocess_probe/sub-{{subject}}_ses-{{session}}_acq-{{probe}}.log",
    conda:
        CONDA_ENV
    threads: EPHYS_THREADS
    resources:
        mem_mb=_resources("preprocess", "mem_mb"),
        runtime=_resources("preprocess", "runtime"),
    params:
        format=lambda wildcards: recording_row(wildcards)["format"],
        preprocessing=config["ephys"]["preprocessing"],
        chunk_duration=config["ephys"]["chunk_duration"],
    script:
        "../scripts/preprocess_probe.py"


rule sort_probe:
    input:
        recording=f"{EPHYS}/preprocessed",
    output:
        folder=directory(f"{EPHYS}/sorting"),
    log:
        f"{LOGS}/sort_probe/sub-{{subject}}_ses-{{session}}_acq-{{probe}}.log",
    conda:
        CONDA_ENV
    threads: EPHYS_THREADS
    resources:
        mem_mb=_resources("sort", "mem_mb"),
        runtime=_resources("sort", "runtime"),
    params:
        sorting=lambda wildcards: config["ephys"]["sorting"][
            recording_row(wildcards)["datatype"]
        ],
    script:
        "../scripts/sort_probe.py"


rule curate_units:
    input:
        recording=f"{EPHYS}/preprocessed",
        sorting=f"{EPHYS}/sorting",
    output:
        metrics=f"{EPHYS}/metrics.tsv",
        waveforms=f"{EPHYS}/waveforms.npz",
    log:
        f"{LOGS}/curate_units/sub-{{subject}}_ses-{{session}}_acq-{{probe}}.log",
    conda:
        CONDA_ENV
    threads: EPHYS_THREADS
    resources:
        mem_mb=_resources("curate", "mem_mb"),
        runtime=_resources("curate", "runtime"),
    params:
        thresholds=config["ephys"]["curation"],
        chunk_duration=config["ephys"]["chunk_duration"],
    script:
        "../scripts/curate_units.py"


rule compare_ground_truth:
    input:
        sorting=f"{EPHYS}/sorting",
        metrics=f"{EPHYS}/metrics.tsv",
        gt_spikes=f"{GT_PROBE}_spikes.npz",
        gt_units=f"{GT_PROBE}_units.tsv",
    output:
        f"{EPHYS}/gt_comparison.tsv",
    log:
        f"{LOGS}/compare_ground_truth/sub-{{subject}}_ses-{{session}}_acq-{{probe}}.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        ground_truth=config["ephys"]["ground_truth"],
    script:
        "../scripts/compare_ground_truth.py"


rule export_session_nwb:
    input:
        events=events_file,
        raw=lambda wildcards: [
            recording_file(_probe_wildcards(wildcards, p))
            for p in session_probes(wildcards)
        ],
        sortings=_session_files(f"{EPHYS}/sorting"),
        metrics=_session_files(f"{EPHYS}/metrics.tsv"),
        waveforms=_session_files(f"{EPHYS}/waveforms.npz"),
    output:
        "results/nwb/sub-{subject}_ses-{session}_units.nwb",
    log:
        f"{LOGS}/export_session_nwb/sub-{{subject}}_ses-{{session}}.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        probes=session_probes,
        regions=lambda wildcards: [
            recording_row(_probe_wildcards(wildcards, p))["region"]
            for p in session_probes(wildcards)
        ],
        species=lambda wildcards: recording_row(
            _probe_wildcards(wildcards, session_probes(wildcards)[0])
        )["species"],
    script:
        "../scripts/export_session_nwb.py"


rule figure_sorting:
    input:
        metrics=_all_probe_files("metrics.tsv"),
        waveforms=_all_probe_files("waveforms.npz"),
        gt=_all_probe_files("gt_comparison.tsv") if ground_truth_available() else [],
    output:
        png=report(
            "results/figures/fig2_sorting.png",
            caption="../report/fig2_sorting.rst",
            category="Figures",
        ),
        pdf="results/figures/fig2_sorting.pdf",
    log:
        f"{LOGS}/figure_sorting/all.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        labels=_probe_labels(),
        regions=_probe_regions(),
        well_detected_accuracy=config["ephys"]["ground_truth"]["well_detected_accuracy"],
    script:
        "../scripts/figure_sorting.py"
