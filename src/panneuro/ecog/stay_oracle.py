"""Ground-truth ("oracle") value of an ECoG session's planted stay code.

As for the units (:func:`panneuro.decoding.oracle.oracle_cross_condition`), the truth of a
CCGP or CV score is its expectation under the planted model for the session's own design:

    truth(epoch, split) = E[ score of :func:`panneuro.ecog.stay_code.stay_code_table` on a
                             recording drawn from the planted model ]

estimated by Monte Carlo. Each replicate draws a new recording with the simulator itself
(:func:`panneuro.simulate.ecog.simulate_ecog`: the session's trial table, the same patches of
planted electrodes, the same gains and per-trial ``stay_factor``, from the truth file; new
noise from the replicate's own seed), computes its high gamma exactly as the
``high_gamma_epochs``/``ecog_stay_code`` rules do
(:func:`panneuro.ecog.chunked_envelope.high_gamma_in_chunks` with the rule's settings) and
scores it on the session's own folds (the same ``ccgp`` seed stream). The replicates' mean is
the truth, their s.d. the estimator's sampling s.d. under the model.

Cost (measured 2026-12-07, one process): ~2 s a replicate for the tiny design's 92-s session
(simulation 1.0 s, envelope 0.9 s), ~4.5 s for the paper's 6-min one; ``n_jobs`` processes
share the replicates (each replicate's draws come from its own stream, so the table is the
same whatever ``n_jobs``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from panneuro.decoding.oracle import CCGP_ORACLE_COLUMNS
from panneuro.ecog.chunked_envelope import high_gamma_in_chunks
from panneuro.ecog.stay_code import stay_code_table
from panneuro.seeding import derived_seed
from panneuro.simulate.ecog import StayCode, simulate_ecog
from panneuro.simulate.task import task_variables


def _indices(names: Sequence[str], n_electrodes: int) -> list[int]:
    """Grid indices of the simulator's electrode names (``G01`` is index 0)."""
    order = {f"G{i + 1:02d}": i for i in range(n_electrodes)}
    unknown = [n for n in names if n not in order]
    if unknown:
        raise ValueError(
            f"ECoG truth names electrodes {unknown} that a {n_electrodes}-electrode simulated "
            "grid does not have; rerun simulate_dataset."
        )
    return [order[n] for n in names]


def _replicates(
    events: pd.DataFrame,
    truth: Mapping[str, Any],
    params: Mapping[str, Any],
    replicates: Sequence[int],
) -> list[pd.DataFrame]:
    """Draw and score some replicates (one worker's share), in order."""
    n = int(truth["n_electrodes"])
    stay = truth["stay_code"]
    code = StayCode(
        stay=task_variables(events)["stay"].to_numpy(float),
        stay_factor=np.asarray(stay["stay_factor"], dtype=float),
        gain=float(stay["gain"]),
        n_electrodes=len(stay["electrodes"]),
    )
    tables = []
    for replicate in replicates:
        sim = simulate_ecog(
            events,
            n_electrodes=n,
            sfreq=float(params["sfreq"]),
            n_planted=len(truth["planted_electrodes"]),
            gain=float(truth["gain"]),
            line_frequency=float(truth["line_frequency"]),
            seed=derived_seed(params["seed"], "ecog_oracle", *params["keys"], int(replicate)),
            stay_code=code,
            planted=_indices(truth["planted_electrodes"], n),
            stay_planted=_indices(stay["electrodes"], n),
        )
        envelope, _ = high_gamma_in_chunks(sim.raw, **params["high_gamma"])
        tables.append(
            stay_code_table(
                envelope,
                events,
                params["settings"],
                region=params["region"],
                seed=params["seed"],
                keys=params["keys"],
                n_permutations=0,
            )
        )
    return tables


def oracle_stay_code(
    events: pd.DataFrame,
    truth: Mapping[str, Any],
    settings: Mapping,
    *,
    high_gamma: Mapping[str, Any],
    sfreq: float,
    region: str,
    seed: int,
    keys: Sequence[str | int],
    n_replicates: int,
    n_jobs: int = 1,
) -> pd.DataFrame:
    """Truth of an ECoG session's stay code (CCGP and CV accuracy) by Monte Carlo.

    Parameters
    ----------
    events : pandas.DataFrame
        The session's trial table.
    truth : mapping
        Its ``_ecog-truth.json`` (with a ``stay_code`` block: a design session).
    settings : mapping
        ``config["decoding"]`` (as :func:`~panneuro.ecog.stay_code.stay_code_table`).
    high_gamma : mapping
        Keyword arguments of :func:`~panneuro.ecog.chunked_envelope.high_gamma_in_chunks`
        (``line_frequency``, ``reference``, ``detect_bads``, ``band``, ``n_subbands``,
        ``sfreq_out``): the pipeline's.
    sfreq : float
        The simulated recording's sampling frequency, Hz.
    region : str
        The grid's region.
    seed : int
        The project seed.
    keys : sequence
        Session names (subject, session) for the seeds.
    n_replicates : int
        Monte Carlo replicates (at least 2).
    n_jobs : int
        Worker processes (joblib's loky) sharing the replicates.

    Returns
    -------
    pandas.DataFrame
        :data:`~panneuro.decoding.oracle.CCGP_ORACLE_COLUMNS` (``planted_rate`` NaN: no
        firing rates here).

    Raises
    ------
    ValueError
        Fewer than 2 replicates, or a truth file without a stay code.
    """
    if n_replicates < 2:
        raise ValueError(
            f"n_replicates is {n_replicates}; the oracle needs at least 2 Monte Carlo replicates."
        )
    if "stay_code" not in truth:
        raise ValueError(
            "the ECoG truth has no stay_code block: this session was simulated without a "
            "planted stay code (simulation.ecog_stay_electrodes/ecog_stay_gain, design "
            "sessions only); there is no truth to compute."
        )
    params = {
        "sfreq": sfreq,
        "seed": int(seed),
        "keys": tuple(keys),
        "high_gamma": dict(high_gamma),
        "settings": dict(settings),
        "region": region,
    }
    blocks = np.array_split(np.arange(n_replicates), max(1, min(n_jobs, n_replicates)))
    if n_jobs <= 1 or len(blocks) <= 1:
        results = [_replicates(events, truth, params, block) for block in blocks]
    else:
        from joblib import Parallel, delayed

        results = Parallel(n_jobs=n_jobs, backend="loky")(
            delayed(_replicates)(events, truth, params, block) for block in blocks
        )
    stacked = pd.concat([t for block in results for t in block], ignore_index=True)
    summary = (
        stacked.groupby(["epoch", "condition", "analysis"], sort=False)["score"]
        .agg(truth="mean", truth_sd="std")
        .reset_index()
    )
    summary.insert(0, "region", region)
    summary.insert(1, "n_units", int(stacked["n_units"].iloc[0]))
    summary.insert(2, "variable", str(stacked["variable"].iloc[0]))
    summary["n_replicates"] = n_replicates
    summary["planted_rate"] = np.nan
    return summary[list(CCGP_ORACLE_COLUMNS)]
