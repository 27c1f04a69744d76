"""Tests of panneuro.stats.design_effects on synthetic designs with planted and null effects."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from panneuro.stats.design_effects import (
    EFFECT_COLUMNS,
    MIXED_MODEL_METHOD,
    MIXED_MODEL_MIN_SUBJECTS,
    comparison_sessions,
    inactivation_behaviour,
    inactivation_neural,
    read_session_design,
    session_rates,
    session_stay_scores,
    sessions_file_has_design,
    stage_effects,
    trial2_table,
)

SESSIONS = [  # session, condition, stage
    ("01", "control", "early"),
    ("03", "control", "middle"),
    ("04", "inactivation", "middle"),
    ("05", "control", "middle"),
    ("09", "control", "late"),
]


def _write_sessions(folder, subject: str) -> str:
    rows = [
        {
            "session_id": f"ses-{s}",
            "acq_time": "2020-01-01T10:00:00",
            "condition": c,
            "inactivated_region": "hippocampus" if c == "inactivation" else "n/a",
            "learning_stage": st,
            "first_problem": 1 + 40 * i,
            "last_problem": 40 + 40 * i,
        }
        for i, (s, c, st) in enumerate(SESSIONS)
    ]
    path = folder / f"sub-{subject}_sessions.tsv"
    pd.DataFrame(rows).to_csv(path, sep="\t", index=False)
    return str(path)


def _design(tmp_path, subjects=("M1", "M2", "M3", "M4")) -> pd.DataFrame:
    return read_session_design([_write_sessions(tmp_path, s) for s in subjects])


def _ccgp(region_values: dict[str, tuple[float, float]], n_units: int = 10) -> pd.DataFrame:
    """A session's CCGP table: region -> (early score, late score), both splits and cv."""
    rows = []
    for region, (early, late) in region_values.items():
        for epoch, score in (("early", early), ("late", late)):
            for condition, analysis in (
                ("choice", "ccgp"),
                ("object_pair", "ccgp"),
                ("none", "cv"),
            ):
                rows.append(
                    {
                        "region": region,
                        "n_units": n_units,
                        "variable": "stay",
                        "epoch": epoch,
                        "condition": condition,
                        "analysis": analysis,
                        "score": score,
                        "truth": score,
                    }
                )
    return pd.DataFrame(rows)


def test_read_session_design(tmp_path):
    design = _design(tmp_path, ("M1",))
    assert list(design["session"]) == ["01", "03", "04", "05", "09"]
    assert list(design["stage_index"]) == [0.0, 1.0, 1.0, 1.0, 2.0]
    assert list(design["inactivated"]) == [0, 0, 1, 0, 0]
    assert design["first_problem"].tolist() == [1, 41, 81, 121, 161]
    assert sessions_file_has_design(tmp_path / "sub-M1_sessions.tsv")
    compare = comparison_sessions(design)
    assert list(compare["session"]) == ["03", "04", "05"]


def test_read_session_design_errors(tmp_path):
    path = tmp_path / "sub-L1_sessions.tsv"
    pd.DataFrame({"session_id": ["ses-01"], "acq_time": ["2020-01-01"]}).to_csv(
        path, sep="\t", index=False
    )
    assert not sessions_file_has_design(path)
    assert not sessions_file_has_design(tmp_path / "absent.tsv")
    with pytest.raises(ValueError, match="sub-L1_sessions.tsv: lacks the design column"):
        read_session_design([path])


def _stage_scores(design, slope, rng, noise=0.02):
    ccgp = {}
    truth = {}
    offsets = {s: rng.normal(0, 0.03) for s in sorted(set(design["subject"]))}
    for row in design.itertuples():
        mean = 0.55 + offsets[row.subject] + slope * row.stage_index
        ccgp[(row.subject, row.session)] = _ccgp(
            {"prefrontal": (mean + rng.normal(0, noise), mean + rng.normal(0, noise))}
        )
        truth[(row.subject, row.session)] = _ccgp({"prefrontal": (mean, mean)})
    return session_stay_scores(ccgp), session_stay_scores(truth, value="truth")


