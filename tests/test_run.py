"""Tests of panneuro.results.run: opening a compendium folder, its sessions and result paths."""

import shutil

import pytest
from compendium import ROOT

from panneuro.results import (
    ROOT_ENV,
    compendium_root,
    open_run,
    read_behaviour,
    read_sorting_summaries,
)

SHEET = """subject\tsession\tspecies\tdatatype\tprobe\tregion\tpath\tformat
M1\t01\tmacaque\tbeh\tn/a\tn/a\tm1_01.tsv\ttsv
M1\t01\tmacaque\tarray\tPFC\tprefrontal\tm1_01_pfc.nwb\tnwb
M1\t01\tmacaque\tarray\tHPC\thippocampus\tm1_01_hpc.nwb\tnwb
M1\t02\tmacaque\tbeh\tn/a\tn/a\tm1_02.tsv\ttsv
H1\t01\thuman\tbeh\tn/a\tn/a\th1.tsv\ttsv
H1\t01\thuman\tecog\tgrid\ttemporal\th1.vhdr\tbrainvision
H2\t01\thuman\tbeh\tn/a\tn/a\th2.tsv\ttsv
H2\t01\thuman\tmicrowire\tMW\thippocampus\th2.nwb\tnwb
"""


@pytest.fixture
def compendium(tmp_path):
    """A compendium folder: the repository's config with a small sample sheet of its own."""
    (tmp_path / "Snakefile").write_text("# stand-in\n")
    shutil.copytree(ROOT / "config", tmp_path / "config")
    (tmp_path / "config" / "samples.tsv").write_text(SHEET)
    return tmp_path


def test_compendium_root_takes_the_argument_then_the_environment(compendium, monkeypatch):
    monkeypatch.setenv(ROOT_ENV, str(compendium))
    assert compendium_root() == compendium.resolve()
    monkeypatch.delenv(ROOT_ENV)
    assert compendium_root() == ROOT
    assert compendium_root(compendium) == compendium.resolve()


def test_compendium_root_names_the_fix_when_there_is_no_snakefile(tmp_path):
    with pytest.raises(FileNotFoundError, match=f"no Snakefile.*set {ROOT_ENV}"):
        compendium_root(tmp_path)


def test_open_run_derives_the_sessions_the_rules_use(compendium):
    run = open_run(compendium)
    assert run.probes() == [("M1", "01", "PFC"), ("M1", "01", "HPC"), ("H2", "01", "MW")]
    assert run.probe_sessions() == [("H2", "01"), ("M1", "01")]
    assert run.probe_sessions(species="macaque") == [("M1", "01")]
    assert run.probe_sessions(("microwire",), "human") == [("H2", "01")]
    assert run.probe_sessions(("array",), "human") == []
    assert run.ecog_sessions() == [("H1", "01")]
    assert run.region("M1", "01", "HPC") == "hippocampus"
    assert run.species("H2", "01") == "human"
    with pytest.raises(ValueError, match="probe XYZ"):
        run.region("M1", "01", "XYZ")
    with pytest.raises(ValueError, match="no row for sub-M9"):
        run.species("M9", "01")


def test_sleep_runs_of_a_probe_are_not_more_probes(compendium):
    """A sheet with sleep runs (columns task, run): the probes and regions are the task's."""
    task = "".join(f"{line}\tharlow\tn/a\n" for line in SHEET.splitlines()[1:])
    sleep = "".join(
        f"M1\t01\tmacaque\tarray\tHPC\thippocampus\tm1_01_hpc_run-{run}.nwb\tnwb\tsleep\t{run}\n"
        for run in ("1", "2")
    )
    header = SHEET.splitlines()[0] + "\ttask\trun\n"
    (compendium / "config" / "samples.tsv").write_text(header + task + sleep)
    run = open_run(compendium)
    assert len(run.samples) == 10 and len(run.task_samples) == 8
    assert run.probes() == [("M1", "01", "PFC"), ("M1", "01", "HPC"), ("H2", "01", "MW")]
    assert run.region("M1", "01", "HPC") == "hippocampus"
    assert run.ecog_sessions() == [("H1", "01")]


def test_open_run_applies_nested_overrides(compendium):
    run = open_run(compendium, overrides={"simulate": False, "decoding": {"alpha": 0.01}})
    assert run.simulated is False
    assert run.config["decoding"]["alpha"] == 0.01
    assert (
        run.config["decoding"]["variables"] == open_run(compendium).config["decoding"]["variables"]
    )


def test_open_run_names_a_missing_sample_sheet(compendium):
    (compendium / "config" / "samples.tsv").unlink()
    with pytest.raises(FileNotFoundError, match="samples.tsv: sample sheet not found"):
        open_run(compendium)


def test_missing_results_name_the_snakemake_target(compendium):
    run = open_run(compendium)
    with pytest.raises(
        FileNotFoundError,
        match="learning_set_curves.tsv: not found; make it first: snakemake "
        "results/behaviour/learning_set_curves.tsv",
    ):
        read_behaviour(run)
    with pytest.raises(FileNotFoundError, match="acq-PFC/metrics.tsv: not found"):
        read_sorting_summaries(run)
