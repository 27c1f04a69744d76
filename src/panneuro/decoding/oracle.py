"""Ground-truth ("oracle") value of each planted decoding effect of the simulated study.

The session's decoding estimate (:func:`panneuro.decoding.time_resolved.decode_session`) is a
cross-validated balanced accuracy: its expectation depends on the planted tuning *and* on the
design (trials, class counts, folds, bins, decoder), so the truth it is compared with must be
computed for the same design. :func:`oracle_decoding` defines it as

    truth(region, variable, bin) = E[ CV balanced accuracy of the same decoder on spike counts
                                      drawn from the planted rates ]

estimated by Monte Carlo: each replicate draws new spike trains of the region's **ground-truth
units** from the simulator's own planted rates (:func:`panneuro.simulate.ephys.tuned_rates`,
the session's real trial table, the simulator's inhomogeneous Poisson generator with its
refractory period, :func:`panneuro.simulate.ephys.poisson_spike_samples`), counts them in the
decoding bins around the real alignment events and decodes the real labels with
:func:`~panneuro.decoding.time_resolved.decode_time_resolved` on the session's own folds (the
same ``rng_for(seed, "decoding", subject, session, region, variable)`` stream, so the same fold
seed). The replicates' mean is the truth, their standard deviation the sampling s.d. of the
estimator under the model (``truth_sd``), and ``coverage`` is the fraction of replicates whose
95 % interval (:func:`panneuro.stats.permutation.balanced_accuracy_ci`, computed as the session
decoding computes it: each replicate with its own permutation null of
``settings["n_permutations"]`` label vectors) contains the truth: a direct check of that
interval under the model.

Cost (measured 2026-11-25, one thread, 200 replicates, 50 permutations each): default preset
62 s for M1 (50 ground-truth units in two regions, 240 trials) and 8 s for H2 (8 units); tiny
preset 12 s (M1, 24 units) and 5 s (H2, 6 units). Up to ~4× that when the rule shares the
machine's two cores with other jobs (246 s for the default M1 in a concurrent run). On
2026-12-06 the default M1's 200 replicates took 92 s in one process and 55 s in two
(``n_jobs``; the same table, byte for byte); the default preset now runs 100.

The truth is that of the ground-truth population; the session's estimate is made from the
sorted units. Where the two differ (a unit lost, merged or split by sorting) the estimate is
biased for this truth, and :func:`panneuro.decoding.planted.planted_effect_recovery` reports it
as such; the decoding of the ground-truth spike trains themselves (``estimate_gt_units``)
separates that loss from the interval's own calibration.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from panneuro.decoding.cross_condition import cross_condition_design, cross_condition_table
from panneuro.decoding.populations import population_counts
from panneuro.decoding.spike_counts import align_times, bin_starts, binned_spike_counts
from panneuro.decoding.time_resolved import decode_time_resolved
from panneuro.seeding import rng_for
from panneuro.simulate.ephys import REFRACTORY_MS, poisson_spike_samples, tuned_rates
from panneuro.simulate.task import task_variables
from panneuro.stats.permutation import balanced_accuracy_ci

#: Columns of :func:`oracle_decoding`'s table (one row per region × variable × bin).
ORACLE_COLUMNS: tuple[str, ...] = (
    "region",
    "variable",
    "align",
    "time",
    "n_units",
    "n_replicates",
    "truth",
    "truth_sd",
    "coverage",
    "estimate_gt_units",
)
#: Rate resolution of the planted rates (s): the simulator's own (``simulate_probe``).
RATE_DT = 0.001


def planted_spike_times(
    rates: np.ndarray,
    rng: np.random.Generator,
    *,
    sampling_frequency: float,
    dt: float = RATE_DT,
) -> list[np.ndarray]:
    """Draw one set of spike trains from planted rates, as the simulator draws them.

    Parameters
    ----------
    rates : numpy.ndarray
        Hz, shape (units, bins of ``dt``) (:func:`panneuro.simulate.ephys.tuned_rates`).
    rng : numpy.random.Generator
        The draws.
    sampling_frequency : float
        Hz: spike times are sample indices over this rate, as in the recordings.
    dt : float
        Bin width of ``rates``, s.

    Returns
    -------
    list of numpy.ndarray
        Spike times (s) of each unit.
    """
    n_samples = int(round(rates.shape[1] * dt * sampling_frequency))
    trains = poisson_spike_samples(
        rates,
        dt=dt,
        sampling_frequency=sampling_frequency,
        refractory_ms=REFRACTORY_MS,
        margin_samples=0,
        n_samples=n_samples,
        rng=rng,
    )
    return [t / sampling_frequency for t in trains]


@dataclass(frozen=True)
class _DecodingDesign:
    """What a replicate's decoding needs of the session: a picklable job for the workers."""

    anchors: dict[str, np.ndarray]
    align: dict[str, str]
    count_args: dict[str, Any]
    groups: np.ndarray
    seed: int
    keys: tuple
    settings: dict[str, Any]
    labels: dict[str, np.ndarray]
    sampling_frequency: float

    def decode(
        self, trains: Sequence[np.ndarray], region: str, variable: str
    ) -> tuple[np.ndarray, np.ndarray]:
        """Time-resolved scores and their null's variance (NaN without a null)."""
        counts, _ = binned_spike_counts(
            trains, self.anchors[self.align[variable]], **self.count_args
        )
        y = self.labels[variable]
        keep = ~np.isnan(y)
        result = decode_time_resolved(
            counts[keep],
            y[keep].astype(int),
            groups=self.groups[keep],
            rng=rng_for(self.seed, "decoding", *self.keys, region, variable),
            n_folds=int(self.settings["n_folds"]),
            n_permutations=int(self.settings.get("n_permutations", 0)),
            shrinkage=self.settings.get("shrinkage", 0.1),
            cross_temporal=False,
        )
        null = result.null_time_resolved
        null_var = null.var(axis=0, ddof=1) if len(null) >= 2 else np.full(null.shape[1], np.nan)
        return result.time_resolved, null_var


