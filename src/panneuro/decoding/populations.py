"""A session's region populations and their spike counts, the shared loop of the session decoders.

:func:`~panneuro.decoding.time_resolved.decode_session`,
:func:`~panneuro.decoding.latent_regression.regress_session` and
:func:`~panneuro.decoding.cross_condition.session_cross_condition` all analyse each region's
population for each target (a task variable or a model latent) aligned to its own trial event:
:func:`population_counts` yields the spike counts of every region × target,
:meth:`Population.label` adds the region/target columns to the analysis' table and
:func:`stack_tables` assembles the session table.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

from panneuro.decoding.spike_counts import align_times, binned_spike_counts


def region_populations(units: pd.DataFrame, min_units: int = 1) -> dict[str, np.ndarray]:
    """Positions of each region's units (a session's pseudo-population per region).

    Parameters
    ----------
    units : pandas.DataFrame
        Units table with a ``region`` column, rows in the order of the spike-time list.
    min_units : int
        Regions with fewer units are left out.

    Returns
    -------
    dict
        Region → positions of its units, regions sorted by name.
    """
    if "region" not in units.columns:
        raise ValueError(
            "units table lacks a 'region' column; the NWB units table must carry "
            "each unit's region (see docs/architecture.md)."
        )
    region = units["region"].astype(str).to_numpy()
    return {
        r: np.flatnonzero(region == r)
        for r in sorted(set(region))
        if np.sum(region == r) >= min_units
    }


class Population(NamedTuple):
    """Spike counts of one region's population around one target's alignment event.

    Attributes
    ----------
    region : str
        Brain region.
    n_units : int
        Units of the population.
    target : str
        The variable or latent analysed.
    align : str
        Its alignment event (``onset``, ``response`` or ``feedback``).
    counts : numpy.ndarray
        Spike counts, shape (trials, units, bins).
    centers : numpy.ndarray
        Bin centres, seconds from the alignment event.
    """

    region: str
    n_units: int
    target: str
    align: str
    counts: np.ndarray
    centers: np.ndarray

    def label(self, table: pd.DataFrame, target_column: str = "variable") -> pd.DataFrame:
        """Add ``region``, ``n_units``, the target and ``align`` columns to a result table.

        Parameters
        ----------
        table : pandas.DataFrame
            The analysis' table for this population (modified in place).
        target_column : str
            Name of the target's column (``variable`` or ``latent``).

        Returns
        -------
        pandas.DataFrame
            ``table`` with the region/target columns first and ``align`` last.
        """
        table.insert(0, "region", self.region)
        table.insert(1, "n_units", self.n_units)
        table.insert(2, target_column, self.target)
        table["align"] = self.align
        return table


def population_counts(
    units: pd.DataFrame,
    spike_times: Sequence[np.ndarray],
    events: pd.DataFrame,
    align: Mapping[str, str],
    *,
    window: Sequence[float],
    bin_size: float,
    step: float,
    min_units: int = 1,
) -> Iterator[Population]:
    """Spike counts of each region's population around each target's alignment event.

    The inputs are checked at the call; the counts are made one population at a time, as the
    iterator is consumed.

    Parameters
    ----------
    units : pandas.DataFrame
        Units (``region`` column), in the order of ``spike_times``.
    spike_times : sequence of numpy.ndarray
        Spike times of each unit, seconds on the events' clock.
    events : pandas.DataFrame
        The trial table.
    align : mapping
        Target → alignment event, in the order the targets are analysed.
    window : (float, float)
        Window around each alignment time, seconds.
    bin_size, step : float
        Bin width and the step between bins, seconds.
    min_units : int
        Regions with fewer units are left out.

    Returns
    -------
    iterator of Population
        Regions sorted by name, then the targets in ``align`` order.
    """
    if len(units) != len(spike_times):
        raise ValueError(
            f"{len(units)} units but {len(spike_times)} spike trains; they must "
            "be in the same order (read_units returns both)."
        )
    populations = region_populations(units, min_units)
    return _iterate_counts(
        populations, spike_times, events, dict(align), window=window, bin_size=bin_size, step=step
    )


def _iterate_counts(
    populations: Mapping[str, np.ndarray],
    spike_times: Sequence[np.ndarray],
    events: pd.DataFrame,
    align: Mapping[str, str],
    *,
    window: Sequence[float],
    bin_size: float,
    step: float,
) -> Iterator[Population]:
    for region, members in populations.items():
        trains = [spike_times[i] for i in members]
        for target, event in align.items():
            counts, centers = binned_spike_counts(
                trains, align_times(events, event), window=window, bin_size=bin_size, step=step
            )
            yield Population(region, len(members), target, event, counts, centers)


def stack_tables(tables: Sequence[pd.DataFrame], columns: Sequence[str]) -> pd.DataFrame:
    """Stack the per-population tables of a session into one with the given columns.

    Parameters
    ----------
    tables : sequence of pandas.DataFrame
        Labelled tables (:meth:`Population.label`).
    columns : sequence of str
        The session table's columns, in order.

    Returns
    -------
    pandas.DataFrame
        The rows of all tables (an empty table with ``columns`` when there is none).
    """
    if not tables:
        return pd.DataFrame(columns=list(columns))
    return pd.concat(tables, ignore_index=True)[list(columns)]
