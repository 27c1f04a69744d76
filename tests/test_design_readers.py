"""Tests of panneuro.results.design_readers: the study design's tables of a run, as planned."""

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from compendium import ROOT

from panneuro.io.tables import write_tsv
from panneuro.results import (
    Run,
    open_run,
    read_group_effects,
    read_inactivation_scores,
    read_reactivation,
    read_ripple_scores,
    read_stage_scores,
)
from panneuro.sleep.sleep_runs import REACTIVATION_COLUMNS, RIPPLE_SCORE_COLUMNS, ripple_score
from panneuro.stats.design_effects import EFFECT_COLUMNS
from panneuro.stats.session_scores import (
    annotate,
    inactivation_scores,
    read_session_design,
    session_rates,
    session_stay_scores,
    trial2_table,
)

# A lab's run: two macaques, control sessions early and middle and an inactivation session at
# the middle stage (the design in sub-X_sessions.tsv), sleep runs around M1's first session.
HEAD = "subject\tsession\tspecies\tdatatype\tprobe\tregion\tpath\tformat\ttask\trun\n"
DESIGN = {"01": ("control", "early"), "02": ("control", "middle"), "03": ("inactivation", "middle")}


def _sheet() -> str:
    rows = []
    for subject in ("M1", "M2"):
        for session in DESIGN:
            stem = f"sub-{subject}/ses-{session}"
            rows.append(
                f"{subject}\t{session}\tmacaque\tbeh\tn/a\tn/a\t{stem}_events.tsv\ttsv\tharlow\tn/a"
            )
            rows.append(
                f"{subject}\t{session}\tmacaque\tarray\tHPC\thippocampus\t{stem}.nwb"
                "\tnwb\tharlow\tn/a"
            )
    rows += [
        f"M1\t01\tmacaque\tarray\tHPC\thippocampus\tsleep{r}.nwb\tnwb\tsleep\t{r}"
        for r in ("1", "2")
    ]
    return HEAD + "\n".join(rows) + "\n"


def _write_sessions(raw: Path, subject: str) -> Path:
    table = pd.DataFrame(
        [
            {
                "session_id": f"ses-{s}",
                "condition": c,
                "inactivated_region": "hippocampus" if c == "inactivation" else "n/a",
                "learning_stage": stage,
                "first_problem": 1,
                "last_problem": 40,
            }
            for s, (c, stage) in DESIGN.items()
        ]
    )
    path = raw / f"sub-{subject}" / f"sub-{subject}_sessions.tsv"
    path.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(path, sep="\t", index=False)
    return path


@pytest.fixture
def compendium(tmp_path):
    """A compendium folder: the repository's config and sheets."""
    (tmp_path / "Snakefile").write_text("# stand-in\n")
    shutil.copytree(ROOT / "config", tmp_path / "config")
    return tmp_path


@pytest.fixture
def lab_run(compendium, monkeypatch):
    """A lab's run (not simulated) whose raw dataset states the design; the cwd elsewhere."""
    (compendium / "config" / "lab.tsv").write_text(_sheet())
    for subject in ("M1", "M2"):
        _write_sessions(compendium / "resources" / "raw", subject)
    elsewhere = compendium / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the design is read in the run's folder, not the cwd
    return open_run(compendium, overrides={"simulate": False, "samples": "config/lab.tsv"})


def _effects(effect: str, n: int = 2) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "effect": effect,
                "species": "macaque",
                "region": "hippocampus",
                "estimate": 0.1 * i,
                "ci_low": -1.0,
                "ci_high": 1.0,
                "p_value": 0.5,
                "method": "subject_t_test",
                "n_subjects": 2,
                "n_sessions": 4,
                "truth": float("nan"),
                "truth_in_ci": None,
            }
            for i in range(n)
        ]
    )