def _replicate_scores(
    design: _DecodingDesign, rates: np.ndarray, region: str, replicates: np.ndarray
) -> list[dict[str, tuple[np.ndarray, np.ndarray]]]:
    """Draw and decode some replicates of one region (one worker's share), in order."""
    out = []
    for replicate in replicates:
        trains = planted_spike_times(
            rates,
            rng_for(design.seed, "decoding_oracle", *design.keys, region, int(replicate)),
            sampling_frequency=design.sampling_frequency,
        )
        out.append({variable: design.decode(trains, region, variable) for variable in design.align})
    return out


def _run_tasks(tasks: list[tuple], n_jobs: int) -> list:
    """Run :func:`_replicate_scores` on each task, in worker processes when ``n_jobs > 1``.

    joblib's loky workers start fresh interpreters (no fork of a threaded parent, no
    ``__main__`` guard) and memory-map the large rate arrays instead of copying them.
    """
    if n_jobs <= 1 or len(tasks) <= 1:
        return [_replicate_scores(*task) for task in tasks]
    from joblib import Parallel, delayed

    return Parallel(n_jobs=n_jobs, backend="loky")(
        delayed(_replicate_scores)(*task) for task in tasks
    )


def _session_duration(events: pd.DataFrame) -> float:
    """Return the recording length the simulator gives a session (``_simulate_probe``), s."""
    return float(events["onset"].iloc[-1] + events["duration"].iloc[-1] + 1.0)


def _planted_rates(
    events: pd.DataFrame,
    truth_units: pd.DataFrame,
    codings: Mapping[str, pd.DataFrame | None] | None,
) -> np.ndarray:
    """Planted rates of all units, each probe's with its coding (one call without codings)."""
    duration = _session_duration(events)
    if not codings or all(c is None for c in codings.values()):
        return tuned_rates(events, truth_units, duration=duration, dt=RATE_DT)
    if "probe" not in truth_units:
        raise ValueError("ground-truth units lack a 'probe' column to match the probes' codings.")
    probes = truth_units["probe"].astype(str).to_numpy()
    missing = sorted(set(probes) - set(codings))
    if missing:
        raise ValueError(
            f"no coding given for probe(s) {missing}; pass each probe's "
            "<prefix>_coding.tsv (read_probe_coding)."
        )
    rates = np.zeros((len(truth_units), int(np.ceil(duration / RATE_DT))))
    for probe in pd.unique(probes):
        members = np.flatnonzero(probes == probe)
        rates[members] = tuned_rates(
            events, truth_units.iloc[members], duration=duration, dt=RATE_DT, coding=codings[probe]
        )
    return rates


