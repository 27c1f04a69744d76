"""The tiny preset with S3 as the default storage (a moto server on 127.0.0.1 stands in for S3).

Every input and output goes through the bucket (snakemake-storage-plugin-s3); the results in
the bucket must equal the local reference run's byte for byte, but for how the provenance
sidecars identify raw inputs (annex keys locally, SHA-256 in the bucket). The run uses one
core where the reference used two, so it also checks that no result depends on the thread
count (figures' fixed metadata, seeded NWB object ids, fixed npz dates, seeded sorter noise
chunks: panneuro.ephys.sorting).
"""

import hashlib
import json

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


def _bucket_objects(client, prefix: str) -> dict[str, bytes]:
    """Every object under ``prefix/``, keyed by the path after it."""
    found = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET,
                                                                 Prefix=f"{prefix}/"):
        for item in page.get("Contents", []):
            body = client.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read()
            found[item["Key"][len(prefix) + 1:]] = body
    return found


def _first_difference(remote: bytes, local: bytes) -> str:
    """The first differing line of two versions of a text result (for the failure message)."""
    pairs = zip(remote.decode(errors="replace").splitlines(),
                local.decode(errors="replace").splitlines(), strict=False)
    return next((f"bucket: {a!r}\nlocal:  {b!r}" for a, b in pairs if a != b), "length differs")


RAW_PREFIXES = ("resources/raw/", "resources/raw-keys/")


def _without_raw_inputs(sidecar: dict) -> dict:
    """The sidecar without raw inputs, and without the digests of sidecars among its inputs.

    Those sidecars (the de-identification check reads them) are compared themselves, with this
    same allowance, as results in the bucket.
    """
    inputs = [{k: v for k, v in i.items() if not (i["path"].endswith(".prov.json")
                                                   and k == "sha256")}
              for i in sidecar["inputs"] if not i["path"].startswith(RAW_PREFIXES)]
    return dict(sidecar, inputs=inputs)


def _raw_input_paths(sidecar: dict) -> set[str]:
    return {i["path"] for i in sidecar["inputs"] if i["path"].startswith(RAW_PREFIXES)}


def test_tiny_preset_on_s3_storage_equals_the_local_run(tiny_run, tmp_path):
    workdir = fresh_copy(tmp_path / "compendium")
    with moto_s3(tmp_path / "moto.log") as url:
        client = s3_client(url)
        client.create_bucket(Bucket=BUCKET)
        upload_inputs(client, workdir, BUCKET, PREFIX)
        # one core (the reference used two): results must not depend on the thread count
        result = snakemake(workdir, *_storage_args(url), cores=1, env=S3_ENV)
        assert result.returncode == 0, result.stderr[-6000:]
        objects = _bucket_objects(client, f"{PREFIX}/results")
        stored = {k: hashlib.sha256(v).hexdigest() for k, v in objects.items()}
        rerun = snakemake(workdir, *_storage_args(url), "--dry-run", env=S3_ENV)
    expected = digests(tiny_run / "results")
    assert stored.keys() == expected.keys(), (
        f"only in the bucket: {sorted(stored.keys() - expected.keys())}; "
        f"only local: {sorted(expected.keys() - stored.keys())}")
    differing = sorted(k for k in expected if stored[k] != expected[k])
    # Provenance sidecars may differ only in how raw inputs are named and identified: in the
    # local DataLad dataset by their annex keys (read through key records), in the bucket by
    # their SHA-256; everything else in them must be equal.
    sidecars = [k for k in differing if k.endswith(".prov.json")]
    others = sorted(set(differing) - set(sidecars))
    assert not others, f"bucket results differ from the local run: {others}\n" + "\n".join(
        _first_difference(objects[k], (tiny_run / "results" / k).read_bytes()) for k in others)
    for key in sidecars:
        local = json.loads((tiny_run / "results" / key).read_text())
        remote = json.loads(objects[key])
        assert _without_raw_inputs(remote) == _without_raw_inputs(local), key
        assert _raw_input_paths(remote) >= _raw_input_paths(local), key
    assert not (workdir / "results").exists(), "outputs were written outside the storage"
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert "Nothing to be done" in rerun.stdout + rerun.stderr
