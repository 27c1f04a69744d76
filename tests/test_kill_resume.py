"""Kill and resume: SIGKILL snakemake 20 times during a tiny-preset run; nothing partial is kept.

In a fresh copy of the compendium the tiny preset runs with snakemake in its own process group
(its jobs inherit it); the whole group is SIGKILLed at 20 seeded random points, one in each
twentieth of the first 85% of the reference run's duration (in distinct jobs of its log where
the run allows), and after each kill the run is resumed as a user would:

    snakemake --unlock && snakemake --rerun-incomplete

After every kill, every file under ``results/`` that has its final name is byte-identical to
the reference run's (``tiny_run``) or lies in an output snakemake has marked incomplete, i.e.
that ``--rerun-incomplete`` redoes: no partial file is ever accepted as done (every writer goes
through a temporary name and a rename, ``panneuro.io.atomic``); the simulated raw dataset is
either absent or whole. At the end every file equals the reference. The long form (20
independent runs, each killed once) is ``bench/bench_kill_resume.py``.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from compendium import BIN, ENV, digests, fresh_copy, snakemake

pytestmark = pytest.mark.workflow

N_KILLS = 20
#: Seed of the kill times (fixed: the same kills every run of the test).
KILL_SEED = 20261125
#: Compared after every kill and at the end: the workflow's results.
COMPARED = ("results",)
#: Shortest run between a resume's first job and its kill, s.
MIN_RUN_S = 1.0
#: Share of the reference run's duration over which the kill points are drawn.
KILLED_SHARE = 0.85
#: Draws per kill point looking for a moment inside no job an earlier kill interrupted.
DRAWS_PER_POINT = 50
#: What a user types after a crash (README, docs/bad-input.md "Crashes").
RESUME = ("--rerun-incomplete",)


def _reference_log(run: Path) -> tuple[Path, float]:
    logs = sorted((run / ".snakemake/log").glob("*.snakemake.log"))
    assert logs, f"{run}: no snakemake log to time the reference run"
    start = dt.datetime.strptime(logs[-1].name.split(".snakemake")[0], "%Y-%m-%dT%H%M%S.%f")
    return logs[-1], start.timestamp()


def measured_duration(run: Path) -> float:
    """Seconds the reference run spent, from its snakemake log: name = start, mtime = end."""
    log, start = _reference_log(run)
    return log.stat().st_mtime - start


def reference_jobs(run: Path) -> list[tuple[float, float]]:
    """When (s after the reference run's start) each job of the reference run ran, from its
    snakemake log (timestamps to the second: each interval is widened by one second)."""
    log, start = _reference_log(run)
    started, jobs, stamp, ruled = {}, [], start, False
    for line in log.read_text().splitlines():
        if match := re.match(r"^\[(\w{3} \w{3} +\d+ [\d:]+ \d{4})\]$", line):
            stamp = dt.datetime.strptime(match.group(1), "%a %b %d %H:%M:%S %Y").timestamp()
        elif re.match(r"^(local)?rule \w+:$", line):
            ruled = True
        elif ruled and (match := re.match(r"^\s+jobid: (\d+)$", line)):
            started[match.group(1)], ruled = stamp - start, False
        elif (match := re.match(r"^Finished jobid: (\d+)", line)) and match.group(1) in started:
            jobs.append((started.pop(match.group(1)), stamp - start + 1.0))
    return jobs


def kill_points(jobs: list[tuple[float, float]], duration: float, n: int, seed: int) -> np.ndarray:
    """``n`` seeded points over the run, one in each of ``n`` equal strata of its first
    :data:`KILLED_SHARE`, each inside no job an earlier point fell in where the stratum allows.

    A second kill inside the same job would only redo it again (each resume restarts the
    killed job from its beginning): it costs a job's length and tests nothing new, so each
    stratum draws up to :data:`DRAWS_PER_POINT` points and keeps the first that falls in no
    job used before (else the last draw: a run whose long jobs cover a stratum, as on a slow
    machine, still gets its ``n`` kills). The points lie in the first :data:`KILLED_SHARE`
    of the run: a resumed run that goes faster than the reference did (a quieter machine) must
    still be running at the last kill point.
    """
    rng, points, used = np.random.default_rng(seed), [], set()
    width = KILLED_SHARE * duration / n
    for stratum in range(n):
        for _ in range(DRAWS_PER_POINT):
            point = (stratum + rng.uniform()) * width
            running = {k for k, (begin, end) in enumerate(jobs) if begin <= point < end}
            if not running & used:
                break
        used |= running
        points.append(point)
    return np.array(points)


def reference_timeline(run: Path) -> list[tuple[float, str]]:
    """When (s after the reference run's start) each output of the reference run was done."""
    _, start = _reference_log(run)
    timeline = []
    for folder in (*COMPARED, "resources/groundtruth"):
        for path in (run / folder).rglob("*"):
            if path.is_file() and not any(p.startswith(".") for p in path.parts[-3:]):
                timeline.append((path.stat().st_mtime - start, str(path.relative_to(run))))
    return sorted(timeline)


def reached(workdir: Path, timeline: list[tuple[float, str]], marked: set[str]) -> float:
    """How far along the reference run a killed run got: the time by which the reference run
    had finished as many outputs as the killed run has (present and not incomplete)."""
    done = sum((workdir / name).exists() and not _inside(name, marked) for _, name in timeline)
    return timeline[done - 1][0] if done else 0.0


def _inside(name: str, marked: set[str]) -> bool:
    return any(name == m or name.startswith(m.rstrip("/") + "/") for m in marked)


def compared_digests(workdir: Path) -> dict[str, str]:
    """Digests of the outputs under their final names (no hidden temporary or git files)."""
    found = {}
    for folder in COMPARED:
        if (workdir / folder).is_dir():
            for name, digest in digests(workdir / folder).items():
                if not any(part.startswith(".") for part in Path(name).parts):
                    found[f"{folder}/{name}"] = digest
    return found


def temporary_leftovers(workdir: Path) -> list[str]:
    """Hidden temporaries under results/: ``panneuro.io.atomic`` names (``.<name>.*.tmp*``),
    sorter scratch folders (``.sorting.<sorter>.*``); snakemake's own timestamps excepted."""
    return sorted(
        str(p.relative_to(workdir))
        for p in (workdir / "results").rglob(".*")
        if p.name != ".snakemake_timestamp"
    )


def incomplete_outputs(workdir: Path) -> set[str]:
    """Outputs snakemake has marked incomplete (``.snakemake/incomplete``: one marker per output,
    named by the base64 of its path, split into ``@``-prefixed chunks when long)."""
    root = workdir / ".snakemake/incomplete"
    marked = set()
    for marker in root.rglob("*") if root.is_dir() else []:
        if marker.is_file() and marker.name != "migration_underway":
            encoded = "".join(part.lstrip("@") for part in marker.relative_to(root).parts)
            marked.add(base64.urlsafe_b64decode(encoded).decode())
    return marked


def _reported_by_snakemake(workdir: Path) -> str:
    """What a plain ``snakemake`` run says after the crash (it refuses to go on)."""
    result = snakemake(workdir, "--dry-run")
    return result.stdout + result.stderr


def _unlock_if_locked(workdir: Path) -> None:
    """``snakemake --unlock``, as snakemake asks when a killed run left its lock."""
    locks = workdir / ".snakemake/locks"
    if locks.is_dir() and any(locks.iterdir()):
        assert snakemake(workdir, "--unlock").returncode == 0
        assert not locks.is_dir() or not any(locks.iterdir())


def _start(workdir: Path, *args: str) -> tuple[subprocess.Popen, threading.Event, list[str]]:
    """Start snakemake in its own process group; an event is set when jobs start running."""
    process = subprocess.Popen(
        [str(BIN / "snakemake"), "--cores", "2", "--config", "size=tiny", *args],
        cwd=workdir,
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    executing, lines = threading.Event(), []

    def _read() -> None:
        for line in process.stderr:
            lines.append(line)
            if line.startswith(("Execute ", "Nothing to be done")):
                executing.set()
        executing.set()

    threading.Thread(target=_read, daemon=True).start()
    return process, executing, lines


def _kill_group(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the jobs die with it (same group)
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    raise AssertionError("processes of the killed run are still alive")


def _check_after_kill(workdir: Path, reference: dict[str, str]) -> tuple[int, int]:
    """Every output present is the reference's or inside an incomplete output; return counts.

    The simulated raw dataset, once it holds a file, is whole: it is written in a temporary
    folder and renamed into place, so every file of the sample sheet is there (before that,
    snakemake may have made its empty output folders). One other state is allowed: a resume
    that finds the simulation incomplete removes its declared outputs (the description and
    the trial tables) all together before simulating again into a temporary folder that then
    replaces the whole folder; what remains is read by no job (all depend on those outputs).
    """
    raw = workdir / "resources/raw"
    if raw.exists() and any(p.is_file() or p.is_symlink() for p in raw.rglob("*")):
        sheet = [
            line.split("\t")
            for line in (workdir / "config/samples.tsv").read_text().splitlines()[1:]
        ]
        absent = [row[6] for row in sheet if not os.path.lexists(raw / row[6])]
        declared = ["dataset_description.json"] + [row[6] for row in sheet if row[3] == "beh"]
        removed_together = not any(os.path.lexists(raw / name) for name in declared)
        assert not absent or removed_together, f"the raw dataset is there but incomplete: {absent}"
    marked = incomplete_outputs(workdir)
    identical = pending = 0
    for name, digest in compared_digests(workdir).items():
        if reference.get(name) == digest:
            identical += 1
            continue
        assert _inside(name, marked), (
            f"{name} differs from the reference (or is extra) but snakemake does not mark it "
            "incomplete: a partial file would be accepted as done"
        )
        pending += 1
    return identical, pending


def test_kill_and_resume_twenty_times(tiny_run, tmp_path):
    reference = compared_digests(tiny_run)
    duration = measured_duration(tiny_run)
    timeline = reference_timeline(tiny_run)
    # Kill points on the reference run's timeline, spread over the whole run (in distinct jobs
    # where it allows): each resumed run is killed when it should have reached the next point,
    # counted from where the previous kill left it (its finished outputs) once it executes jobs.
    points = kill_points(reference_jobs(tiny_run), duration, N_KILLS, KILL_SEED)
    workdir = fresh_copy(tmp_path / "compendium")
    kills, progress, cross_checked, pending_seen, at, in_job = 0, 0.0, False, 0, [], 0
    for point in points:
        _unlock_if_locked(workdir)
        process, executing, lines = _start(workdir, *RESUME)
        executing.wait(timeout=600)
        time.sleep(max(point - progress, MIN_RUN_S))
        if process.poll() is not None:
            assert process.returncode == 0, "".join(lines)[-4000:]
            break  # finished before this kill point
        _kill_group(process)
        kills += 1
        _, pending = _check_after_kill(workdir, reference)
        pending_seen += pending
        marked = incomplete_outputs(workdir)
        in_job += bool(marked)
        progress = reached(workdir, timeline, marked)
        at.append(round(progress))
        present = [output for output in marked if (workdir / output).exists()]
        if present and not cross_checked:
            # Once: snakemake itself names these outputs incomplete and refuses to use them
            # (what the markers read above say).
            message = _reported_by_snakemake(workdir)
            assert "IncompleteFilesException" in message and "--rerun-incomplete" in message, (
                f"incomplete outputs {present} not reported by snakemake: {message[-3000:]}"
            )
            for output in present:
                assert output in message, message[-3000:]
            cross_checked = True
    _unlock_if_locked(workdir)
    final = snakemake(workdir, *RESUME)
    assert final.returncode == 0, final.stderr[-6000:]
    print(
        f"kill/resume: {kills} kills ({in_job} during a job), reached {at} s of the "
        f"{duration:.0f} s reference run; {pending_seen} differing files found marked "
        "incomplete and redone"
    )
    assert compared_digests(workdir) == reference
    assert not temporary_leftovers(workdir)
    assert not incomplete_outputs(workdir)
    assert kills == N_KILLS
    assert in_job > N_KILLS // 2, "most kills should interrupt a running job"