@pytest.mark.parametrize("slope", [0.08, 0.0])
def test_stage_effects_planted_and_null(tmp_path, slope):
    design = _design(tmp_path)
    rng = np.random.default_rng(1)
    scores, truth = _stage_scores(design, slope, rng)
    species = {s: "macaque" for s in design["subject"]}
    table = stage_effects(
        scores, design, species, np.random.default_rng(2), truth=truth, n_resamples=500
    )
    assert list(table.columns) == list(EFFECT_COLUMNS)
    ccgp = table[table["effect"] == "stay_ccgp_stage_slope"].set_index("method")
    # 4 subjects: too few for the random-slope mixed model, so no row of it (nor a wrong one)
    assert 4 < MIXED_MODEL_MIN_SUBJECTS
    assert set(ccgp.index) == {"hierarchical_bootstrap", "subject_t_test"}
    assert np.allclose(ccgp["truth"], slope)
    boot = ccgp.loc["hierarchical_bootstrap"]
    assert abs(boot["estimate"] - slope) < 0.03
    assert boot["truth_in_ci"]
    assert boot["n_subjects"] == 4 and boot["n_sessions"] == 16  # control sessions only
    if slope > 0:
        assert ccgp.loc["subject_t_test", "p_value"] < 0.01
    else:
        assert ccgp.loc["subject_t_test", "p_value"] > 0.01


@pytest.mark.parametrize("slope", [0.08, 0.0])
def test_stage_effects_mixed_model_with_enough_subjects(tmp_path, slope):
    subjects = tuple(f"M{i}" for i in range(1, MIXED_MODEL_MIN_SUBJECTS + 2))
    design = _design(tmp_path, subjects)
    scores, truth = _stage_scores(design, slope, np.random.default_rng(4))
    species = {s: "macaque" for s in design["subject"]}
    table = stage_effects(
        scores, design, species, np.random.default_rng(5), truth=truth, n_resamples=200
    )
    row = table[
        (table["effect"] == "stay_ccgp_stage_slope") & (table["method"] == MIXED_MODEL_METHOD)
    ].iloc[0]
    assert row["n_subjects"] == len(subjects)
    assert abs(row["estimate"] - slope) < 0.03 and row["truth_in_ci"]
    if slope > 0:
        assert row["p_value"] < 0.01
    else:
        assert row["p_value"] > 0.05
    assert "mixedlm" not in set(table["method"])  # the random-intercept-only model is gone


def test_stage_effects_humans_late_minus_early():
    rng = np.random.default_rng(3)
    ccgp, truth = {}, {}
    for subject in ("H1", "H2", "H3"):
        early, late = 0.55, 0.7
        ccgp[(subject, "01")] = _ccgp(
            {"hippocampus": (early + rng.normal(0, 0.01), late + rng.normal(0, 0.01))}
        )
        truth[(subject, "01")] = _ccgp({"hippocampus": (early, late)})
    design = pd.DataFrame(
        {
            "subject": ["H1", "H2", "H3"],
            "session": "01",
            "condition": "control",
            "inactivated_region": "n/a",
            "learning_stage": "n/a",
            "stage_index": np.nan,
            "inactivated": 0,
        }
    )
    table = stage_effects(
        session_stay_scores(ccgp),
        design,
        dict.fromkeys(["H1", "H2", "H3"], "human"),
        np.random.default_rng(4),
        truth=session_stay_scores(truth, value="truth"),
        n_resamples=500,
    )
    row = table[
        (table["effect"] == "stay_ccgp_late_minus_early") & (table["method"] == "subject_t_test")
    ].iloc[0]
    assert row["species"] == "human" and row["region"] == "hippocampus"
    assert row["truth"] == pytest.approx(0.15)
    assert abs(row["estimate"] - 0.15) < 0.03 and row["truth_in_ci"]
    assert row["n_subjects"] == 3 and row["n_sessions"] == 3


def _events(p_correct: float, rng, n_problems: int = 60) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "problem": np.repeat(np.arange(n_problems), 6),
            "trial": np.tile(np.arange(1, 7), n_problems),
            "correct": rng.random(6 * n_problems) < p_correct,
        }
    ).astype({"correct": int})


