"""Coverage of the decoding estimate's 95 % interval under the model (issue 5).

Not a test: run by hand on a finished run of the simulated study (a few minutes for the default
preset)::

    .venv/bin/python bench/bench_ci_coverage.py RUN_DIR [--replicates 200] \
        [--out bench/results/ci_coverage.json]

``RUN_DIR`` holds ``config/config.yaml``, ``resources/raw`` (the trial tables),
``resources/groundtruth`` (the planted tuning of each probe's units) and
``results/decoding`` (which sessions were decoded). For each decoded session, the
oracle's replicate sessions (:mod:`panneuro.decoding.oracle`: spike trains drawn from the planted
rates of the ground-truth units, ``rng_for(seed, "decoding_oracle", subject, session, region,
r)``) are decoded as the pipeline decodes them (:func:`decode_time_resolved`, the session's own
folds, the configured number of permutations), the truth of each region × variable × bin is the
replicates' mean, and each interval method's coverage is the fraction of replicates whose
interval contains the truth, averaged over the bins of each band of truth (< 0.6, 0.6–0.8,
> 0.8). Methods: ``wald`` (``score ± z sd(score)``, the former interval), ``wilson`` and
``clopper_pearson`` (``statsmodels.stats.proportion.proportion_confint`` over the effective
count ``4 / (1/n_0 + 1/n_1)``), and ``score_null_decayK``, the score interval of
:func:`panneuro.stats.permutation.balanced_accuracy_ci` with the permutation null's variance
and ``decay = K`` (K = 4 is the pipeline's).

Prints the coverage table and writes ``bench/results/ci_coverage.json`` (git-ignored).
"""

from __future__ import annotations

import argparse
import datetime as dt
import glob
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from panneuro.decoding.oracle import RATE_DT, _session_duration, planted_spike_times
from panneuro.decoding.spike_counts import align_times, binned_spike_counts
from panneuro.decoding.time_resolved import decode_time_resolved
from panneuro.io.tables import read_events, write_json
from panneuro.seeding import rng_for
from panneuro.simulate.ephys import read_probe_ground_truth, tuned_rates
from panneuro.simulate.task import task_variables
from panneuro.stats.permutation import balanced_accuracy_ci

BANDS = (0.0, 0.6, 0.8, 1.0)
DECAYS = (1, 2, 4, 8)


def session_replicates(
    run: Path, subject: str, session: str, config: dict, n_replicates: int
) -> list[dict]:
    """Replicate scores and null variances of every region × variable of one session."""
    settings, seed = config["decoding"], int(config["seed"])
    events = read_events(
        glob.glob(
            str(
                run
                / "resources"
                / "raw"
                / f"sub-{subject}"
                / f"ses-{session}"
                / "beh"
                / "*_events.tsv"
            )
        )[0]
    )
    units, fs = [], None
    for path in sorted(
        glob.glob(
            str(
                run
                / "resources"
                / "groundtruth"
                / f"sub-{subject}"
                / f"ses-{session}"
                / "*_units.tsv"
            )
        )
    ):
        sorting, table = read_probe_ground_truth(path[: -len("_units.tsv")])
        fs = sorting.get_sampling_frequency()
        units.append(table)
    units = pd.concat(units, ignore_index=True)
    align = {v: settings.get("align", {}).get(v, "onset") for v in settings["variables"]}
    variables = task_variables(events)
    groups = events["problem"].to_numpy()
    rates = tuned_rates(events, units, duration=_session_duration(events), dt=RATE_DT)
    anchors = {event: align_times(events, event) for event in set(align.values())}
    out = []
    for region in sorted(set(units["region"].astype(str))):
        members = np.flatnonzero(units["region"].astype(str) == region)
        found = {v: {"score": [], "null_var": []} for v in align}
        for r in range(n_replicates):
            trains = planted_spike_times(
                rates[members],
                rng_for(seed, "decoding_oracle", subject, session, region, r),
                sampling_frequency=fs,
            )
            for variable in align:
                counts, _ = binned_spike_counts(
                    trains,
                    anchors[align[variable]],
                    window=settings["window"],
                    bin_size=float(settings["bin_size"]),
                    step=float(settings["step"]),
                )
                y = variables[variable].to_numpy(float)
                keep = ~np.isnan(y)
                result = decode_time_resolved(
                    counts[keep],
                    y[keep].astype(int),
                    groups=groups[keep],
                    rng=rng_for(seed, "decoding", subject, session, region, variable),
                    n_folds=int(settings["n_folds"]),
                    n_permutations=int(settings["n_permutations"]),
                    shrinkage=settings.get("shrinkage", 0.1),
                    cross_temporal=False,
                )
                found[variable]["score"].append(result.time_resolved)
                found[variable]["null_var"].append(result.null_time_resolved.var(axis=0, ddof=1))
                found[variable]["n"] = result.class_counts
        out += [
            {
                "subject": subject,
                "region": region,
                "variable": v,
                "score": np.array(d["score"]),
                "null_var": np.array(d["null_var"]),
                "n": d["n"],
            }
            for v, d in found.items()
        ]
    return out


