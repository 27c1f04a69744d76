"""End to end: the study design (learning stages, inactivation, sleep, group statistics).

The rules of the design (``group.smk``, ``sleep.smk``, the CCGP oracle) run only when the raw
dataset states a design, which the tiny preset's single sessions do not: this module runs
``config/design_tiny.yaml`` once, as its comment tells a user to (two macaques with ``early,
late, late/inactivation`` recorded sessions and a behaviour-only inactivation between
behaviour-only controls, sleep around the recorded controls; one ECoG and two microwire
patients, with sleep) and checks what each group analysis recovers of its planted truth.
About 10 minutes on 2 cores (217 jobs).

The bounds are those the tiny sizes are powered for (measured on this design, see each
test): the behavioural inactivation cost, ripples and reactivation away from 0; every
interval around its truth. Each subject has one session per learning stage and one
inactivation beside one control here, so the bootstrap redraws each session's score from its
own standard error (the permutation null's s.d.; ``effect_rows``): before that (2026-12-06)
the prefrontal stay CCGP inactivation interval was [-0.144, -0.136] with truth -0.058, and the
stage slopes' intervals missed their truths.
"""

import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from compendium import ROOT, fresh_copy, snakemake

from panneuro.io.tables import read_tsv
from panneuro.simulate.design import design_samples, plan_design

OVERLAY = Path("config") / "design_tiny.yaml"


def test_committed_tiny_design_sheet_is_the_design_sheet():
    """The overlay names its sheet, and the sheet is the one its design plans (regenerate it with
    ``design_samples`` after changing the design)."""
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    overlay = yaml.safe_load((ROOT / OVERLAY).read_text())
    # the tiny preset with the overlay's design, as snakemake merges the two configs
    size = {**config["sizes"]["tiny"], **overlay["sizes"]["tiny"]}
    assert overlay["size"] == "tiny" and overlay["samples"] == size["design"]["samples"]
    committed = pd.read_csv(
        ROOT / size["design"]["samples"], sep="\t", dtype=str, keep_default_na=False
    )
    expected = design_samples(plan_design(size, config["simulation"]["agent"]))
    pd.testing.assert_frame_equal(committed, expected)


@pytest.fixture(scope="module")
def design_run(tmp_path_factory):
    """config/design_tiny.yaml run once in a fresh copy of the compendium on 2 cores."""
    workdir = fresh_copy(tmp_path_factory.mktemp("design"))
    result = snakemake(workdir, "--configfile", str(OVERLAY))
    assert result.returncode == 0, result.stderr[-6000:]
    return workdir


def _effects(run, name: str, method: str = "hierarchical_bootstrap") -> pd.DataFrame:
    table = read_tsv(run / "results" / "group" / f"{name}_effects.tsv")
    return table[table["method"] == method]


def _row(table: pd.DataFrame, **match) -> pd.Series:
    rows = table
    for column, value in match.items():
        rows = rows[rows[column].astype(str) == value]
    assert len(rows) == 1, f"{match}: {len(rows)} rows\n{table.to_string()}"
    return rows.iloc[0]


@pytest.mark.workflow
def test_design_run_writes_every_group_table_and_figure(design_run):
    group = design_run / "results" / "group"
    for name in ("stage", "inactivation"):
        for kind in ("effects", "scores"):
            assert (group / f"{name}_{kind}.tsv").stat().st_size > 0
    assert (group / "sleep_effects.tsv").stat().st_size > 0
    figures = design_run / "results" / "figures"
    for stem in (
        "fig7_learning_stages",
        "fig8_inactivation",
        "fig9_sleep",
        "fig10_group_summary",
    ):
        assert (figures / f"{stem}.png").stat().st_size > 10_000, stem
    # a CCGP oracle per recorded macaque session (3 each) and microwire session
    oracles = sorted((design_run / "results" / "decoding").glob("*_ccgp_oracle.tsv"))
    assert len(oracles) == 8, oracles


@pytest.mark.workflow
def test_inactivation_costs_trial2_accuracy_and_its_truth_is_in_the_interval(design_run):
    """Planted: trial-2 accuracy ~20 points lower under hippocampal inactivation (the prior odds
    of structure x 0.1), and the silenced hippocampus loses its task coding. Measured on this
    design (2026-12-06): trial 2 -0.238 [-0.311, -0.026], truth -0.189; hippocampal choice
    decoding -0.369 [-0.539, -0.202], truth -0.371 (the sessions' own errors redrawn)."""
    effects = _effects(design_run, "inactivation")
    row = _row(effects, effect="trial2_accuracy_difference", region="behaviour")
    assert row["estimate"] < -0.1, row.to_dict()
    assert row["ci_low"] <= row["truth"] <= row["ci_high"], row.to_dict()
    # the recorded late/inactivation session beside its late control gives the neural rows
    row = _row(effects, effect="decoding_choice_inactivation", region="hippocampus")
    assert row["estimate"] < -0.2, row.to_dict()
    assert row["ci_low"] <= row["truth"] <= row["ci_high"], row.to_dict()
    neural = effects[effects["region"] == "prefrontal"]
    assert len(neural) and np.isfinite(neural["truth"].astype(float)).all(), effects.to_string()
    # one inactivation beside one control per subject: the interval holds the sessions' own
    # sampling error (measured: -0.140 [-0.328, 0.065], truth -0.058)
    row = _row(effects, effect="stay_ccgp_inactivation", region="prefrontal")
    assert row["ci_high"] - row["ci_low"] > 0.1, row.to_dict()
    assert row["ci_low"] <= row["truth"] <= row["ci_high"], row.to_dict()


