"""The tiny preset through SLURM: a one-node cluster on loopback, the SLURM executor plugin.

``tests/slurm/start.sh`` installs Debian's slurm-wlm and munge when missing (root), writes
``/etc/slurm/slurm.conf`` and starts munged, slurmctld and slurmd with their state in a
temporary directory; the fixture stops every one of them by PID (``tests/slurm/stop.sh``),
also when the test fails. Without slurmdbd there is no ``sacct``: the plugin polls ``squeue``.
"""

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from compendium import ENV, ROOT, digests, fresh_copy, snakemake

pytestmark = pytest.mark.workflow

SCRIPTS = ROOT / "tests" / "slurm"
PID_FILES = ("slurmctld.pid", "slurmd.pid", "munge/munged.pid")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def slurm_cluster() -> Iterator[Path]:
    """A running single-node SLURM cluster; yields its state directory."""
    if os.geteuid() != 0 and shutil.which("slurmctld") is None:
        pytest.fail("SLURM test: slurm-wlm and munge are missing and the tests do not run as "
                    "root; install them: apt-get install -y --no-install-recommends slurm-wlm "
                    "munge")
    # Not under pytest's tmp_path (mode 0700): munged runs as the munge user and must reach
    # its key and socket in the state directory.
    state = Path(tempfile.mkdtemp(prefix="panneuro-slurm-"))
    state.chmod(0o755)
    started = subprocess.run([str(SCRIPTS / "start.sh"), str(state)], capture_output=True,
                             text=True, env=ENV, check=False)
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        yield state
    finally:
        pids = [int((state / name).read_text()) for name in PID_FILES
                if (state / name).is_file()]
        stopped = subprocess.run([str(SCRIPTS / "stop.sh"), str(state)], capture_output=True,
                                 text=True, check=False)
        shutil.rmtree(state, ignore_errors=True)
        assert stopped.returncode == 0, stopped.stderr
        assert not [pid for pid in pids if _alive(pid)], "a SLURM daemon outlived stop.sh"
        assert not Path("/etc/slurm/slurm.conf").exists(), "stop.sh left the test slurm.conf"


def test_tiny_preset_through_slurm_equals_the_local_run(slurm_cluster, tiny_run, tmp_path):
    workdir = fresh_copy(tmp_path / "compendium")
    result = snakemake(
        workdir, "--profile", "workflow/profiles/slurm", "--jobs", "4",
        "--slurm-status-command", "squeue", "--slurm-init-seconds-before-status-checks", "1",
        "--seconds-between-status-checks", "1", "--slurm-no-account", "--latency-wait", "5",
    )
    assert result.returncode == 0, result.stderr[-6000:]
    first = digests(tiny_run / "results")
    second = digests(workdir / "results")
    assert first.keys() == second.keys()
    differing = sorted(k for k in first if first[k] != second[k])
    assert not differing, f"results differ between SLURM and the local run: {differing}"
    done = re.search(r"(\d+) of \1 steps \(100%\) done", result.stderr)
    assert done, result.stderr[-3000:]
    submitted = result.stderr.count("has been submitted with SLURM jobid")
    # Every job went to SLURM but the local rules (the target `all`, localrule: True).
    local = len(re.findall(r"^localrule \w+:$", result.stderr, re.M))
    assert local >= 1
    assert submitted == int(done.group(1)) - local, f"{submitted} SLURM jobs for {done.group(0)}"
