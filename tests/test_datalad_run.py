"""Results saved back into the compendium with a DataLad run record, and ``datalad rerun``.

A copy of the compendium as a reader's clone has it (git, ``.datalad/config``, no annex yet)
takes over the tiny reference run's state (results, raw data, Snakemake's metadata), so
``make datalad-reproduce`` plans the real workflow but has no job to run: it builds the report,
annexes the results (binary and large files; small text in git, per ``.gitattributes``) and
commits them with a run record. Then (in this order, on the same dataset): ``datalad rerun``
after an intermediate result and a figure were dropped gets them back and saves nothing new; and
with the figures deleted, ``datalad rerun`` of the run commit recomputes them byte-identically
(same annex keys; only the report, which embeds run times, and provenance sidecars differ).
"""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from compendium import BIN, ROOT, digests
from compendium import ENV as BASE_ENV

from panneuro.compendium.provenance import SUFFIX, sidecar_path

# datalad and git commit: a git identity even where none is configured; 2 cores for make
ENV = dict(
    BASE_ENV,
    CORES="2",
    GIT_AUTHOR_NAME="panneuro",
    GIT_AUTHOR_EMAIL="panneuro@localhost",
    GIT_COMMITTER_NAME="panneuro",
    GIT_COMMITTER_EMAIL="panneuro@localhost",
)
COMMAND = "make reproduce && git annex add --no-check-gitignore results >/dev/null"
INTERMEDIATE = "results/ecog/sub-H1_ses-01_high_gamma.npz"  # read by fig4_ecog
FIGURE = "results/figures/fig4_ecog.png"
REPORT = "results/report.html"
DEID_SIDECAR = str(sidecar_path("results/qc/deidentification.json"))

pytestmark = pytest.mark.workflow


def _run(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, env=ENV, check=False
    )
    if check:
        assert result.returncode == 0, f"{args}: {(result.stderr + result.stdout)[-4000:]}"
    return result


def _git(*args: str, cwd: Path) -> str:
    return _run("git", *args, cwd=cwd).stdout


def _run_record(commit: str, cwd: Path) -> dict:
    """The run record DataLad writes into a commit message (between its two marker lines)."""
    message = _git("log", "-1", "--format=%B", commit, cwd=cwd)
    assert message.startswith("[DATALAD RUNCMD]"), message[:200]
    body = message.split("=== Do not change lines below ===", 1)[1]
    return json.loads(body.split("^^^ Do not change lines above ^^^", 1)[0])


def _files(folder: Path, root: Path) -> set[str]:
    """Files (annexed symlinks included) under ``folder``, relative to ``root``."""
    return {
        p.relative_to(root).as_posix() for p in folder.rglob("*") if p.is_file() or p.is_symlink()
    }


def _without_commit(text: str) -> dict:
    data = json.loads(text)
    data.pop("compendium_commit")
    return data


@pytest.fixture(scope="module")
def saved(tiny_run, tmp_path_factory):
    """A clone-like compendium after ``make datalad-reproduce``; its run commit."""
    compendium = tmp_path_factory.mktemp("datalad-run") / "compendium"
    # the workflow as the reference ran it (its metadata records the scripts' code)
    shutil.copytree(
        tiny_run,
        compendium,
        ignore=shutil.ignore_patterns("results", "resources", "logs", ".snakemake", "__pycache__"),
    )
    shutil.copytree(tiny_run / "resources/reference", compendium / "resources/reference")
    for name in (
        "Makefile",
        ".gitignore",
        ".gitattributes",
        "requirements.lock",
        "pyproject.toml",
        ".datalad/config",
        "results/README.md",
    ):
        (compendium / name).parent.mkdir(exist_ok=True)
        shutil.copy2(ROOT / name, compendium / name)  # copy2: make's install stamp stays newer
    (compendium / ".venv").mkdir()
    (compendium / ".venv" / "bin").symlink_to(BIN)  # this venv, no install
    (compendium / ".venv" / ".installed").touch()
    config = compendium / "config" / "config.yaml"
    assert "\nsize: default\n" in config.read_text()
    config.write_text(config.read_text().replace("\nsize: default\n", "\nsize: tiny\n"))
    _git("init", "-q", cwd=compendium)
    _git("add", "-A", cwd=compendium)
    _git("add", "-f", "results/README.md", cwd=compendium)
    _git("commit", "-q", "-m", "the compendium, tiny preset", cwd=compendium)
    # a clone has results/README.md (keeps results/ known to git: datalad run --input results)
    assert _git("ls-files", "results", cwd=compendium) == "results/README.md\n"
    # the tiny reference run's state: make's Snakemake has nothing left to compute
    for name in (
        "results",
        "resources/raw",
        "resources/groundtruth",
        "resources/raw-keys",
        ".snakemake/metadata",
    ):
        shutil.copytree(tiny_run / name, compendium / name, symlinks=True, dirs_exist_ok=True)
    _run("make", "--no-print-directory", "datalad-reproduce", cwd=compendium)
    return compendium, _git("rev-parse", "HEAD", cwd=compendium).strip()


