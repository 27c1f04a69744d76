"""Run the official BIDS validator (``bids-validator-deno``) and summarise its verdict."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any


def _validator_command() -> str:
    local = Path(sys.executable).parent / "bids-validator-deno"
    found = str(local) if local.exists() else shutil.which("bids-validator-deno")
    if found is None:
        raise FileNotFoundError(
            "bids-validator-deno not found; install the pinned environment (make install) or "
            "`pip install bids-validator-deno==3.0.2`."
        )
    return found


def run_bids_validator(root: str | os.PathLike) -> dict[str, Any]:
    """Validate a BIDS dataset and return its issues grouped by severity.

    Parameters
    ----------
    root : path-like
        The BIDS root.

    Returns
    -------
    dict
        ``n_errors``, ``n_warnings``, ``errors`` and ``warnings`` (sorted lists of
        ``{"code", "location"}``), ``warning_codes`` (code → count) and the validator version.
    """
    result = subprocess.run(
        [_validator_command(), "--format", "json", str(root)],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError as err:
        raise RuntimeError(
            f"{root}: the BIDS validator gave no JSON report "
            f"(exit {result.returncode}): {result.stderr.strip()[:500]}"
        ) from err
    issues = report.get("issues", {}).get("issues", [])

    def _listed(severity: str) -> list[dict[str, str]]:
        found = [
            {"code": str(i.get("code")), "location": str(i.get("location", ""))}
            for i in issues
            if i.get("severity") == severity
        ]
        return sorted(found, key=lambda i: (i["code"], i["location"]))

    errors, warnings = _listed("error"), _listed("warning")
    return {
        "dataset": Path(root).name,
        "n_errors": len(errors),
        "n_warnings": len(warnings),
        "errors": errors,
        "warnings": warnings,
        "warning_codes": dict(sorted(Counter(w["code"] for w in warnings).items())),
    }