@pytest.mark.workflow
def test_session_standard_errors_match_the_oracles_monte_carlo_spread(design_run):
    """The s.e. the bootstrap redraws a session's score from (CCGP and CV: the permutation
    null's s.d. from its mean and 95th percentile) against the oracle's Monte Carlo s.d. of
    the same score under the planted model. Measured on this design: median ratio 0.91 (CCGP,
    54 rows, range 0.63-1.35) and 0.96 (CV, 28 rows)."""
    decoding = design_run / "results" / "decoding"
    keys = ["region", "epoch", "condition", "analysis"]
    parts = []
    for oracle in sorted(decoding.glob("*_ccgp_oracle.tsv")):
        scores = read_tsv(oracle.with_name(oracle.name.replace("_ccgp_oracle", "_ccgp")))
        parts.append(scores.merge(read_tsv(oracle)[[*keys, "truth_sd"]], on=keys))
    table = pd.concat(parts, ignore_index=True)
    ratio = (table["null_q95"] - table["null_mean"]) / 1.6448536269514722 / table["truth_sd"]
    for analysis, values in ratio.groupby(table["analysis"]):
        assert 0.75 <= values.median() <= 1.25, (analysis, values.describe())


@pytest.mark.workflow
def test_ripples_are_found_and_reactivation_is_stronger_after_the_task(design_run):
    """Planted: ripples in the hippocampal broadband of every sleep run; replay of the task's
    co-firing in 80 % of the ripples after the task against 10 % before. Measured on this
    design: recall and precision 1.0 in both species; macaque assembly reactivation after minus
    before 0.886 [0.125, 1.540], truth 0.711."""
    sleep = _effects(design_run, "sleep")
    for species in ("macaque", "human"):
        for effect in ("ripple_recall", "ripple_precision"):
            row = _row(sleep, species=species, effect=effect)
            assert float(row["estimate"]) >= 0.9, row.to_dict()
    row = _row(sleep, species="macaque", effect="reactivation_assembly_post_minus_pre")
    assert float(row["ci_low"]) > 0, row.to_dict()
    assert float(row["ci_low"]) <= float(row["truth"]) <= float(row["ci_high"]), row.to_dict()


@pytest.mark.workflow
def test_learning_stage_effects_cover_both_regions_and_species(design_run):
    stage = _effects(design_run, "stage")
    macaque = stage[stage["species"] == "macaque"]
    assert set(macaque["region"]) == {"prefrontal", "hippocampus"}, stage.to_string()
    assert set(macaque["effect"]) == {"stay_ccgp_stage_slope", "stay_cv_stage_slope"}
    assert (stage["species"] == "human").any(), stage.to_string()
    # every row carries the truth of its planted effect (from the CCGP oracle), inside its
    # interval (measured: hippocampus CCGP 0.068 [-0.025, 0.164] truth 0.038, CV 0.040
    # [-0.070, 0.143] truth 0.053; prefrontal 0.020 [-0.072, 0.119] truth 0.025, 0.045
    # [-0.065, 0.161] truth 0.034)
    assert np.isfinite(stage["truth"].astype(float)).all(), stage.to_string()
    # two macaques, two microwire patients; one ECoG patient (H1) in the tiny design
    ecog = stage["region"] == "temporal (ECoG)"
    assert (stage.loc[~ecog, "n_subjects"].astype(int) == 2).all(), stage.to_string()
    covered = (stage["ci_low"] <= stage["truth"]) & (stage["truth"] <= stage["ci_high"])
    assert covered[stage["species"] == "macaque"].all(), stage.to_string()


def test_the_ecog_patients_stay_code_grows_within_the_session(design_run):
    # The planted ECoG stay code follows the patient's learning-set prior: its late half
    # decodes stay better than its early half, by the oracle's truth and by the estimate.
    stage = _effects(design_run, "stage")
    ecog = stage[stage["region"] == "temporal (ECoG)"]
    assert set(ecog["effect"]) == {"stay_ccgp_late_minus_early", "stay_cv_late_minus_early"}
    assert (ecog["species"] == "human").all() and (ecog["n_subjects"].astype(int) == 1).all()
    truth = ecog["truth"].astype(float)
    assert (truth > 0.1).all(), ecog.to_string()  # planted: the code grows
    covered = (ecog["ci_low"] <= truth) & (truth <= ecog["ci_high"])
    assert covered.all(), ecog.to_string()
    assert (ecog["estimate"].astype(float) > 0).all(), ecog.to_string()
    oracle = read_tsv(design_run / "results/ecog/sub-H1_ses-01_ccgp_oracle.tsv")
    assert set(oracle["n_replicates"]) == {20} and set(oracle["region"]) == {"temporal"}