def test_datalad_reproduce_saves_results_with_a_run_record(saved, tiny_run):
    compendium, commit = saved
    record = _run_record(commit, compendium)
    assert record["cmd"] == COMMAND and record["exit"] == 0
    assert record["inputs"] == ["results"] and record["outputs"] == ["results"]
    # every result is in the commit, with the reference run's content
    tracked = set(
        _git("ls-tree", "-r", "--name-only", commit, "--", "results", cwd=compendium).split()
    )
    assert tracked == _files(compendium / "results", compendium)
    assert _git("status", "--porcelain", "--ignored", "--", "results", cwd=compendium) == ""
    ours = digests(compendium / "results")
    assert ours.pop("report.html") and ours.pop("README.md")
    assert ours == digests(tiny_run / "results")
    # binary and large files annexed, small text in git
    annexed = set(_git("annex", "find", "--include", "*", "results", cwd=compendium).split())
    traces = "results/ephys/sub-M1/ses-01/acq-PFC/preprocessed/traces_cached_seg0.raw"
    for name in (traces, INTERMEDIATE, FIGURE, REPORT):
        assert name in annexed and (compendium / name).is_symlink(), name
    for name in ("results/decoding/sub-M1_ses-01_decoding.tsv", str(sidecar_path(FIGURE))):
        assert name in tracked and name not in annexed, name
        assert not (compendium / name).is_symlink(), name


def test_rerun_gets_dropped_results_and_saves_nothing_new(saved):
    compendium, commit = saved
    # a second copy (a directory special remote), so DataLad may drop content
    backup = compendium.parent / "backup"
    backup.mkdir()
    _git(
        "annex",
        "initremote",
        "backup",
        "type=directory",
        f"directory={backup}",
        "encryption=none",
        cwd=compendium,
    )
    # an intermediate result and a final figure: at a dropped figure (a dangling symlink)
    # Snakemake 9.27 stops ("Unable to obtain modification time"); datalad run gets it first
    dropped = [INTERMEDIATE, FIGURE]
    _git("annex", "copy", "--to", "backup", *dropped, cwd=compendium)
    _run(BIN / "datalad", "drop", *dropped, cwd=compendium)
    assert not any((compendium / name).exists() for name in dropped)
    _run(BIN / "datalad", "rerun", cwd=compendium)
    assert _git("rev-parse", "HEAD", cwd=compendium).strip() == commit  # nothing changed
    assert all((compendium / name).exists() for name in dropped)
    assert _git("status", "--porcelain", "--", "results", cwd=compendium) == ""


def test_rerun_recomputes_deleted_figures_byte_identically(saved):
    compendium, commit = saved
    figures = set(_git("ls-files", "results/figures", cwd=compendium).split())
    assert len(figures) >= 12
    _git("rm", "-r", "-q", "results/figures", cwd=compendium)
    _git("commit", "-q", "-m", "figures deleted", cwd=compendium)
    deleted = _git("rev-parse", "HEAD", cwd=compendium).strip()
    _run(BIN / "datalad", "rerun", commit, cwd=compendium)
    head = _git("rev-parse", "HEAD", cwd=compendium).strip()
    assert head != deleted and _run_record(head, compendium)["cmd"] == COMMAND
    assert figures <= set(_git("diff", "--name-only", deleted, head, cwd=compendium).split())
    # Against the first run, every result is byte-identical (same annex key or git blob) but
    # the report (Snakemake's report embeds the jobs' run times) and provenance sidecars: the
    # rerun jobs' sidecars record the new compendium commit; the de-identification check
    # (whose inputs include the figures' sidecars) reran too and records their new digests.
    changed = set(
        _git("diff", "--name-only", commit, head, "--", "results", cwd=compendium).split()
    )
    assert {n for n in changed if not n.endswith(SUFFIX)} <= {REPORT}, changed
    for name in changed - {REPORT, DEID_SIDECAR}:
        before = _git("show", f"{commit}:{name}", cwd=compendium)
        assert _without_commit(before) == _without_commit((compendium / name).read_text())
        assert json.loads((compendium / name).read_text())["compendium_commit"] == deleted


def test_make_reproduce_remakes_saved_results_without_content(saved, tiny_run):
    # Last in this file: it leaves the figure as a regular file. A reader's clone with saved
    # results but none of their content (here: a figure dropped with no other copy); Snakemake
    # alone would stop at the dangling symlink (snakemake#4229); `make reproduce` remakes it.
    compendium, _ = saved
    _git("annex", "drop", "--force", FIGURE, cwd=compendium)
    assert (compendium / FIGURE).is_symlink() and not (compendium / FIGURE).exists()
    result = _run("make", "reproduce", cwd=compendium)
    assert "saved result(s) under results/ without their content" in result.stderr
    assert (compendium / FIGURE).read_bytes() == (tiny_run / FIGURE).read_bytes()
