# ephys stage: per probe (conversion of an acquisition format to NWB ->) preprocessing (its
# estimated motion beside it: motion.tsv, no rows when not corrected) -> spike sorting ->
# curation (-> ground-truth comparison on simulated data); per session the NWB file of curated
# units; figure 2.
EPHYS_THREADS = THREADS["ephys"]
EPHYS_PROBES = STUDY.probes()
# Every probe session gets its units NWB, with or without behaviour (a sorting-only lab).
UNIT_NWB = STUDY.session_files(
    "results/nwb/sub-{subject}_ses-{session}_units.nwb", STUDY.probe_sessions()
)


rule convert_recording:
    input:
        unpack(STUDY.convert_inputs),
    output:
        *with_provenance(*STUDY.converted_files("{subject}", "{session}", "{probe}")),
    log:
        f"{LOGS}/convert_recording/sub-{{subject}}_ses-{{session}}_acq-{{probe}}.log",
    conda:
        CONDA_ENV
    resources:
        **HEAVY_RESOURCES,
    params:
        recording=STUDY.convert_params,
    script:
        "../scripts/convert_recording.py"


rule preprocess_probe:
    input:
        unpack(STUDY.preprocess_inputs),
    output:
        **with_provenance(
            folder=directory(f"{EPHYS}/preprocessed"), motion=f"{EPHYS}/motion.tsv"
        ),
    log:
        f"{LOGS}/preprocess_probe/sub-{{subject}}_ses-{{session}}_acq-{{probe}}.log",
    conda:
        CONDA_ENV
    threads: EPHYS_THREADS
    resources:
        **HEAVY_RESOURCES,
    params:
        **STUDY.config_params("preprocess_probe"),
        format=STUDY.preprocess_format,
    script:
        "../scripts/preprocess_probe.py"


rule sort_probe:
    input:
        recording=f"{EPHYS}/preprocessed",
    output:
        **with_provenance(folder=directory(f"{EPHYS}/sorting")),
    log:
        f"{LOGS}/sort_probe/sub-{{subject}}_ses-{{session}}_acq-{{probe}}.log",
    conda:
        CONDA_ENV
    threads: EPHYS_THREADS
    resources:
        **HEAVY_RESOURCES,
    params:
        sorting=STUDY.sorting_params,
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
        **HEAVY_RESOURCES,
    params:
        **STUDY.config_params("curate_units"),
    script:
        "../scripts/curate_units.py"


rule compare_ground_truth:
    input:
        sorting=f"{EPHYS}/sorting",
        metrics=f"{EPHYS}/metrics.tsv",
        gt_spikes=f"{GT}/{GT_PROBE}_spikes.npz",
        gt_units=f"{GT}/{GT_PROBE}_units.tsv",
    output:
        *with_provenance(f"{EPHYS}/gt_comparison.tsv"),
    log:
        f"{LOGS}/compare_ground_truth/sub-{{subject}}_ses-{{session}}_acq-{{probe}}.log",
    conda:
        CONDA_ENV
    params:
        **STUDY.config_params("compare_ground_truth"),
    script:
        "../scripts/compare_ground_truth.py"


rule export_session_nwb:
    input:
        unpack(STUDY.session_nwb_inputs),
    output:
        *with_provenance("results/nwb/sub-{subject}_ses-{session}_units.nwb"),
    log:
        f"{LOGS}/export_session_nwb/sub-{{subject}}_ses-{{session}}.log",
    conda:
        CONDA_ENV
    resources:
        **HEAVY_RESOURCES,
    params:
        session=STUDY.session_nwb_params,
    script:
        "../scripts/export_session_nwb.py"


rule figure_sorting:
    input:
        unpack(STUDY.sorting_figure_inputs),
    output:
        **with_provenance(**figure_files("results/figures/fig2_sorting")),
    log:
        f"{LOGS}/figure_sorting/all.log",
    conda:
        CONDA_ENV
    params:
        **STUDY.config_params("figure_sorting"),
        labels=STUDY.probe_labels(),
        regions=STUDY.probe_regions(),
        drifting=STUDY.probe_labels(STUDY.drifting_probes()),
    script:
        "../scripts/figure_sorting.py"
