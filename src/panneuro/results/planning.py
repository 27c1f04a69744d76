"""The workflow behind a run: figures traced to their rules, and snakemake run to plan only.

:func:`figure_sources` traces each figure to its rule, the rule's script and the plotting
function it calls; :func:`plan_workflow` runs snakemake on the run's workflow in a scratch
folder for a rule graph, a DAG or a dry run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from panneuro.results.run import Run

_RULE = re.compile(r"^rule (\w+):", re.MULTILINE)
_FIGURE_OUTPUT = re.compile(r'"results/figures/(fig\d+_\w+)(?:\.png)?"')
_SCRIPT = re.compile(r'script:\s*\n\s*"([^"]+)"')
_PLOT_IMPORT = re.compile(r"^from (panneuro\.figures\.\w+) import ([^\n]+)$", re.MULTILINE)


def figure_sources(run: Run) -> pd.DataFrame:
    """Trace each figure to its rule, the rule's script and the plotting function it calls.

    Read from the workflow's text (``workflow/rules/*.smk`` and ``workflow/scripts/``).

    Returns
    -------
    pandas.DataFrame
        ``figure``, ``rule``, ``rule_file``, ``script``, ``function`` (``module.name``), one
        row per figure, in figure order (fig2 before fig10).
    """
    rows = []
    for rule_file in sorted(run.path("workflow", "rules").glob("*.smk")):
        text = rule_file.read_text()
        starts = [m.start() for m in _RULE.finditer(text)] + [len(text)]
        for start, stop in zip(starts[:-1], starts[1:], strict=True):
            block = text[start:stop]
            figure = _FIGURE_OUTPUT.search(block)
            script = _SCRIPT.search(block)
            if not figure or not script:
                continue
            script_path = (rule_file.parent / script.group(1)).resolve()
            functions = [
                f"{module}.{name.strip()}"
                for module, names in _PLOT_IMPORT.findall(script_path.read_text())
                for name in names.split(",")
                if name.strip().startswith("plot_")
            ]
            rows.append(
                {
                    "figure": figure.group(1),
                    "rule": _RULE.match(block).group(1),
                    "rule_file": str(rule_file.relative_to(run.root)),
                    "script": str(script_path.relative_to(run.root)),
                    "function": ", ".join(functions),
                }
            )
    columns = ["figure", "rule", "rule_file", "script", "function"]
    return pd.DataFrame(rows, columns=columns).sort_values(
        "figure",
        key=lambda names: names.str.extract(r"^fig(\d+)")[0].astype(float),
        ignore_index=True,
    )


def plan_workflow(
    run: Run,
    *args: str,
    samples: pd.DataFrame | None = None,
    config: Mapping[str, Any] | None = None,
) -> str:
    """Run snakemake on the run's workflow in a scratch folder, to plan only; return stdout.

    For ``--rulegraph``, ``--dag`` or ``--dry-run``: the Snakefile and rules are the run's,
    the working folder is a temporary one holding a copy of ``config/`` and
    ``resources/reference/`` (so nothing is written into the run, and the plan is the one of
    a fresh clone).

    Parameters
    ----------
    run : Run
        The run.
    *args : str
        Snakemake arguments, e.g. ``"--rulegraph"``.
    samples : pandas.DataFrame, optional
        A sample sheet used instead of the run's (e.g. with a new session's rows).
    config : mapping, optional
        ``--config`` values (``key=value``).

    Returns
    -------
    str
        Snakemake's standard output.

    Raises
    ------
    RuntimeError
        If snakemake fails (its stderr's tail is in the message).
    """
    executable = Path(sys.executable).with_name("snakemake")
    if not executable.exists():
        executable = Path(shutil.which("snakemake") or "snakemake")
    env = dict(os.environ, PATH=f"{executable.parent}{os.pathsep}{os.environ.get('PATH', '')}")
    with tempfile.TemporaryDirectory(prefix="panneuro-plan-") as tmp:
        work = Path(tmp)
        shutil.copytree(run.path("config"), work / "config")
        shutil.copytree(run.path("resources", "reference"), work / "resources" / "reference")
        if samples is not None:
            samples.to_csv(work / run.config["samples"], sep="\t", index=False, lineterminator="\n")
        command = [
            str(executable),
            "--snakefile",
            str(run.path("Snakefile")),
            "--directory",
            str(work),
            "--cores",
            "1",
            *args,
        ]
        if config:
            command += ["--config", *(f"{k}={v}" for k, v in config.items())]
        done = subprocess.run(
            command, cwd=work, capture_output=True, text=True, env=env, check=False
        )
    if done.returncode != 0:
        raise RuntimeError(
            f"snakemake {' '.join(args)} failed on {run.root}/Snakefile "
            f"(exit {done.returncode}): {done.stderr[-2000:]}"
        )
    return done.stdout
