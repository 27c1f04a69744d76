"""Benchmark of the whole ECoG stage on long sessions (issue 4): wall time and peak memory.

Not a test: run by hand::

    .venv/bin/python bench/bench_ecog.py                 # 64 electrodes, 1 kHz, 30 and 60 min
    .venv/bin/python bench/bench_ecog.py --quick         # 16 electrodes, 2 and 4 min
    .venv/bin/python bench/bench_ecog.py --minutes 10 --electrodes 32 [--out ...]

For each session length it (1) generates a session with the project's simulator and writers
(:func:`panneuro.simulate.ecog.simulate_ecog` with 6 planted electrodes,
:func:`~panneuro.simulate.ecog.write_ecog_bids`: iEEG-BIDS BrainVision in a temporary
directory; trials of 1.5 s, outcomes rewarded with probability 0.6), in a child process that is
not measured; then (2) runs the ECoG stage as the pipeline does, in a second child process whose
process tree's resident memory (RSS) is sampled every 0.05 s with psutil:
read (mne-bids, ``preload=False``) → notch + bad channels + reference + high-gamma envelope
(:func:`panneuro.ecog.chunked_envelope.high_gamma_in_chunks`) → epochs → write → responsive
electrodes (cluster test) → outcome decoding, with the settings of ``config/config.yaml``'s
``ecog`` section. Each step's wall time and the peak RSS during it are reported, and the ratio of
the stage's peak RSS between the longest and the shortest session.

(3) On the shortest session's epochs it also times the outcome decoding against the
scikit-learn loop it replaced (``SlidingEstimator`` + ``cross_val_multiscore``, Ledoit–Wolf
LDA, refitted per permutation): the loop is timed on ``--sklearn-permutations`` permutations
and extrapolated linearly per permutation (said in the output).

Results go to ``bench/results/ecog.json`` (git-ignored) and are printed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil

# The child processes (generate, stage, speed) run this file again with --child.

ROOT = Path(__file__).resolve().parents[1]
SEED = 1964


def _ecog_config() -> dict:
    import yaml

    return yaml.safe_load((ROOT / "config" / "config.yaml").read_text())["ecog"]


def generate(folder: Path, minutes: float, n_electrodes: int, sfreq: float) -> None:
    """Write a simulated session (BIDS BrainVision + its trial table) into ``folder``."""
    from panneuro.io.tables import write_tsv
    from panneuro.simulate.ecog import simulate_ecog, write_ecog_bids
    from panneuro.simulate.task import build_events

    rng = np.random.default_rng(SEED)
    n_trials = int((minutes * 60 - 3.0) // 1.5) // 6 * 6
    problem = np.repeat(np.arange(1, n_trials // 6 + 1), 6)
    trial = np.tile(np.arange(1, 7), n_trials // 6)
    correct = (rng.random(n_trials) < 0.6).astype(int)
    events = build_events(problem, trial, correct, rng, trial_duration=1.5)
    sim = simulate_ecog(
        events,
        n_electrodes=n_electrodes,
        sfreq=sfreq,
        n_planted=6,
        gain=1.0,
        line_frequency=60.0,
        seed=SEED,
    )
    vhdr = write_ecog_bids(sim, folder / "bids", subject="B1", session="01", line_frequency=60.0)
    planted = sim.truth["planted_electrodes"]
    del sim
    write_tsv(events, folder / "trials.tsv")
    (folder / "session.json").write_text(
        json.dumps({"vhdr": str(vhdr), "n_trials": n_trials, "planted": planted})
    )


def stage(folder: Path, marks: Path) -> None:
    """Run the ECoG stage on the session in ``folder``; write step boundaries to ``marks``."""
    from panneuro.ecog.chunked_envelope import high_gamma_in_chunks
    from panneuro.ecog.high_gamma import epoch_high_gamma, read_ecog, write_high_gamma
    from panneuro.ecog.statistics import decode_outcome, responsive_electrodes
    from panneuro.io.tables import read_events

    cfg = _ecog_config()
    session = json.loads((folder / "session.json").read_text())
    steps: list[tuple[str, float]] = [("start", time.time())]

    def mark(name: str) -> None:
        steps.append((name, time.time()))

    raw = read_ecog(session["vhdr"], preload=False)
    events = read_events(folder / "trials.tsv")
    mark("read")
    envelope, bad_channels = high_gamma_in_chunks(
        raw,
        line_frequency=float(cfg["line_frequency"]),
        reference=cfg["reference"],
        detect_bads=bool(cfg["bad_channel_detection"]),
        band=tuple(cfg["high_gamma_band"]),
        n_subbands=int(cfg["n_subbands"]),
        sfreq_out=float(cfg["envelope_sfreq"]),
    )
    mark("notch_reference_high_gamma")
    epochs = epoch_high_gamma(
        envelope,
        events,
        window=tuple(cfg["epoch_window"]),
        baseline=tuple(cfg["baseline"]),
        bad_channels=bad_channels,
    )
    del envelope
    write_high_gamma(epochs, folder / "high_gamma.npz")
    mark("epochs_and_write")
    correct = epochs.trials["correct"].to_numpy()
    responsive = responsive_electrodes(
        epochs.data,
        correct,
        epochs.times,
        epochs.channels,
        window=tuple(cfg["test_window"]),
        n_permutations=int(cfg["n_permutations"]),
        seed=1,
        alpha=float(cfg["alpha"]),
    )
    mark("cluster_test")
    decoding = decode_outcome(
        epochs.data,
        correct,
        epochs.times,
        groups=epochs.trials["problem"].to_numpy(),
        n_folds=int(cfg["decoding_n_folds"]),
        n_permutations=int(cfg["decoding_n_permutations"]),
        seed=2,
        bin_width=float(cfg["decoding_bin"]),
        alpha=float(cfg["alpha"]),
    )
    mark("decoding")
    marks.write_text(
        json.dumps(
            {
                "steps": steps,
                "epochs_shape": list(epochs.data.shape),
                "responsive": responsive["electrodes"]
                .loc[responsive["electrodes"]["responsive"], "channel"]
                .tolist(),
                "planted": session.get("planted"),
                "decoding_significant_clusters": int(
                    (decoding["clusters"]["p_value"] < float(cfg["alpha"])).sum()
                ),
                "bad_channels": bad_channels.loc[bad_channels["bad"], "channel"].tolist(),
            }
        )
    )


def decoding_speed(folder: Path, out: Path, sklearn_permutations: int) -> None:
    """Closed-form outcome decoding vs the scikit-learn loop, on the session's epochs."""
    from mne.decoding import SlidingEstimator, cross_val_multiscore
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from panneuro.ecog.high_gamma import read_high_gamma
    from panneuro.ecog.statistics import _bin_times, decode_outcome

    cfg = _ecog_config()
    epochs = read_high_gamma(folder / "high_gamma.npz")
    y = epochs.trials["correct"].to_numpy()
    n_perm = int(cfg["decoding_n_permutations"])
    start = time.perf_counter()
    decode_outcome(
        epochs.data,
        y,
        epochs.times,
        groups=epochs.trials["problem"].to_numpy(),
        n_folds=int(cfg["decoding_n_folds"]),
        n_permutations=n_perm,
        seed=2,
        bin_width=float(cfg["decoding_bin"]),
    )
    closed = time.perf_counter() - start
    binned, _ = _bin_times(epochs.data, epochs.times, float(cfg["decoding_bin"]))
    rng = np.random.default_rng(3)
    start = time.perf_counter()
    for k in range(sklearn_permutations + 1):
        labels = y if k == 0 else rng.permutation(y)
        estimator = SlidingEstimator(
            make_pipeline(
                StandardScaler(), LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto")
            ),
            scoring="roc_auc",
            n_jobs=1,
            verbose=False,
        )
        cross_val_multiscore(
            estimator,
            binned,
            labels,
            cv=StratifiedKFold(int(cfg["decoding_n_folds"]), shuffle=True, random_state=0),
            verbose=False,
        )
    per_run = (time.perf_counter() - start) / (sklearn_permutations + 1)
    out.write_text(
        json.dumps(
            {
                "epochs_shape": list(epochs.data.shape),
                "bins": int(binned.shape[-1]),
                "n_permutations": n_perm,
                "closed_form_seconds": closed,
                "sklearn_seconds_per_cv_run": per_run,
                "sklearn_runs_timed": sklearn_permutations + 1,
                "sklearn_seconds_extrapolated": per_run * (n_perm + 1),
                "speedup": per_run * (n_perm + 1) / closed,
            }
        )
    )


