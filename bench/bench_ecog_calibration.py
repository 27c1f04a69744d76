"""Calibration of the ECoG statistics on null simulations (issue 4): false-positive rates.

Not a test: run by hand (7 min at the defaults on 2 cores shared with other work; ``--generator
epochs`` runs ~1 s per simulation)::

    .venv/bin/python bench/bench_ecog_calibration.py [--simulations 200] [--jobs 2] \
        [--generator pipeline|epochs] [--out bench/results/ecog_calibration.json]

Each null simulation is a small ECoG session with **no planted effect**:

- ``--generator pipeline`` (default): :func:`panneuro.simulate.ecog.simulate_ecog` with
  ``n_planted=0, gain=0`` (pink noise, a common-mode component, mains at 60 Hz and harmonics),
  then the pipeline's own ECoG stage: notch + bad channels + reference (``--reference``,
  common average by default) + high-gamma envelope
  (:func:`~panneuro.ecog.chunked_envelope.high_gamma_in_chunks`), epochs around feedback with
  percent-change baseline;
- ``--generator epochs``: null epochs drawn directly (smooth AR(1) envelopes, 100 Hz, a shared
  component across electrodes, percent-change baseline), much faster, for many repetitions.

Outcomes are independent Bernoulli(0.6) draws (rewarded), so any effect found is false. On each
simulation it runs:

1. the responsive-electrode test, :func:`panneuro.ecog.statistics.responsive_electrodes`
   (cluster mass over time, max-statistic null over all electrodes and times). A simulation is a
   **family-wise false positive** when at least one electrode is called responsive (that is the
   error the pipeline controls at ``alpha``: over electrodes and time). The per-electrode rate
   (responsive electrodes / tested electrodes) is reported too; it is expected to lie well
   below alpha.
2. the outcome decoding, :func:`panneuro.ecog.statistics.decode_outcome` (closed-form LDA,
   permutation null within problems, cluster mass over time). A false positive is a
   simulation with at least one significant decoding cluster (family-wise over time).

The rates come with exact (Clopper–Pearson) binomial 95% CIs; the target is 5 ± 1.5%. Results
go to ``bench/results/ecog_calibration.json`` (git-ignored) and are printed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import time
from pathlib import Path

import numpy as np
from calibration import TARGET, false_positive_rate
from joblib import Parallel, delayed

from panneuro.ecog.statistics import decode_outcome, responsive_electrodes
from panneuro.io.tables import write_json
from panneuro.seeding import derived_seed

SEED = 4004


def _trial_table(n_trials: int, rng: np.random.Generator):
    from panneuro.simulate.task import build_events

    problem = np.repeat(np.arange(1, n_trials // 6 + 1), 6)
    trial = np.tile(np.arange(1, 7), n_trials // 6)
    correct = (rng.random(len(problem)) < 0.6).astype(int)
    return build_events(problem, trial, correct, rng, trial_duration=1.5)


def _pipeline_epochs(seed: int, args: argparse.Namespace):
    """Null session through the simulator and the pipeline's ECoG stage."""
    from panneuro.ecog.chunked_envelope import high_gamma_in_chunks
    from panneuro.ecog.high_gamma import epoch_high_gamma
    from panneuro.simulate.ecog import simulate_ecog

    rng = np.random.default_rng(seed)
    events = _trial_table(args.trials, rng)
    sim = simulate_ecog(
        events,
        n_electrodes=args.electrodes,
        sfreq=args.sfreq,
        n_planted=0,
        gain=0.0,
        line_frequency=60.0,
        seed=seed,
    )
    envelope, bads = high_gamma_in_chunks(
        sim.raw,
        line_frequency=60.0,
        reference=args.reference,
        band=(70.0, 150.0),
        n_subbands=args.subbands,
        sfreq_out=100.0,
    )
    epochs = epoch_high_gamma(envelope, events, bad_channels=bads)
    return (
        epochs.data,
        epochs.trials["correct"].to_numpy(),
        epochs.times,
        epochs.channels,
        epochs.trials["problem"].to_numpy(),
    )


