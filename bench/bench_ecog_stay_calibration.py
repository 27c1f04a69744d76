"""Calibration of the ECoG stay code's learning effect (late minus early) on null simulations.

Not a test: run by hand (niced, it shares the machine)::

    nice -n 10 .venv/bin/python bench/bench_ecog_stay_calibration.py [--nulls 200] \
        [--jobs 2] [--problems 10] [--out bench/results/ecog_stay_calibration.json]

Each null is one simulated ECoG session of ``--problems`` problems (the tiny design's 10 by
default; the paper's 40) played by the human agent, recorded by the simulator
(:func:`panneuro.simulate.ecog.simulate_ecog`, 32 electrodes, the config's feedback response)
and analysed as the workflow does: high gamma
(:func:`panneuro.ecog.chunked_envelope.high_gamma_in_chunks`, the config's settings), the stay
code (:func:`panneuro.ecog.stay_code.stay_code_table`, the config's permutations), the
session's scores (:func:`panneuro.stats.session_scores.session_stay_scores`) and the group
effect late minus early exactly as :func:`panneuro.stats.design_effects.stage_effects` makes it
for patients with one session (:func:`panneuro.stats.design_effects.effect_rows`,
``DifferenceEffect``, each score redrawn from its own s.e.). Two nulls:

* ``absent``: no stay code at all (chance in both halves);
* ``constant``: the stay code planted at the config's gain with a *constant* stay factor (the
  mean of the learning-set prior over the session), so both halves code stay equally.

A positive is an interval excluding 0 (bootstrap), or p < 0.05 (its p value); for one patient
(the tiny design) and for two (the paper's H1 and H3: consecutive nulls paired). Rates with
exact (Clopper-Pearson) 95 % intervals; the target is 5 +- 1.5 %.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from calibration import false_positive_rate

from panneuro.behaviour.model import LearningSetParams, learning_set_prior, simulate_agent
from panneuro.ecog.chunked_envelope import high_gamma_in_chunks
from panneuro.ecog.stay_code import stay_code_table
from panneuro.io.tables import write_json
from panneuro.seeding import derived_seed, rng_for
from panneuro.simulate.ecog import StayCode, simulate_ecog
from panneuro.simulate.task import TRIALS_PER_PROBLEM, build_events, task_variables
from panneuro.stats.design_effects import effect_rows
from panneuro.stats.hierarchical import DifferenceEffect
from panneuro.stats.session_scores import SCORE_COLUMNS, session_stay_scores

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "config/config.yaml").read_text())
SEED = 2718
NULLS = ("absent", "constant")


def null_session(index: int, null: str, n_problems: int) -> pd.DataFrame:
    """Return the early and late scores of one null ECoG session, as the workflow makes them."""
    sim_config = CONFIG["simulation"]
    agent = LearningSetParams(**sim_config["agent"]["human"])
    problems = np.arange(1, n_problems + 1)
    rng = rng_for(SEED, "behaviour", null, index)
    behaviour = simulate_agent(agent, problems, rng, trials_per_problem=TRIALS_PER_PROBLEM)
    events = build_events(
        behaviour["problem"].to_numpy(),
        behaviour["trial"].to_numpy(),
        behaviour["correct"].to_numpy(),
        rng_for(SEED, "task", null, index),
        trial_duration=1.5,
    )
    code = None
    if null == "constant":
        prior = learning_set_prior(agent, events["problem"].to_numpy(int))
        code = StayCode(
            stay=task_variables(events)["stay"].to_numpy(float),
            stay_factor=np.full(len(events), prior.mean()),
            gain=float(sim_config["ecog_stay_gain"]),
            n_electrodes=int(sim_config["ecog_stay_electrodes"]),
        )
    sim = simulate_ecog(
        events,
        n_electrodes=32,
        sfreq=float(sim_config["sampling_frequency_ecog"]),
        n_planted=int(sim_config["ecog_planted_electrodes"]),
        gain=float(sim_config["ecog_high_gamma_gain"]),
        line_frequency=float(sim_config["line_frequency"]),
        seed=derived_seed(SEED, "ecog", null, index),
        stay_code=code,
    )
    ecog = CONFIG["ecog"]
    envelope, _ = high_gamma_in_chunks(
        sim.raw,
        line_frequency=float(ecog["line_frequency"]),
        reference=ecog["reference"],
        detect_bads=bool(ecog["bad_channel_detection"]),
        band=tuple(ecog["high_gamma_band"]),
        n_subbands=int(ecog["n_subbands"]),
        sfreq_out=float(ecog["envelope_sfreq"]),
    )
    key = (f"S{index}", "01")
    table = stay_code_table(
        envelope, events, CONFIG["decoding"], region="temporal", seed=SEED, keys=key
    )
    scores = session_stay_scores({key: table})
    return scores[scores["epoch"].isin(["early", "late"])].assign(
        late=lambda t: (t["epoch"] == "late").astype(int)
    )


def positives(sessions: list[pd.DataFrame], index: int) -> dict[str, bool]:
    """Whether the late - early effect is called, per score and method."""
    out = {}
    for value in SCORE_COLUMNS:
        rows = effect_rows(
            pd.concat(sessions, ignore_index=True),
            DifferenceEffect(value, "late", 1),
            name=value,
            species="human",
            region="temporal",
            rng=rng_for(SEED, "bootstrap", value, index),
            session=None,
            levels=1,
            n_resamples=2000,
        )
        for row in rows:
            low, high, p = row["ci_low"], row["ci_high"], row["p_value"]
            called = not (low <= 0 <= high) if np.isfinite(low) else bool(p < 0.05)
            out[f"{value}/{row['method']}"] = called
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nulls", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--problems", type=int, default=10)
    parser.add_argument("--null", choices=NULLS, action="append", help="default: both")
    parser.add_argument("--out", default="bench/results/ecog_stay_calibration.json")
    args = parser.parse_args()
    from joblib import Parallel, delayed

    results: dict[str, dict] = {}
    for null in args.null or NULLS:
        start = time.perf_counter()
        sessions = Parallel(n_jobs=args.jobs, backend="loky")(
            delayed(null_session)(i, null, args.problems) for i in range(args.nulls)
        )
        single = [positives([s], i) for i, s in enumerate(sessions)]
        pairs = [
            positives([sessions[i], sessions[i + 1].assign(subject=f"S{i}b")], i)
            for i in range(0, args.nulls - 1, 2)
        ]
        for label, calls in (("1 patient", single), ("2 patients", pairs)):
            # a session whose epoch has no score (too few trials of a class) gives no row: not
            # called, and counted
            tests = sorted({t for c in calls for t in c})
            for test in tests:
                results[f"{null}/{label}/{test}"] = false_positive_rate(
                    sum(c.get(test, False) for c in calls), len(calls)
                )
                results[f"{null}/{label}/{test}"]["no_estimate"] = sum(test not in c for c in calls)
        # each null's calls, by index (seeded by (null, index)): runs of different sizes compare
        results[f"{null}/calls"] = {"1 patient": single, "2 patients": pairs}
        results[f"{null}/seconds"] = {"seconds": round(time.perf_counter() - start, 1)}
        print(f"{null}: {args.nulls} nulls in {time.perf_counter() - start:.0f} s", flush=True)
    print(f"{'test':60s} {'FPR %':>7s}  95 % CI")
    for name, row in results.items():
        if "rate" in row:
            print(
                f"{name:60s} {100 * row['rate']:7.2f}  [{100 * row['ci_low']:.2f}, "
                f"{100 * row['ci_high']:.2f}]  ({row['positives']}/{row['n']})"
            )
    write_json(
        {
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "machine": platform.node(),
            "args": vars(args),
            "results": results,
        },
        Path(args.out),
    )


if __name__ == "__main__":
    main()