def _run_measured(args: list[str], interval: float = 0.05) -> tuple[float, float, list[tuple]]:
    """Run a child process; return its wall time, CPU time and RSS samples.

    CPU time is user + system of its process tree as last sampled; samples are (time, RSS of
    the tree).
    """
    start = time.time()
    proc = subprocess.Popen([sys.executable, __file__, *args], cwd=ROOT)
    parent = psutil.Process(proc.pid)
    samples, cpu = [], {}
    while proc.poll() is None:
        rss = 0
        try:
            for p in [parent, *parent.children(recursive=True)]:
                with p.oneshot():
                    rss += p.memory_info().rss
                    times = p.cpu_times()
                    cpu[p.pid] = times.user + times.system
        except psutil.Error:
            pass
        samples.append((time.time(), rss))
        time.sleep(interval)
    if proc.returncode != 0:
        raise RuntimeError(f"bench child {args} failed with exit code {proc.returncode}")
    return time.time() - start, sum(cpu.values()), samples


def _peak(samples: list[tuple], t0: float, t1: float) -> float:
    inside = [rss for t, rss in samples if t0 <= t <= t1]
    return max(inside, default=0) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[30.0, 60.0])
    parser.add_argument("--electrodes", type=int, default=64)
    parser.add_argument("--sfreq", type=float, default=1000.0)
    parser.add_argument(
        "--quick", action="store_true", help="16 electrodes, 2 and 4 min (a quick check)"
    )
    parser.add_argument("--sklearn-permutations", type=int, default=3)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "ecog.json"))
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, folder = args.child[0], Path(args.child[1])
        if kind == "generate":
            generate(folder, float(args.child[2]), int(args.child[3]), float(args.child[4]))
        elif kind == "stage":
            stage(folder, Path(args.child[2]))
        else:
            decoding_speed(folder, Path(args.child[2]), int(args.child[3]))
        return
    if args.quick:
        args.minutes, args.electrodes = [2.0, 4.0], 16

    sessions = []
    decoding = None
    for minutes in sorted(args.minutes):
        with tempfile.TemporaryDirectory(prefix="bench_ecog_") as tmp:
            folder = Path(tmp)
            gen_wall, _, gen_samples = _run_measured(
                ["--child", "generate", tmp, str(minutes), str(args.electrodes), str(args.sfreq)]
            )
            marks_path = folder / "marks.json"
            wall, cpu, samples = _run_measured(["--child", "stage", tmp, str(marks_path)])
            marks = json.loads(marks_path.read_text())
            steps = marks.pop("steps")
            table = {
                name: {
                    "seconds": round(t1 - t0, 2),
                    "peak_rss_mb": round(_peak(samples, t0, t1), 1),
                }
                for (_, t0), (name, t1) in zip(steps[:-1], steps[1:], strict=True)
            }
            recording_mb = args.electrodes * minutes * 60 * args.sfreq * 8 / 2**20
            sessions.append(
                {
                    "minutes": minutes,
                    "electrodes": args.electrodes,
                    "sfreq": args.sfreq,
                    "float64_session_mb": round(recording_mb, 1),
                    "stage_wall_seconds": round(wall, 2),
                    "stage_cpu_seconds": round(cpu, 2),
                    "stage_peak_rss_mb": round(max(r for _, r in samples) / 2**20, 1),
                    "steps": table,
                    **marks,
                    "generate_wall_seconds": round(gen_wall, 2),
                    "generate_peak_rss_mb": round(max(r for _, r in gen_samples) / 2**20, 1),
                }
            )
            print(
                f"{minutes:g} min, {args.electrodes} electrodes, {args.sfreq:g} Hz "
                f"(float64 session {recording_mb:.0f} MB): stage {wall:.1f} s wall, "
                f"{cpu:.1f} s CPU, peak RSS "
                f"{sessions[-1]['stage_peak_rss_mb']:.0f} MB"
            )
            for name, row in table.items():
                print(f"  {name:28s} {row['seconds']:8.1f} s  peak {row['peak_rss_mb']:7.0f} MB")
            if decoding is None:
                speed_path = folder / "speed.json"
                subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--child",
                        "speed",
                        tmp,
                        str(speed_path),
                        str(args.sklearn_permutations),
                    ],
                    cwd=ROOT,
                    check=True,
                )
                decoding = json.loads(speed_path.read_text())
    ratio = sessions[-1]["stage_peak_rss_mb"] / sessions[0]["stage_peak_rss_mb"]
    result = {
        "benchmark": "ecog_stage",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average_at_end": list(os.getloadavg()),
        },
        "sessions": sessions,
        "peak_rss_ratio_longest_to_shortest": round(ratio, 3),
        "length_ratio": sessions[-1]["minutes"] / sessions[0]["minutes"],
        "decoding_speed": decoding,
    }
    from panneuro.io.tables import write_json

    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    write_json(result, args.out)
    print(
        f"peak RSS {sessions[-1]['minutes']:g} min / {sessions[0]['minutes']:g} min = "
        f"{ratio:.2f} (length ratio {result['length_ratio']:g})"
    )
    print(
        f"decoding ({decoding['n_permutations']} permutations, epochs "
        f"{decoding['epochs_shape']}): closed form {decoding['closed_form_seconds']:.1f} s vs "
        f"scikit-learn loop {decoding['sklearn_seconds_extrapolated']:.0f} s (extrapolated "
        f"from {decoding['sklearn_runs_timed']} runs of "
        f"{decoding['sklearn_seconds_per_cv_run']:.2f} s): {decoding['speedup']:.0f}x"
    )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
