r"""The behavioural cost of inactivation on a small behaviour-only design: recovery and coverage.

A design of macaques with behaviour-only sessions only (``beh, beh/inactivation, beh`` twice
per macaque, :mod:`panneuro.simulate.design`), simulated by the project's simulator without any
recording (:func:`panneuro.simulate.study.simulate_design_behaviour`), analysed as the
``inactivation_effects`` rule does (:func:`~panneuro.stats.session_scores.trial2_table`,
:func:`~panneuro.stats.design_effects.inactivation_behaviour`), for several numbers of problems
per session and seeds: the estimate, its 95 % interval, the truth (the same statistic on each
session's planted expected trial-2 accuracy) and how often the interval holds it:

    .venv/bin/python bench/bench_behaviour_inactivation.py <n seeds> <problems,...> [macaques]

``null`` runs the same design with no behavioural cost (``prior_odds_factor`` 1) over many
seeds and prints, per method, how often the 95 % interval excludes 0 and how often it misses
the planted truth (not exactly 0: :func:`null_calibration`), each with its exact
(Clopper-Pearson) 95 % interval; the target is 5 +- 1.5 %:

    nice -n 10 .venv/bin/python bench/bench_behaviour_inactivation.py null <n seeds> \
        <problems> [macaques]

``paper`` instead prints the paper preset's behavioural effect (config seed, the trials
``make reproduce`` would simulate with ``size=paper``): with every inactivation session, and
with the recorded ones only (the design before behaviour-only inactivations):

    .venv/bin/python bench/bench_behaviour_inactivation.py paper
"""

from __future__ import annotations

import copy
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from panneuro.seeding import rng_for
from panneuro.simulate.design import plan_design, sessions_table
from panneuro.simulate.inactivation import behaviour_truth
from panneuro.simulate.study import simulate_design_behaviour
from panneuro.stats.design_effects import inactivation_behaviour
from panneuro.stats.session_scores import design_table, trial2_table

ROOT = Path(__file__).resolve().parents[1]
#: Agents of up to four macaques (learners of different speeds).
AGENTS = {"M1": 30.0, "M2": 45.0, "M3": 60.0, "M4": 40.0}


def behaviour_only_size(problems: int, macaques: int = 3) -> dict:
    """Return the paper preset with a behaviour-only design (``beh, beh/inactivation, beh`` x2)."""
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    size = copy.deepcopy(config["sizes"]["paper"])
    size["problems_per_session"] = problems
    names = list(AGENTS)[:macaques]
    size["design"].update(
        macaques=names,
        agents={m: {"n_half": AGENTS[m], "beta": 0.65} for m in names},
        ecog_patients=[],
        microwire_patients=[],
        macaque_sessions=["beh", "beh/inactivation", "beh"] * 2,
    )
    return size


def behaviour_effect(
    size: dict, seed: int, n_resamples: int = 2000, recorded_only: bool = False
) -> pd.DataFrame:
    """Simulate the design's behaviour and estimate the inactivation's trial-2 effects.

    ``recorded_only``: the recorded sessions only (behaviour-only sessions left out).
    """
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    design = plan_design(size, config["simulation"]["agent"])
    events = simulate_design_behaviour(design, seed=seed, size=size)
    if recorded_only:
        recorded = {(p.subject, p.session) for p in design.sessions if p.recorded}
        events = {k: v for k, v in events.items() if k in recorded}
    subjects = sorted({p.subject for p in design.sessions if p.species == "macaque"})
    table = pd.concat(
        [design_table(sessions_table(design, s).astype(str), s) for s in subjects],
        ignore_index=True,
    )
    expected = {
        (p.subject, p.session): behaviour_truth(
            design.agents[p.subject], p.condition, design.inactivation, p.problems
        )["expected_trial2_accuracy"]
        for p in design.sessions
        if p.species == "macaque"
    }
    trials = trial2_table(events, table, expected)
    return inactivation_behaviour(
        trials,
        dict.fromkeys(subjects, "macaque"),
        rng_for(seed, "group", "inact_beh"),
        n_resamples=n_resamples,
    )


