"""Tests of panneuro.results.planning: figures traced to their rules, the workflow planned."""

import pytest
from compendium import ROOT

from panneuro.figures.rulegraph import parse_dot
from panneuro.results import figure_sources, open_run, plan_workflow
from panneuro.study import Study


def test_figure_sources_trace_every_figure_to_a_plotting_function():
    import importlib

    sources = figure_sources(open_run(ROOT))
    made = {p.stem for p in (ROOT / "workflow" / "report").glob("fig*.rst")}
    # every captioned figure, in figure order (fig2 before fig10)
    assert sources["figure"].tolist() == sorted(made, key=lambda f: int(f[3:].split("_")[0]))
    for row in sources.itertuples():
        assert (ROOT / row.script).is_file() and (ROOT / row.rule_file).is_file()
        module, name = row.function.rsplit(".", 1)
        assert callable(getattr(importlib.import_module(module), name))
        assert row.rule in (ROOT / row.rule_file).read_text()


def test_plan_workflow_gives_the_rule_graph_without_touching_the_compendium():
    run = open_run(ROOT)
    before = sorted(p.name for p in ROOT.iterdir())
    graph = parse_dot(plan_workflow(run, "--rulegraph"))
    assert sorted(p.name for p in ROOT.iterdir()) == before
    # the rules of the figures the shipped sheet supports; the study design's figures (7-10:
    # group effects, sleep) are planned only with a design (size: paper)
    planned = Study.from_config(run.config, run.samples).figures()
    sources = figure_sources(run)
    assert set(sources.loc[sources["figure"].isin(planned), "rule"]) <= set(graph.rules)
    assert not set(sources.loc[~sources["figure"].isin(planned), "rule"]) & set(graph.rules)
    assert "figure_sleep" not in graph.rules and "fig9_sleep" not in planned
    assert "all" in graph.rules
    with pytest.raises(RuntimeError, match="--no-such-option"):
        plan_workflow(run, "--no-such-option")