def _direct_epochs(seed: int, args: argparse.Namespace):
    """Null epochs drawn directly: AR(1) envelopes (tau 50 ms) with a shared component."""
    from mne.baseline import rescale

    rng = np.random.default_rng(seed)
    sfreq, tau = 100.0, 0.05
    times = np.arange(-0.5, 1.0 + 1e-9, 1 / sfreq)
    n_trials, n_el = args.trials - args.trials % 6, args.electrodes
    phi = np.exp(-1 / (sfreq * tau))
    shocks = rng.standard_normal((n_trials, n_el + 1, len(times)))
    ar = np.empty_like(shocks)
    ar[..., 0] = shocks[..., 0]
    for t in range(1, len(times)):
        ar[..., t] = phi * ar[..., t - 1] + np.sqrt(1 - phi**2) * shocks[..., t]
    envelope = 1.0 + 0.3 * (ar[:, :n_el] + 0.5 * ar[:, n_el:])
    data = rescale(envelope, times, (-0.5, -0.1), mode="percent", copy=False, verbose=False)
    correct = (rng.random(n_trials) < 0.6).astype(int)
    return (
        data,
        correct,
        times,
        [f"E{i:02d}" for i in range(n_el)],
        np.repeat(np.arange(n_trials // 6), 6),
    )


def one_null(index: int, args: argparse.Namespace) -> dict:
    """Simulate null session ``index`` and run both tests on it."""
    seed = derived_seed(args.seed, "ecog-null", index)
    make = _pipeline_epochs if args.generator == "pipeline" else _direct_epochs
    start = time.perf_counter()
    data, correct, times, channels, problems = make(seed, args)
    simulated = time.perf_counter() - start
    responsive = responsive_electrodes(
        data,
        correct,
        times,
        channels,
        window=(0.0, 1.0),
        n_permutations=args.permutations,
        seed=derived_seed(seed, "clusters"),
        alpha=args.alpha,
    )
    tested = time.perf_counter() - start - simulated
    decoding = decode_outcome(
        data,
        correct,
        times,
        groups=problems,
        n_folds=5,
        n_permutations=args.decoding_permutations,
        seed=derived_seed(seed, "decoding"),
        bin_width=0.05,
        alpha=args.alpha,
    )
    decoded = time.perf_counter() - start - simulated - tested
    table = responsive["electrodes"]
    return {
        "n_responsive": int(table["responsive"].sum()),
        "n_electrodes": len(table),
        "min_p": float(table["p_value"].min()),
        "decoding_significant": bool(decoding["scores"]["significant"].any()),
        "decoding_min_cluster_p": float(decoding["clusters"]["p_value"].min())
        if len(decoding["clusters"])
        else 1.0,
        "seconds": [simulated, tested, decoded],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--simulations", type=int, default=200)
    parser.add_argument("--generator", choices=["pipeline", "epochs"], default="pipeline")
    parser.add_argument("--electrodes", type=int, default=8)
    parser.add_argument("--trials", type=int, default=60)
    parser.add_argument("--sfreq", type=float, default=500.0)
    parser.add_argument("--subbands", type=int, default=4)
    parser.add_argument("--reference", choices=["average", "bipolar"], default="average")
    parser.add_argument("--permutations", type=int, default=500)
    parser.add_argument("--decoding-permutations", type=int, default=500)
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", default="bench/results/ecog_calibration.json")
    args = parser.parse_args()

    start = time.perf_counter()
    runs = Parallel(n_jobs=args.jobs)(delayed(one_null)(i, args) for i in range(args.simulations))
    wall = time.perf_counter() - start
    n = len(runs)
    fw = false_positive_rate(sum(r["n_responsive"] > 0 for r in runs), n)
    per_electrode = false_positive_rate(
        sum(r["n_responsive"] for r in runs), sum(r["n_electrodes"] for r in runs)
    )
    dec = false_positive_rate(sum(r["decoding_significant"] for r in runs), n)
    seconds = np.array([r["seconds"] for r in runs]).mean(axis=0)
    result = {
        "benchmark": "ecog_calibration",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "parameters": {k: v for k, v in vars(args).items() if k != "out"},
        "definition": "family-wise false positive = a null simulation (no planted effect) "
        "with >= 1 electrode called responsive by responsive_electrodes "
        "(cluster-mass permutation test over time, max-statistic null over all "
        "electrodes and times, one test per session); decoding false positive = "
        ">= 1 significant decoding cluster over time",
        "target": list(TARGET),
        "cluster_test_familywise": fw,
        "cluster_test_per_electrode": per_electrode,
        "decoding_familywise": dec,
        "mean_seconds_per_simulation": {
            "simulate_and_preprocess": seconds[0],
            "cluster_test": seconds[1],
            "decoding": seconds[2],
        },
        "wall_seconds": wall,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    write_json(result, args.out)

    def show(name: str, r: dict) -> None:
        print(
            f"{name}: {r['positives']}/{r['n']} = {100 * r['rate']:.2f}% "
            f"(95% CI {100 * r['ci_low']:.2f}–{100 * r['ci_high']:.2f}%)"
            + (
                ""
                if name.startswith("per")
                else f"; target 5 ± 1.5%: {'yes' if r['in_target'] else 'NO'}"
            )
        )

    print(
        f"{n} null simulations ({args.generator}; {args.electrodes} electrodes, "
        f"{args.trials} trials, {args.permutations}/{args.decoding_permutations} "
        f"permutations) in {wall:.0f} s on {args.jobs} job(s)"
    )
    show("cluster test, family-wise over electrodes", fw)
    show("per-electrode", per_electrode)
    show("decoding, family-wise over time", dec)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
