"""The panneuro command: ``panneuro provenance <file>`` from a figure back to the raw files."""

import json
import subprocess
from pathlib import Path

import pytest
from compendium import BIN, ENV

from panneuro import cli
from panneuro.compendium.provenance import sidecar_path


def _sidecar(root: Path, output: str, rule: str, inputs: list[dict]) -> None:
    path = root / sidecar_path(output)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {"output": output, "sha256": "sha256:" + "0" * 64, "rule": rule, "inputs": inputs}
        )
    )


def test_provenance_prints_the_chain_and_raw_files(tmp_path, capsys):
    key = "MD5E-s4--abcd.nwb"
    _sidecar(
        tmp_path,
        "results/units.nwb",
        "export",
        [
            {"path": "resources/raw/sub-M1/rec.nwb", "annex_key": key},
            {"path": "config/samples.tsv", "sha256": "sha256:1"},
        ],
    )
    _sidecar(
        tmp_path,
        "results/figures/fig.png",
        "figure",
        [
            {
                "path": "results/units.nwb",
                "sha256": "sha256:" + "0" * 64,
                "sidecar": "results/units_nwb.prov.json",
            }
        ],
    )
    assert cli.main(["provenance", "results/figures/fig.png", "--root", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith("results/figures/fig.png  (rule figure")
    assert lines[1].startswith("  <- results/units.nwb  (rule export")
    assert "raw files (1):" in out
    assert f"  resources/raw/sub-M1/rec.nwb  annex_key {key}" in lines
    assert "config/samples.tsv" not in out.split("raw files")[1]


def test_provenance_of_a_file_without_sidecar_fails_clearly(tmp_path, capsys):
    assert cli.main(["provenance", "results/none.tsv", "--root", str(tmp_path)]) == 1
    assert "no provenance sidecar" in capsys.readouterr().err


@pytest.mark.workflow
def test_provenance_of_a_tiny_figure_lists_its_raw_recordings(tiny_run):
    result = subprocess.run(
        [str(BIN / "panneuro"), "provenance", "results/figures/fig2_sorting.png"],
        cwd=tiny_run,
        capture_output=True,
        text=True,
        env=ENV,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    raw = result.stdout.split("raw files")[1].splitlines()[1:]
    nwb = [line for line in raw if "_ieeg.nwb " in line]
    assert len(nwb) == 3, result.stdout  # the three probes of the sheet, by annex key
    assert all("annex_key MD5E-" in line for line in nwb)
    assert "(rule sort_probe" in result.stdout and "(rule preprocess_probe" in result.stdout
