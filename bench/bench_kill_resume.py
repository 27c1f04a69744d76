"""Kill and resume, long form: 20 independent tiny runs, each SIGKILLed once, resumed, compared.

Not a test (about 20 tiny runs: an hour or more on 2 cores); run by hand::

    .venv/bin/python bench/bench_kill_resume.py [--runs 20] [--seed 1949] \
        [--out bench/results/kill_resume.json]

A clean tiny-preset run in a fresh copy of the compendium is the reference and gives the run's
duration. Then each of ``--runs`` fresh copies starts the same run with snakemake in its own
process group, the group is SIGKILLed at a seeded random point of the run (uniform over the
reference duration, counted from the first job), and the run is resumed as a user would
(``snakemake --unlock`` then ``snakemake --rerun-incomplete``). Right after the kill, every
output present under its final name must equal the reference or lie in an output snakemake marked
incomplete; after the resume every file of ``results/`` (and the simulated dataset) must equal
the reference. Prints ``n identical / runs`` and writes the details as JSON (``bench/results/`` is
git-ignored). The short form that runs in ``make test`` is ``tests/test_kill_resume.py``: one
run killed 20 times.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from compendium import fresh_copy, snakemake  # noqa: E402
from test_kill_resume import (  # noqa: E402
    RESUME,
    _check_after_kill,
    _kill_group,
    _start,
    compared_digests,
    incomplete_outputs,
    temporary_leftovers,
)


def one_run(work: Path, kill_at: float, reference: dict[str, str]) -> dict:
    """Run, kill at ``kill_at`` s after the first job starts, resume, compare."""
    workdir = fresh_copy(work)
    process, executing, _ = _start(workdir)
    executing.wait(timeout=600)
    time.sleep(kill_at)
    killed = process.poll() is None
    record: dict = {"kill_at_s": round(kill_at, 2), "killed": killed}
    if killed:
        _kill_group(process)
        record["marked_incomplete"] = sorted(incomplete_outputs(workdir))
        try:
            identical, pending = _check_after_kill(workdir, reference)
            record.update(
                after_kill_identical=identical, after_kill_pending=pending, partial_accepted=False
            )
        except AssertionError as error:
            record.update(partial_accepted=True, error=str(error))
    snakemake(workdir, "--unlock")
    resumed = snakemake(workdir, *RESUME)
    record["resume_returncode"] = resumed.returncode
    final = compared_digests(workdir)
    differing = sorted(k for k in set(final) | set(reference) if final.get(k) != reference.get(k))
    record.update(
        n_files=len(final),
        differing=differing,
        leftovers=temporary_leftovers(workdir),
        identical=resumed.returncode == 0
        and not differing
        and not record.get("partial_accepted", False),
    )
    return record


def main() -> None:
    """Run the benchmark and print ``n identical / runs``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1949)
    parser.add_argument("--work", type=Path, default=Path("/tmp/panneuro-bench-kill-resume"))
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/kill_resume.json")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)

    start = time.perf_counter()
    reference_dir = fresh_copy(args.work / "reference")
    clean = snakemake(reference_dir)
    duration = time.perf_counter() - start
    if clean.returncode != 0:
        sys.exit(f"reference run failed:\n{clean.stderr[-4000:]}")
    reference = compared_digests(reference_dir)
    points = np.random.default_rng(args.seed).uniform(0.0, duration, args.runs)
    runs = []
    for index, kill_at in enumerate(points):
        record = one_run(args.work / f"run{index:02d}", float(kill_at), reference)
        runs.append(record)
        print(
            f"run {index + 1:2d}: killed at {kill_at:6.1f} s, "
            f"{'identical' if record['identical'] else 'DIFFERENT'}",
            flush=True,
        )
    n_identical = sum(r["identical"] for r in runs)
    summary = {
        "benchmark": "kill_resume",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": platform.platform(),
        "python": platform.python_version(),
        "reference_duration_s": round(duration, 1),
        "n_reference_files": len(reference),
        "runs": runs,
        "n_identical": n_identical,
        "n_runs": args.runs,
        "wall_s": round(time.perf_counter() - start, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2) + "\n")
    print(
        f"{n_identical} identical / {args.runs}  (reference run {duration:.0f} s; "
        f"details in {args.out})"
    )


if __name__ == "__main__":
    main()
