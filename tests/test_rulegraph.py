"""Tests of panneuro.figures.rulegraph: parsing snakemake's dot text and drawing it."""

import matplotlib.colors as mcolors
import pytest

from panneuro.figures.rulegraph import layers, layout, parse_dot, plot_rulegraph, upstream

# The shape snakemake 9 prints for --rulegraph (header lines, then nodes, then edges).
RULEGRAPH = """Building DAG of jobs...
digraph snakemake_dag {
    graph[bgcolor=white, margin=0];
    node[shape=box, style=rounded, fontname=sans,                 fontsize=10, penwidth=2];
    edge[penwidth=2, color=grey];
\t0[label = "all", color = "0.00 0.6 0.85", style="rounded"];
\t1[label = "figure_a", color = "0.20 0.6 0.85", style="rounded"];
\t2[label = "simulate", color = "0.40 0.6 0.85", style="rounded"];
\t3[label = "curves", color = "0.60 0.6 0.85", style="rounded,dashed"];
\t4[label = "figure_b", color = "0.80 0.6 0.85", style="rounded"];
\t1 -> 0
\t4 -> 0
\t3 -> 1
\t2 -> 3
\t2 -> 4
}
"""

DAG = """digraph snakemake_dag {
\t0[label = "all", color = "0.00 0.6 0.85", style="rounded"];
\t1[label = "decode\\nsubject: M1\\nsession: 01", color = "0.3 0.6 0.85", style="rounded"];
\t1 -> 0
}
"""


def test_parse_dot_reads_nodes_edges_colours_and_done_jobs():
    graph = parse_dot(RULEGRAPH)
    assert graph.rules == ["all", "figure_a", "simulate", "curves", "figure_b"]
    assert set(graph.edges) == {(1, 0), (4, 0), (3, 1), (2, 3), (2, 4)}
    assert graph.done == frozenset({3})
    assert graph.colors[2] == pytest.approx(tuple(mcolors.hsv_to_rgb([0.4, 0.6, 0.85])))


def test_parse_dot_keeps_the_wildcards_of_dag_jobs():
    graph = parse_dot(DAG)
    assert graph.labels[1] == "decode\nsubject: M1\nsession: 01"
    assert graph.rules == ["all", "decode"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Building DAG of jobs...\nMissingInputException", "not a dot graph"),
        ("digraph snakemake_dag {\n}\n", "without nodes"),
        ('digraph g {\n\t0[label = "a", color = "0 0 0", style="rounded"];\n\t0 -> 7\n}', "[7]"),
    ],
)
def test_parse_dot_rejects_what_is_not_a_graph(text, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_dot(text)


def test_layers_put_every_rule_below_its_inputs():
    graph = parse_dot(RULEGRAPH)
    layer = layers(graph)
    assert all(layer[target] > layer[source] for source, target in graph.edges)
    assert layer == {2: 0, 3: 1, 4: 1, 1: 2, 0: 3}


def test_layers_reject_a_cycle():
    cyclic = RULEGRAPH.replace("\t1 -> 0\n", "\t1 -> 0\n\t0 -> 2\n")
    with pytest.raises(ValueError, match="cycle"):
        layers(parse_dot(cyclic))


def test_layout_places_layers_top_down_and_nodes_apart():
    graph = parse_dot(RULEGRAPH)
    pos = layout(graph)
    assert all(pos[source][1] > pos[target][1] for source, target in graph.edges)
    for y in {p[1] for p in pos.values()}:
        xs = sorted(p[0] for p in pos.values() if p[1] == y)
        assert all(b - a == pytest.approx(1.0) for a, b in zip(xs, xs[1:], strict=False))


def test_upstream_lists_every_ancestor_sources_first():
    graph = parse_dot(RULEGRAPH)
    assert upstream(graph, "figure_a") == ["simulate", "curves"]
    assert upstream(graph, "all") == ["simulate", "curves", "figure_b", "figure_a"]
    assert upstream(graph, "simulate") == []
    with pytest.raises(KeyError, match="figure_z"):
        upstream(graph, "figure_z")


def test_plot_rulegraph_draws_one_box_per_node_and_one_arrow_per_edge():
    graph = parse_dot(RULEGRAPH)
    fig = plot_rulegraph(graph, title="t", highlight=["figure_a"])
    ax = fig.axes[0]
    boxes = {t.get_text(): t.get_bbox_patch() for t in ax.texts if t.get_text()}
    arrows = [t for t in ax.texts if not t.get_text()]
    assert set(boxes) == set(graph.labels.values())
    assert len(boxes) == len(graph.labels)
    assert len(arrows) == len(graph.edges)
    assert boxes["figure_a"].get_linewidth() > boxes["figure_b"].get_linewidth()
    assert boxes["curves"].get_linestyle() != boxes["figure_b"].get_linestyle()


def test_plot_rulegraph_shortens_long_label_lines_from_the_left():
    long = DAG.replace("session: 01", "path: sub-M1/ses-01/ieeg/sub-M1_ses-01_acq-PFC_ieeg.nwb")
    graph = parse_dot(long)
    texts = [t.get_text() for t in plot_rulegraph(graph, max_line=20).axes[0].texts if t.get_text()]
    assert "decode\nsubject: M1\n…01_acq-PFC_ieeg.nwb" in texts
    assert all(len(line) <= 20 for text in texts for line in text.split("\n"))
