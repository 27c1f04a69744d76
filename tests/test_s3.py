"""The tiny preset with S3 as the default storage (a moto server on 127.0.0.1 stands in for S3).

Every input and output goes through the bucket (snakemake-storage-plugin-s3); the results in
the bucket must equal the local reference run's byte for byte.
"""

import hashlib

import pytest
from compendium import digests, fresh_copy, snakemake
from s3server import S3_ENV, S3_KEYS, moto_s3, s3_client, upload_inputs

pytestmark = pytest.mark.workflow

BUCKET = "panneuro-test"
PREFIX = "tiny"


def _storage_args(url: str) -> list[str]:
    return ["--default-storage-provider", "s3",
            "--default-storage-prefix", f"s3://{BUCKET}/{PREFIX}",
            "--storage-s3-endpoint-url", url,
            "--storage-s3-access-key", S3_KEYS["AWS_ACCESS_KEY_ID"],
            "--storage-s3-secret-key", S3_KEYS["AWS_SECRET_ACCESS_KEY"]]


def _bucket_digests(client, prefix: str) -> dict[str, str]:
    """SHA-256 of every object under ``prefix/``, keyed by the path after it."""
    found = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET,
                                                                 Prefix=f"{prefix}/"):
        for item in page.get("Contents", []):
            body = client.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read()
            found[item["Key"][len(prefix) + 1:]] = hashlib.sha256(body).hexdigest()
    return found


# Known failure, kept running so it is seen: since raw recordings enter the DAG as DataLad key
# records (panneuro.datalad_io), a job under S3 default storage receives the key record's
# storage path and the raw file it names is not in the bucket's local copy (issue 7 note).
@pytest.mark.xfail(strict=True, reason="raw key records (DataLad layer) do not resolve under "
                   "S3 default storage yet; see issue 7")
def test_tiny_preset_on_s3_storage_equals_the_local_run(tiny_run, tmp_path):
    workdir = fresh_copy(tmp_path / "compendium")
    with moto_s3(tmp_path / "moto.log") as url:
        client = s3_client(url)
        client.create_bucket(Bucket=BUCKET)
        upload_inputs(client, workdir, BUCKET, PREFIX)
        result = snakemake(workdir, *_storage_args(url), env=S3_ENV)
        assert result.returncode == 0, result.stderr[-6000:]
        stored = _bucket_digests(client, f"{PREFIX}/results")
        rerun = snakemake(workdir, *_storage_args(url), "--dry-run", env=S3_ENV)
    expected = digests(tiny_run / "results")
    assert stored.keys() == expected.keys(), (
        f"only in the bucket: {sorted(stored.keys() - expected.keys())}; "
        f"only local: {sorted(expected.keys() - stored.keys())}")
    differing = sorted(k for k in expected if stored[k] != expected[k])
    assert not differing, f"bucket results differ from the local run: {differing}"
    assert not (workdir / "results").exists(), "outputs were written outside the storage"
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert "Nothing to be done" in rerun.stdout + rerun.stderr
