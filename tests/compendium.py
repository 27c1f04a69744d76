"""Helpers for the end-to-end tests: copy the compendium, run snakemake in it, hash results.

The tests that run the workflow (tiny preset) share one reference run, the session-scoped
``tiny_run`` fixture of ``conftest.py``; it is read-only: a test that changes files copies it.
"""

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

# git-annex (a PyPI wheel in the venv) must be on PATH for datalad and for git's annex filter.
ENV = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")


def snakemake(
    workdir: Path, *args: str, cores: int = 2, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run ``snakemake --config size=tiny`` in ``workdir``; return the completed process."""
    return subprocess.run(
        [str(BIN / "snakemake"), "--cores", str(cores), "--config", "size=tiny", *args],
        cwd=workdir,
        capture_output=True,
        text=True,
        env=env or ENV,
        check=False,
    )


def fresh_copy(workdir: Path) -> Path:
    """Copy the compendium as a fresh clone would have it (no results, no raw data)."""
    workdir.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "Snakefile", workdir)
    for folder in ["workflow", "config", "resources/reference"]:
        shutil.copytree(
            ROOT / folder, workdir / folder, ignore=shutil.ignore_patterns("__pycache__")
        )
    return workdir


def digests(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under ``folder``, keyed by its relative path."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }
