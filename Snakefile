# panneuro: learning to learn across primate species and brain regions.
# Regenerates every figure of the paper from the raw BIDS dataset; see README.md.


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/simulate.smk"
include: "workflow/rules/behaviour.smk"
include: "workflow/rules/ephys.smk"
include: "workflow/rules/ecog.smk"
include: "workflow/rules/decoding.smk"
include: "workflow/rules/group.smk"
include: "workflow/rules/sleep.smk"
include: "workflow/rules/qc.smk"


report: "workflow/report/workflow.rst"


rule all:
    default_target: True
    input:
        expand("results/figures/{figure}.{ext}", figure=FIGURES, ext=["pdf", "png"]),
        "results/qc/bids_validation.json",
        "results/qc/deidentification.json",
        PLANTED_EFFECTS,
        GROUP_TARGETS,
        UNIT_NWB,
        SLEEP_TARGETS,
        ECOG_STAY_TARGETS,
