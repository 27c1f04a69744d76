"""Kubernetes: the profile's dry run against a moto S3 endpoint plans every job, in the bucket.

No cluster is needed for a dry run (the executor plugin is loaded, the jobs are planned, the
storage is reached); the Containerfile that builds the jobs' image is checked against the lock.
"""

import re

import pandas as pd
import pytest
from compendium import ROOT, fresh_copy, snakemake
from s3server import S3_ENV, moto_s3, s3_client, upload_inputs

pytestmark = pytest.mark.workflow

BUCKET = "panneuro-k8s"
PREFIX = "dry-run"


def _planned(output: str) -> dict[str, int]:
    """The "Job stats" table of a dry run: rule -> number of jobs."""
    table = output[output.index("Job stats:") :]
    return {rule: int(count) for rule, count in re.findall(r"^(\w+)\s+(\d+)$", table, re.M)}


def test_kubernetes_dry_run_plans_every_job_in_s3(tmp_path):
    workdir = fresh_copy(tmp_path / "compendium")
    samples = pd.read_csv(workdir / "config" / "samples.tsv", sep="\t", dtype=str)
    with moto_s3(tmp_path / "moto.log") as url:
        client = s3_client(url)
        client.create_bucket(Bucket=BUCKET)
        upload_inputs(client, workdir, BUCKET, PREFIX)
        result = snakemake(
            workdir,
            "--profile",
            "workflow/profiles/kubernetes",
            "--dry-run",
            "--default-storage-prefix",
            f"s3://{BUCKET}/{PREFIX}",
            "--storage-s3-endpoint-url",
            url,
            env=S3_ENV,
        )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    assert "Using profile workflow/profiles/kubernetes" in output
    planned = _planned(output)
    probes = samples["datatype"].isin(["array", "microwire"]).sum()
    sessions = samples[samples["datatype"].isin(["array", "microwire"])][
        ["subject", "session"]
    ].drop_duplicates()
    assert planned["preprocess_probe"] == planned["sort_probe"] == probes
    assert planned["export_session_nwb"] == len(sessions)
    assert planned["high_gamma_epochs"] == (samples["datatype"] == "ecog").sum()
    assert planned["all"] == 1
    assert sum(v for k, v in planned.items() if k != "total") == planned["total"]
    # Every output is an object of the bucket, not a local file.
    assert f"s3://{BUCKET}/{PREFIX}/results/figures/fig1_behaviour.pdf" in output
    assert not (workdir / "results").exists()


def test_containerfile_installs_the_lock():
    spec = (ROOT / "Containerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim-bookworm", spec, re.M)
    assert "pip install --no-cache-dir -r requirements.lock" in spec
    assert "pip install --no-cache-dir --no-deps ." in spec
    ignored = (ROOT / ".dockerignore").read_text().split()
    for heavy in (".venv", "results", "resources/raw", ".snakemake"):
        assert heavy in ignored, f".dockerignore: add {heavy} (kept out of the image)"
