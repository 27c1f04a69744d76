"""The whole DAG, end to end, on the tiny preset, in a fresh copy of the compendium."""

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
FIGURES = ["fig1_behaviour", "fig2_sorting", "fig3_monkey_decoding", "fig4_ecog",
           "fig5_human_units", "fig6_model"]

pytestmark = pytest.mark.workflow


# git-annex (a PyPI wheel in the venv) must be on PATH for datalad and for git's annex filter.
ENV = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")


def _snakemake(workdir: Path, *args: str, cores: int = 2) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "snakemake"), "--cores", str(cores), "--config", "size=tiny", *args],
        cwd=workdir, capture_output=True, text=True, env=ENV, check=False,
    )


def _fresh_copy(workdir: Path) -> Path:
    """Copy the compendium as a fresh clone would have it (no results, no raw data)."""
    workdir.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "Snakefile", workdir)
    for folder in ["workflow", "config", "resources/reference"]:
        shutil.copytree(ROOT / folder, workdir / folder,
                        ignore=shutil.ignore_patterns("__pycache__"))
    return workdir


def _digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """Run the tiny preset in a fresh copy of the compendium, on 2 cores."""
    workdir = _fresh_copy(tmp_path_factory.mktemp("compendium"))
    result = _snakemake(workdir)
    assert result.returncode == 0, result.stderr[-6000:]
    return workdir


def test_every_figure_is_made(tiny_run):
    for figure in FIGURES:
        for ext in ("pdf", "png"):
            path = tiny_run / "results" / "figures" / f"{figure}.{ext}"
            assert path.exists() and path.stat().st_size > 5000, path


def test_second_run_does_nothing(tiny_run):
    result = _snakemake(tiny_run, "--dry-run")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Nothing to be done" in result.stdout + result.stderr


def test_raw_dataset_is_a_valid_datalad_bids_dataset(tiny_run):
    summary = json.loads((tiny_run / "results" / "qc" / "bids_validation.json").read_text())
    assert summary["n_errors"] == 0
    raw = tiny_run / "resources" / "raw"
    assert (raw / ".datalad" / "config").exists()
    status = subprocess.run(["git", "status", "--porcelain"], cwd=raw, capture_output=True,
                            text=True, check=True, env=ENV)
    assert status.stdout == "", "the raw dataset has unsaved changes"
    assert not (raw / "sub-M1").joinpath("groundtruth").exists()
    assert (tiny_run / "resources" / "groundtruth" / "sub-M1" / "sub-M1_agent.json").exists()


def test_report_has_every_figure(tiny_run):
    result = _snakemake(tiny_run, "--report", "results/report.html")
    assert result.returncode == 0, result.stderr[-3000:]
    html = (tiny_run / "results" / "report.html").read_text(errors="replace")
    for figure in FIGURES:
        assert figure in html, figure


def test_results_are_byte_identical_in_another_directory_on_one_core(tiny_run, tmp_path):
    """Same inputs, another directory, --cores 1: every file under results/ has the same bytes.

    Figures carry fixed metadata, NWB object ids are seeded, npz members have a fixed date and
    the sorter's peak-detection noise chunks are seeded (panneuro.ephys.sorting).
    """
    other = _fresh_copy(tmp_path / "clone")
    result = _snakemake(other, cores=1)
    assert result.returncode == 0, result.stderr[-6000:]
    first = _digests(tiny_run / "results")
    second = _digests(other / "results")
    first.pop("report.html", None)  # made only in the first directory, by test_report_*
    assert first.keys() == second.keys()
    differing = sorted(k for k in first if first[k] != second[k])
    assert not differing, f"results differ between runs: {differing}"
