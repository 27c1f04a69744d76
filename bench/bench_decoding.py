"""Benchmark of the permutation decoding (issue 5): closed-form decoder vs plain scikit-learn.

Not a test: run by hand (about a minute at the default sizes)::

    .venv/bin/python bench/bench_decoding.py [--units 300] [--trials 500] [--bins 100] \
        [--permutations 1000] [--sklearn-bins 3] [--sklearn-permutations 10] \
        [--out bench/results/decoding.json]

Synthetic session: Poisson spike counts, ``--units`` × ``--trials`` × ``--bins``, with a planted
choice effect (40 units, bins 40–59), balanced labels (half the trials per class) and problems
of six trials as the permutation blocks. In one run it measures:

(a) panneuro: :func:`panneuro.decoding.time_resolved.decode_time_resolved` with
    ``--permutations`` permutations, time-resolved (``cross_temporal=False``, what the
    scikit-learn loop computes), 1 and 2 worker processes; and the full cross-temporal
    (train bin × test bin) version, 2 workers;
(b) plain scikit-learn: per bin ``cross_val_score`` + ``permutation_test_score`` (the same
    ``make_decoder`` pipeline, the same ``StratifiedKFold``, ``groups`` = problems, balanced
    accuracy, 1 process). The full loop (bins × (permutations + 1) × folds LDA fits) would take
    hours, so it is timed on ``--sklearn-bins`` bins with ``--sklearn-permutations``
    permutations and **extrapolated** linearly to all bins and permutations (said in the output);
(c) agreement where the methods are the same: the observed time-resolved scores against
    ``cross_val_score`` on every bin (balanced classes and folds, so ``make_decoder``'s
    equal-prior LDA *is* the closed-form decoder and the fold-mean balanced accuracy equals the
    pooled one); and the null of ``--sklearn-permutations`` permutations on the benchmark's bins
    against per-fit scikit-learn LDA on the same permuted labels and fixed folds
    (``_sklearn_scores``). The permutation nulls of ``permutation_test_score`` are a different
    method (other random permutations, folds re-split per permutation): only their mean is
    reported.

Results go to ``bench/results/decoding.json`` (git-ignored) and the ratio is printed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import time
import warnings
from pathlib import Path

import numpy as np
import sklearn
from sklearn.model_selection import StratifiedKFold, cross_val_score, permutation_test_score

from panneuro.decoding.time_resolved import (
    _sklearn_scores,
    decode_time_resolved,
    fold_splits,
    make_decoder,
)
from panneuro.io.tables import write_json
from panneuro.seeding import rng_for

SEED = 20240605


def synthetic_session(
    n_units: int, n_trials: int, n_bins: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Spike counts with a planted choice code, balanced labels and problem blocks."""
    labels = np.repeat([0, 1], [n_trials // 2, n_trials - n_trials // 2])
    rng.shuffle(labels)
    rate = np.full((n_trials, n_units, n_bins), 4.0)
    coding = slice(0, min(40, n_units))
    effect = slice(int(0.4 * n_bins), int(0.6 * n_bins))
    rate[:, coding, effect] += 0.8 * labels[:, None, None]
    counts = rng.poisson(rate)
    groups = np.arange(n_trials) // 6
    return counts, labels, groups


def timed(fn, *args, **kwargs):
    """Call ``fn`` and return (its result, wall seconds)."""
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=300)
    parser.add_argument("--trials", type=int, default=500)
    parser.add_argument("--bins", type=int, default=100)
    parser.add_argument("--permutations", type=int, default=1000)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--sklearn-bins", type=int, default=3)
    parser.add_argument("--sklearn-permutations", type=int, default=10)
    parser.add_argument("--skip-cross-temporal", action="store_true")
    parser.add_argument("--out", default="bench/results/decoding.json")
    args = parser.parse_args()
    # permutation_test_score passes groups to the CV splitter too; StratifiedKFold ignores them
    warnings.filterwarnings("ignore", message="The groups parameter is ignored")

    counts, labels, groups = synthetic_session(
        args.units, args.trials, args.bins, rng_for(SEED, "bench", "decoding", "data")
    )
    n_bins, n_perm = args.bins, args.permutations
    out: dict = {
        "sizes": {
            "units": args.units,
            "trials": args.trials,
            "bins": n_bins,
            "permutations": n_perm,
            "folds": args.folds,
        },
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "numpy": np.__version__,
            "sklearn": sklearn.__version__,
        },
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }

    # (a) panneuro, closed form
    def ours(n_jobs: int, cross_temporal: bool):
        return decode_time_resolved(
            counts,
            labels,
            groups=groups,
            rng=rng_for(SEED, "bench", "decoding", "decoder"),
            n_folds=args.folds,
            n_permutations=n_perm,
            shrinkage=0.1,
            n_jobs=n_jobs,
            cross_temporal=cross_temporal,
        )

    result, t_ours_1 = timed(ours, 1, False)
    result_2, t_ours_2 = timed(ours, 2, False)
    assert np.array_equal(result.null_time_resolved, result_2.null_time_resolved)
    out["panneuro_time_resolved_s"] = {"n_jobs_1": t_ours_1, "n_jobs_2": t_ours_2}
    print(
        f"panneuro, {n_perm} permutations, time-resolved: {t_ours_1:.1f} s (1 process), "
        f"{t_ours_2:.1f} s (2 processes)"
    )
    if not args.skip_cross_temporal:
        full, t_ct = timed(ours, 2, True)
        assert np.array_equal(np.diagonal(full.scores), result.time_resolved)
        out["panneuro_cross_temporal_s"] = {"n_jobs_2": t_ct}
        print(
            f"panneuro, {n_perm} permutations, cross-temporal {n_bins}x{n_bins}: "
            f"{t_ct:.1f} s (2 processes)"
        )

    # (b) plain scikit-learn on a subset of bins, extrapolated
    fold_seed = int(rng_for(SEED, "bench", "decoding", "decoder").integers(2**31 - 1))
    cv = StratifiedKFold(args.folds, shuffle=True, random_state=fold_seed)
    sk_bins = np.linspace(0, n_bins - 1, args.sklearn_bins).round().astype(int)
    t_cvs, t_pts, pts_null_means = 0.0, 0.0, []
    for b in sk_bins:
        x = counts[:, :, b].astype(float)
        _, t = timed(
            cross_val_score, make_decoder(0.1), x, labels, cv=cv, scoring="balanced_accuracy"
        )
        t_cvs += t
        (_, null, _), t = timed(
            permutation_test_score,
            make_decoder(0.1),
            x,
            labels,
            groups=groups,
            cv=cv,
            n_permutations=args.sklearn_permutations,
            scoring="balanced_accuracy",
            random_state=0,
        )
        t_pts += t
        pts_null_means.append(float(null.mean()))
    # permutation_test_score runs permutations + 1 cross-validations per bin
    per_bin_cvs = t_cvs / len(sk_bins)
    per_cv = t_pts / len(sk_bins) / (args.sklearn_permutations + 1)
    t_sklearn = n_bins * (per_bin_cvs + (n_perm + 1) * per_cv)
    ratio_1 = t_sklearn / t_ours_1
    ratio_2 = t_sklearn / t_ours_2
    out["sklearn"] = {
        "measured_bins": sk_bins.tolist(),
        "measured_permutations": args.sklearn_permutations,
        "measured_s": t_cvs + t_pts,
        "seconds_per_cross_validation": per_cv,
        "extrapolated_s": t_sklearn,
        "extrapolated": True,
        "permutation_test_score_null_mean": float(np.mean(pts_null_means)),
    }
    out["ratio"] = {
        "sklearn_1_process_vs_panneuro_1_process": ratio_1,
        "sklearn_1_process_vs_panneuro_2_processes": ratio_2,
    }
    print(
        f"scikit-learn loop, timed on {len(sk_bins)} bins x {args.sklearn_permutations} "
        f"permutations ({t_cvs + t_pts:.1f} s), EXTRAPOLATED to {n_bins} bins x {n_perm} "
        f"permutations: {t_sklearn:.0f} s ({t_sklearn / 3600:.2f} h)"
    )
    print(
        f"ratio scikit-learn / panneuro: {ratio_1:.0f}x (1 process each), "
        f"{ratio_2:.0f}x (panneuro on 2 processes)"
    )

    # (c) agreement where the methods are the same
    observed_sk = np.array(
        [
            cross_val_score(
                make_decoder(0.1),
                counts[:, :, b].astype(float),
                labels,
                cv=cv,
                scoring="balanced_accuracy",
            ).mean()
            for b in range(n_bins)
        ]
    )
    diff_observed = float(np.max(np.abs(observed_sk - result.time_resolved)))
    splits = fold_splits(labels, args.folds, fold_seed)
    k = args.sklearn_permutations
    permuted = np.vstack([labels[None], _permutations(labels, groups, n_perm)[:k]])
    ref = _sklearn_scores(counts, permuted, splits, 0.1, sk_bins, cross_temporal=False)
    ours_null = np.vstack([result.time_resolved[None], result.null_time_resolved[:k]])
    diff_null = float(np.max(np.abs(ref - ours_null[:, sk_bins])))
    out["max_abs_accuracy_difference"] = {
        "observed_vs_cross_val_score_all_bins": diff_observed,
        "null_vs_sklearn_lda_same_folds_and_permutations": diff_null,
        "null_checked": {"bins": sk_bins.tolist(), "permutations": k},
    }
    out["scores"] = {
        "observed_max": float(result.time_resolved.max()),
        "observed_outside_effect_mean": float(
            np.r_[
                result.time_resolved[: int(0.4 * n_bins)], result.time_resolved[int(0.6 * n_bins) :]
            ].mean()
        ),
        "null_mean": float(result.null_time_resolved.mean()),
    }
    print(
        f"max |accuracy difference|: observed vs cross_val_score (all {n_bins} bins) "
        f"{diff_observed:.2e}; null vs scikit-learn LDA on the same permutations/folds "
        f"({k} permutations x {len(sk_bins)} bins) {diff_null:.2e}"
    )
    print(
        f"null mean: panneuro {out['scores']['null_mean']:.4f}, permutation_test_score "
        f"{out['sklearn']['permutation_test_score_null_mean']:.4f}"
    )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    write_json(out, args.out)
    print(f"wrote {args.out}")


def _permutations(labels: np.ndarray, groups: np.ndarray, n_perm: int) -> np.ndarray:
    """Redraw the permuted labels of :func:`decode_time_resolved` (same generator, order)."""
    from panneuro.stats.permutation import permuted_labels

    rng = rng_for(SEED, "bench", "decoding", "decoder")
    rng.integers(2**31 - 1)  # the fold seed is drawn first
    return permuted_labels(labels, groups, n_perm, rng)


if __name__ == "__main__":
    main()