def _assert_lacks(read, run, name: str, missing: list[str], rule: str) -> None:
    """``read(run)`` names the table, the columns it lacks and the rule to rerun."""
    lacks = rf"{name}: lacks the column\(s\) {re.escape(str(missing))}.*--forcerun {rule}"
    with pytest.raises(ValueError, match=lacks):
        read(run)


def test_a_run_without_design_or_sleep_runs_reads_empty_tables(compendium):
    run = open_run(compendium)  # the shipped sheet and size: no design, no sleep runs
    effects = read_group_effects(run)
    assert effects.empty and list(effects.columns) == ["table", *EFFECT_COLUMNS]
    stage, inactivation = read_stage_scores(run), read_inactivation_scores(run)
    assert stage.empty and {
        "subject",
        "session",
        "region",
        "epoch",
        "ccgp",
        "cv",
        "ccgp_truth",
        "learning_stage",
    } <= set(stage.columns)
    assert inactivation.empty and {
        "log_rate",
        "n_units_kept",
        "trial2_accuracy",
        "inactivated",
    } <= set(inactivation.columns)
    ripples, reactivation = read_ripple_scores(run), read_reactivation(run)
    assert ripples.empty and list(ripples.columns) == list(RIPPLE_SCORE_COLUMNS)
    assert reactivation.empty and list(reactivation.columns) == list(REACTIVATION_COLUMNS)


def test_group_effects_of_a_lab_run_are_stacked_and_checked(lab_run):
    group = lab_run.path("results", "group")
    with pytest.raises(FileNotFoundError, match=r"stage_effects rule makes it") as error:
        read_group_effects(lab_run)
    assert "snakemake results/group/stage_effects.tsv" in str(error.value)
    group.mkdir(parents=True)
    for name in ("stage", "inactivation", "sleep"):
        write_tsv(_effects(f"{name}_effect"), group / f"{name}_effects.tsv")
    effects = read_group_effects(lab_run)
    assert list(effects.columns) == ["table", *EFFECT_COLUMNS]
    assert (
        effects["table"].tolist()
        == ["stage_effects"] * 2 + ["inactivation_effects"] * 2 + ["sleep_effects"] * 2
    )
    assert effects["estimate"].tolist() == pytest.approx([0.0, 0.1] * 3)
    write_tsv(_effects("x").drop(columns=["truth", "truth_in_ci"]), group / "sleep_effects.tsv")
    _assert_lacks(
        read_group_effects, lab_run, "sleep_effects.tsv", ["truth", "truth_in_ci"], "sleep_group"
    )


def test_session_scores_of_a_lab_run(lab_run):
    with pytest.raises(FileNotFoundError, match="inactivation_effects rule makes it"):
        read_inactivation_scores(lab_run)
    design = read_session_design(sorted(lab_run.root.glob("resources/raw/sub-*/*.tsv")))
    ccgp = pd.DataFrame(
        [
            {
                "region": "hippocampus",
                "n_units": 5,
                "epoch": epoch,
                "analysis": analysis,
                "score": 0.6,
            }
            for epoch in ("early", "late")
            for analysis in ("ccgp", "cv")
        ]
    )
    scores = annotate(
        session_stay_scores({("M1", "01"): ccgp, ("M2", "02"): ccgp}),
        design,
        {"M1": "macaque", "M2": "macaque"},
    )
    lab_run.path("results", "group").mkdir(parents=True)
    write_tsv(scores, lab_run.path("results", "group", "stage_scores.tsv"))
    stage = read_stage_scores(lab_run)
    assert list(stage.columns) == list(scores.columns)
    assert stage["session"].tolist() == ["01"] * 3 + ["02"] * 3  # labels, not numbers
    assert stage["ccgp"].tolist() == pytest.approx(scores["ccgp"].tolist())
    empty = inactivation_scores(
        session_stay_scores({}), session_rates({}), trial2_table({}, design), design, {}
    )
    write_tsv(empty, lab_run.path("results", "group", "inactivation_scores.tsv"))
    assert list(read_inactivation_scores(lab_run).columns) == list(empty.columns)
    write_tsv(
        scores.drop(columns=["cv_truth"]), lab_run.path("results", "group", "stage_scores.tsv")
    )
    _assert_lacks(read_stage_scores, lab_run, "stage_scores.tsv", ["cv_truth"], "stage_effects")


