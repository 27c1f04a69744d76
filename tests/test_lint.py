"""Style gates that CI enforces: ruff (lint and format), snakefmt and snakemake --lint."""

import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _run(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, env=env, check=False)


def test_ruff_clean():
    result = _run(str(BIN / "ruff"), "check", "src", "tests", "workflow", "bench")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_clean():
    # `make format` must not reformat code it did not touch: the tree is kept formatted
    result = _run(str(BIN / "ruff"), "format", "--check", "src", "tests", "workflow", "bench")
    assert result.returncode == 0, result.stdout + result.stderr


def test_snakefmt_clean():
    result = _run(str(BIN / "snakefmt"), "--check", "Snakefile", "workflow/rules")
    assert result.returncode == 0, result.stdout + result.stderr


def test_snakemake_lint_clean():
    result = _run(str(BIN / "snakemake"), "--lint")
    assert result.returncode == 0, result.stdout + result.stderr


RULE = re.compile(r"^(\s*)rule (\w+):")
#: Issue 17: rules read like the catalog's (input, output, log, params, threads, resources,
#: script); the median rule is at most this many lines.
MEDIAN_RULE_LINES = 15


def rule_blocks() -> dict[str, list[str]]:
    """Each rule of the Snakefile and ``workflow/rules/*.smk``: its lines, from ``rule x:`` to
    its last non-blank indented line (the count of issue 17)."""
    blocks = {}
    for path in [ROOT / "Snakefile", *sorted((ROOT / "workflow" / "rules").glob("*.smk"))]:
        lines = path.read_text().splitlines()
        for i, line in enumerate(lines):
            match = RULE.match(line)
            if not match:
                continue
            indent, last = len(match.group(1)), i
            for j in range(i + 1, len(lines)):
                if lines[j].strip():
                    if len(lines[j]) - len(lines[j].lstrip()) <= indent:
                        break
                    last = j
            blocks[match.group(2)] = lines[i : last + 1]
    return blocks


def test_rule_blocks_counts_to_the_last_indented_line():
    blocks = rule_blocks()
    snakefile = [line for line in (ROOT / "Snakefile").read_text().splitlines() if line.strip()]
    # rule all closes the Snakefile: its block ends with the file's last line
    assert blocks["all"][0] == "rule all:" and blocks["all"][-1] == snakefile[-1]
    # a rule nested in an `if` (simulate_dataset) ends with its own body
    assert blocks["simulate_dataset"][-1].strip() == '"../scripts/simulate_dataset.py"'


def test_rules_are_short():
    lengths = {name: len(lines) for name, lines in rule_blocks().items()}
    assert len(lengths) >= 28, sorted(lengths)
    median = statistics.median(lengths.values())
    assert median <= MEDIAN_RULE_LINES, (median, sorted(lengths.items(), key=lambda x: x[1]))


def test_every_rule_has_the_shape_of_docs_architecture():
    """log, conda and script everywhere; threads only when > 1; resources only when sized."""
    from panneuro.study import HEAVY_STAGES

    problems = {}
    for name, lines in rule_blocks().items():
        if name == "all":
            continue
        body = "\n".join(lines)
        missing = [k for k in ("log:", "conda:", "script:") if k not in body]
        extra = [k for k in ("threads: 1\n", "runtime=") if k in body + "\n"]
        heavy = "**HEAVY_RESOURCES" in body
        if heavy != (name in HEAVY_STAGES) or missing or extra:
            problems[name] = {"missing": missing, "redundant": extra, "heavy": heavy}
    assert not problems, f"rules off the shape of docs/architecture.md: {problems}"


def test_config_params_are_asked_by_their_own_rule():
    """``**STUDY.config_params("x")`` appears in rule x, and every RULE_CONFIG entry is used."""
    from panneuro.study import RULE_CONFIG

    asked = {}
    for name, lines in rule_blocks().items():
        for found in re.findall(r'STUDY\.config_params\("(\w+)"\)', "\n".join(lines)):
            asked[found] = name
    assert {k: v for k, v in asked.items() if k != v} == {}
    assert sorted(asked) == sorted(RULE_CONFIG)


#: Rules whose outputs the de-identification check does not read: the raw dataset's
#: (simulate_dataset; checked as raw data), the key records of raw files (raw_key), the check
#: itself and the target rule.
NOT_CHECKED = {"all", "check_deidentification", "raw_key", "simulate_dataset"}


def test_every_results_rule_is_read_by_the_deidentification_check():
    """qc.smk's CHECKED_RESULTS names every rule writing results/ (figures by FIGURE_OUTPUTS).

    An undeclared result is checked only when its job happened to run first, so the report
    depends on job order (found by CI's S3 run: the ECoG stay code was missing from it).
    """
    qc = (ROOT / "workflow/rules/qc.smk").read_text()
    declared = qc[qc.index("FIGURE_OUTPUTS = ") : qc.index("rule check_deidentification")]
    checked = set(re.findall(r"rules\.(\w+)", declared))
    missing = sorted(set(rule_blocks()) - checked - NOT_CHECKED)
    assert not missing, f"add to CHECKED_RESULTS in workflow/rules/qc.smk: {missing}"