@pytest.mark.parametrize("cost", [0.2, 0.0])
def test_inactivation_behaviour(tmp_path, cost):
    design = _design(tmp_path)
    rng = np.random.default_rng(5)
    events, expected = {}, {}
    for row in design.itertuples():
        p = 0.8 - (cost if row.inactivated else 0.0)
        events[(row.subject, row.session)] = _events(p, rng)
        expected[(row.subject, row.session)] = p
    trials = trial2_table(events, design, expected)
    assert set(trials["session"]) == {"03", "04", "05"}
    assert len(trials) == 4 * 3 * 60
    table = inactivation_behaviour(
        trials,
        dict.fromkeys(design["subject"], "macaque"),
        np.random.default_rng(6),
        n_resamples=500,
    )
    diff = table[table["effect"] == "trial2_accuracy_difference"].set_index("method")
    assert diff.loc["hierarchical_bootstrap", "truth"] == pytest.approx(-cost)
    assert abs(diff.loc["hierarchical_bootstrap", "estimate"] + cost) < 0.08
    assert diff.loc["hierarchical_bootstrap", "truth_in_ci"]
    gee = table[table["method"] == "gee"].iloc[0]
    expected_lor = np.log(0.6 / 0.4) - np.log(0.8 / 0.2) if cost else 0.0
    assert gee["truth"] == pytest.approx(expected_lor)
    assert gee["truth_in_ci"]
    if cost:
        assert gee["ci_high"] < 0 and diff.loc["subject_t_test", "p_value"] < 0.05


def test_inactivation_neural(tmp_path):
    design = _design(tmp_path)
    rng = np.random.default_rng(7)
    ccgp, truth, metrics, truth_rates = {}, {}, {}, []
    for row in design.itertuples():
        pfc = 0.7 - (0.1 if row.inactivated else 0.0)
        hpc = 0.5 if row.inactivated else 0.7
        ccgp[(row.subject, row.session)] = _ccgp(
            {
                "prefrontal": (pfc + rng.normal(0, 0.01), pfc + rng.normal(0, 0.01)),
                "hippocampus": (hpc + rng.normal(0, 0.01), hpc + rng.normal(0, 0.01)),
            }
        )
        truth[(row.subject, row.session)] = _ccgp(
            {"prefrontal": (pfc, pfc), "hippocampus": (hpc, hpc)}
        )
        rate = 5.0 * (0.25 if row.inactivated else 1.0)
        n = 6 if row.inactivated else 12
        metrics[(row.subject, row.session, "hippocampus")] = pd.DataFrame(
            {
                "firing_rate": rate * np.exp(rng.normal(0, 0.05, n + 2)),
                "keep": [True] * n + [False] * 2,
            }
        )
        truth_rates.append(
            {
                "subject": row.subject,
                "session": row.session,
                "region": "hippocampus",
                "log_rate": np.log(rate),
            }
        )
    rates = session_rates(metrics)
    assert set(rates["n_units"]) == {6, 12}
    table = inactivation_neural(
        session_stay_scores(ccgp),
        rates,
        design,
        dict.fromkeys(design["subject"], "macaque"),
        np.random.default_rng(8),
        truth=session_stay_scores(truth, value="truth"),
        truth_rates=pd.DataFrame(truth_rates),
        n_resamples=500,
    )
    boot = table[table["method"] == "hierarchical_bootstrap"].set_index(["effect", "region"])
    pfc = boot.loc[("stay_ccgp_inactivation", "prefrontal")]
    assert pfc["truth"] == pytest.approx(-0.1) and pfc["truth_in_ci"]
    assert pfc["ci_high"] < 0
    rate = boot.loc[("log_rate_inactivation", "hippocampus")]
    assert rate["truth"] == pytest.approx(np.log(0.25)) and rate["truth_in_ci"]
    units = boot.loc[("n_units_inactivation", "hippocampus")]
    assert units["estimate"] == pytest.approx(-6) and np.isnan(units["truth"])
    assert ("log_rate_inactivation", "prefrontal") not in boot.index


def test_no_inactivation_gives_empty_tables(tmp_path):
    design = _design(tmp_path)
    design = design[design["inactivated"] == 0]
    assert inactivation_neural(
        pd.DataFrame(columns=["subject", "session", "region", "epoch", "ccgp", "cv", "n_units"]),
        session_rates({}),
        design,
        {},
        np.random.default_rng(0),
    ).empty


