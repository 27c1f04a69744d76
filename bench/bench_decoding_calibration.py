"""Calibration of the population-decoding test on null simulations (issue 5).

Not a test: run by hand (a few minutes at the defaults)::

    .venv/bin/python bench/bench_decoding_calibration.py [--repetitions 1000] \
        [--resplit-repetitions 0] [--permutations 50] \
        [--out bench/results/decoding_calibration.json]

The test, exactly as the pipeline uses it (``decode_session`` → ``decoding_table``), for one
region × variable of one session: time-resolved decoding (:func:`decode_time_resolved`, LDA,
stratified ``--folds``-fold CV, ``--permutations`` label permutations restricted to the design:
within problems for a variable that varies within problems, whole problems exchanged for one
that is constant within a problem), then the cluster-mass test over time bins
(:func:`panneuro.stats.permutation.cluster_permutation_test`, clusters formed at the null's
95th percentile per bin); the session × region × variable is a **positive** when any time-
resolved bin is ``significant`` (in a cluster with family-wise ``cluster_p < 0.05``). The
per-window test is also reported: the uncorrected permutation ``p_value < 0.05`` of one
pre-chosen bin (the middle one).

Null simulations (no planted effect): Poisson spike counts, ``--units`` units × ``--problems``
problems of 6 trials × ``--bins`` bins (the default preset's recorded session: 25 units,
40 problems, 14 bins of the [-0.5, 1] s window), each unit with its own rate, a slow drift of
its rate over problems and a per-trial gain shared across bins (so bins are correlated, as real
bins are). Labels: ``choice`` (random on each trial) and ``rewarded_object`` (random per problem,
constant within it). The counts never depend on the labels.

Folds: the pipeline splits ``StratifiedKFold`` once on the observed labels and reuses the folds
for every permutation (documented departure, for the closed-form null). As a check the same
test can be rerun on ``--resplit-repetitions`` simulations (default 0: ~30× slower, no
closed-form sharing) with the folds re-split (stratified on each permuted label vector, as
``permutation_test_score`` does).

Prints each false-positive rate with its binomial (Clopper–Pearson) 95 % interval and writes
``bench/results/decoding_calibration.json`` (git-ignored).
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import time
from pathlib import Path

import numpy as np
from calibration import false_positive_rate

from panneuro.decoding.time_resolved import (
    DecodingResult,
    _closed_form_scores,
    decode_time_resolved,
    decoding_table,
    fold_splits,
)
from panneuro.io.tables import write_json
from panneuro.seeding import rng_for
from panneuro.stats.permutation import permuted_labels

SEED = 1949
TRIALS_PER_PROBLEM = 6
VARIABLES = ("choice", "rewarded_object")


def null_session(
    rng: np.random.Generator, n_units: int, n_problems: int, n_bins: int
) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """Simulate one null session: counts (trials, units, bins), labels per variable, problems."""
    n_trials = n_problems * TRIALS_PER_PROBLEM
    problems = np.repeat(np.arange(1, n_problems + 1), TRIALS_PER_PROBLEM)
    base = rng.gamma(2.0, 2.0, size=n_units)  # counts per bin
    profile = 1 + 0.5 * np.sin(
        np.linspace(0, np.pi, n_bins)[None, :] + rng.uniform(0, 2 * np.pi, size=(n_units, 1))
    )  # time course per unit
    drift = 1 + 0.3 * np.outer(np.linspace(-1, 1, n_trials), rng.standard_normal(n_units))
    gain = rng.gamma(10.0, 0.1, size=(n_trials, 1, 1))  # trial gain (all units)
    rate = base[None, :, None] * profile[None] * np.clip(drift, 0.1, None)[:, :, None] * gain
    counts = rng.poisson(rate)
    labels = {
        "choice": rng.integers(0, 2, size=n_trials),
        "rewarded_object": np.repeat(rng.integers(0, 2, size=n_problems), TRIALS_PER_PROBLEM),
    }
    return counts, labels, problems


def _resplit_result(
    counts: np.ndarray,
    labels: np.ndarray,
    groups: np.ndarray,
    rng: np.random.Generator,
    n_folds: int,
    n_permutations: int,
    shrinkage: float,
) -> DecodingResult:
    """Time-resolved decoding with the folds re-split (stratified) for every label vector."""
    fold_seed = int(rng.integers(2**31 - 1))
    permuted = permuted_labels(labels, groups, n_permutations, rng)
    bins = np.arange(counts.shape[2])
    rows = []
    for k, y in enumerate(np.vstack([labels[None], permuted])):
        folds = int(min(n_folds, np.bincount(y, minlength=2).min()))
        rows.append(
            _closed_form_scores(
                counts,
                y[None],
                fold_splits(y, folds, fold_seed + k),
                shrinkage,
                bins,
                cross_temporal=False,
            )[0]
        )
    scores = np.array(rows)
    full = np.full((len(scores), len(bins), len(bins)), np.nan)
    full[:, bins, bins] = scores
    return DecodingResult(full[0], full[1:], n_folds)


def _positives(result: DecodingResult, quantile: float, alpha: float) -> tuple[bool, bool]:
    table = decoding_table(
        result,
        np.arange(result.scores.shape[0], dtype=float),
        threshold_quantile=quantile,
        alpha=alpha,
    )
    tr = table[table["analysis"] == "time_resolved"]
    middle = tr.iloc[len(tr) // 2]
    return bool(tr["significant"].any()), bool(middle["p_value"] < alpha)


def main() -> None:
    """Run the null simulations and write the JSON summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repetitions", type=int, default=1000)
    parser.add_argument("--resplit-repetitions", type=int, default=0)
    parser.add_argument("--units", type=int, default=25)
    parser.add_argument("--problems", type=int, default=40)
    parser.add_argument("--bins", type=int, default=14)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--permutations", type=int, default=50)
    parser.add_argument("--shrinkage", type=float, default=0.1)
    parser.add_argument("--threshold-quantile", type=float, default=0.95)
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--out", default="bench/results/decoding_calibration.json")
    args = parser.parse_args()

    out: dict = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": platform.platform(),
        "settings": vars(args),
        "results": {},
    }
    for scheme, n_rep in (
        ("fixed_folds", args.repetitions),
        ("resplit_folds", args.resplit_repetitions),
    ):
        if n_rep == 0:
            continue
        start = time.perf_counter()
        hits: dict[str, dict[str, list[bool]]] = {
            v: {"cluster": [], "window": []} for v in (*VARIABLES, "any_variable")
        }
        for rep in range(n_rep):
            counts, labels, groups = null_session(
                rng_for(SEED, "calibration", "data", rep), args.units, args.problems, args.bins
            )
            any_cluster = any_window = False
            for variable in VARIABLES:
                rng = rng_for(SEED, "calibration", scheme, rep, variable)
                if scheme == "fixed_folds":
                    result = decode_time_resolved(
                        counts,
                        labels[variable],
                        groups=groups,
                        rng=rng,
                        n_folds=args.folds,
                        n_permutations=args.permutations,
                        shrinkage=args.shrinkage,
                        cross_temporal=False,
                    )
                else:
                    result = _resplit_result(
                        counts,
                        labels[variable],
                        groups,
                        rng,
                        args.folds,
                        args.permutations,
                        args.shrinkage,
                    )
                cluster, window = _positives(result, args.threshold_quantile, args.alpha)
                hits[variable]["cluster"].append(cluster)
                hits[variable]["window"].append(window)
                any_cluster |= cluster
                any_window |= window
            hits["any_variable"]["cluster"].append(any_cluster)
            hits["any_variable"]["window"].append(any_window)
        summary = {
            v: {test: false_positive_rate(sum(h), len(h)) for test, h in tests.items()}
            for v, tests in hits.items()
        }
        summary["seconds"] = time.perf_counter() - start
        out["results"][scheme] = summary
        print(
            f"{scheme} ({n_rep} null sessions, {args.permutations} permutations, "
            f"{summary['seconds']:.0f} s):"
        )
        for variable in VARIABLES:
            for test in ("cluster", "window"):
                r = summary[variable][test]
                print(
                    f"  {variable:16s} {test:8s} FPR {100 * r['rate']:5.2f}% "
                    f"[{100 * r['ci_low']:.2f}, {100 * r['ci_high']:.2f}] "
                    f"({r['positives']}/{r['n']})"
                )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    write_json(out, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
