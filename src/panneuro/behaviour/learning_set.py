"""Learning-set curves: percent correct on trials 1–6 by block of problems, with bootstrap CIs.

Harlow's (1949) signature of learning to learn: within each block of problems, accuracy on
trial 1 is at chance and accuracy on trial 2 (after one informative outcome) rises over blocks
towards the asymptote.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.stats import bootstrap

from panneuro.io.tables import read_events
from panneuro.seeding import rng_for

#: Columns :func:`learning_set_curves` needs in the concatenated trial tables.
CURVE_INPUT_COLUMNS: tuple[str, ...] = ("subject", "species", "problem", "trial", "correct")
#: Columns of the output table.
CURVE_COLUMNS: tuple[str, ...] = (
    "species",
    "subject",
    "block",
    "problem_first",
    "problem_last",
    "trial",
    "percent_correct",
    "ci_low",
    "ci_high",
    "n_problems",
)
#: Subject label of the species-level aggregate rows.
ALL_SUBJECTS = "all"


def read_behaviour(
    paths: Sequence[str | os.PathLike], subjects: Sequence[str], species: Sequence[str]
) -> pd.DataFrame:
    """Read and concatenate trial tables, adding each one's subject and species.

    Parameters
    ----------
    paths : sequence of path-like
        The ``*_events.tsv`` files.
    subjects, species : sequence of str
        The sample sheet's subject and species of each file (same order).

    Returns
    -------
    pandas.DataFrame
        All trials, with ``subject``, ``species`` and ``source_file`` columns, in file order.
    """
    if not (len(paths) == len(subjects) == len(species)):
        raise ValueError(
            f"got {len(paths)} events files but {len(subjects)} subjects and "
            f"{len(species)} species; pass one of each per file."
        )
    if len(paths) == 0:
        raise ValueError("no events files: the sample sheet has no 'beh' rows.")
    tables = [
        read_events(path).assign(subject=str(sub), species=str(sp), source_file=str(path))
        for path, sub, sp in zip(paths, subjects, species, strict=True)
    ]
    return pd.concat(tables, ignore_index=True)


def _nanmean(x: np.ndarray, axis: int = -1) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        count = np.sum(~np.isnan(x), axis=axis)
        total = np.nansum(x, axis=axis)
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _block_rows(matrix: np.ndarray, n_bootstrap: int, rng: np.random.Generator) -> tuple:
    """Mean and percentile bootstrap CI (resampling problems) of a problems × trials matrix."""
    mean = _nanmean(matrix, axis=0)
    if matrix.shape[0] < 2 or n_bootstrap < 1:
        return mean, np.full_like(mean, np.nan), np.full_like(mean, np.nan)
    # Percentile intervals: BCa is undefined when a block is all correct (zero variance).
    res = bootstrap(
        (matrix,),
        _nanmean,
        n_resamples=n_bootstrap,
        axis=0,
        vectorized=True,
        method="percentile",
        confidence_level=0.95,
        rng=rng,
    )
    return mean, res.confidence_interval.low, res.confidence_interval.high


def learning_set_curves(
    events: pd.DataFrame, block_size: int, n_bootstrap: int, seed: int
) -> pd.DataFrame:
    """Percent correct per species, subject, block of problems and trial, with bootstrap CIs.

    Parameters
    ----------
    events : pandas.DataFrame
        All subjects' trial tables concatenated, with added columns ``subject`` and
        ``species`` (``problem`` counted over each subject's history).
    block_size : int
        Problems per block: block ``b`` holds problems ``(b-1)*block_size + 1`` to
        ``b*block_size``.
    n_bootstrap : int
        Bootstrap resamples of the problems of a block (0 = no CI).
    seed : int
        The project seed; each (species, subject) draws from its own generator
        (:func:`panneuro.seeding.rng_for`), so results do not depend on which subjects are
        present.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`CURVE_COLUMNS`: one row per species × subject (plus a species-level
        ``"all"`` row pooling the subjects' problems) × block × trial; ``percent_correct``
        and the 95 % percentile bootstrap interval in percent; ``n_problems`` = problems of
        the block with a trial of that number.
    """
    missing = [c for c in CURVE_INPUT_COLUMNS if c not in events.columns]
    if missing:
        raise ValueError(
            f"events lack column(s) {missing}; concatenate the trial tables and "
            "add 'subject' and 'species' columns."
        )
    if block_size < 1:
        raise ValueError(f"block_size must be >= 1, got {block_size}")
    if len(events) == 0:
        raise ValueError("no trials: the behaviour stage needs at least one events file.")
    per_species = events.groupby("subject")["species"].nunique()
    if (per_species > 1).any():
        raise ValueError(
            f"subject(s) {list(per_species[per_species > 1].index)} have several "
            "species in the sample sheet; fix config/samples.tsv."
        )
    data = events.assign(block=(events["problem"].astype(int) - 1) // block_size + 1)
    trials = np.sort(data["trial"].astype(int).unique())
    out = []
    for species, sp in data.groupby("species", sort=True):
        units = [(str(s), g) for s, g in sp.groupby("subject", sort=True)]
        units.append((ALL_SUBJECTS, sp))
        for subject, group in units:
            rng = rng_for(seed, "learning_set", species, subject)
            for block, bl in group.groupby("block", sort=True):
                matrix = (
                    bl.pivot_table(
                        index=["subject", "problem"],
                        columns="trial",
                        values="correct",
                        aggfunc="mean",
                    )
                    .reindex(columns=trials)
                    .to_numpy(float)
                )
                mean, low, high = _block_rows(matrix, n_bootstrap, rng)
                n_problems = np.sum(~np.isnan(matrix), axis=0)
                for i, t in enumerate(trials):
                    out.append(
                        {
                            "species": species,
                            "subject": subject,
                            "block": int(block),
                            "problem_first": int((block - 1) * block_size + 1),
                            "problem_last": int(block * block_size),
                            "trial": int(t),
                            "percent_correct": 100.0 * mean[i],
                            "ci_low": 100.0 * low[i],
                            "ci_high": 100.0 * high[i],
                            "n_problems": int(n_problems[i]),
                        }
                    )
    return pd.DataFrame.from_records(out, columns=list(CURVE_COLUMNS))
