"""Benchmark of planning (issue 7): ``snakemake -n`` on generated sample sheets of many sessions.

Not a test: run by hand (about a minute on 2 cores)::

    .venv/bin/python bench/bench_planning.py [--sessions 10 100 1000] \
        [--out bench/results/planning.json] [--profile-at 1000]

For each size it writes a sample sheet of that many sessions into a temporary copy of the
compendium (``tests/compendium.fresh_copy``), with the mix of ``config/samples.tsv``: per ten
sessions one macaque session with two arrays (PFC, HPC), seven behaviour-only macaque sessions,
one human ECoG session and one human microwire session (ten sessions per subject). It times
``snakemake -n --quiet`` (wall and the child's CPU time) and counts the planned jobs. The growth
ratios (time at 10x the sessions over time at the smaller size) show how planning scales: 10
means linear, 100 quadratic. ``--profile-at N`` also plans that size (own data) under cProfile and
prints the top functions by own time. Results go to a JSON file (``bench/results/`` is
git-ignored).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from compendium import BIN, ENV, fresh_copy  # noqa: E402

COLUMNS = ["subject", "session", "species", "datatype", "probe", "region", "path", "format"]
SESSIONS_PER_SUBJECT = 10
MODES = ("simulated", "own data")


def _session_rows(kind: str, subject: str, session: str) -> list[list[str]]:
    """Sample-sheet rows of one session of a kind (array, beh, ecog, microwire)."""
    base = f"sub-{subject}/ses-{session}"
    stem = f"{base}/ieeg/sub-{subject}_ses-{session}_task-harlow"
    species = "human" if kind in ("ecog", "microwire") else "macaque"
    rows = [
        [
            subject,
            session,
            species,
            "beh",
            "n/a",
            "n/a",
            f"{base}/beh/sub-{subject}_ses-{session}_task-harlow_events.tsv",
            "tsv",
        ]
    ]
    if kind == "array":
        rows += [
            [
                subject,
                session,
                species,
                "array",
                "PFC",
                "prefrontal",
                f"{stem}_acq-PFC_ieeg.nwb",
                "nwb",
            ],
            [
                subject,
                session,
                species,
                "array",
                "HPC",
                "hippocampus",
                f"{stem}_acq-HPC_ieeg.nwb",
                "nwb",
            ],
        ]
    elif kind == "ecog":
        rows.append(
            [
                subject,
                session,
                species,
                "ecog",
                "grid",
                "temporal",
                f"{stem}_ieeg.vhdr",
                "brainvision",
            ]
        )
    elif kind == "microwire":
        rows.append(
            [
                subject,
                session,
                species,
                "microwire",
                "MW",
                "hippocampus",
                f"{stem}_acq-MW_ieeg.nwb",
                "nwb",
            ]
        )
    return rows


def sample_sheet(n_sessions: int) -> list[list[str]]:
    """Rows of a sheet of ``n_sessions`` sessions with the mix of config/samples.tsv."""
    mix = ["array"] + ["beh"] * 7 + ["ecog", "microwire"]
    rows = []
    for i in range(n_sessions):
        kind = mix[i % len(mix)]
        prefix = "H" if kind in ("ecog", "microwire") else "M"
        # Subjects hold sessions of one kind group; ten sessions per subject.
        subject = f"{prefix}{kind[:2].upper()}{i // (SESSIONS_PER_SUBJECT * len(mix))}"
        session = f"{i // len(mix) % SESSIONS_PER_SUBJECT + 1:02d}"
        rows += _session_rows(kind, subject, session)
    return rows


def write_sheet(path: Path, rows: list[list[str]]) -> None:
    """Write the rows as a tab-separated sample sheet."""
    path.write_text("\n".join("\t".join(r) for r in [COLUMNS, *rows]) + "\n")


def own_data(workdir: Path, rows: list[list[str]], n: int) -> list[str]:
    """Empty raw files of the sheet under ``workdir/raw_<n>``; the config entries to use them."""
    raw = workdir / f"raw_{n}"
    for row in rows:
        path = raw / row[COLUMNS.index("path")]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    (raw / "dataset_description.json").write_text("{}")
    return ["simulate=False", f"raw_dir={raw}"]


def plan(workdir: Path, sheet: Path, extra: list[str], profile: Path | None = None) -> dict:
    """Time one ``snakemake -n`` in ``workdir``; return wall and CPU seconds and the job count."""
    command = [
        str(BIN / "snakemake"),
        "-n",
        "--quiet",
        "rules",
        "--cores",
        "2",
        "--config",
        f"samples={sheet}",
        "size=tiny",
        *extra,
    ]
    if profile is not None:
        command = [sys.executable, "-m", "cProfile", "-o", str(profile), *command]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(
        command, cwd=workdir, capture_output=True, text=True, env=ENV, check=False
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise RuntimeError(f"snakemake -n failed on {sheet}:\n{result.stderr[-3000:]}")
    total = re.search(r"^total\s+(\d+)$", result.stdout + result.stderr, re.M)
    return {
        "wall_s": wall,
        "cpu_s": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        "jobs": int(total.group(1)) if total else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "planning.json")
    parser.add_argument(
        "--profile-at",
        type=int,
        default=None,
        help="also profile planning at this many sessions (cProfile)",
    )
    args = parser.parse_args()

    results = []
    with tempfile.TemporaryDirectory(prefix="bench-planning-") as tmp:
        workdir = fresh_copy(Path(tmp) / "compendium")
        for mode in MODES:
            for n in args.sessions:
                rows = sample_sheet(n)
                sheet = workdir / "config" / f"samples_{n}.tsv"
                write_sheet(sheet, rows)
                extra = own_data(workdir, rows, n) if mode == "own data" else []
                timing = plan(workdir, sheet, extra)
                timing.update(mode=mode, sessions=n, rows=len(rows))
                results.append(timing)
                print(
                    f"{mode:>9}: {n:>5} sessions {len(rows):>5} rows {timing['jobs']!s:>5} "
                    f"jobs: {timing['wall_s']:6.1f} s wall, {timing['cpu_s']:6.1f} s CPU",
                    flush=True,
                )
        if args.profile_at:
            import pstats

            rows = sample_sheet(args.profile_at)
            sheet = workdir / "config" / f"samples_{args.profile_at}.tsv"
            write_sheet(sheet, rows)
            profile = Path(tmp) / "plan.prof"
            plan(workdir, sheet, own_data(workdir, rows, args.profile_at), profile)
            print(f"own data, {args.profile_at} sessions, under cProfile:")
            pstats.Stats(str(profile)).sort_stats("tottime").print_stats(20)

    growth = [
        {
            "mode": a["mode"],
            "from": a["sessions"],
            "to": b["sessions"],
            "sessions_ratio": b["sessions"] / a["sessions"],
            "wall_ratio": b["wall_s"] / a["wall_s"],
            "cpu_ratio": b["cpu_s"] / a["cpu_s"],
        }
        for a, b in zip(results, results[1:], strict=False)
        if a["mode"] == b["mode"]
    ]
    for g in growth:
        print(
            f"{g['mode']:>9}: {g['from']} -> {g['to']} sessions (x{g['sessions_ratio']:.0f}): "
            f"wall x{g['wall_ratio']:.2f}, CPU x{g['cpu_ratio']:.2f}"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "machine": {
                    "python": platform.python_version(),
                    "cpus": os.cpu_count(),
                    "load_average": os.getloadavg(),
                },
                "results": results,
                "growth": growth,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
