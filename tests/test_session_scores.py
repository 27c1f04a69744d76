"""Tests of panneuro.stats.session_scores: what the group rules read of their sessions."""

import json
import sys
import warnings
from pathlib import Path

import numpy as np
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
from test_design_effects import _ccgp, _events, _mixed_design, _write_sessions  # noqa: E402

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


def test_read_group_inputs_adds_the_ecog_sessions_stay_code(tmp_path):
    design, ccgp, oracle = _inputs(tmp_path)
    # M2 ses-03 has an ECoG grid too; M1 ses-01's ECoG is its only record in this test's view
    ecog_sessions = [("M2", "03"), ("M1", "01")]
    ecog, ecog_truth = [], []
    for subject, session in ecog_sessions:
        table = _ccgp({"temporal": (0.6, 0.8)})
        ecog.append(tmp_path / f"ecog_sub-{subject}_ses-{session}_ccgp.tsv")
        write_tsv(table, ecog[-1])
        ecog_truth.append(tmp_path / f"ecog_sub-{subject}_ses-{session}_ccgp_oracle.tsv")
        write_tsv(table.assign(truth=0.75, planted_rate=np.nan), ecog_truth[-1])
    group = read_group_inputs(
        {**GROUP, "ecog_sessions": [list(k) for k in ecog_sessions]},
        design,
        ccgp,
        oracle,
        ecog_ccgp=ecog,
        ecog_oracle=ecog_truth,
    )
    assert group.sessions == SESSIONS  # both ECoG sessions have units too
    regions = group.scores.groupby(["subject", "session"])["region"].agg(set)
    assert regions[("M2", "03")] == {"prefrontal", "hippocampus", "temporal (ECoG)"}
    assert regions[("M2", "01")] == {"prefrontal", "hippocampus"}
    temporal = group.truth[group.truth["region"] == "temporal (ECoG)"]
    assert len(temporal) == 6 and temporal["ccgp"].eq(0.75).all()
    assert list(group.oracle) == SESSIONS  # the units' oracle tables only (their rates)
    # an ECoG-only session is a session of the group
    only = read_group_inputs(
        {**GROUP, "sessions": [], "ecog_sessions": [["H1", "01"]]},
        design,
        [],
        ecog_ccgp=ecog[:1],
    )
    assert only.sessions == [("H1", "01")] and set(only.scores["region"]) == {"temporal (ECoG)"}
    assert only.truth is None


def test_design_effects_still_exports_the_moved_names():
    for name in (
        "read_session_design",
        "session_stay_scores",
        "annotate",
        "trial2_table",
        "inactivation_scores",
        "comparison_sessions",
        "neural_comparison_sessions",
        "DESIGN_COLUMNS",
        "STAGES",
    ):
        assert getattr(design_effects, name) is getattr(session_scores, name)


def test_neighbouring_controls_are_the_nearest_of_the_same_kind():
    design = _mixed_design()
    compare = session_scores.comparison_sessions(design)
    # recorded 04: the middle controls 03 and 06 (the behaviour-only 05 between is skipped);
    # behaviour-only 08: 07 and 09; behaviour-only 10: 09 (shared, listed once) and 12; the
    # behaviour-only 02 and 05 and the recorded early 01 and late 11 are no one's neighbours
    assert list(compare["session"]) == ["03", "04", "06", "07", "08", "09", "10", "12"]
    assert list(compare["inactivated"]) == [0, 1, 0, 0, 1, 0, 1, 0]
    # the session order is the subject's history, not the row order
    shuffled = design.sample(frac=1.0, random_state=0)
    assert sorted(session_scores.comparison_sessions(shuffled)["session"]) == list(
        compare["session"]
    )
    # the neural contrast: the recorded sessions only (those with scores)
    recorded = design[design["learning_stage"] != "n/a"][["subject", "session"]]
    neural = session_scores.neural_comparison_sessions(
        design, recorded.assign(region="prefrontal"), None
    )
    assert list(neural["session"]) == ["03", "04", "06"]


