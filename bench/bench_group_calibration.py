"""Calibration of the group statistics and the reactivation test on null simulations (issue 18).

Not a test: run by hand (niced, it shares the machine)::

    nice -n 10 .venv/bin/python bench/bench_group_calibration.py [--nulls 400] \
        [--resamples 1000] [--permutations 200] [--only PREFIX,...] \
        [--out bench/results/group_calibration.json]

Every simulation has **no planted effect**; a positive is a false positive. The tests:

1. ``bootstrap_slope``: :func:`panneuro.stats.hierarchical.hierarchical_bootstrap` of the slope
   of a session score on learning stage (``SlopeEffect``, subjects then sessions resampled);
   positive when the 95 % interval excludes 0.
2. ``mixedlm_slope`` / ``mixedlm_random_slope_slope``:
   :func:`panneuro.stats.mixed.session_mixed_model` (random intercept; random intercept and
   slope with t on ``n_subjects - 1`` df); positive when p < 0.05.

   Both on sessions of ``--subjects`` subjects x 3 stages x 2 sessions: a subject intercept
   (sd 0.5), session noise (sd 0.05), and either no between-subject variation of the slope
   (``homogeneous``: every subject's true slope is 0) or a subject slope of sd 0.03 around 0
   (``heterogeneous``: the group mean slope is 0, individual subjects' are not).
   Also at 3 subjects for the bootstrap (``few_subjects``).
   ``subject_t_slope``: :func:`panneuro.stats.hierarchical.subject_t_test` (each subject's
   slope, Student's t over subjects), the summary-statistics reference, on the same data.
3. ``bootstrap_difference``: the hierarchical bootstrap (subjects, sessions, trials) of
   inactivated minus control trial-2 accuracy (``DifferenceEffect``) on ``--subjects``
   subjects x 6 interleaved sessions x 40 problems, accuracy logit 1.1 + subject (sd 0.5) +
   session (sd 0.3), no inactivation effect; ``bootstrap_difference_sessions`` resamples
   subjects and sessions only; ``subject_t_difference`` is the subject-level t test.
4. ``logistic_gee`` / ``logistic_bayes`` / ``logistic_bayes_vb``:
   :func:`panneuro.stats.mixed.trial_mixed_logistic` on the same trials; p < 0.05.
5. ``reactivation_ev`` / ``reactivation_assembly``:
   :func:`panneuro.sleep.reactivation.reactivation_test` (one-sided permutation of sleep
   events between before and after, p < 0.05) on 30 units: three task assemblies and one
   "innate" assembly active in every epoch, 600 task bins, 150 ripples before and after, the
   task assemblies silent in both sleep epochs.
6. ``reactivation_group``: the hierarchical bootstrap of the sessions' ``EV - REV``
   (``MeanEffect``) over ``--subjects`` subjects x 3 sessions of null reactivation; positive
   when the interval excludes 0 (``subject_t`` beside it: p < 0.05).

Rates come with exact (Clopper–Pearson) binomial 95 % intervals; the target is 5 ± 1.5 %.
Results go to ``bench/results/group_calibration.json`` (git-ignored) and are printed.

Measured 2026-12-04 on 2 shared cores (seed 1818; 400 nulls for all, ~9 min; then 2000 nulls
for the cheap tests with ``--only``, ~16 min), FPR % [95 % CI] at alpha 0.05:

=========================================  ====================  ====================
test                                       400 nulls             2000 nulls
=========================================  ====================  ====================
bootstrap_slope/homogeneous, 6 subj        2.75 [1.38, 4.87]     1.90 [1.35, 2.60]
bootstrap_slope/homogeneous, 3 subj        3.75 [2.11, 6.11]     3.10 [2.38, 3.96]
bootstrap_slope/heterogeneous, 6 subj      5.75 [3.68, 8.50]     6.30 [5.27, 7.46]
bootstrap_slope/heterogeneous, 3 subj      9.50 [6.81, 12.81]    8.65 [7.45, 9.97]
subject_t_slope/homogeneous, 6 subj        4.75 [2.88, 7.32]     4.60 [3.72, 5.61]
subject_t_slope/homogeneous, 3 subj        5.75 [3.68, 8.50]     5.50 [4.54, 6.59]
subject_t_slope/heterogeneous, 6 subj      6.00 [3.88, 8.80]     6.05 [5.05, 7.19]
subject_t_slope/heterogeneous, 3 subj      5.50 [3.48, 8.21]     4.85 [3.95, 5.88]
mixedlm_slope/homogeneous                  7.25 [4.91, 10.25]
mixedlm_slope/heterogeneous                17.00 [13.45, 21.05]
mixedlm_random_slope/homogeneous           1.00 [0.27, 2.54]
mixedlm_random_slope/heterogeneous         3.00 [1.56, 5.18]
bootstrap_difference (3 levels)            0.50 [0.06, 1.79]
bootstrap_difference_sessions (2 levels)   3.50 [1.93, 5.80]     2.15 [1.56, 2.89]
subject_t_difference                       6.75 [4.50, 9.67]     4.95 [4.04, 5.99]
logistic_gee (subject clusters, t)         5.75 [3.68, 8.50]     4.00 [3.18, 4.95]
logistic_bayes (Laplace)                   15.25 [11.87, 19.15]
logistic_bayes-vb                          27.25 [22.94, 31.90]
reactivation_ev                            6.75 [4.50, 9.67]     4.70 [3.81, 5.72]
reactivation_assembly                      6.25 [4.09, 9.09]     5.25 [4.31, 6.32]
reactivation_group (bootstrap)             4.50 [2.69, 7.02]     3.85 [3.05, 4.79]
reactivation_group_subject_t               6.25 [4.09, 9.09]     5.20 [4.27, 6.27]
=========================================  ====================  ====================

At 2 subjects (the consortium's macaques; ``--subjects 2 --nulls 400 --only
bootstrap_slope,bootstrap_difference,subject_t,reactivation_group``, 2026-12-06), FPR %
[95 % CI]: bootstrap slope homogeneous 4.25 [2.49, 6.72], heterogeneous **12.75 [9.64,
16.42]**; subject t slope 4.50 [2.69, 7.02] and 5.00 [3.08, 7.62]; bootstrap difference
(3 levels) 1.50 [0.55, 3.24], sessions only **9.50 [6.81, 12.81]**; subject t difference 7.25
[4.91, 10.25]; reactivation group bootstrap **11.75 [8.76, 15.32]**, subject t 6.50 [4.29,
9.38]. With two subjects whose true effects differ the bootstrap is too narrow for the
population; the t test over subjects holds the level.

The mixed models at 2 and 3 subjects (``--subjects 2|3 --nulls 400 --only mixedlm,logistic_gee``,
2026-12-08; singular random-slope fits count as no rejection): random intercept only **9.50 %
[6.81, 12.81]** / **9.25 [6.60, 12.52]** with equal subject slopes and **20.25 [16.42, 24.53]** /
**18.00 [14.36, 22.12]** with varying ones; random slope 0.00 [0.00, 0.92] (both, 2 subjects),
0.00 and 0.25 [0.01, 1.38] (3 subjects): no power, and fits often singular. Hence the design's
stage slopes fit the random-slope model only from 6 subjects
(``panneuro.stats.design_effects.MIXED_MODEL_MIN_SUBJECTS``). GEE logistic (subject clusters,
t on subjects - 1 df): 3.00 [1.56, 5.18] at 2 subjects, 4.50 [2.69, 7.02] at 3.

One session per cell (``--only one_session``, 2 subjects, 400 nulls, 2026-12-06; session
scores with their own sampling s.d. 0.05-0.13, as the tiny design's CCGP): one control and one
inactivation per subject, sessions resampled (the bootstrap before this date) **47.75 % [42.76,
52.77]** (heterogeneous subjects 45.25); each score redrawn from its s.e., subjects resampled
(``effect_rows`` now) 1.25 % [0.41, 2.89] (heterogeneous 1.50 [0.55, 3.24]); subject t 3.75 /
4.75. Slope on 3 stages, one session each: sessions resampled 5.50 / 7.00, s.e. 1.25 / 1.50,
subject t 6.00 / 3.50. The s.e. route is conservative (the subjects' spread already holds the
session error) but no longer confidently wrong.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from calibration import TARGET, false_positive_rate

from panneuro.io.tables import write_json
from panneuro.seeding import rng_for
from panneuro.sleep.reactivation import explained_variance, reactivation_test
from panneuro.stats.design_effects import effect_rows
from panneuro.stats.hierarchical import (
    DifferenceEffect,
    MeanEffect,
    SlopeEffect,
    hierarchical_bootstrap,
    subject_t_test,
)
from panneuro.stats.mixed import session_mixed_model, trial_mixed_logistic

SEED = 1818
_ONLY: tuple[str, ...] = ()
SLOPE_SD = {"homogeneous": 0.0, "heterogeneous": 0.03}


def null_sessions(rng: np.random.Generator, n_subjects: int, slope_sd: float) -> pd.DataFrame:
    rows = []
    for s in range(n_subjects):
        a, b = rng.normal(0, 0.5), rng.normal(0, slope_sd) if slope_sd else 0.0
        for stage in range(3):
            for r in range(2):
                rows.append(
                    {
                        "subject": f"S{s}",
                        "session": f"{stage}{r}",
                        "stage": stage,
                        "score": a + b * stage + rng.normal(0, 0.05),
                    }
                )
    return pd.DataFrame(rows)


def null_trials(rng: np.random.Generator, n_subjects: int) -> pd.DataFrame:
    parts = []
    for s in range(n_subjects):
        a = rng.normal(0, 0.5)
        for j in range(6):
            p = 1 / (1 + np.exp(-(1.1 + a + rng.normal(0, 0.3))))
            parts.append(
                pd.DataFrame(
                    {
                        "subject": f"S{s}",
                        "session": f"{j:02d}",
                        "inactivated": j % 2,
                        "correct": (rng.random(40) < p).astype(int),
                    }
                )
            )
    return pd.concat(parts, ignore_index=True)


#: Session scores' sampling s.d. in the one-session scenarios: the CCGP oracle's Monte Carlo
#: s.d. of a session's score at the tiny design's sizes (0.10-0.13), and below.
ONE_SESSION_SE = (0.05, 0.13)


def null_one_session(
    rng: np.random.Generator, n_subjects: int, effect_sd: float, *, stages: int = 0
) -> pd.DataFrame:
    """One session per cell: a control and an inactivation (or one per stage, ``stages``).

    Each session's score is the subject's intercept (s.d. 0.5), its own effect (s.d.
    ``effect_sd`` around 0: the population effect is 0) times the condition or stage, and
    the session's sampling error (s.d. drawn in :data:`ONE_SESSION_SE`); the table's
    ``score_se`` is that s.d. as a permutation null would estimate it (log-normal error of
    s.d. 0.15).
    """
    rows = []
    for s in range(n_subjects):
        a, b = rng.normal(0, 0.5), rng.normal(0, effect_sd) if effect_sd else 0.0
        for cell in range(stages or 2):
            sd = rng.uniform(*ONE_SESSION_SE)
            rows.append(
                {
                    "subject": f"S{s}",
                    "session": f"{cell}",
                    "cell": cell,
                    "score": a + b * cell + rng.normal(0, sd),
                    "score_se": sd * float(np.exp(rng.normal(0, 0.15))),
                }
            )
    return pd.DataFrame(rows)


ASSEMBLIES = [np.arange(0, 6), np.arange(6, 12), np.arange(12, 18), np.arange(18, 24)]


def _counts(rng: np.random.Generator, n: int, p_active: list[float]) -> np.ndarray:
    rate = np.full((n, 30), 0.5)
    for members, p in zip(ASSEMBLIES, p_active, strict=True):
        rate[np.ix_(rng.random(n) < p, members)] += 3.0
    return rng.poisson(rate).astype(float)


def null_sleep(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    task = _counts(rng, 600, [0.15, 0.15, 0.15, 0.1])
    pre = _counts(rng, 150, [0.0, 0.0, 0.0, 0.1])
    post = _counts(rng, 150, [0.0, 0.0, 0.0, 0.1])
    return task, pre, post


def _run(name: str, n: int, positive: Callable[[int], bool]) -> dict[str, float] | None:
    if _ONLY and not name.startswith(_ONLY):
        return None
    start = time.perf_counter()
    hits = [positive(rep) for rep in range(n)]
    r = {**false_positive_rate(sum(hits), len(hits)), "seconds": time.perf_counter() - start}
    print(
        f"  {name:44s} FPR {100 * r['rate']:5.2f}% [{100 * r['ci_low']:5.2f}, "
        f"{100 * r['ci_high']:5.2f}]  ({r['positives']}/{r['n']}, {r['seconds']:.0f} s)",
        flush=True,
    )
    return r


def _random_slope_rejects(table: pd.DataFrame, alpha: float) -> bool:
    """Whether the random-slope model rejects a zero slope (a singular fit rejects nothing)."""
    try:
        fit = session_mixed_model(table, "score", "stage")
    except np.linalg.LinAlgError:
        return False
    return fit.p_value < alpha


def main() -> None:
    """Run the null simulations and write the JSON summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nulls", type=int, default=400)
    parser.add_argument("--subjects", type=int, default=6)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--permutations", type=int, default=200)
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument(
        "--only", default="", help="comma-separated name prefixes of the tests to run (all)"
    )
    parser.add_argument("--out", default="bench/results/group_calibration.json")
    args = parser.parse_args()
    only = tuple(p for p in args.only.split(",") if p)
    n, alpha, n_subj = args.nulls, args.alpha, args.subjects
    global _ONLY
    _ONLY = only

    def rng(*keys: str | int) -> np.random.Generator:
        return rng_for(SEED, "group_calibration", *keys)

    def boot(table: pd.DataFrame, effect, key: tuple, **kw) -> bool:
        res = hierarchical_bootstrap(
            table, effect, rng(*key, "bootstrap"), n_resamples=args.resamples, **kw
        )
        return not res.covers(0.0)

    out: dict = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": platform.platform(),
        "settings": vars(args),
        "target": TARGET,
        "results": {},
    }
    results = out["results"]
    print(f"false-positive rates over {n} null simulations each (target 5 ± 1.5 %):")
    slope = SlopeEffect("score", "stage")
    for scenario, sd in SLOPE_SD.items():

        def data(rep: int, scenario: str = scenario, sd: float = sd, k: int = n_subj):
            return null_sessions(rng("slope", scenario, k, rep), k, sd)

        results[f"bootstrap_slope/{scenario}"] = _run(
            f"bootstrap_slope/{scenario} ({n_subj} subj)",
            n,
            lambda rep, data=data, s=scenario: boot(data(rep), slope, ("slope", s, rep)),
        )
        results[f"bootstrap_slope/{scenario}/few_subjects"] = _run(
            f"bootstrap_slope/{scenario} (3 subj)",
            n,
            lambda rep, data=data, s=scenario: boot(data(rep, k=3), slope, ("few", s, rep)),
        )
        for k in (n_subj, 3):
            results[f"subject_t_slope/{scenario}/{k}_subjects"] = _run(
                f"subject_t_slope/{scenario} ({k} subj)",
                n,
                lambda rep, data=data, k=k: subject_t_test(data(rep, k=k), slope).p_value < alpha,
            )
        results[f"mixedlm_slope/{scenario}"] = _run(
            f"mixedlm_slope/{scenario} ({n_subj} subj)",
            n,
            lambda rep, data=data: (
                session_mixed_model(data(rep), "score", "stage", random_slope=False).p_value < alpha
            ),
        )
        results[f"mixedlm_random_slope/{scenario}"] = _run(
            f"mixedlm_random_slope/{scenario} ({n_subj} subj)",
            n,
            lambda rep, data=data: _random_slope_rejects(data(rep), alpha),
        )

    # one session per cell (the design's neural inactivation contrast: one inactivation and
    # one control per subject; a stage slope with one session per stage): sessions resampled
    # (levels=2, as before 2026-12-06) against the sessions' own standard errors
    # (effect_rows: subjects resampled, each score redrawn from its se)
    for scenario, sd in SLOPE_SD.items():
        for stages, effect in (
            (0, DifferenceEffect("score", "cell")),
            (3, SlopeEffect("score", "cell")),
        ):
            kind = "slope" if stages else "difference"

            def one(rep: int, scenario=scenario, sd=sd, stages=stages, kind=kind):
                return null_one_session(rng("one", kind, scenario, rep), n_subj, sd, stages=stages)

            results[f"one_session_{kind}/{scenario}/sessions"] = _run(
                f"one_session_{kind}/{scenario}/sessions ({n_subj} subj)",
                n,
                lambda rep, one=one, effect=effect, k=kind, sc=scenario: boot(
                    one(rep), effect, ("one", k, sc, rep), levels=2
                ),
            )

            def with_se(rep: int, one=one, effect=effect, k=kind, sc=scenario) -> bool:
                rows = effect_rows(
                    one(rep),
                    effect,
                    name="null",
                    species="x",
                    region="x",
                    rng=rng("one", k, sc, rep, "se"),
                    n_resamples=args.resamples,
                )
                boot_row = next(r for r in rows if r["method"] == "hierarchical_bootstrap")
                return not boot_row["ci_low"] <= 0.0 <= boot_row["ci_high"]

            results[f"one_session_{kind}/{scenario}/se"] = _run(
                f"one_session_{kind}/{scenario}/se ({n_subj} subj)", n, with_se
            )
            results[f"one_session_{kind}/{scenario}/subject_t"] = _run(
                f"one_session_{kind}/{scenario}/subject_t ({n_subj} subj)",
                n,
                lambda rep, one=one, effect=effect: (
                    subject_t_test(one(rep), effect).p_value < alpha
                ),
            )

    def trials(rep: int) -> pd.DataFrame:
        return null_trials(rng("trials", rep), n_subj)

    results["bootstrap_difference"] = _run(
        f"bootstrap_difference (trials, {n_subj} subj)",
        n,
        lambda rep: boot(
            trials(rep), DifferenceEffect("correct", "inactivated"), ("diff", rep), levels=3
        ),
    )
    results["bootstrap_difference_sessions"] = _run(
        f"bootstrap_difference_sessions ({n_subj} subj)",
        n,
        lambda rep: boot(
            trials(rep), DifferenceEffect("correct", "inactivated"), ("diff", rep), levels=2
        ),
    )
    results["subject_t_difference"] = _run(
        f"subject_t_difference ({n_subj} subj)",
        n,
        lambda rep: (
            subject_t_test(trials(rep), DifferenceEffect("correct", "inactivated")).p_value < alpha
        ),
    )
    for method in ("gee", "bayes", "bayes-vb"):
        results[f"logistic_{method}"] = _run(
            f"logistic_{method} ({n_subj} subj)",
            n,
            lambda rep, m=method: (
                trial_mixed_logistic(
                    trials(rep), "correct", "inactivated", method=m, rng=rng("fit", rep)
                ).p_value
                < alpha
            ),
        )
    for method in ("ev", "assembly"):
        results[f"reactivation_{method}"] = _run(
            f"reactivation_{method} (one session)",
            n,
            lambda rep, m=method: (
                reactivation_test(
                    *null_sleep(rng("sleep", rep)),
                    rng("sleep", m, rep),
                    method=m,
                    n_permutations=args.permutations,
                ).p_value
                < alpha
            ),
        )

    def sleep_group(rep: int) -> pd.DataFrame:
        rows = []
        for s in range(n_subj):
            for j in range(3):
                ev = explained_variance(*null_sleep(rng("sleep_group", rep, s, j)))
                rows.append({"subject": f"S{s}", "session": f"{j}", "delta": ev.ev - ev.rev})
        return pd.DataFrame(rows)

    results["reactivation_group"] = _run(
        f"reactivation_group (EV-REV, {n_subj} subj x 3)",
        n,
        lambda rep: boot(sleep_group(rep), MeanEffect("delta"), ("sleep_group", rep)),
    )
    results["reactivation_group_subject_t"] = _run(
        f"reactivation_group_subject_t ({n_subj} subj x 3)",
        n,
        lambda rep: subject_t_test(sleep_group(rep), MeanEffect("delta")).p_value < alpha,
    )
    out["results"] = {k: v for k, v in results.items() if v is not None}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    write_json(out, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