def test_sleep_tables_of_a_lab_run(lab_run):
    assert read_ripple_scores(lab_run).empty  # no planted ripples to score against
    with pytest.raises(FileNotFoundError, match="sleep_reactivation rule makes it"):
        read_reactivation(lab_run)
    table = pd.DataFrame(
        [
            dict.fromkeys(REACTIVATION_COLUMNS, 0.5)
            | {
                "subject": "M1",
                "session": "01",
                "probe": "HPC",
                "species": "macaque",
                "region": "hippocampus",
                "method": method,
            }
            for method in ("ev", "assembly")
        ]
    )
    write_tsv(table, lab_run.path("results", "sleep", "sub-M1_ses-01_acq-HPC_reactivation.tsv"))
    reactivation = read_reactivation(lab_run)
    assert list(reactivation.columns) == list(REACTIVATION_COLUMNS)
    assert reactivation["session"].tolist() == ["01", "01"]
    assert reactivation["method"].tolist() == ["ev", "assembly"]


def test_ripple_scores_of_the_simulated_design(compendium):
    run = open_run(compendium, overrides={"size": "paper", "samples": "config/samples_paper.tsv"})
    with pytest.raises(FileNotFoundError, match="score_ripples rule makes it"):
        read_ripple_scores(run)
    sleep = run.samples[run.samples["task"] == "sleep"]
    ripples = pd.DataFrame({"start_time": [1.0, 5.0], "end_time": [1.05, 5.05]})
    for row in sleep.itertuples():
        key = {
            "subject": row.subject,
            "session": row.session,
            "probe": row.probe,
            "run": row.run,
            "species": row.species,
            "region": row.region,
        }
        write_tsv(
            ripple_score(ripples, ripples.iloc[:1], key),
            run.path(
                "results",
                "sleep",
                f"sub-{row.subject}_ses-{row.session}_acq-{row.probe}_run-{row.run}"
                "_ripple_scores.tsv",
            ),
        )
    scores = read_ripple_scores(run)
    assert list(scores.columns) == list(RIPPLE_SCORE_COLUMNS) and len(scores) == len(sleep)
    assert (
        scores[["subject", "session", "probe", "run"]].values.tolist()
        == sleep[["subject", "session", "probe", "run"]].values.tolist()
    )
    assert scores["recall"].tolist() == pytest.approx([1.0] * len(sleep))
    assert scores["precision"].tolist() == pytest.approx([0.5] * len(sleep))


class _Bucket:
    """A stand-in for S3Prefix: objects are the files of a local folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def local_copy(self, path) -> Path:
        target = self.folder / Path(path)
        if not target.is_file():
            raise FileNotFoundError(f"{path}: not in the bucket.")
        return target


def test_a_lab_run_in_a_bucket_reads_its_design_from_the_bucket(lab_run):
    bucket = Run(
        root=Path("/bucket/prefix"),
        config=lab_run.config,
        samples=lab_run.samples,
        store=_Bucket(lab_run.root),
    )
    with pytest.raises(FileNotFoundError, match="stage_effects rule makes it"):
        read_group_effects(bucket)  # planned: the design came from the bucket's files
    for path in lab_run.root.glob("resources/raw/sub-M2/*.tsv"):
        path.unlink()
    # one subject states no design: no stage or inactivation effects, the sleep effects only
    with pytest.raises(FileNotFoundError, match="sleep_effects.tsv.*sleep_group rule makes it"):
        read_group_effects(bucket)
    assert read_stage_scores(bucket).empty and read_inactivation_scores(bucket).empty
