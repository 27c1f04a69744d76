"""Parameter recovery of the learning-to-learn agent (issue 5): true vs fitted, r per parameter.

Not a test: run by hand (about 1–2 minutes at the defaults)::

    .venv/bin/python bench/bench_recovery.py [--subjects 40] [--problems 344] \
        [--repeats 3] [--out bench/results/recovery.json]

Each repeat simulates ``--subjects`` subjects of ``--problems`` problems (Harlow's monkeys did
344) with true parameters tiling ``n_half`` ∈ [3, 150] problems and ``beta`` ∈ [0.4, 2] on a
log scale (independently permuted), fits each by maximum likelihood
(:func:`panneuro.behaviour.model.parameter_recovery`) and prints Pearson r between true and
fitted log parameters, the derived prior weight ``tau`` for reference, and the coverage of the
95 % intervals. The regular suite's ``tests/test_model.py`` runs a smaller design (12 × 300).
Results go to ``bench/results/recovery.json`` (git-ignored).
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import time
from pathlib import Path

import numpy as np

from panneuro.behaviour.model import PARAM_NAMES, parameter_recovery, recovery_correlations
from panneuro.io.tables import write_json

SEED = 1949


def main() -> None:
    """Run the recovery repeats and write the JSON summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=40)
    parser.add_argument("--problems", type=int, default=344)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default="bench/results/recovery.json")
    args = parser.parse_args()

    out: dict = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": platform.platform(),
        "subjects": args.subjects,
        "problems": args.problems,
        "repeats": [],
    }
    for rep in range(args.repeats):
        start = time.perf_counter()
        table = parameter_recovery(args.subjects, args.problems, SEED + rep)
        r = recovery_correlations(table)
        r_tau = float(
            np.corrcoef(
                np.log(2 * table["true_n_half"] / np.expm1(np.log(3) / table["true_beta"])),
                np.log(table["tau"]),
            )[0, 1]
        )
        coverage = {
            n: float(
                (
                    (table[f"{n}_ci_low"] <= table[f"true_{n}"])
                    & (table[f"true_{n}"] <= table[f"{n}_ci_high"])
                ).mean()
            )
            for n in PARAM_NAMES
        }
        elapsed = time.perf_counter() - start
        out["repeats"].append(
            {
                "seed": SEED + rep,
                "r": r,
                "r_tau_derived": r_tau,
                "ci95_coverage": coverage,
                "seconds": elapsed,
            }
        )
        print(
            f"repeat {rep}: r "
            + ", ".join(f"{n} {v:.3f}" for n, v in r.items())
            + f" (derived tau {r_tau:.3f}); 95% CI coverage "
            + ", ".join(f"{n} {v:.2f}" for n, v in coverage.items())
            + f"; {elapsed:.0f} s"
        )
    out["min_r"] = {n: min(rep["r"][n] for rep in out["repeats"]) for n in PARAM_NAMES}
    print("minimum r over repeats: " + ", ".join(f"{n} {v:.3f}" for n, v in out["min_r"].items()))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    write_json(out, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
