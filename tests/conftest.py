"""Shared fixtures: the tiny-preset reference run and synthetic result tables for figures.

``make test`` runs the suite in two pytest-xdist workers, one test file per worker at a time
(``--dist loadfile``): the end-to-end files are run first, longest first, so that the two
longest runs overlap instead of ending the suite alone, and the tiny reference run is made once
for both workers (:func:`tiny_run`).
"""

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from compendium import fresh_copy, snakemake
from filelock import FileLock

from panneuro.decoding.time_resolved import DecodingResult, decoding_table


def _fake_decoding(
    rng, regions, sessions=(("M1", "04"),), variables=("choice", "correct", "rewarded_object")
):
    """Stacked decoding tables (``read_session_tables`` shape) with a planted effect."""
    parts = []
    times = np.round(np.arange(-0.4, 1.0, 0.1), 3)
    for subject, session in sessions:
        for region in regions:
            for variable in variables:
                null = rng.normal(0.5, 0.03, (30, len(times), len(times)))
                scores = rng.normal(0.5, 0.03, (len(times), len(times)))
                scores[5:8, 5:8] += 0.3
                table = decoding_table(DecodingResult(scores, null, 5), times)
                table.insert(0, "region", region)
                table.insert(1, "n_units", 25)
                table.insert(2, "variable", variable)
                table.insert(4, "align", "response")
                table.insert(0, "subject", subject)
                table.insert(1, "session", session)
                parts.append(table)
    return pd.concat(parts, ignore_index=True)


def _fake_ccgp(rng, regions, sessions=(("M1", "04"),)):
    """Stacked cross-condition tables: CCGP of ``stay`` higher late than early."""
    rows = []
    for subject, session in sessions:
        for region in regions:
            for epoch in ("early", "late"):
                for condition, analysis in (
                    ("choice", "ccgp"),
                    ("object_pair", "ccgp"),
                    ("none", "cv"),
                ):
                    score = 0.55 if epoch == "early" else 0.8
                    rows.append(
                        {
                            "subject": subject,
                            "session": session,
                            "region": region,
                            "n_units": 25,
                            "variable": "stay",
                            "epoch": epoch,
                            "condition": condition,
                            "analysis": analysis,
                            "align": "response",
                            "window_start": -0.4,
                            "window_stop": 0.0,
                            "n_trials": 100,
                            "score": score + rng.normal(0, 0.01),
                            "null_mean": 0.5,
                            "null_q95": 0.6,
                            "p_value": 0.3 if epoch == "early" else 0.02,
                        }
                    )
    return pd.DataFrame(rows)


@pytest.fixture
def fake_decoding() -> Callable[..., pd.DataFrame]:
    """Builder ``fake_decoding(rng, regions, sessions=..., variables=...)`` of decoding tables."""
    return _fake_decoding


@pytest.fixture
def fake_ccgp() -> Callable[..., pd.DataFrame]:
    """Builder ``fake_ccgp(rng, regions, sessions=...)`` of cross-condition tables."""
    return _fake_ccgp


#: Test files by their wall time in a fresh-clone ``make test`` (2026-12-07, slow machine: the
#: design run 727 s, kill/resume 441 s + the tiny run, SLURM 415 s, RIA clone 195 s, encrypted
#: store 186 s + 40 s, lab folder 118 s + 60 s, ...): run first, in this order, so that a worker
#: never takes one of them when the other worker is nearly done. Any other file keeps its place.
LONGEST_FIRST = (
    "test_design_run.py",
    "test_kill_resume.py",
    "test_slurm.py",
    "test_datalad_reproduce.py",
    "test_access.py",
    "test_lab_data.py",
    "test_notebooks.py",
    "test_bad_input.py",
    "test_datalad_run.py",
    "test_study.py",
    "test_motion.py",
    "test_kernel_warm_up.py",
    "test_binder.py",
    "test_kubernetes.py",
    "test_datalad_io.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Put the files of :data:`LONGEST_FIRST` first, in its order (stable for the rest)."""
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    """The tiny preset run once in a fresh copy of the compendium, on 2 cores.

    Shared by every end-to-end test as the reference; read-only (copy it to change it). Under
    pytest-xdist the workers share one run: the first to need it makes it under a file lock in
    the base folder common to the workers, the others wait for it; a failed run is recorded so
    that every worker fails with its message instead of running it again.
    """
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # each worker's base is a folder of the run's common one
    workdir, done, failed = (base / f"tiny_run{ext}" for ext in ("", ".done", ".failed"))
    with FileLock(base / "tiny_run.lock"):
        if failed.exists():
            pytest.fail(f"the tiny reference run failed (in another worker):\n{failed.read_text()}")
        if not done.exists():
            shutil.rmtree(workdir, ignore_errors=True)
            result = snakemake(fresh_copy(workdir))
            if result.returncode != 0:
                failed.write_text(result.stderr[-6000:])
            assert result.returncode == 0, result.stderr[-6000:]
            done.touch()
    return workdir