#: The group tables a lab's run of the design must give as the simulated run does.
GROUP_TABLES = ("stage_effects", "stage_scores", "inactivation_effects", "inactivation_scores")
#: The jobs a lab's run computes differently: the group analyses, and the reactivation tables
#: (the simulated study's hold the realised truth beside each estimate).
FORCED = ("stage_effects", "inactivation_effects", "sleep_reactivation", "sleep_group")
#: The simulated study's sleep effects that score ripples against the planted ones.
RIPPLE_SCORES = ("ripple_recall", "ripple_precision")


def _linked_copy(run: Path, workdir: Path) -> Path:
    """A copy of a finished run: code and snakemake's records copied, results and raw data as
    hard links (every writer replaces a file by renaming a new one, so the run's files stay
    as they are)."""
    shutil.copy(run / "Snakefile", workdir / "Snakefile")
    for folder in ("workflow", "config", ".snakemake"):
        shutil.copytree(run / folder, workdir / folder, symlinks=True)
    for folder in ("results", "resources"):
        shutil.copytree(run / folder, workdir / folder, symlinks=True, copy_function=os.link)
    return workdir


def _lab_sessions_file(path: Path) -> None:
    """Rewrite a simulated ``sub-X_sessions.tsv`` as a lab's own might be: its sessions last
    first, the design columns in another order, no ``acq_time``, an extra column of its own."""
    table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    table = table[
        ["session_id", "learning_stage", "condition", "inactivated_region"]
        + ["last_problem", "first_problem"]
    ].iloc[::-1]
    table.insert(2, "drug", np.where(table["condition"] == "inactivation", "muscimol", "n/a"))
    path.unlink()  # a hard link to the simulated run's file
    table.to_csv(path, sep="\t", index=False)


def _assert_same_but_truth(lab: pd.DataFrame, simulated: pd.DataFrame, name: str) -> None:
    """The lab's table is the simulated one with every truth column empty."""
    truths = [c for c in simulated.columns if c.endswith(("truth", "truth_in_ci"))]
    assert truths and list(lab.columns) == list(simulated.columns), (name, list(lab.columns))
    assert lab[truths].isna().all().all(), (name, lab[truths].to_string())
    pd.testing.assert_frame_equal(lab.drop(columns=truths), simulated.drop(columns=truths))


@pytest.mark.workflow
def test_a_labs_stated_design_gives_the_group_effects_without_truth(design_run, tmp_path):
    """A lab's run reads the design from its ``sub-X_sessions.tsv`` (``simulate=false``: no
    planned design, no truth): the group analyses and figures 7, 8 and 10 must come out of it,
    with the simulated run's estimates and intervals (the same sessions, the same seeds) and
    no truth. The run's per-session results are what a lab's run computes from these
    recordings, so instead of recomputing the whole DAG the copy keeps them and reruns the
    group analyses and the reactivation tables (:data:`FORCED`) and every job that reads the
    rewritten sessions files, with snakemake's modification-time trigger only (``raw_key``'s
    params name ``simulate``, which would redo every job). Measured 2026-12-07: 37 jobs, 70 s
    on 2 cores."""
    workdir = _linked_copy(design_run, tmp_path)
    for subject in ("M1", "M2"):
        _lab_sessions_file(workdir / "resources/raw" / f"sub-{subject}/sub-{subject}_sessions.tsv")
    result = snakemake(
        workdir,
        *("--configfile", str(OVERLAY), "--config", "size=tiny", "simulate=false"),
        *("--rerun-triggers", "mtime", "--forcerun", *FORCED),
    )
    assert result.returncode == 0, result.stderr[-6000:]
    assert "Traceback" not in result.stderr, result.stderr[-6000:]
    for name in GROUP_TABLES:
        simulated = read_tsv(design_run / "results/group" / f"{name}.tsv")
        lab = read_tsv(workdir / "results/group" / f"{name}.tsv")
        _assert_same_but_truth(lab, simulated, name)
    simulated = read_tsv(design_run / "results/group/sleep_effects.tsv")
    simulated = simulated[~simulated["effect"].isin(RIPPLE_SCORES)].reset_index(drop=True)
    lab = read_tsv(workdir / "results/group/sleep_effects.tsv")
    _assert_same_but_truth(lab, simulated, "sleep")
    for stem in ("fig7_learning_stages", "fig8_inactivation", "fig10_group_summary"):
        figure = workdir / "results/figures" / f"{stem}.png"
        assert figure.stat().st_ino != (design_run / figure.relative_to(workdir)).stat().st_ino
        assert figure.stat().st_size > 10_000, stem
