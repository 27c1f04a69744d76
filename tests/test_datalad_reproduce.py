"""DataLad-native reproduction, end to end: publish, clone, reproduce, compare byte for byte.

The tiny reference run's raw dataset and ground truth are published to a RIA store on local
disk; a copy of the compendium becomes a DataLad dataset registering both as subdatasets from
the store; ``datalad clone`` of it into a fresh directory runs ``make reproduce`` (the README's
command; the clone's ``.venv`` points at this one instead of installing), getting each job's
raw files as it runs and dropping them after (``raw_drop: true`` in the compendium's config).
Its results must be byte-identical to the reference's (the sidecars differ only in the
compendium's commit: the reference is not a git checkout; the HTML report, which the reference
run has not made, embeds run times), no raw content may remain, and ``snakemake -n`` must then
have nothing to do although the content is gone.
"""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from compendium import BIN, ROOT, digests, fresh_copy, snakemake
from compendium import ENV as BASE_ENV

from panneuro.compendium.provenance import SUFFIX

# datalad commits (create, save, clone -d): a git identity even where none is configured
ENV = dict(
    BASE_ENV,
    GIT_AUTHOR_NAME="panneuro",
    GIT_AUTHOR_EMAIL="panneuro@localhost",
    GIT_COMMITTER_NAME="panneuro",
    GIT_COMMITTER_EMAIL="panneuro@localhost",
)

pytestmark = pytest.mark.workflow


def _run(*args: str, cwd: Path) -> str:
    result = subprocess.run(
        list(args), cwd=cwd, capture_output=True, text=True, env=ENV, check=False
    )
    assert result.returncode == 0, f"{args}: {result.stderr[-2000:]}"
    return result.stdout


def _publish(dataset: Path, store: str, alias: str) -> None:
    datalad = str(BIN / "datalad")
    _run(
        datalad,
        "create-sibling-ria",
        "-s",
        "store",
        "--new-store-ok",
        "-r",
        "--alias",
        alias,
        store,
        cwd=dataset,
    )
    _run(datalad, "push", "-r", "--to", "store", cwd=dataset)


def _without_commit(path: Path) -> dict:
    """A sidecar without the commit, nor the digests of sidecars among its inputs.

    Those sidecars (the de-identification check reads every result) record the commit
    themselves; each is compared on its own, with this same allowance.
    """
    data = json.loads(path.read_text())
    data.pop("compendium_commit")
    data["inputs"] = [
        {k: v for k, v in item.items() if not (item["path"].endswith(SUFFIX) and k == "sha256")}
        for item in data["inputs"]
    ]
    return data


def test_clone_from_ria_store_reproduces_byte_identical_results(tiny_run, tmp_path):
    datalad = str(BIN / "datalad")
    store = f"ria+file://{tmp_path / 'store'}"
    # publish copies: the reference run stays untouched
    for name in ("raw", "groundtruth"):
        shutil.copytree(tiny_run / "resources" / name, tmp_path / "publish" / name, symlinks=True)
        _publish(tmp_path / "publish" / name, store, name)

    compendium = fresh_copy(tmp_path / "compendium")
    for name in ("Makefile", "requirements.lock", "pyproject.toml"):  # make reproduce's
        shutil.copy2(ROOT / name, compendium / name)
    config = compendium / "config" / "config.yaml"
    text = config.read_text()
    for key, alias in (("raw_source", "raw"), ("groundtruth_source", "groundtruth")):
        assert f'{key}: ""' in text
        text = text.replace(f'{key}: ""', f'{key}: "{store}#~{alias}"')
    assert "\nraw_drop: false" in text and "\nsize: default\n" in text
    text = text.replace("\nraw_drop: false", "\nraw_drop: true")
    config.write_text(text.replace("\nsize: default\n", "\nsize: tiny\n"))
    _run(datalad, "create", "--force", "--fake-dates", "-c", "text2git", ".", cwd=compendium)
    for name in ("raw", "groundtruth"):
        _run(datalad, "clone", "-d", ".", f"{store}#~{name}", f"resources/{name}", cwd=compendium)
    _run(datalad, "save", "-m", "compendium with its raw data from the store", cwd=compendium)
    head = _run("git", "rev-parse", "HEAD", cwd=compendium).strip()

    clone = tmp_path / "clone"
    _run(datalad, "clone", str(compendium), str(clone), cwd=tmp_path)
    assert not (clone / "resources" / "raw" / "dataset_description.json").exists()
    (clone / ".venv").mkdir()
    (clone / ".venv" / "bin").symlink_to(BIN)  # this venv, no install
    (clone / ".venv" / ".installed").touch()
    result = subprocess.run(
        ["make", "--no-print-directory", "reproduce"],
        cwd=clone,
        capture_output=True,
        text=True,
        env=dict(ENV, CORES="2"),
        check=False,
    )
    assert result.returncode == 0, result.stderr[-6000:]
    assert (clone / "results" / "report.html").stat().st_size > 0

    reference = digests(tiny_run / "results")
    reproduced = {k: v for k, v in digests(clone / "results").items() if k != "report.html"}
    assert reference.keys() == reproduced.keys()
    differing = sorted(
        k for k in reference if reference[k] != reproduced[k] and not k.endswith(SUFFIX)
    )
    assert not differing, f"results differ from the reference run: {differing}"
    sidecars = [k for k in reference if k.endswith(SUFFIX)]
    assert len(sidecars) > 30
    for name in sidecars:
        assert _without_commit(tiny_run / "results" / name) == _without_commit(
            clone / "results" / name
        ), name
        assert json.loads((clone / "results" / name).read_text())["compendium_commit"] == head

    raw = clone / "resources" / "raw"
    assert (raw / "sub-H1" / ".datalad").exists()  # the human subdatasets, installed on use
    for dataset in (raw, raw / "sub-H1", raw / "sub-H2"):
        present = _run("git", "annex", "find", "--in", "here", cwd=dataset)
        assert present == "", f"raw content left after raw_drop in {dataset}: {present}"
    dry = snakemake(clone, "--dry-run", env=ENV)
    assert dry.returncode == 0, dry.stderr[-3000:]
    assert "Nothing to be done" in dry.stdout + dry.stderr