def intervals(
    score: np.ndarray, null_var: np.ndarray, n_0: int, n_1: int
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each method's interval of every replicate and bin."""
    n_eff = 4 / (1 / n_0 + 1 / n_1)
    half = stats.norm.ppf(0.975) * np.sqrt(score * (1 - score) / n_eff)
    out = {
        "wald": (score - half, score + half),
        "wilson": proportion_confint(score * n_eff, n_eff, method="wilson"),
        "clopper_pearson": proportion_confint(score * n_eff, n_eff, method="beta"),
    }
    for decay in DECAYS:
        out[f"score_null_decay{decay}"] = balanced_accuracy_ci(
            score, n_0, n_1, null_var=null_var, decay=decay
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--replicates", type=int, default=200)
    parser.add_argument("--out", type=Path, default=Path("bench/results/ci_coverage.json"))
    args = parser.parse_args()
    config = yaml.safe_load((args.run / "config" / "config.yaml").read_text())
    start = time.perf_counter()
    rows = []
    # the sessions the run decoded
    for path in sorted(
        glob.glob(str(args.run / "results" / "decoding" / "sub-*_ses-*_decoding.tsv"))
    ):
        subject, session = Path(path).name.split("_")[0][4:], Path(path).name.split("_")[1][4:]
        for item in session_replicates(args.run, subject, session, config, args.replicates):
            truth = item["score"].mean(axis=0)
            for method, (low, high) in intervals(
                item["score"], item["null_var"], *item["n"]
            ).items():
                covered = ((low <= truth) & (truth <= high)).mean(axis=0)
                rows += [
                    {
                        "subject": subject,
                        "region": item["region"],
                        "variable": item["variable"],
                        "bin": j,
                        "truth": truth[j],
                        "method": method,
                        "coverage": covered[j],
                        "width": float(np.mean(high[:, j] - low[:, j])),
                    }
                    for j in range(len(truth))
                ]
    table = pd.DataFrame(rows)
    table["band"] = pd.cut(table["truth"], BANDS, labels=["<0.6", "0.6-0.8", ">0.8"])
    coverage = table.pivot_table(
        index="method", columns="band", values="coverage", aggfunc="mean", observed=True
    )
    coverage["all"] = table.groupby("method")["coverage"].mean()
    bins = table[table["method"] == "wald"].groupby("band", observed=True).size()
    print(coverage.round(3).to_string())
    print(
        "bins per band:",
        bins.to_dict(),
        f"({args.replicates} replicates per session, {time.perf_counter() - start:.0f} s)",
    )
    write_json(
        {
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "machine": platform.platform(),
            "run": str(args.run),
            "replicates": args.replicates,
            "n_permutations": int(config["decoding"]["n_permutations"]),
            "bins_per_band": {str(k): int(v) for k, v in bins.items()},
            "coverage": {
                m: {str(k): float(v) for k, v in r.items()} for m, r in coverage.iterrows()
            },
            "mean_width": {
                m: {str(k): float(v) for k, v in r.items()}
                for m, r in table.pivot_table(
                    index="method", columns="band", values="width", aggfunc="mean", observed=True
                ).iterrows()
            },
        },
        args.out,
    )


if __name__ == "__main__":
    main()
