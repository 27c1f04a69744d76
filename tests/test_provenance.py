"""Provenance sidecars: content, determinism, the chain back to raw files; every tiny result."""

import json
import os
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest
from compendium import BIN, ENV
from snakemake.iocontainers import InputFiles, Namedlist, OutputFiles

from panneuro.compendium import provenance

KEY = "MD5E-s10--0123456789abcdef0123456789abcdef.nwb"


def _annexed(path: Path) -> Path:
    """A dangling git-annex symlink (content dropped) named like a real one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(f"../.git/annex/objects/Xx/Yy/{KEY}/{KEY}", path)
    return path


def _smk(rule, inputs, outputs, params=None, wildcards=None):
    named_params = Namedlist(fromdict=params or {})
    named_wildcards = Namedlist(fromdict=wildcards or {})
    return SimpleNamespace(
        rule=rule,
        input=InputFiles(inputs),
        output=OutputFiles(outputs),
        params=named_params,
        wildcards=named_wildcards,
    )


@pytest.fixture
def chain(tmp_path, monkeypatch):
    """raw (annexed, dropped) + config -> table -> figure, each step with its sidecar."""
    monkeypatch.chdir(tmp_path)
    raw = _annexed(Path("resources/raw/sub-M1/rec.nwb"))
    Path("config").mkdir()
    Path("config/samples.tsv").write_text("subject\nM1\n")
    Path("results/figures").mkdir(parents=True)
    Path("results/table.tsv").write_text("a\n1\n")
    provenance.write_provenance(
        _smk(
            "make_table",
            [str(raw), "config/samples.tsv"],
            ["results/table.tsv"],
            {"seed": 1, "opts": {"k": [1, 2]}},
            {"subject": "M1"},
        )
    )
    Path("results/figures/fig.png").write_bytes(b"png")
    provenance.write_provenance(
        _smk("figure", ["results/table.tsv"], ["results/figures/fig.png"], {"obj": object()})
    )
    return tmp_path


def test_sidecar_records_keys_digests_rule_params_versions(chain):
    table = json.loads(Path("results/table_tsv.prov.json").read_text())
    assert table["rule"] == "make_table" and table["wildcards"] == {"subject": "M1"}
    assert table["params"] == {"seed": 1, "opts": {"k": [1, 2]}}
    raw, sheet = table["inputs"]
    assert raw == {"path": "resources/raw/sub-M1/rec.nwb", "annex_key": KEY}
    assert sheet["sha256"] == provenance.digest("config/samples.tsv")
    assert table["sha256"] == provenance.digest("results/table.tsv")
    assert table["compendium_commit"] == "unknown"
    assert table["packages"]["numpy"] and table["packages"]["python"].startswith("3.")
    figure = json.loads(Path("results/figures/fig_png.prov.json").read_text())
    # the input's sidecar is found by its name, not recorded (a job under remote storage
    # does not receive it: the record would depend on where the job ran)
    assert "sidecar" not in figure["inputs"][0]
    assert figure["inputs"][0]["sha256"] == table["sha256"]
    assert figure["params"] == {"obj": "<object>"}  # no memory address, no repr


def test_sidecars_are_byte_identical_elsewhere(chain, tmp_path_factory, monkeypatch):
    first = Path("results/figures/fig_png.prov.json").read_bytes()
    other = tmp_path_factory.mktemp("other")
    monkeypatch.chdir(other)
    _annexed(Path("resources/raw/sub-M1/rec.nwb"))
    Path("config").mkdir()
    Path("config/samples.tsv").write_text("subject\nM1\n")
    Path("results/figures").mkdir(parents=True)
    Path("results/table.tsv").write_text("a\n1\n")
    provenance.write_provenance(
        _smk(
            "make_table",
            ["resources/raw/sub-M1/rec.nwb", "config/samples.tsv"],
            ["results/table.tsv"],
            {"seed": 1, "opts": {"k": [1, 2]}},
            {"subject": "M1"},
        )
    )
    Path("results/figures/fig.png").write_bytes(b"png")
    provenance.write_provenance(
        _smk("figure", ["results/table.tsv"], ["results/figures/fig.png"], {"obj": object()})
    )
    assert Path("results/figures/fig_png.prov.json").read_bytes() == first


def test_remote_storage_copies_are_named_as_the_workflow_names_them(tmp_path, monkeypatch):
    from panneuro.compendium.storage import STORAGE_PREFIX_VARIABLE

    monkeypatch.chdir(tmp_path)
    local = Path(".snakemake/storage/s3/bucket/run")
    (local / "results").mkdir(parents=True)
    (local / "config").mkdir()
    (local / "config/samples.tsv").write_text("subject\nM1\n")
    (local / "results/table.tsv").write_text("a\n1\n")
    sidecar = str(local / "results/table_tsv.prov.json")  # declared as an output too
    monkeypatch.setenv(STORAGE_PREFIX_VARIABLE, f"{local}/")
    written = provenance.write_provenance(
        _smk(
            "make_table",
            [str(local / "config/samples.tsv")],
            [str(local / "results/table.tsv"), sidecar],
        )
    )
    assert [str(p) for p in written] == [sidecar]  # no sidecar of the sidecar
    record = json.loads(Path(sidecar).read_text())
    assert record["output"] == "results/table.tsv"
    assert record["inputs"][0]["path"] == "config/samples.tsv"


def test_trace_reaches_the_raw_files(chain):
    node = provenance.trace("results/figures/fig.png")
    assert node.rule == "figure" and node.inputs[0].rule == "make_table"
    assert provenance.raw_files(node) == {"resources/raw/sub-M1/rec.nwb": {"annex_key": KEY}}
    assert set(provenance.leaves(node)) == {"resources/raw/sub-M1/rec.nwb", "config/samples.tsv"}
    lines = list(provenance.format_chain(node))
    assert lines[0].startswith("results/figures/fig.png  (rule figure")
    assert any("<- resources/raw/sub-M1/rec.nwb  [annex_key " in line for line in lines)


def test_trace_without_sidecar_says_how_results_are_made(tmp_path):
    with pytest.raises(FileNotFoundError, match="no provenance sidecar"):
        provenance.trace("results/x.tsv", root=tmp_path)


def test_directory_digest_ignores_snakemake_timestamps(tmp_path):
    folder = tmp_path / "sorting"
    folder.mkdir()
    (folder / "a.npy").write_bytes(b"1")
    before = provenance.digest(folder)
    (folder / ".snakemake_timestamp").write_text("")
    assert provenance.digest(folder) == before
    (folder / "a.npy").write_bytes(b"2")
    assert provenance.digest(folder) != before
    assert provenance.sidecar_path(f"{folder}/") == Path(f"{folder}.prov.json")


def test_sidecar_names_keep_no_extension_of_the_result():
    side = provenance.sidecar_path("results/nwb/sub-M1_ses-01_units.nwb")
    assert side == Path("results/nwb/sub-M1_ses-01_units_nwb.prov.json")
    assert ".nwb" not in side.name and provenance.is_sidecar(side)
    assert provenance.sidecar_path("results/figures/fig2.png") != provenance.sidecar_path(
        "results/figures/fig2.pdf"
    )


@pytest.mark.workflow
def test_nwbinspector_reads_only_nwb_files_of_the_results(tiny_run, tmp_path):
    # it globs *.nwb* under the folder: with <name>.nwb.prov.json sidecars it reported 2 ERRORs
    report = tmp_path / "inspector.json"
    done = subprocess.run(
        [str(BIN / "nwbinspector"), "results", "--json-file-path", str(report)],
        cwd=tiny_run,
        capture_output=True,
        text=True,
        env=ENV,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    messages = json.loads(report.read_text())["messages"]
    inspected = {Path(m["file_path"]).name for m in messages}
    assert inspected and all(name.endswith(".nwb") for name in inspected), inspected
    severe = [m for m in messages if m["importance"] in ("CRITICAL", "ERROR", "PYNWB_VALIDATION")]
    assert not severe, severe


def test_commit_is_the_compendium_head(tmp_path):
    assert provenance.compendium_commit(tmp_path) == "unknown"
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True, env=ENV)
    (tmp_path / "f").write_text("x")
    subprocess.run(["git", "add", "f"], cwd=tmp_path, check=True, env=ENV)
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "m"],
        cwd=tmp_path,
        check=True,
        env=ENV,
    )
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert provenance.compendium_commit(tmp_path) == head
    (tmp_path / "nested").mkdir()
    assert provenance.compendium_commit(tmp_path / "nested") == "unknown"


def _covered(path: Path, results: Path) -> bool:
    """A file has a sidecar, or lies in an output directory that has one."""
    for candidate in [path, *path.parents]:
        if provenance.sidecar_path(candidate).exists():
            return True
        if candidate == results:
            return False
    return False


@pytest.mark.workflow
def test_every_tiny_result_has_a_sidecar(tiny_run):
    results = tiny_run / "results"
    files = [
        p
        for p in results.rglob("*")
        if p.is_file()
        and not provenance.is_sidecar(p)
        and p.name not in (".snakemake_timestamp", "README.md")
    ]
    assert len(files) > 30
    uncovered = [str(p.relative_to(tiny_run)) for p in files if not _covered(p, results)]
    assert not uncovered, f"results without a provenance sidecar: {uncovered}"
    for side in results.rglob(f"*{provenance.SUFFIX}"):
        data = json.loads(side.read_text())
        assert not any(str(tiny_run) in str(v) for v in data.values()), side  # no absolute paths


def test_with_sidecars_appends_each_outputs_sidecar():
    from panneuro.compendium.provenance import with_sidecars

    assert with_sidecars("results/a.tsv") == ["results/a.tsv", "results/a_tsv.prov.json"]
    named = with_sidecars(png="results/f.png")
    assert list(named) == ["png", "png_provenance"]
    with pytest.raises(ValueError, match="either positional or named"):
        with_sidecars("a", b="c")
