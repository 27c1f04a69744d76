"""The study design of the paper preset: subjects, sessions across learning, the sheet."""

import copy
from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd
import pytest
import yaml

from panneuro.simulate.design import (
    SHEET_COLUMNS,
    STAGES,
    check_design_samples,
    design_samples,
    plan_design,
    sessions_table,
)

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
PAPER = CONFIG["sizes"]["paper"]
AGENTS = CONFIG["simulation"]["agent"]


@pytest.fixture(scope="module")
def design():
    return plan_design(PAPER, AGENTS)


def test_paper_design_has_the_consortium_subjects_and_stages(design):
    sessions = design.sessions
    macaques = {p.subject for p in sessions if p.species == "macaque"}
    assert len(macaques) >= 2
    for subject in macaques:
        recorded = [p for p in sessions if p.subject == subject and p.recorded]
        assert {p.stage for p in recorded} >= set(STAGES)
        # prefrontal and hippocampal arrays in every recorded macaque session
        assert {a["region"] for a in design.arrays} >= {"prefrontal", "hippocampus"}
        # problems run on across sessions, stages in order of the history
        mine = [p for p in sessions if p.subject == subject]
        assert all(
            b.problems[0] == a.problems[-1] + 1 for a, b in zip(mine[:-1], mine[1:], strict=True)
        )
        order = [STAGES.index(p.stage) for p in recorded]
        assert order == sorted(order)
    assert len({p.subject for p in sessions if p.kind == "ecog"}) >= 2
    assert len({p.subject for p in sessions if p.kind == "microwire"}) >= 2
    # two learners with different agents: the stay code follows each one's prior
    assert len({design.agents[s].n_half for s in macaques}) == len(macaques)


def test_inactivation_sessions_lie_between_control_sessions(design):
    for subject in {p.subject for p in design.sessions if p.species == "macaque"}:
        recorded = [p for p in design.sessions if p.subject == subject and p.recorded]
        inactivated = [i for i, p in enumerate(recorded) if p.condition == "inactivation"]
        assert inactivated, f"sub-{subject} has no inactivation session"
        for i in inactivated:
            before, after = recorded[i - 1], recorded[i + 1]
            assert before.condition == after.condition == "control"
            assert before.stage == recorded[i].stage == after.stage
            assert not recorded[i].sleep and before.sleep and after.sleep


def test_committed_paper_sheet_is_the_design_sheet(design):
    committed = pd.read_csv(
        ROOT / PAPER["design"]["samples"], sep="\t", dtype=str, keep_default_na=False
    )
    pd.testing.assert_frame_equal(committed, design_samples(design))
    schema = yaml.safe_load((ROOT / "workflow" / "schemas" / "samples.schema.yaml").read_text())
    for row in committed.to_dict("records"):
        jsonschema.Draft202012Validator(schema).validate(row)
    sleep = committed[committed["task"] == "sleep"]
    assert set(sleep["region"]) == {"hippocampus"} and set(sleep["run"]) == {"1", "2"}
    assert sleep["path"].str.contains(r"_task-sleep_acq-[A-Za-z0-9]+_run-[12]_ieeg\.nwb$").all()


def test_sheet_rows_outside_the_design_are_refused(design):
    sheet = design_samples(design)
    check_design_samples(sheet.iloc[:10], design)  # a subset is fine
    foreign = sheet.copy()
    foreign.loc[3, "session"] = "99"
    with pytest.raises(ValueError, match="row 5 .* not a file of the study design"):
        check_design_samples(foreign, design)
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['task', 'run'\]"):
        check_design_samples(sheet.drop(columns=["task", "run"]), design)
    assert list(sheet.columns) == list(SHEET_COLUMNS)


def test_sessions_table_names_condition_and_stage(design):
    table = sessions_table(design, "M1")
    inactivated = table[table["condition"] == "inactivation"]
    assert set(inactivated["inactivated_region"]) == {"hippocampus"}
    assert (table.loc[table["condition"] == "control", "inactivated_region"] == "n/a").all()
    assert table["first_problem"].iloc[0] == 1
    assert np.all(
        table["first_problem"].to_numpy()[1:] == table["last_problem"].to_numpy()[:-1] + 1
    )


def test_behaviour_only_inactivation_sessions_lie_between_behaviour_only_controls(design):
    for subject in {p.subject for p in design.sessions if p.species == "macaque"}:
        mine = [p for p in design.sessions if p.subject == subject]
        behaviour = [
            i for i, p in enumerate(mine) if p.condition == "inactivation" and not p.recorded
        ]
        assert len(behaviour) >= 2, f"sub-{subject}: no behaviour-only inactivation sessions"
        for i in behaviour:
            plan = mine[i]
            assert plan.kind == "beh" and plan.stage == "n/a" and not plan.sleep
            assert len(plan.problems) == PAPER["problems_per_session"]
            before, after = mine[i - 1], mine[i + 1]
            assert (
                (before.kind, before.condition)
                == (after.kind, after.condition)
                == ("beh", "control")
            )
        table = sessions_table(design, subject).set_index("session_id")
        rows = table.loc[[f"ses-{mine[i].session}" for i in behaviour]]
        assert set(rows["condition"]) == {"inactivation"}
        assert set(rows["inactivated_region"]) == {"hippocampus"}
        assert set(rows["learning_stage"]) == {"n/a"}


def test_behaviour_only_inactivation_is_accepted_and_nonsense_refused():
    size = copy.deepcopy(PAPER)
    size["design"]["macaque_sessions"] = ["beh", "beh/inactivation", "middle/inactivation"]
    plans = [p for p in plan_design(size, AGENTS).sessions if p.subject == "M1"]
    assert [(p.kind, p.stage, p.condition) for p in plans] == [
        ("beh", "n/a", "control"),
        ("beh", "n/a", "inactivation"),
        ("arrays", "middle", "inactivation"),
    ]
    assert [len(p.problems) for p in plans] == [
        PAPER["problems_per_session"],
        PAPER["problems_per_session"],
        PAPER["recorded_problems"],
    ]
    for entry, message in (
        ("midlle", r"'midlle' unknown; use beh or a stage of"),
        ("beh/muscimol", r"'beh/muscimol': condition 'muscimol' unknown; use beh or a stage"),
        ("middle/", r"'middle/': condition '' unknown; .*'beh/inactivation'"),
        ("/inactivation", r"'/inactivation' unknown"),
        ("inactivation", r"'inactivation' unknown"),
    ):
        size["design"]["macaque_sessions"] = ["early", entry]
        with pytest.raises(ValueError, match=message):
            plan_design(size, AGENTS)


def test_config_schema_accepts_the_entries_plan_design_accepts():
    import re

    schema = yaml.safe_load((ROOT / "workflow" / "schemas" / "config.schema.yaml").read_text())
    pattern = re.compile(
        schema["$defs"]["design"]["properties"]["macaque_sessions"]["items"]["pattern"]
    )
    for entry in ("beh", "beh/inactivation", "early", "late/inactivation"):
        assert pattern.search(entry), entry
    for entry in ("midlle", "beh/muscimol", "middle/", "inactivation"):
        assert not pattern.search(entry), entry