def test_inactivation_scores_table(tmp_path):
    from panneuro.stats.design_effects import inactivation_scores

    design = _design(tmp_path, ("M1", "M2"))
    ccgp = {(r.subject, r.session): _ccgp({"prefrontal": (0.6, 0.7)}) for r in design.itertuples()}
    truth = {(r.subject, r.session): _ccgp({"prefrontal": (0.6, 0.6)}) for r in design.itertuples()}
    rng = np.random.default_rng(0)
    events = {(r.subject, r.session): _events(0.8, rng) for r in design.itertuples()}
    expected = {(r.subject, r.session): 0.8 for r in design.itertuples()}
    metrics = {
        (r.subject, r.session, "prefrontal"): pd.DataFrame(
            {"firing_rate": [4.0, 6.0], "keep": True}
        )
        for r in design.itertuples()
    }
    table = inactivation_scores(
        session_stay_scores(ccgp),
        session_rates(metrics),
        trial2_table(events, design, expected),
        design,
        {"M1": "macaque", "M2": "macaque"},
        truth=session_stay_scores(truth, value="truth"),
    )
    assert set(zip(table["subject"], table["session"], strict=True)) == {
        (s, ses) for s in ("M1", "M2") for ses in ("03", "04", "05")
    }
    pfc = table[table["region"] == "prefrontal"]
    assert np.allclose(pfc["ccgp"], 0.65) and np.allclose(pfc["ccgp_truth"], 0.6)
    assert np.allclose(pfc["log_rate"], np.log(5.0)) and (pfc["n_units_kept"] == 2).all()
    beh = table[table["region"] == "behaviour"]
    assert len(beh) == 6 and np.allclose(beh["trial2_accuracy_truth"], 0.8)
    assert beh["trial2_accuracy"].between(0.6, 0.95).all()
    assert list(beh["inactivated"]) == [0, 1, 0, 0, 1, 0]


def _decoding(scores: dict[tuple[str, str], float]) -> pd.DataFrame:
    """A decoding table: (region, variable) -> score at every bin (0.5 elsewhere but t=0/0.2)."""
    times = np.round(np.arange(-0.4, 1.0, 0.1), 3)
    rows = []
    for (region, variable), score in scores.items():
        peak = 0.0 if variable == "choice" else 0.2
        for analysis in ("time_resolved", "cross_temporal"):
            for t in times:
                value = score if (abs(t - peak) < 1e-9 and analysis == "time_resolved") else 0.5
                rows.append(
                    {
                        "region": region,
                        "variable": variable,
                        "analysis": analysis,
                        "time": t,
                        "score": value,
                        "truth": value,
                    }
                )
    return pd.DataFrame(rows)


def test_decoding_strength_at_the_declared_bin_and_its_inactivation_effect(tmp_path):
    from panneuro.stats.design_effects import session_decoding_scores

    design = _design(tmp_path, ("M1", "M2", "M3"))
    rng = np.random.default_rng(9)
    tables, truths = {}, {}
    for row in design.itertuples():
        hpc = 0.55 if row.inactivated else 0.9
        values = {("hippocampus", "choice"): hpc, ("prefrontal", "correct"): 0.8}
        truths[(row.subject, row.session)] = _decoding(values)
        tables[(row.subject, row.session)] = _decoding(
            {k: v + rng.normal(0, 0.01) for k, v in values.items()}
        )
    scores = session_decoding_scores(tables, 0.2)
    assert set(scores["time"]) == {0.0, 0.2}  # the declared primary bins of the windows
    truth = session_decoding_scores(truths, 0.2, value="truth")
    empty = pd.DataFrame(columns=["subject", "session", "region", "epoch", "ccgp", "cv", "n_units"])
    table = inactivation_neural(
        empty,
        session_rates({}),
        design,
        dict.fromkeys(design["subject"], "macaque"),
        np.random.default_rng(3),
        decoding=scores,
        truth_decoding=truth,
        n_resamples=300,
    )
    boot = table[table["method"] == "hierarchical_bootstrap"].set_index(["effect", "region"])
    hpc = boot.loc[("decoding_choice_inactivation", "hippocampus")]
    assert hpc["truth"] == pytest.approx(-0.35) and hpc["truth_in_ci"] and hpc["ci_high"] < 0
    pfc = boot.loc[("decoding_correct_inactivation", "prefrontal")]
    assert pfc["truth"] == pytest.approx(0.0) and pfc["truth_in_ci"]


