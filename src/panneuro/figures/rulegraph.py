"""Draw the workflow's DAG from ``snakemake --rulegraph`` / ``--dag`` text, without graphviz.

Snakemake writes the graph in the dot language; graphviz's ``dot`` is a system program this
compendium does not need otherwise, so the graph is parsed here and drawn with matplotlib in
layers (longest path from the sources, so every edge points down).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")

import matplotlib.colors as mcolors  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

_NODE = re.compile(r'^\s*(\d+)\s*\[\s*label\s*=\s*"((?:[^"\\]|\\.)*)"(.*)\]\s*;?\s*$')
_ATTRIBUTE = re.compile(r'(\w+)\s*=\s*"([^"]*)"')
_EDGE = re.compile(r"^\s*(\d+)\s*->\s*(\d+)\s*;?\s*$")


@dataclass(frozen=True)
class RuleGraph:
    """A DAG as snakemake prints it.

    Attributes
    ----------
    labels : dict
        Node id → label (a rule name; for ``--dag`` the rule and its wildcards, one per line).
    colors : dict
        Node id → colour (RGB tuple; snakemake colours each rule).
    done : frozenset
        Ids of nodes drawn dashed by snakemake (jobs whose outputs are up to date).
    edges : tuple
        ``(source, target)`` ids: ``source``'s outputs are inputs of ``target``.
    """

    labels: Mapping[int, str]
    colors: Mapping[int, tuple[float, float, float]]
    done: frozenset[int]
    edges: tuple[tuple[int, int], ...]

    @property
    def rules(self) -> list[str]:
        """Rule of each node (first line of its label), in node order."""
        return [self.labels[n].split("\n")[0] for n in sorted(self.labels)]


def _color(value: str) -> tuple[float, float, float]:
    """Colour of a dot attribute: ``"h s v"`` (snakemake's form) or a name/hex."""
    parts = value.replace(",", " ").split()
    if len(parts) == 3:
        try:
            hsv = [float(p) for p in parts]
        except ValueError:
            pass
        else:
            return tuple(float(c) for c in mcolors.hsv_to_rgb(hsv))
    return mcolors.to_rgb(value)


def parse_dot(text: str) -> RuleGraph:
    """Parse snakemake's ``--rulegraph`` or ``--dag`` output.

    Parameters
    ----------
    text : str
        The dot text (snakemake's stdout; lines before ``digraph`` are ignored).

    Returns
    -------
    RuleGraph
        Nodes and edges.

    Raises
    ------
    ValueError
        If there is no ``digraph``, no node, or an edge names an unknown node.
    """
    if "digraph" not in text:
        raise ValueError(
            "not a dot graph (no 'digraph'); pass the stdout of snakemake --rulegraph or --dag."
        )
    labels: dict[int, str] = {}
    colors: dict[int, tuple[float, float, float]] = {}
    done: set[int] = set()
    edges: list[tuple[int, int]] = []
    for line in text[text.index("digraph") :].splitlines():
        node = _NODE.match(line)
        if node:
            ident = int(node.group(1))
            labels[ident] = node.group(2).replace("\\n", "\n").replace('\\"', '"')
            attributes = dict(_ATTRIBUTE.findall(node.group(3)))
            colors[ident] = _color(attributes.get("color", "0.0 0.0 0.5"))
            if "dashed" in attributes.get("style", ""):
                done.add(ident)
            continue
        edge = _EDGE.match(line)
        if edge:
            edges.append((int(edge.group(1)), int(edge.group(2))))
    if not labels:
        raise ValueError("dot graph without nodes; did snakemake fail? (see its stderr)")
    unknown = sorted({n for e in edges for n in e} - set(labels))
    if unknown:
        raise ValueError(f"dot graph: edges name undeclared node(s) {unknown}.")
    return RuleGraph(labels, colors, frozenset(done), tuple(edges))


def layers(graph: RuleGraph) -> dict[int, int]:
    """Layer of each node: the longest path from a source (sources are layer 0).

    Raises
    ------
    ValueError
        If the graph has a cycle.
    """
    parents: dict[int, list[int]] = {n: [] for n in graph.labels}
    for source, target in graph.edges:
        parents[target].append(source)
    layer: dict[int, int] = {}
    visiting: set[int] = set()

    def depth(node: int) -> int:
        if node in layer:
            return layer[node]
        if node in visiting:
            raise ValueError(f"dot graph has a cycle through node {node}; not a DAG.")
        visiting.add(node)
        layer[node] = max((depth(p) + 1 for p in parents[node]), default=0)
        visiting.discard(node)
        return layer[node]

    for node in sorted(graph.labels):
        depth(node)
    return layer


def layout(graph: RuleGraph, *, sweeps: int = 4) -> dict[int, tuple[float, float]]:
    """Positions of the nodes: layers top to bottom, order in a layer by parents' mean.

    Parameters
    ----------
    graph : RuleGraph
        The graph.
    sweeps : int
        Barycentre passes (down then up) that reduce edge crossings.

    Returns
    -------
    dict
        Node id → ``(x, y)``; y = −layer, x centred on 0, unit spacing.
    """
    layer = layers(graph)
    rows: dict[int, list[int]] = {}
    for node in sorted(graph.labels):
        rows.setdefault(layer[node], []).append(node)
    neighbours: dict[int, dict[str, list[int]]] = {n: {"up": [], "down": []} for n in graph.labels}
    for source, target in graph.edges:
        neighbours[target]["up"].append(source)
        neighbours[source]["down"].append(target)

    def x_of() -> dict[int, float]:
        return {n: i - (len(row) - 1) / 2 for row in rows.values() for i, n in enumerate(row)}

    for sweep in range(sweeps):
        direction = "up" if sweep % 2 == 0 else "down"
        order = sorted(rows) if direction == "up" else sorted(rows, reverse=True)
        for k in order:
            x = x_of()

            def key(n: int, x: dict[int, float] = x, direction: str = direction) -> float:
                near = neighbours[n][direction]
                return sum(x[m] for m in near) / len(near) if near else x[n]

            rows[k] = sorted(rows[k], key=key)
    x = x_of()
    return {n: (x[n], -float(layer[n])) for n in graph.labels}


def _shorten(label: str, width: int) -> str:
    """Cut each line of a label to ``width`` characters, keeping its end (file names)."""
    return "\n".join(
        line if len(line) <= width else "…" + line[-(width - 1) :] for line in label.split("\n")
    )


def plot_rulegraph(
    graph: RuleGraph,
    *,
    title: str | None = None,
    highlight: Sequence[str] = (),
    fontsize: float = 7.0,
    max_line: int = 32,
) -> Figure:
    """Draw a DAG: one box per node coloured as snakemake colours it, arrows along edges.

    Parameters
    ----------
    graph : RuleGraph
        The graph (:func:`parse_dot`).
    title : str, optional
        Figure title.
    highlight : sequence of str
        Rules whose boxes get a thick black frame (e.g. the figure rules).
    fontsize : float
        Label size.
    max_line : int
        Longer label lines (e.g. a job's file path) keep only their last characters.

    Returns
    -------
    matplotlib.figure.Figure
        The drawing; jobs snakemake marks as done are drawn with dashed frames.
    """
    pos = layout(graph)
    width = max(x for x, _ in pos.values()) - min(x for x, _ in pos.values()) + 1
    depth = -min(y for _, y in pos.values()) + 1
    fig, ax = plt.subplots(figsize=(max(6.0, 2.1 * width), max(3.0, 0.9 * depth)))
    for source, target in graph.edges:
        ax.annotate(
            "",
            xy=pos[target],
            xytext=pos[source],
            arrowprops={"arrowstyle": "-|>", "color": "0.6", "lw": 0.8, "shrinkA": 9, "shrinkB": 9},
        )
    for node, (x, y) in pos.items():
        rule = graph.labels[node].split("\n")[0]
        face = tuple(0.55 + 0.45 * c for c in graph.colors[node])
        frame = {
            "boxstyle": "round,pad=0.3",
            "facecolor": face,
            "edgecolor": "k" if rule in highlight else graph.colors[node],
            "linewidth": 2.0 if rule in highlight else 1.0,
            "linestyle": "--" if node in graph.done else "-",
        }
        ax.text(
            x,
            y,
            _shorten(graph.labels[node], max_line),
            ha="center",
            va="center",
            fontsize=fontsize,
            bbox=frame,
        )
    ax.set_xlim(min(x for x, _ in pos.values()) - 0.7, max(x for x, _ in pos.values()) + 0.7)
    ax.set_ylim(min(y for _, y in pos.values()) - 0.5, 0.5)
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def upstream(graph: RuleGraph, rule: str) -> list[str]:
    """Rules a rule depends on, directly or not, nearest layer last (sources first).

    Parameters
    ----------
    graph : RuleGraph
        A rule graph.
    rule : str
        The rule (a node label's first line).

    Returns
    -------
    list of str
        The distinct upstream rules, ordered by layer then name.

    Raises
    ------
    KeyError
        If no node is that rule.
    """
    names = {n: graph.labels[n].split("\n")[0] for n in graph.labels}
    targets = [n for n, name in names.items() if name == rule]
    if not targets:
        raise KeyError(f"no rule {rule!r} in the graph; rules: {sorted(set(names.values()))}.")
    parents: dict[int, list[int]] = {n: [] for n in graph.labels}
    for source, target in graph.edges:
        parents[target].append(source)
    seen: set[int] = set()
    stack = list(targets)
    while stack:
        for parent in parents[stack.pop()]:
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    layer = layers(graph)
    found = {names[n]: layer[n] for n in sorted(seen, key=lambda n: layer[n], reverse=True)}
    return sorted(found, key=lambda name: (found[name], name))
