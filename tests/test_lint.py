"""Style gates that CI enforces: ruff, snakefmt and snakemake --lint."""

import os
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


def test_snakefmt_clean():
    result = _run(str(BIN / "snakefmt"), "--check", "Snakefile", "workflow/rules")
    assert result.returncode == 0, result.stdout + result.stderr


def test_snakemake_lint_clean():
    result = _run(str(BIN / "snakemake"), "--lint")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_rule_declares_log_conda_threads_resources():
    import re

    rule = re.compile(r"^\s*rule (\w+):\n(.*?)(?=^\s*rule |\Z)", re.S | re.M)
    found = {}
    for path in sorted((ROOT / "workflow" / "rules").glob("*.smk")):
        for match in rule.finditer(path.read_text()):
            body = match.group(2)
            found[match.group(1)] = [k for k in ("log:", "conda:", "threads:", "resources:",
                                                 "script:") if k not in body]
    assert len(found) >= 20, sorted(found)
    incomplete = {name: keys for name, keys in found.items() if keys}
    assert not incomplete, f"rules lacking directives: {incomplete}"
