"""Published learning-set curves (Harlow 1949; Wang et al. 2018) for comparison with the data.

The reference table (``resources/reference/learning_set_curves.csv``, see the README there for
citations) has one row per source and block with the percent correct on trials 1–6. Harlow's
(1949) monkeys first solved 32 preliminary problems of 50 trials (blocks of 8 problems), then
312 six-trial discrimination problems in blocks 1–100, 101–200, 201–256 and 257–312; over the
subjects' history the discrimination problems are problems 33–344. The Wang et al. (2018)
meta-RL agent's curves are by quantile of training and have no problem numbers.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

#: Source labels of the reference table.
HARLOW = "harlow1949_monkeys"
WANG = "wang2018_metaRL"
#: Number of Harlow's preliminary problems (50 trials each) before the 6-trial problems.
HARLOW_PRELIMINARY_PROBLEMS = 32
_TRIAL_COLUMNS = [f"trial{t}" for t in range(1, 7)]


def block_problem_range(source: str, block: str) -> tuple[float, float]:
    """Problem numbers (first, last; over the subject's history) of a reference block.

    Parameters
    ----------
    source : str
        The source label (``harlow1949_monkeys`` or ``wang2018_metaRL``).
    block : str
        The block label, e.g. ``prelim_1-8`` or ``disc_101-200``.

    Returns
    -------
    tuple of float
        ``(first, last)``, NaN for blocks without problem numbers (the meta-RL agent).

    Raises
    ------
    ValueError
        If a Harlow block label cannot be parsed.
    """
    if source != HARLOW:
        return (np.nan, np.nan)
    match = re.fullmatch(r"(prelim|disc)_(\d+)-(\d+)", block)
    if match is None:
        raise ValueError(
            f"reference block '{block}' of {source}: expected 'prelim_A-B' or 'disc_A-B' "
            "(problem ranges); fix the label in resources/reference/learning_set_curves.csv."
        )
    phase, first, last = match.group(1), int(match.group(2)), int(match.group(3))
    offset = HARLOW_PRELIMINARY_PROBLEMS if phase == "disc" else 0
    return (float(first + offset), float(last + offset))


def reference_curves_long(wide: pd.DataFrame) -> pd.DataFrame:
    """Reshape the wide reference table into one row per source, block and trial.

    Parameters
    ----------
    wide : pandas.DataFrame
        Columns ``source``, ``block``, ``trial1`` … ``trial6`` (percent correct, NaN missing).

    Returns
    -------
    pandas.DataFrame
        Columns ``source``, ``block``, ``block_index`` (order within the source),
        ``problem_first``, ``problem_last`` (NaN for the meta-RL agent), ``trial``,
        ``percent_correct``.
    """
    missing = [c for c in ["source", "block", *_TRIAL_COLUMNS] if c not in wide.columns]
    if missing:
        raise ValueError(
            f"reference table lacks column(s) {missing}; expected source, block, "
            f"{', '.join(_TRIAL_COLUMNS)}."
        )
    records = []
    for source, rows in wide.groupby("source", sort=False):
        for index, row in enumerate(rows.itertuples(index=False), start=1):
            first, last = block_problem_range(str(source), str(row.block))
            for t in range(1, 7):
                records.append(
                    {
                        "source": str(source),
                        "block": str(row.block),
                        "block_index": index,
                        "problem_first": first,
                        "problem_last": last,
                        "trial": t,
                        "percent_correct": float(getattr(row, f"trial{t}")),
                    }
                )
    return pd.DataFrame.from_records(records)


def read_reference_curves(path: str | os.PathLike) -> pd.DataFrame:
    """Read the published learning-set curves as a long table with problem ranges.

    Parameters
    ----------
    path : path-like
        ``resources/reference/learning_set_curves.csv``.

    Returns
    -------
    pandas.DataFrame
        See :func:`reference_curves_long`.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"{path}: reference curves not found; it ships with the "
            "compendium under resources/reference/."
        )
    wide = pd.read_csv(path, na_values=["NA"])
    try:
        return reference_curves_long(wide)
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from err