def oracle_decoding(
    events: pd.DataFrame,
    truth_units: pd.DataFrame,
    settings: Mapping,
    *,
    seed: int,
    keys: Sequence[str | int],
    n_replicates: int,
    sampling_frequency: float,
    ground_truth_trains: Sequence[np.ndarray] | None = None,
    codings: Mapping[str, pd.DataFrame | None] | None = None,
    n_jobs: int = 1,
) -> pd.DataFrame:
    """Monte Carlo truth of the time-resolved decoding of every region × variable × bin.

    Parameters
    ----------
    events : pandas.DataFrame
        The session's trial table (the one the simulator used).
    truth_units : pandas.DataFrame
        The planted tuning of all the session's ground-truth units (``region``, ``variable``,
        ``gain``, ``base_rate``), all probes stacked.
    settings : mapping
        ``config["decoding"]`` (``variables``, ``align``, ``window``, ``bin_size``, ``step``,
        ``n_folds``, ``n_permutations``, ``shrinkage``).
    seed : int
        The project seed. Replicate ``r`` of a region draws from ``rng_for(seed,
        "decoding_oracle", *keys, region, r)`` (a region's truth does not depend on the
        other probes or their order); the folds come from the session decoding's own stream.
    keys : sequence
        Subject and session labels.
    n_replicates : int
        Monte Carlo replicates (≥ 2).
    sampling_frequency : float
        Hz of the recordings (spike times are whole samples).
    ground_truth_trains : sequence of numpy.ndarray, optional
        The simulation's actual spike times (s) of ``truth_units``, same order; decoded once
        into ``estimate_gt_units`` (NaN when not given).
    codings : mapping, optional
        The study design's per-trial coding of each probe (probe label ->
        :func:`panneuro.simulate.ephys.read_probe_coding`, None for presets without a
        design), matched to the units by a ``probe`` column of ``truth_units``: in an
        inactivation session the silenced region's planted rates and codes are those the
        simulation used. Without it every unit follows the fixed learning curve.
    n_jobs : int
        Worker processes (joblib's loky: no ``__main__`` guard needed in the caller) sharing
        the replicates; each replicate's draws and folds come from its own named stream, so the
        table is the same, byte for byte, whatever ``n_jobs``.

    Returns
    -------
    pandas.DataFrame
        :data:`ORACLE_COLUMNS`: ``truth`` (mean over replicates), ``truth_sd`` (their s.d.:
        the estimator's sampling s.d. under the model), ``coverage`` (fraction of replicates
        whose 95 % interval, with its own permutation null, contains ``truth``),
        ``estimate_gt_units``.
    """
    if n_replicates < 2:
        raise ValueError(
            f"n_replicates is {n_replicates}; the oracle needs at least 2 Monte "
            "Carlo replicates (config['decoding']['oracle']['n_replicates'])."
        )
    need = [c for c in ("region", "variable", "gain", "base_rate") if c not in truth_units]
    if need:
        raise ValueError(
            f"ground-truth units lack column(s) {need}; pass the probes' "
            "*_units.tsv written by the simulation."
        )
    if ground_truth_trains is not None and len(ground_truth_trains) != len(truth_units):
        raise ValueError(
            f"{len(ground_truth_trains)} ground-truth spike trains for "
            f"{len(truth_units)} units; pass them in the units' order."
        )
    truth_units = truth_units.reset_index(drop=True)
    align = {v: settings.get("align", {}).get(v, "onset") for v in settings["variables"]}
    variables = task_variables(events)
    regions = {
        r: np.flatnonzero(truth_units["region"].astype(str) == r)
        for r in sorted(set(truth_units["region"].astype(str)))
    }
    rates = _planted_rates(events, truth_units, codings)
    count_args = {
        "window": settings["window"],
        "bin_size": float(settings["bin_size"]),
        "step": float(settings["step"]),
    }
    anchors = {event: align_times(events, event) for event in set(align.values())}
    groups = events["problem"].to_numpy()

    design = _DecodingDesign(
        anchors=anchors,
        align=align,
        count_args=count_args,
        groups=groups,
        seed=seed,
        keys=tuple(keys),
        settings=dict(settings),
        labels={v: variables[v].to_numpy(float) for v in align},
        sampling_frequency=sampling_frequency,
    )
    tasks = [
        (region, block)
        for region in regions
        for block in np.array_split(np.arange(n_replicates), max(1, min(n_jobs, n_replicates)))
    ]
    results = _run_tasks(
        [(design, rates[regions[region]], region, block) for region, block in tasks], n_jobs
    )
    pairs = [(r, v) for r in regions for v in align]
    scores = {pair: [] for pair in pairs}
    null_vars = {pair: [] for pair in pairs}
    for (region, _), block_results in zip(tasks, results, strict=True):
        for replicate in block_results:
            for variable, (score, null_var) in replicate.items():
                scores[(region, variable)].append(score)
                null_vars[(region, variable)].append(null_var)
    centers = np.round(
        bin_starts(settings["window"], count_args["bin_size"], count_args["step"])
        + count_args["bin_size"] / 2,
        9,
    )
    parts = []
    for region, variable in pairs:
        replicates = np.array(scores[(region, variable)])  # (replicates, bins)
        truth = replicates.mean(axis=0)
        y = variables[variable].dropna().astype(int)
        n_0, n_1 = int((y == 0).sum()), int((y == 1).sum())
        low, high = balanced_accuracy_ci(
            replicates, n_0, n_1, null_var=np.array(null_vars[(region, variable)])
        )
        gt_estimate = (
            design.decode([ground_truth_trains[i] for i in regions[region]], region, variable)[0]
            if ground_truth_trains is not None
            else np.full(len(centers), np.nan)
        )
        parts.append(
            pd.DataFrame(
                {
                    "region": region,
                    "variable": variable,
                    "align": align[variable],
                    "time": centers,
                    "n_units": len(regions[region]),
                    "n_replicates": n_replicates,
                    "truth": truth,
                    "truth_sd": replicates.std(axis=0, ddof=1),
                    "coverage": ((low <= truth) & (truth <= high)).mean(axis=0),
                    "estimate_gt_units": gt_estimate,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)[list(ORACLE_COLUMNS)]


#: Columns of :func:`oracle_cross_condition`'s table (one row per region × epoch × analysis).
CCGP_ORACLE_COLUMNS: tuple[str, ...] = (
    "region",
    "n_units",
    "variable",
    "epoch",
    "condition",
    "analysis",
    "n_replicates",
    "truth",
    "truth_sd",
    "planted_rate",
)


def oracle_cross_condition(
    events: pd.DataFrame,
    probes: Sequence[tuple[pd.DataFrame, pd.DataFrame | None]],
    settings: Mapping,
    *,
    seed: int,
    keys: Sequence[str | int],
    n_replicates: int,
    sampling_frequency: float,
) -> pd.DataFrame:
    """Monte Carlo truth of a session's cross-condition table (the stay CCGP and CV accuracy).

    The same idea as :func:`oracle_decoding` for
    :func:`panneuro.decoding.cross_condition.session_cross_condition`: each replicate draws
    spike trains of the region's ground-truth units from the planted rates (with the study
    design's per-trial coding of each probe: the stay gain following the learning-set prior
    the session expresses, the inactivated region silenced and its coding removed), counts
    them in the CCGP window and computes the CCGP of every condition split and the
    within-epoch CV accuracy per epoch, without a permutation null. The mean over replicates
    is the truth, in the estimate's units. The CV folds are drawn from the same named stream
    as the session's but after no permutations, so they differ from the session's folds; the
    truth is the expectation over folds as well (folds move the expectation of a CV accuracy
    by far less than its sampling s.d.). Cost: with 16 units per region, 120 trials and 100
    replicates, a few seconds per region.

    Parameters
    ----------
    events : pandas.DataFrame
        The session's trial table.
    probes : sequence of (units, coding)
        Per probe: its ground-truth units (``region``, ``variable``, ``gain``, ``base_rate``)
        and its per-trial coding (:func:`panneuro.simulate.ephys.read_probe_coding`; None for
        presets without a design).
    settings : mapping
        ``config["decoding"]`` (``cross_condition``, ``align``, ``n_folds``, ``shrinkage``).
    seed : int
        The project seed; replicate ``r`` of a region draws from ``rng_for(seed,
        "ccgp_oracle", *keys, region, r)``.
    keys : sequence
        Subject and session labels.
    n_replicates : int
        Monte Carlo replicates (≥ 2).
    sampling_frequency : float
        Hz of the recordings.

    Returns
    -------
    pandas.DataFrame
        :data:`CCGP_ORACLE_COLUMNS`; ``planted_rate`` is the mean planted firing rate of the
        region's ground-truth units over the recording (Hz; the truth of the mean rate).
    """
    if n_replicates < 2:
        raise ValueError(
            f"n_replicates is {n_replicates}; the oracle needs at least 2 Monte Carlo replicates."
        )
    design = cross_condition_design(events, settings)
    variable, window, event = design.variable, design.window, design.event
    conditions, epochs, wanted = design.conditions, design.epochs, design.wanted
    y = design.labels
    keep = ~np.isnan(y)
    groups = events["problem"].to_numpy()
    duration = _session_duration(events)
    units = []
    rates = []
    for probe_units, coding in probes:
        need = [c for c in ("region", "variable", "gain", "base_rate") if c not in probe_units]
        if need:
            raise ValueError(
                f"ground-truth units lack column(s) {need}; pass the probes' "
                "*_units.tsv written by the simulation."
            )
        units.append(probe_units.reset_index(drop=True))
        rates.append(tuned_rates(events, probe_units, duration=duration, dt=RATE_DT, coding=coding))
    all_units = pd.concat(units, ignore_index=True)
    all_rates = np.concatenate(rates, axis=0)
    width = window[1] - window[0]
    parts = []
    for region in sorted(set(all_units["region"].astype(str))):
        members = np.flatnonzero(all_units["region"].astype(str) == region)
        region_units = all_units.iloc[members].reset_index(drop=True)
        tables = []
        for replicate in range(n_replicates):
            trains = planted_spike_times(
                all_rates[members],
                rng_for(seed, "ccgp_oracle", *keys, region, replicate),
                sampling_frequency=sampling_frequency,
            )
            for pop in population_counts(
                region_units,
                trains,
                events,
                {variable: event},
                window=window,
                bin_size=width,
                step=width,
            ):
                tables.append(
                    cross_condition_table(
                        pop.counts[keep, :, 0],
                        y[keep].astype(int),
                        {c: conditions[c][keep] for c in wanted},
                        epochs[keep],
                        groups[keep],
                        rng=rng_for(seed, "ccgp", *keys, region),
                        n_permutations=0,
                        n_folds=int(settings["n_folds"]),
                        shrinkage=settings.get("shrinkage", 0.1),
                    )
                )
        stacked = pd.concat(tables, ignore_index=True)
        summary = (
            stacked.groupby(["epoch", "condition", "analysis"], sort=False)["score"]
            .agg(truth="mean", truth_sd="std")
            .reset_index()
        )
        summary.insert(0, "region", region)
        summary.insert(1, "n_units", len(members))
        summary.insert(2, "variable", variable)
        summary["n_replicates"] = n_replicates
        summary["planted_rate"] = float(all_rates[members].mean())
        parts.append(summary)
    return pd.concat(parts, ignore_index=True)[list(CCGP_ORACLE_COLUMNS)]
