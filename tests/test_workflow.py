"""The whole DAG, end to end, on the tiny preset, in a fresh copy of the compendium."""

import json
import subprocess

import pytest
from compendium import ENV, snakemake

FIGURES = [
    "fig1_behaviour",
    "fig2_sorting",
    "fig3_monkey_decoding",
    "fig4_ecog",
    "fig5_human_units",
    "fig6_model",
]

pytestmark = pytest.mark.workflow


def test_every_figure_is_made(tiny_run):
    for figure in FIGURES:
        for ext in ("pdf", "png"):
            path = tiny_run / "results" / "figures" / f"{figure}.{ext}"
            assert path.exists() and path.stat().st_size > 5000, path


def test_second_run_does_nothing(tiny_run):
    result = snakemake(tiny_run, "--dry-run")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Nothing to be done" in result.stdout + result.stderr


def test_raw_dataset_is_a_valid_datalad_bids_dataset(tiny_run):
    summary = json.loads((tiny_run / "results" / "qc" / "bids_validation.json").read_text())
    assert summary["n_errors"] == 0
    raw = tiny_run / "resources" / "raw"
    assert (raw / ".datalad" / "config").exists()
    status = subprocess.run(
        ["git", "status", "--porcelain"],
        cwd=raw,
        capture_output=True,
        text=True,
        check=True,
        env=ENV,
    )
    assert status.stdout == "", "the raw dataset has unsaved changes"
    assert not (raw / "sub-M1").joinpath("groundtruth").exists()
    assert (tiny_run / "resources" / "groundtruth" / "sub-M1" / "sub-M1_agent.json").exists()


def test_report_has_every_figure(tiny_run, tmp_path):
    report = tmp_path / "report.html"
    result = snakemake(tiny_run, "--report", str(report))
    assert result.returncode == 0, result.stderr[-3000:]
    html = report.read_text(errors="replace")
    for figure in FIGURES:
        assert figure in html, figure


# Byte identity of every result in another directory and on one thread per job is checked by
# the runs the other end-to-end tests make anyway (no extra run here): tests/test_slurm.py runs
# the tiny preset through SLURM with every file in a bucket, tests/test_datalad_reproduce.py in
# a DataLad clone; each compares every result with ``tiny_run``.
