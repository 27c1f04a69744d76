# ephys stage: per probe preprocessing -> spike sorting -> curation (-> ground-truth comparison
# on simulated data); per session the NWB file of curated units; figure 2.
from types import SimpleNamespace

from panneuro.ephys.sorting import estimate_resources, preset_probe_size

EPHYS = "results/ephys/sub-{subject}/ses-{session}/acq-{probe}"
EPHYS_THREADS = 2
# Ground truth of a probe (written by the simulation beside the raw dataset).
GT_PROBE = f"{GT}/sub-{{subject}}/ses-{{session}}/sub-{{subject}}_ses-{{session}}_acq-{{probe}}"
# Every probe of the sheet (figure 2), labels and regions in the same order.
EPHYS_PROBES = probes()
EPHYS_LABELS = [f"{s} {ses} {p}" for s, ses, p in EPHYS_PROBES]
EPHYS_REGIONS = [
    recording_row(SimpleNamespace(subject=s, session=ses, probe=p))["region"]
    for s, ses, p in EPHYS_PROBES
]
EPHYS_DIRS = [f"results/ephys/sub-{s}/ses-{ses}/acq-{p}" for s, ses, p in EPHYS_PROBES]


rule preprocess_probe:
    input:
        recording=recording_file,
        companions=recording_companions,
    output:
        **with_provenance(
            folder=directory(f"{EPHYS}/preprocessed"),
        ),
    log:
        f"{LOGS}/preprocess_probe/sub-{{subject}}_ses-{{session}}_acq-{{probe}}.log",
    conda:
        CONDA_ENV
    threads: EPHYS_THREADS
    resources:
        mem_mb=heavy_mem_mb,
        runtime=heavy_runtime,
    params:
        format=lambda wc: recording_row(wc)["format"],
        preprocessing=config["ephys"]["preprocessing"],
        chunk_duration=config["ephys"]["chunk_duration"],
    script:
        "../scripts/preprocess_probe.py"


rule sort_probe:
    input:
        recording=f"{EPHYS}/preprocessed",
    output:
        **with_provenance(
            folder=directory(f"{EPHYS}/sorting"),
        ),
    log:
        f"{LOGS}/sort_probe/sub-{{subject}}_ses-{{session}}_acq-{{probe}}.log",
    conda:
        CONDA_ENV
    threads: EPHYS_THREADS
    resources:
        mem_mb=heavy_mem_mb,
        runtime=heavy_runtime,
    params:
        sorting=lambda wc: config["ephys"]["sorting"][recording_row(wc)["datatype"]],
    script:
        "../scripts/sort_probe.py"


rule curate_units:
    input:
        recording=f"{EPHYS}/preprocessed",
        sorting=f"{EPHYS}/sorting",
    output:
        **with_provenance(
            metrics=f"{EPHYS}/metrics.tsv",
            waveforms=f"{EPHYS}/waveforms.npz",
        ),
    log:
        f"{LOGS}/curate_units/sub-{{subject}}_ses-{{session}}_acq-{{probe}}.log",
    conda:
        CONDA_ENV
    threads: EPHYS_THREADS
    resources:
        mem_mb=heavy_mem_mb,
        runtime=heavy_runtime,
    params:
        thresholds=config["ephys"]["curation"],
        chunk_duration=config["ephys"].get(
            "analyzer_chunk_duration", config["ephys"]["chunk_duration"]
        ),
    script:
        "../scripts/curate_units.py"


rule compare_ground_truth:
    input:
        sorting=f"{EPHYS}/sorting",
        metrics=f"{EPHYS}/metrics.tsv",
        gt_spikes=f"{GT_PROBE}_spikes.npz",
        gt_units=f"{GT_PROBE}_units.tsv",
    output:
        *with_provenance(f"{EPHYS}/gt_comparison.tsv"),
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
        raw=lambda wc: [
            recording_file(
                SimpleNamespace(subject=wc.subject, session=wc.session, probe=p)
            )
            for p in session_probes(wc)
        ],
        sortings=lambda wc: expand(
            f"{EPHYS}/sorting",
            subject=wc.subject,
            session=wc.session,
            probe=session_probes(wc),
        ),
        metrics=lambda wc: expand(
            f"{EPHYS}/metrics.tsv",
            subject=wc.subject,
            session=wc.session,
            probe=session_probes(wc),
        ),
        waveforms=lambda wc: expand(
            f"{EPHYS}/waveforms.npz",
            subject=wc.subject,
            session=wc.session,
            probe=session_probes(wc),
        ),
    output:
        *with_provenance("results/nwb/sub-{subject}_ses-{session}_units.nwb"),
    log:
        f"{LOGS}/export_session_nwb/sub-{{subject}}_ses-{{session}}.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=heavy_mem_mb,
        runtime=heavy_runtime,
    params:
        probes=session_probes,
        regions=lambda wc: [
            recording_row(
                SimpleNamespace(subject=wc.subject, session=wc.session, probe=p)
            )["region"]
            for p in session_probes(wc)
        ],
        species=lambda wc: recording_row(
            SimpleNamespace(
                subject=wc.subject, session=wc.session, probe=session_probes(wc)[0]
            )
        )["species"],
    script:
        "../scripts/export_session_nwb.py"


rule figure_sorting:
    input:
        metrics=[f"{d}/metrics.tsv" for d in EPHYS_DIRS],
        waveforms=[f"{d}/waveforms.npz" for d in EPHYS_DIRS],
        gt=(
            [f"{d}/gt_comparison.tsv" for d in EPHYS_DIRS]
            if ground_truth_available()
            else []
        ),
    output:
        **with_provenance(
            png=report(
                "results/figures/fig2_sorting.png",
                caption="../report/fig2_sorting.rst",
                category="Figures",
            ),
            pdf="results/figures/fig2_sorting.pdf",
        ),
    log:
        f"{LOGS}/figure_sorting/all.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        labels=EPHYS_LABELS,
        regions=EPHYS_REGIONS,
        well_detected_accuracy=config["ephys"]["ground_truth"]["well_detected_accuracy"],
    script:
        "../scripts/figure_sorting.py"