def main(n_seeds: int, problems: list[int], macaques: int) -> None:
    """Print, per problems per session, each method's mean estimate, width and coverage."""
    rows = []
    for n in problems:
        started = time.perf_counter()
        for seed in range(n_seeds):
            effects = behaviour_effect(behaviour_only_size(n, macaques), seed)
            rows.append(effects.assign(problems=n, seed=seed))
        print(f"{n} problems: {n_seeds} seeds in {time.perf_counter() - started:.1f} s")
    table = pd.concat(rows, ignore_index=True)
    table["width"] = table["ci_high"] - table["ci_low"]
    table["covered"] = table["truth_in_ci"].astype(float)
    table["excludes_0"] = ((table["ci_high"] < 0) | (table["ci_low"] > 0)).astype(float)
    summary = table.groupby(["problems", "effect", "method"]).agg(
        truth=("truth", "mean"),
        estimate=("estimate", "mean"),
        sd=("estimate", "std"),
        width=("width", "median"),
        coverage=("covered", "mean"),
        power=("excludes_0", "mean"),
    )
    with pd.option_context(
        "display.width", 200, "display.max_columns", None, "display.precision", 3
    ):
        print(summary)
        first = table[(table["seed"] == 0) & (table["method"] != "subject_t_test")]
        print(first[["problems", "effect", "method", "estimate", "ci_low", "ci_high", "truth"]])
    np.seterr(all="ignore")


def null_calibration(n_seeds: int, problems: int, macaques: int) -> None:
    """Print each method's false-positive and miscoverage rates with no behavioural cost.

    Without a cost (``prior_odds_factor`` 1) an inactivation session still sits between its
    controls in the subject's learning history: trial-2 accuracy rises concavely with the
    problem number, so the planted difference with the mean of the neighbours is slightly
    positive, not 0. Both are printed: how often the interval excludes 0 (a positive
    finding) and how often it misses the planted truth (the interval's calibration).
    """
    from scipy.stats import binomtest

    size = behaviour_only_size(problems, macaques)
    size["design"]["inactivation"]["prior_odds_factor"] = 1.0  # inactivation costs nothing
    started = time.perf_counter()
    rows = [behaviour_effect(size, seed).assign(seed=seed) for seed in range(n_seeds)]
    table = pd.concat(rows, ignore_index=True)
    print(
        f"{n_seeds} null designs ({macaques} macaques, {problems} problems per session) "
        f"in {time.perf_counter() - started:.0f} s"
    )

    def rate(hits: pd.Series) -> str:
        k, n = int(hits.sum()), len(hits)
        low, high = binomtest(k, n).proportion_ci(method="exact")
        return f"{k}/{n} = {100 * k / n:.2f} % [{100 * low:.2f}, {100 * high:.2f}]"

    for (effect, method), group in table.groupby(["effect", "method"]):
        excludes_0 = (group["ci_high"] < 0) | (group["ci_low"] > 0)
        misses = (group["truth"] < group["ci_low"]) | (group["truth"] > group["ci_high"])
        print(
            f"{effect:28s} {method:22s} truth {group['truth'].mean():+.4f}; excludes 0: "
            f"{rate(excludes_0)}; misses the truth: {rate(misses)}"
        )


def paper() -> None:
    """Print the paper preset's behavioural effect, with and without behaviour-only sessions."""
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    for recorded_only in (False, True):
        effects = behaviour_effect(
            config["sizes"]["paper"], int(config["seed"]), recorded_only=recorded_only
        )
        print("recorded sessions only" if recorded_only else "every inactivation session")
        with pd.option_context("display.width", 200, "display.max_columns", None):
            print(effects.drop(columns=["species", "region", "truth_in_ci"]).round(3))


if __name__ == "__main__" and sys.argv[1] == "paper":
    paper()
elif __name__ == "__main__" and sys.argv[1] == "null":
    null_calibration(
        int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]) if len(sys.argv) > 4 else 3
    )
elif __name__ == "__main__":
    main(
        int(sys.argv[1]),
        [int(n) for n in sys.argv[2].split(",")],
        int(sys.argv[3]) if len(sys.argv) > 3 else 3,
    )
