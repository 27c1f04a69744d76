"""The tiny preset through SLURM: a one-node cluster on loopback, the SLURM executor plugin.

``tests/slurm/start.sh`` installs Debian's slurm-wlm and munge when missing (root), writes
``/etc/slurm/slurm.conf`` and starts munged, slurmctld and slurmd with their state in a
temporary directory; the fixture stops every one of them by PID (``tests/slurm/stop.sh``),
also when the test fails. Without slurmdbd there is no ``sacct``: the plugin polls ``squeue``.

Two tests share the cluster:

- the tiny preset on S3 as the default storage (a moto server on 127.0.0.1 stands in for S3;
  snakemake-storage-plugin-s3), begun through SLURM and finished on the local executor in the
  same bucket: the simulation and one probe's preprocessing as SLURM jobs with ``--max-threads
  1`` (the reference, ``tiny_run``, simulates with the config's 2 threads), then every other
  job locally. Every result in the bucket equals the local reference run's byte for byte, but
  for how provenance sidecars identify raw inputs (annex keys locally, SHA-256 in the bucket).
  This checks that SLURM jobs reach the storage (its settings travel as environment
  variables), that every rule reads and writes through remote storage, that outputs one
  executor left in the bucket are taken as done by another, and that the simulation's results
  do not depend on its thread count (the other rules' n_jobs are tested per module:
  test_sorting, test_oracle, test_time_resolved, test_study). Until 2026-12-07 every job went
  through SLURM: 660-829 s against 154 s locally on a 2-core machine, most of it spent
  starting two snakemake processes per job (the batch step and its srun step) and answering
  their storage queries, not in the jobs; the shared-file-system test below runs SLURM jobs too;
- one probe's preprocessing (its DataLad raw input got on the node) through SLURM on the
  shared file system, the profile as a site without object storage uses it.
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from compendium import ENV, ROOT, digests, fresh_copy, snakemake
from s3server import S3_ENV, S3_KEYS, moto_s3, s3_client, upload_inputs

pytestmark = pytest.mark.workflow

SCRIPTS = ROOT / "tests" / "slurm"
PID_FILES = ("slurmctld.pid", "slurmd.pid", "munge/munged.pid")
#: The slurm profile as the tests run it: squeue for status (no slurmdbd), fast polling.
SLURM_ARGS = (
    "--profile",
    "workflow/profiles/slurm",
    "--jobs",
    "4",
    "--slurm-status-command",
    "squeue",
    "--slurm-init-seconds-before-status-checks",
    "1",
    "--seconds-between-status-checks",
    "1",
    "--slurm-no-account",
    "--latency-wait",
    "5",
)
BUCKET = "panneuro-test"
PREFIX = "tiny"
RAW_PREFIXES = ("resources/raw/", "resources/raw-keys/")
#: The smallest probe's preprocessing (microwires): run through SLURM on the shared file
#: system, and by the storage test through SLURM (with the simulation it needs) before the
#: rest of the tiny preset finishes locally.
PROBE_RESULT = "results/ephys/sub-H2/ses-01/acq-MW/preprocessed"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture(scope="module")
def slurm_cluster() -> Iterator[Path]:
    """A running single-node SLURM cluster; yields its state directory."""
    if os.geteuid() != 0 and shutil.which("slurmctld") is None:
        pytest.fail(
            "SLURM test: slurm-wlm and munge are missing and the tests do not run as "
            "root; install them: apt-get install -y --no-install-recommends slurm-wlm "
            "munge"
        )
    # Not under pytest's tmp_path (mode 0700): munged runs as the munge user and must reach
    # its key and socket in the state directory.
    state = Path(tempfile.mkdtemp(prefix="panneuro-slurm-"))
    state.chmod(0o755)
    started = subprocess.run(
        [str(SCRIPTS / "start.sh"), str(state)],
        capture_output=True,
        text=True,
        env=ENV,
        check=False,
    )
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        yield state
    finally:
        pids = [int((state / name).read_text()) for name in PID_FILES if (state / name).is_file()]
        stopped = subprocess.run(
            [str(SCRIPTS / "stop.sh"), str(state)], capture_output=True, text=True, check=False
        )
        shutil.rmtree(state, ignore_errors=True)
        assert stopped.returncode == 0, stopped.stderr
        assert not [pid for pid in pids if _alive(pid)], "a SLURM daemon outlived stop.sh"
        assert not Path("/etc/slurm/slurm.conf").exists(), "stop.sh left the test slurm.conf"


def _all_jobs_went_to_slurm(stderr: str) -> None:
    """Every job of the run was an sbatch job but the local rules (``localrule: True``)."""
    done = re.search(r"(\d+) of \1 steps \(100%\) done", stderr)
    assert done, stderr[-3000:]
    submitted = stderr.count("has been submitted with SLURM jobid")
    local = len(re.findall(r"^localrule \w+:$", stderr, re.M))
    assert submitted == int(done.group(1)) - local, f"{submitted} SLURM jobs for {done.group(0)}"
    assert submitted > 0


def _s3_env(url: str) -> dict[str, str]:
    """The bucket's endpoint and keys as the S3 plugin's environment variables.

    Not its command-line options: Snakemake hands a storage plugin's environment-variable
    settings to SLURM jobs through the environment, and does not forward the options' values
    (``--storage-s3-endpoint-url`` alone leaves the jobs on AWS's endpoint).
    """
    return dict(
        S3_ENV,
        SNAKEMAKE_STORAGE_S3_ENDPOINT_URL=url,
        SNAKEMAKE_STORAGE_S3_ACCESS_KEY=S3_KEYS["AWS_ACCESS_KEY_ID"],
        SNAKEMAKE_STORAGE_S3_SECRET_KEY=S3_KEYS["AWS_SECRET_ACCESS_KEY"],
    )


STORAGE_ARGS = (
    "--default-storage-provider",
    "s3",
    "--default-storage-prefix",
    f"s3://{BUCKET}/{PREFIX}",
)


def _bucket_objects(client, prefix: str) -> dict[str, bytes]:
    """Every object under ``prefix/``, keyed by the path after it."""
    found = {}
    for page in client.get_paginator("list_objects_v2").paginate(
        Bucket=BUCKET, Prefix=f"{prefix}/"
    ):
        for item in page.get("Contents", []):
            body = client.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read()
            found[item["Key"][len(prefix) + 1 :]] = body
    return found


def _first_difference(remote: bytes, local: bytes) -> str:
    """The first differing line of two versions of a text result (for the failure message)."""
    pairs = zip(
        remote.decode(errors="replace").splitlines(),
        local.decode(errors="replace").splitlines(),
        strict=False,
    )
    return next((f"bucket: {a!r}\nlocal:  {b!r}" for a, b in pairs if a != b), "length differs")


def _without_raw_inputs(sidecar: dict) -> dict:
    """The sidecar without raw inputs, and without the digests of sidecars among its inputs.

    Those sidecars (the de-identification check reads them) are compared themselves, with this
    same allowance, as results in the bucket.
    """
    inputs = [
        {k: v for k, v in i.items() if not (i["path"].endswith(".prov.json") and k == "sha256")}
        for i in sidecar["inputs"]
        if not i["path"].startswith(RAW_PREFIXES)
    ]
    return dict(sidecar, inputs=inputs)


def _raw_input_paths(sidecar: dict) -> set[str]:
    return {i["path"] for i in sidecar["inputs"] if i["path"].startswith(RAW_PREFIXES)}


def test_tiny_preset_begun_through_slurm_on_s3_storage_equals_the_local_run(
    slurm_cluster, tiny_run, tmp_path
):
    workdir = fresh_copy(tmp_path / "compendium")
    with moto_s3(tmp_path / "moto.log") as url:
        client = s3_client(url)
        client.create_bucket(Bucket=BUCKET)
        upload_inputs(client, workdir, BUCKET, PREFIX)
        # one thread per SLURM job (the reference simulated with the config's 2)
        result = snakemake(
            workdir,
            *SLURM_ARGS,
            *STORAGE_ARGS,
            "--max-threads",
            "1",
            PROBE_RESULT,
            env=_s3_env(url),
        )
        assert result.returncode == 0, result.stderr[-6000:]
        sliced = set(_bucket_objects(client, f"{PREFIX}/results"))
        finished = snakemake(workdir, *STORAGE_ARGS, env=_s3_env(url))
        assert finished.returncode == 0, finished.stderr[-6000:]
        objects = _bucket_objects(client, f"{PREFIX}/results")
        stored = {k: hashlib.sha256(v).hexdigest() for k, v in objects.items()}
        rerun = snakemake(workdir, *STORAGE_ARGS, "--dry-run", env=_s3_env(url))
    _all_jobs_went_to_slurm(result.stderr)
    # the slice ran through SLURM only: the local run took its outputs in the bucket as done
    assert re.search(r"^rule simulate_dataset:$", result.stderr, re.M)
    assert not re.search(r"^(local)?rule simulate_dataset:$", finished.stderr, re.M)
    sent = f"{PROBE_RESULT} (send to storage)"
    assert sent in result.stderr and sent not in finished.stderr
    assert any(k.startswith(PROBE_RESULT.removeprefix("results/")) for k in sliced), sliced
    expected = digests(tiny_run / "results")
    assert stored.keys() == expected.keys(), (
        f"only in the bucket: {sorted(stored.keys() - expected.keys())}; "
        f"only local: {sorted(expected.keys() - stored.keys())}"
    )
    differing = sorted(k for k in expected if stored[k] != expected[k])
    # Provenance sidecars may differ only in how raw inputs are named and identified: in the
    # local DataLad dataset by their annex keys (read through key records), in the bucket by
    # their SHA-256; everything else in them must be equal.
    sidecars = [k for k in differing if k.endswith(".prov.json")]
    others = sorted(set(differing) - set(sidecars))
    assert not others, f"bucket results differ from the local run: {others}\n" + "\n".join(
        _first_difference(objects[k], (tiny_run / "results" / k).read_bytes()) for k in others
    )
    for key in sidecars:
        local = json.loads((tiny_run / "results" / key).read_text())
        remote = json.loads(objects[key])
        assert _without_raw_inputs(remote) == _without_raw_inputs(local), key
        assert _raw_input_paths(remote) >= _raw_input_paths(local), key
    assert not (workdir / "results").exists(), "outputs were written outside the storage"
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert "Nothing to be done" in rerun.stdout + rerun.stderr


def test_probe_through_slurm_on_the_shared_file_system(slurm_cluster, tiny_run, tmp_path):
    workdir = fresh_copy(tmp_path / "compendium")
    result = snakemake(workdir, *SLURM_ARGS, PROBE_RESULT)
    assert result.returncode == 0, result.stderr[-6000:]
    _all_jobs_went_to_slurm(result.stderr)
    assert re.search(r"^rule preprocess_probe:$", result.stderr, re.M)
    reference = digests(tiny_run / "results")
    made = digests(workdir / "results")
    assert any(f"results/{name}".startswith(f"{PROBE_RESULT}/traces") for name in made), made
    differing = sorted(name for name in made if made[name] != reference.get(name))
    assert not differing, f"results differ between SLURM and the local run: {differing}"