def _mixed_design(subject: str = "M1") -> pd.DataFrame:
    """Recorded and behaviour-only sessions of one subject, as the paper design interleaves them."""
    from panneuro.stats.session_scores import design_table

    entries = [  # stage ("n/a": behaviour only), condition
        ("early", "control"),
        ("n/a", "control"),
        ("middle", "control"),
        ("middle", "inactivation"),
        ("n/a", "control"),
        ("middle", "control"),
        ("n/a", "control"),
        ("n/a", "inactivation"),
        ("n/a", "control"),
        ("n/a", "inactivation"),
        ("late", "control"),
        ("n/a", "control"),
    ]
    table = pd.DataFrame(
        {
            "session_id": [f"ses-{i + 1:02d}" for i in range(len(entries))],
            "condition": [c for _, c in entries],
            "inactivated_region": [
                "hippocampus" if c == "inactivation" else "n/a" for _, c in entries
            ],
            "learning_stage": [st for st, _ in entries],
            "first_problem": [str(1 + 100 * i) for i in range(len(entries))],
            "last_problem": [str(100 + 100 * i) for i in range(len(entries))],
        }
    )
    return design_table(table, subject)


def _behaviour_only_effect(problems: int, seed: int) -> pd.DataFrame:
    """Trial-2 effects of a simulated behaviour-only design: 3 macaques, (beh, beh/inact, beh) x2.

    Simulated by the project's simulator without recordings, analysed as the
    ``inactivation_effects`` rule does (``bench/bench_behaviour_inactivation.py`` measures it
    over seeds and session lengths).
    """
    import copy
    from pathlib import Path

    import yaml

    from panneuro.seeding import rng_for
    from panneuro.simulate.design import plan_design, sessions_table
    from panneuro.simulate.inactivation import behaviour_truth
    from panneuro.simulate.study import simulate_design_behaviour
    from panneuro.stats.session_scores import design_table

    config = yaml.safe_load((Path(__file__).parents[1] / "config" / "config.yaml").read_text())
    size = copy.deepcopy(config["sizes"]["paper"])
    size["problems_per_session"] = problems
    agents = {"M1": 30.0, "M2": 45.0, "M3": 60.0}
    size["design"].update(
        macaques=list(agents),
        agents={m: {"n_half": n, "beta": 0.65} for m, n in agents.items()},
        ecog_patients=[],
        microwire_patients=[],
        macaque_sessions=["beh", "beh/inactivation", "beh"] * 2,
    )
    design = plan_design(size, config["simulation"]["agent"])
    assert not any(p.recorded for p in design.sessions)
    events = simulate_design_behaviour(design, seed=seed, size=size)
    table = pd.concat(
        [design_table(sessions_table(design, m).astype(str), m) for m in agents],
        ignore_index=True,
    )
    expected = {
        (p.subject, p.session): behaviour_truth(
            design.agents[p.subject], p.condition, design.inactivation, p.problems
        )["expected_trial2_accuracy"]
        for p in design.sessions
    }
    # in expectation, each inactivation session is below both its neighbours
    for m in agents:
        assert expected[(m, "02")] < min(expected[(m, "01")], expected[(m, "03")])
        assert expected[(m, "05")] < min(expected[(m, "04")], expected[(m, "06")])
    trials = trial2_table(events, table, expected)
    assert len(trials) == 3 * 6 * problems
    return inactivation_behaviour(
        trials, dict.fromkeys(agents, "macaque"), rng_for(seed, "group", "inact_beh")
    )


def test_behavioural_cost_of_behaviour_only_inactivation_is_recovered():
    """3 macaques, beh, beh/inactivation, beh twice each, 100 problems per session."""
    table = _behaviour_only_effect(100, seed=0)
    assert list(table.columns) == list(EFFECT_COLUMNS)
    diff = table[table["effect"] == "trial2_accuracy_difference"].set_index("method")
    boot = diff.loc["hierarchical_bootstrap"]
    # the planted cost: the same statistic on each session's expected trial-2 accuracy
    assert -0.2 < boot["truth"] < -0.14
    assert boot["truth_in_ci"] and boot["ci_high"] < 0
    assert abs(boot["estimate"] - boot["truth"]) < 0.05
    assert boot["n_subjects"] == 3 and boot["n_sessions"] == 18
    assert diff.loc["subject_t_test", "truth_in_ci"] and diff.loc["subject_t_test", "ci_high"] < 0
    gee = table[table["method"] == "gee"].iloc[0]
    assert gee["effect"] == "trial2_log_odds_ratio" and gee["truth"] < -0.8
    assert gee["truth_in_ci"] and gee["ci_high"] < 0