def test_behaviour_only_sessions_enter_the_trial2_table_and_the_scores():
    """Behaviour-only sessions: trial 2 of the inactivations and their beh neighbours only."""
    design = _mixed_design()
    behaviour_only = design[design["learning_stage"] == "n/a"]
    empty = pd.DataFrame(columns=["subject", "session", "region", "epoch", "ccgp", "cv", "n_units"])
    rng = np.random.default_rng(1)
    events = {("M1", s): _events(0.8, rng) for s in behaviour_only["session"]}
    trials = session_scores.trial2_table(events, design, None)
    assert sorted(set(trials["session"])) == ["07", "08", "09", "10", "12"]
    scores = session_scores.inactivation_scores(
        empty, session_scores.session_rates({}), trials, design, {"M1": "macaque"}
    )
    assert set(scores["region"]) == {"behaviour"} and len(scores) == 5
    assert list(scores["inactivated"]) == [0, 1, 0, 1, 0]


def test_expected_trial2_accuracy_is_read_from_each_sessions_design_truth(tmp_path):
    paths = {}
    for key, value in ((("M1", "02"), 0.61), (("M2", "07"), 0.835)):
        path = tmp_path / f"sub-{key[0]}_ses-{key[1]}_design.json"
        path.write_text(json.dumps({"behaviour": {"expected_trial2_accuracy": value}}))
        paths[key] = path
    assert session_scores.read_expected_trial2(paths) == {("M1", "02"): 0.61, ("M2", "07"): 0.835}
    assert session_scores.read_expected_trial2({}) == {}


def test_a_session_without_any_score_is_nan_without_warnings():
    """Too few trials of a class in both epochs: NaN scores, no numpy warning in the logs."""
    table = _ccgp({"prefrontal": (0.6, 0.7)})
    table["score"] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scores = session_stay_scores({("M1", "01"): table}).set_index("epoch")
    assert scores.loc[["early", "late", "all"], ["ccgp", "cv"]].isna().all().all()


def test_session_scores_carry_their_standard_errors():
    """A score's s.e. is its permutation null's s.d. ((q95 - mean) / 1.645) or interval."""
    table = _ccgp({"prefrontal": (0.6, 0.7)})
    sd = {"early": 0.08, "late": 0.06}
    table["null_mean"] = 0.5
    table["null_q95"] = 0.5 + 1.6448536269514722 * table["epoch"].map(sd)
    scores = session_stay_scores({("M1", "01"): table}).set_index("epoch")
    for epoch, value in sd.items():
        assert scores.loc[epoch, "ccgp_se"] == pytest.approx(value)
        assert scores.loc[epoch, "cv_se"] == pytest.approx(value)
    # the session's score is the mean of its two epochs: independent trials
    assert scores.loc["all", "ccgp_se"] == pytest.approx(np.hypot(0.08, 0.06) / 2)
    truth = session_stay_scores({("M1", "01"): table}, value="truth")
    assert truth["ccgp_se"].isna().all()

    metrics = {("M1", "01", "hippocampus"): pd.DataFrame({"firing_rate": [2.0, 4.0, 6.0]})}
    rates = session_scores.session_rates(metrics)
    assert rates["log_rate_se"].iloc[0] == pytest.approx(2.0 / (4.0 * np.sqrt(3)))
    one = session_scores.session_rates(
        {("M1", "01", "hippocampus"): pd.DataFrame({"firing_rate": [2.0]})}
    )
    assert one["log_rate_se"].isna().all()

    times = np.round(np.arange(-0.4, 1.0, 0.1), 3)
    decoding = pd.DataFrame(
        {
            "region": "hippocampus",
            "variable": "choice",
            "analysis": "time_resolved",
            "time": times,
            "score": 0.8,
            "ci_low": 0.8 - 1.959963984540054 * 0.05,
            "ci_high": 0.8 + 1.959963984540054 * 0.05,
        }
    )
    dec = session_scores.session_decoding_scores({("M1", "01"): decoding}, 0.2)
    assert dec["decoding_se"].iloc[0] == pytest.approx(0.05)
    assert (
        session_scores.session_decoding_scores(
            {("M1", "01"): decoding.assign(truth=0.8)}, 0.2, value="truth"
        )["decoding_se"]
        .isna()
        .all()
    )
