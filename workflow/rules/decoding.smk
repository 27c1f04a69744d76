# Decoding stage: population decoding of task variables per session (time-resolved, with a
# permutation null and cluster-mass statistics), cross-condition generalisation of `stay`,
# model latents vs population codes, and figures 3, 5 and 6. Sessions need behaviour.
MACAQUE_UNIT_SESSIONS = STUDY.group_sessions("macaque")
HUMAN_UNIT_SESSIONS = STUDY.group_sessions("human")
UNIT_SESSIONS = STUDY.unit_sessions()
MACAQUE_DECODING = STUDY.session_results("decoding", MACAQUE_UNIT_SESSIONS)
MACAQUE_CCGP = STUDY.session_results("ccgp", MACAQUE_UNIT_SESSIONS)
HUMAN_DECODING = STUDY.session_results("decoding", HUMAN_UNIT_SESSIONS)
HUMAN_CCGP = STUDY.session_results("ccgp", HUMAN_UNIT_SESSIONS)
LATENT_REGRESSIONS = STUDY.session_results("latents_regression", UNIT_SESSIONS)
# The per-session tables the rules below write (Study.session_results lists them).
DECODING = "results/decoding/sub-{subject}_ses-{session}_decoding.tsv"
CCGP = "results/decoding/sub-{subject}_ses-{session}_ccgp.tsv"
PLANTED = "results/decoding/sub-{subject}_ses-{session}_planted.tsv"
ORACLE = "results/decoding/sub-{subject}_ses-{session}_oracle.tsv"
LATENT_REGRESSION = (
    "results/decoding/sub-{subject}_ses-{session}_latents_regression.tsv"
)
# Group-level decoding across the sessions of each species (figures 3 and 5).
GROUP_SPECIES = STUDY.group_species()
GROUP_DECODING = "results/decoding/group_{species}.tsv"
# Planted effects vs their ground truth, per session (simulated study only): the truth
# (the oracle) needs only the simulation, so it runs beside the sorting, not after it.
PLANTED_EFFECTS = (
    STUDY.session_results("planted", UNIT_SESSIONS) if STUDY.simulated else []
)


rule decode_session:
    input:
        units="results/nwb/sub-{subject}_ses-{session}_units.nwb",
        events=events_file,
    output:
        **with_provenance(decoding=DECODING, ccgp=CCGP),
    log:
        f"{LOGS}/decode_session/sub-{{subject}}_ses-{{session}}.log",
    conda:
        CONDA_ENV
    threads: THREADS["decoding"]
    params:
        **STUDY.config_params("decode_session"),
    script:
        "../scripts/decode_session.py"


rule decoding_oracle:
    input:
        unpack(STUDY.oracle_inputs),
    output:
        **with_provenance(oracle=ORACLE),
    log:
        f"{LOGS}/decoding_oracle/sub-{{subject}}_ses-{{session}}.log",
    conda:
        CONDA_ENV
    # the replicates shared among this many processes (same table whatever the count)
    threads: THREADS["decoding"]
    params:
        **STUDY.config_params("decoding_oracle"),
    script:
        "../scripts/decoding_oracle.py"


rule planted_effects:
    input:
        unpack(STUDY.planted_inputs),
    output:
        **with_provenance(planted=PLANTED),
    log:
        f"{LOGS}/planted_effects/sub-{{subject}}_ses-{{session}}.log",
    conda:
        CONDA_ENV
    params:
        **STUDY.config_params("planted_effects"),
    script:
        "../scripts/planted_effects.py"


rule group_decoding:
    input:
        STUDY.group_decoding_inputs,
    output:
        *with_provenance(GROUP_DECODING),
    log:
        f"{LOGS}/group_decoding/{{species}}.log",
    conda:
        CONDA_ENV
    params:
        **STUDY.config_params("group_decoding"),
        sessions=STUDY.group_decoding_sessions,
    script:
        "../scripts/group_decoding.py"


rule regress_latents:
    input:
        units="results/nwb/sub-{subject}_ses-{session}_units.nwb",
        events=events_file,
        latents="results/model/sub-{subject}_ses-{session}_latents.tsv",
    output:
        *with_provenance(LATENT_REGRESSION),
    log:
        f"{LOGS}/regress_latents/sub-{{subject}}_ses-{{session}}.log",
    conda:
        CONDA_ENV
    params:
        **STUDY.config_params("regress_latents"),
    script:
        "../scripts/regress_latents.py"


rule figure_monkey_decoding:
    input:
        decoding=MACAQUE_DECODING,
        ccgp=MACAQUE_CCGP,
        group=GROUP_DECODING.format(species="macaque"),
    output:
        **with_provenance(**figure_files("results/figures/fig3_monkey_decoding")),
    log:
        f"{LOGS}/figure_monkey_decoding.log",
    conda:
        CONDA_ENV
    params:
        **STUDY.config_params("figure_monkey_decoding"),
        sessions=MACAQUE_UNIT_SESSIONS,
    script:
        "../scripts/figure_monkey_decoding.py"


rule figure_human_units:
    input:
        human=HUMAN_DECODING,
        human_ccgp=HUMAN_CCGP,
        monkey=MACAQUE_DECODING,
        monkey_ccgp=MACAQUE_CCGP,
        human_group=GROUP_DECODING.format(species="human"),
        monkey_group=GROUP_DECODING.format(species="macaque"),
    output:
        **with_provenance(**figure_files("results/figures/fig5_human_units")),
    log:
        f"{LOGS}/figure_human_units.log",
    conda:
        CONDA_ENV
    params:
        **STUDY.config_params("figure_human_units"),
        human_sessions=HUMAN_UNIT_SESSIONS,
        monkey_sessions=MACAQUE_UNIT_SESSIONS,
    script:
        "../scripts/figure_human_units.py"


rule figure_model:
    input:
        LATENT_REGRESSIONS,
    output:
        **with_provenance(**figure_files("results/figures/fig6_model")),
    log:
        f"{LOGS}/figure_model.log",
    conda:
        CONDA_ENV
    params:
        **STUDY.config_params("figure_model"),
        sessions=UNIT_SESSIONS,
        species=STUDY.session_species(UNIT_SESSIONS),
    script:
        "../scripts/figure_model.py"