def test_behaviour_only_design_has_no_neural_rows_and_says_so(caplog):
    design = _mixed_design()
    behaviour_only = design[design["learning_stage"] == "n/a"]
    empty = pd.DataFrame(columns=["subject", "session", "region", "epoch", "ccgp", "cv", "n_units"])
    with caplog.at_level("WARNING", logger="panneuro.stats.design_effects"):
        table = inactivation_neural(
            empty, session_rates({}), behaviour_only, {"M1": "macaque"}, np.random.default_rng(0)
        )
    assert table.empty and list(table.columns) == list(EFFECT_COLUMNS)
    assert "neural inactivation effects" in caplog.text and "absent" in caplog.text


def test_one_session_per_condition_uses_the_sessions_standard_errors():
    """Resampling sessions cannot see a lone session's error; its own s.e. stands in."""
    from panneuro.stats.design_effects import effect_rows
    from panneuro.stats.hierarchical import DifferenceEffect

    rng = np.random.default_rng(5)
    rows = []
    for s, a in (("M1", 0.6), ("M2", 0.7)):
        for inactivated, sessions in ((0, ("01", "03")), (1, ("02",))):
            for session in sessions:
                rows.append(
                    {
                        "subject": s,
                        "session": session,
                        "inactivated": inactivated,
                        "ccgp": a - 0.05 * inactivated + rng.normal(0, 0.01),
                        "ccgp_se": 0.1,
                    }
                )
    table = pd.DataFrame(rows)
    effect = DifferenceEffect("ccgp", "inactivated", 1)

    def interval(frame: pd.DataFrame) -> tuple[float, float]:
        out = effect_rows(
            frame, effect, name="x", species="m", region="r", rng=np.random.default_rng(1)
        )
        boot = next(r for r in out if r["method"] == "hierarchical_bootstrap")
        return boot["ci_low"], boot["ci_high"]

    low, high = interval(table)
    # two lone inactivations of s.e. 0.1 against two controls each: s.e. of the mean ~0.06
    assert high - low > 0.15
    blind = interval(table.drop(columns="ccgp_se"))
    assert blind[1] - blind[0] < 0.06
    # two sessions in every cell: sessions are resampled, the s.e. column is not used
    more = pd.concat([table, table[table["inactivated"] == 1].assign(session="04")])
    assert interval(more) == interval(more.drop(columns="ccgp_se"))


def test_a_mixed_model_that_cannot_be_fitted_is_a_nan_row_and_a_constant_stage_no_row():
    """Sessions exactly on one line: the random-slope fit is singular (NaN row, not a number);
    a table with one stage has no slope to fit (no row)."""
    from panneuro.stats.design_effects import effect_rows
    from panneuro.stats.hierarchical import SlopeEffect

    table = pd.DataFrame(
        [
            {"subject": f"S{s}", "session": str(stage), "stage": float(stage)}
            for s in range(MIXED_MODEL_MIN_SUBJECTS + 1)
            for stage in (0, 1, 2)
        ]
    ).assign(score=lambda t: 0.5 + 0.05 * t["stage"])
    kwargs = {"name": "x", "species": "macaque", "region": "r", "n_resamples": 50}
    rows = effect_rows(
        table,
        SlopeEffect("score", "stage"),
        rng=np.random.default_rng(0),
        mixed=("score", "stage"),
        **kwargs,
    )
    mixed = [r for r in rows if r["method"] == MIXED_MODEL_METHOD]
    assert len(mixed) == 1 and np.isnan(mixed[0]["estimate"]) and np.isnan(mixed[0]["ci_low"])
    one_stage = table[table["stage"] == 1.0]
    rows = effect_rows(
        one_stage,
        SlopeEffect("score", "stage"),
        rng=np.random.default_rng(0),
        mixed=("score", "stage"),
        **kwargs,
    )
    assert MIXED_MODEL_METHOD not in {r["method"] for r in rows}
