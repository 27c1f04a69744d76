"""The abstract (``stay``) code of an ECoG session: CCGP and CV accuracy on high gamma.

The units' stay code (:mod:`panneuro.decoding.cross_condition`) is read from spike counts in a
window before the response; here the same analysis, with the same settings
(``config["decoding"]``: ``cross_condition`` window, conditions and variable, ``align``,
folds, permutations, shrinkage) and the same seeds, is run on the electrodes' high gamma: per
trial and electrode the log of the mean high-gamma envelope
(:func:`panneuro.ecog.chunked_envelope.high_gamma_in_chunks`) in the window. The table has the
units' columns (:data:`~panneuro.decoding.cross_condition.CCGP_COLUMNS`; ``n_units`` counts
the electrodes), so the group stage reads an ECoG patient's session like a microwire patient's
(:func:`panneuro.stats.session_scores.session_stay_scores`). Written here rather than with MNE's
decoding tools because it must be the units' analysis exactly (its CCGP splits, permutations
within problems and folds), only on other features.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import mne
import numpy as np
import pandas as pd

from panneuro.decoding.cross_condition import (
    CCGP_COLUMNS,
    cross_condition_design,
    cross_condition_table,
)
from panneuro.decoding.spike_counts import align_times
from panneuro.seeding import rng_for


def window_means(
    envelope: mne.io.BaseRaw, anchors: np.ndarray, window: Sequence[float]
) -> np.ndarray:
    """Mean envelope of each electrode in a window around each anchor.

    Parameters
    ----------
    envelope : mne.io.BaseRaw
        High-gamma envelope (time 0 = the recording's first sample).
    anchors : numpy.ndarray
        One time per trial, seconds on the recording clock.
    window : sequence of float
        Start and stop, seconds from the anchor.

    Returns
    -------
    numpy.ndarray
        ``(trials, electrodes)``; NaN for a trial whose window leaves the recording.
    """
    sfreq = envelope.info["sfreq"]
    data = envelope.get_data()
    out = np.full((len(anchors), data.shape[0]), np.nan)
    for i, time in enumerate(np.asarray(anchors, dtype=float)):
        first = int(round((time + window[0]) * sfreq))
        stop = int(round((time + window[1]) * sfreq))
        if 0 <= first < stop <= data.shape[1]:
            out[i] = data[:, first:stop].mean(axis=1)
    return out


def stay_code_table(
    envelope: mne.io.BaseRaw,
    events: pd.DataFrame,
    settings: Mapping,
    *,
    region: str,
    seed: int,
    keys: Sequence[str | int],
    n_permutations: int | None = None,
) -> pd.DataFrame:
    """CCGP and CV accuracy of the abstract variable on an ECoG session's high gamma.

    Parameters
    ----------
    envelope : mne.io.BaseRaw
        The session's high-gamma envelope (good electrodes).
    events : pandas.DataFrame
        Its trial table.
    settings : mapping
        ``config["decoding"]`` (``cross_condition``, ``align``, ``n_folds``,
        ``n_permutations``, ``shrinkage``).
    region : str
        The grid's region (the sheet's).
    seed : int
        The project seed (``rng_for(seed, "ccgp", *keys, region)``, as for units).
    keys : sequence
        Session names for the seed.
    n_permutations : int, optional
        Instead of ``settings["n_permutations"]`` (the oracle's replicates need none).

    Returns
    -------
    pandas.DataFrame
        :data:`~panneuro.decoding.cross_condition.CCGP_COLUMNS` (``n_units``: electrodes).

    Raises
    ------
    ValueError
        If the configured variable or a condition split is unknown.
    """
    design = cross_condition_design(events, settings)
    means = window_means(envelope, align_times(events, design.event), design.window)
    with np.errstate(divide="ignore", invalid="ignore"):
        features = np.log(means)
    y = design.labels
    keep = ~np.isnan(y) & np.isfinite(features).all(axis=1)
    table = cross_condition_table(
        features[keep],
        y[keep].astype(int),
        {c: design.conditions[c][keep] for c in design.wanted},
        design.epochs[keep],
        events["problem"].to_numpy()[keep],
        rng=rng_for(seed, "ccgp", *keys, region),
        n_permutations=int(
            settings["n_permutations"] if n_permutations is None else n_permutations
        ),
        n_folds=int(settings["n_folds"]),
        shrinkage=settings.get("shrinkage", 0.1),
    )
    table["region"] = region
    table["n_units"] = features.shape[1]
    table["variable"] = design.variable
    table["align"] = design.event
    table["window_start"], table["window_stop"] = design.window
    return table[list(CCGP_COLUMNS)]
