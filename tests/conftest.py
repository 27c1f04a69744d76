"""Shared fixtures: the tiny-preset reference run and synthetic result tables for figures."""

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from compendium import fresh_copy, snakemake

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


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    """The tiny preset run once in a fresh copy of the compendium, on 2 cores.

    Shared by every end-to-end test as the reference; read-only (copy it to change it).
    """
    workdir = fresh_copy(tmp_path_factory.mktemp("compendium"))
    result = snakemake(workdir)
    assert result.returncode == 0, result.stderr[-6000:]
    return workdir
