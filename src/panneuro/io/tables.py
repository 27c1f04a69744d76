"""Read and write the tab-separated tables of results and BIDS events."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pandas as pd

from panneuro.io.atomic import atomic_path

#: Columns every trial table (a BIDS ``*_events.tsv`` of the Harlow task) carries.
EVENTS_COLUMNS: tuple[str, ...] = (
    "onset",
    "duration",
    "trial_type",
    "problem",
    "trial",
    "object_left",
    "object_right",
    "rewarded_object",
    "chosen_object",
    "choice",
    "correct",
    "response_time",
    "feedback_time",
)


def write_tsv(table: pd.DataFrame, target: str | os.PathLike) -> None:
    """Write a table as TSV atomically, with a fixed float format for byte-identical output.

    Parameters
    ----------
    table : pandas.DataFrame
        The table; its index is not written (put what matters in columns).
    target : path-like
        The ``.tsv`` file.
    """
    with atomic_path(target) as tmp:
        table.to_csv(
            tmp, sep="\t", index=False, na_rep="n/a", float_format="%.10g", lineterminator="\n"
        )


def read_tsv(path: str | os.PathLike) -> pd.DataFrame:
    """Read a TSV written by :func:`write_tsv` or a BIDS tool (``n/a`` is missing).

    Parameters
    ----------
    path : path-like
        The ``.tsv`` file.

    Returns
    -------
    pandas.DataFrame
        The table.
    """
    return pd.read_csv(path, sep="\t", na_values=["n/a"], keep_default_na=False)


def read_events(path: str | os.PathLike) -> pd.DataFrame:
    """Read a Harlow-task trial table (a BIDS ``*_events.tsv``) and check its columns.

    Parameters
    ----------
    path : path-like
        The events file: one row per trial, the columns of :data:`EVENTS_COLUMNS`.

    Returns
    -------
    pandas.DataFrame
        The trials, in file order.

    Raises
    ------
    ValueError
        If a column is missing or there is no trial, naming the file and the fix.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"{path}: events file not found; the sample sheet or BIDS dataset must provide a "
            "*_events.tsv for every session (see config/README.md)."
        )
    events = read_tsv(path)
    missing = [c for c in EVENTS_COLUMNS if c not in events.columns]
    if missing:
        raise ValueError(
            f"{path}: events table lacks column(s) {missing}; a Harlow-task events.tsv needs "
            f"{list(EVENTS_COLUMNS)} (see workflow/schemas/events.schema.yaml)."
        )
    if len(events) == 0:
        raise ValueError(
            f"{path}: events table has no trials; remove the session from the "
            "sample sheet or supply its trials."
        )
    return events


def write_json(data: Any, target: str | os.PathLike) -> None:
    """Write JSON atomically with sorted keys and a trailing newline (byte-stable).

    Parameters
    ----------
    data : object
        JSON-serialisable data.
    target : path-like
        The ``.json`` file.
    """
    with atomic_path(target) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
