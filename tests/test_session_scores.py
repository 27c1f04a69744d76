"""Tests of panneuro.stats.session_scores: what the group rules read of their sessions."""

import sys
from pathlib import Path

import pandas as pd
import pytest

from panneuro.io.tables import read_tsv, write_tsv
from panneuro.stats import design_effects, session_scores
from panneuro.stats.session_scores import (
    oracle_rates,
    read_group_inputs,
    read_session_design,
    session_stay_scores,
)

sys.path.insert(0, str(Path(__file__).parent))
from test_design_effects import _ccgp, _write_sessions  # noqa: E402

SESSIONS = [("M1", "01"), ("M1", "03"), ("M2", "01"), ("M2", "03")]
GROUP = {"sessions": [list(k) for k in SESSIONS], "species": {"M1": "macaque", "M2": "macaque"}}


def _inputs(tmp_path, *, oracle: bool = True):
    """The files of a group rule: sessions.tsv per subject, CCGP (and oracle) per session."""
    design = [_write_sessions(tmp_path, s) for s in ("M1", "M2")]
    ccgp, truth = [], []
    for i, (subject, session) in enumerate(SESSIONS):
        table = _ccgp({"prefrontal": (0.5 + 0.01 * i, 0.6), "hippocampus": (0.55, 0.7 - 0.01 * i)})
        ccgp.append(tmp_path / f"sub-{subject}_ses-{session}_ccgp.tsv")
        write_tsv(table, ccgp[-1])
        planted = table.assign(truth=table["truth"] - 0.05, planted_rate=4.0 + i)
        truth.append(tmp_path / f"sub-{subject}_ses-{session}_ccgp_oracle.tsv")
        write_tsv(planted, truth[-1])
    return design, ccgp, truth if oracle else []


def test_read_group_inputs_reads_what_both_group_rules_read(tmp_path):
    design, ccgp, oracle = _inputs(tmp_path)
    group = read_group_inputs(GROUP, design, ccgp, oracle)
    assert group.sessions == SESSIONS  # tuples, the rule's input order
    assert group.species == GROUP["species"]
    pd.testing.assert_frame_equal(group.design, read_session_design(design))
    # what the scripts read inline before (stage_effects.py, inactivation_effects.py)
    pd.testing.assert_frame_equal(
        group.scores,
        session_stay_scores({k: read_tsv(p) for k, p in zip(SESSIONS, ccgp, strict=True)}),
    )
    tables = {k: read_tsv(p) for k, p in zip(SESSIONS, oracle, strict=True)}
    pd.testing.assert_frame_equal(group.truth, session_stay_scores(tables, value="truth"))
    pd.testing.assert_frame_equal(oracle_rates(group.oracle), oracle_rates(tables))
    assert list(group.oracle) == SESSIONS
    assert group.scores["ccgp"].sub(group.truth["ccgp"]).round(10).eq(0.05).all()


def test_read_group_inputs_without_ground_truth(tmp_path):
    design, ccgp, _ = _inputs(tmp_path, oracle=False)
    group = read_group_inputs(GROUP, design, ccgp)
    assert group.truth is None and group.oracle == {}
    assert set(group.scores["region"]) == {"prefrontal", "hippocampus"}
    with pytest.raises(ValueError, match="zip"):  # one table per session
        read_group_inputs(GROUP, design, ccgp[:-1])


def test_design_effects_still_exports_the_moved_names():
    for name in (
        "read_session_design",
        "session_stay_scores",
        "annotate",
        "trial2_table",
        "inactivation_scores",
        "comparison_sessions",
        "DESIGN_COLUMNS",
        "STAGES",
    ):
        assert getattr(design_effects, name) is getattr(session_scores, name)
