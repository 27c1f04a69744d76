"""Spike counts of a population in time bins around trial events.

The counts are the design matrix of every decoder in :mod:`panneuro.decoding`: one value per
trial × unit × time bin. Counting is a pair of ``np.searchsorted`` calls per unit on the
unit's sorted spike times, vectorised over trials and bins (no library bins spikes around
many irregular events with sliding, overlapping windows in one call).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

#: Events a window can be aligned to, as offsets from the trial's ``onset``.
ALIGN_EVENTS: tuple[str, ...] = ("onset", "response", "feedback")


def bin_starts(window: Sequence[float], bin_size: float, step: float) -> np.ndarray:
    """Left edges of the sliding bins that fit in ``window``.

    Parameters
    ----------
    window : (float, float)
        Start and end of the window, seconds relative to the alignment event.
    bin_size : float
        Width of each bin, seconds.
    step : float
        Distance between the left edges of consecutive bins, seconds.

    Returns
    -------
    numpy.ndarray
        Left edges; every bin ``[start, start + bin_size)`` lies inside the window.

    Raises
    ------
    ValueError
        If the window is empty or shorter than one bin, or ``bin_size``/``step`` are not
        positive.
    """
    start, stop = float(window[0]), float(window[1])
    if bin_size <= 0 or step <= 0:
        raise ValueError(
            f"bin_size ({bin_size}) and step ({step}) must be positive; fix config['decoding']."
        )
    if stop - start < bin_size - 1e-9:
        raise ValueError(
            f"window {list(window)} is shorter than one bin ({bin_size} s); "
            "widen config['decoding']['window'] or shrink bin_size."
        )
    n_bins = int(np.floor((stop - start - bin_size) / step + 1e-9)) + 1
    return np.round(start + step * np.arange(n_bins), 9)


def binned_spike_counts(
    spike_times: Sequence[np.ndarray],
    align_times: np.ndarray,
    *,
    window: Sequence[float],
    bin_size: float,
    step: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Count each unit's spikes in sliding bins around each trial's alignment time.

    Parameters
    ----------
    spike_times : sequence of numpy.ndarray
        Spike times of each unit, seconds (sorted or not).
    align_times : numpy.ndarray
        The alignment time of each trial, seconds on the same clock.
    window : (float, float)
        Window around each alignment time, seconds.
    bin_size, step : float
        Bin width and the step between bins, seconds. Bins are half-open, ``[a, a + bin_size)``.

    Returns
    -------
    counts : numpy.ndarray
        Integer array of shape (trials, units, bins).
    bin_centers : numpy.ndarray
        Centre of each bin relative to the alignment time, seconds.
    """
    align_times = np.asarray(align_times, dtype=float)
    if align_times.ndim != 1:
        raise ValueError("align_times must be one-dimensional (one time per trial).")
    if not np.all(np.isfinite(align_times)):
        raise ValueError(
            "align_times contains NaN/inf; drop trials without the alignment "
            "event before counting spikes."
        )
    starts = bin_starts(window, bin_size, step)
    lo = align_times[:, None] + starts[None, :]
    hi = lo + bin_size
    counts = np.empty((len(align_times), len(spike_times), len(starts)), dtype=np.int64)
    for unit, times in enumerate(spike_times):
        times = np.asarray(times, dtype=float)
        if times.size > 1 and np.any(np.diff(times) < 0):
            times = np.sort(times)
        counts[:, unit, :] = np.searchsorted(times, hi, side="left") - np.searchsorted(
            times, lo, side="left"
        )
    return counts, np.round(starts + bin_size / 2, 9)


def align_times(events: pd.DataFrame, event: str) -> np.ndarray:
    """Return the times of a trial event on the recording clock.

    Parameters
    ----------
    events : pandas.DataFrame
        The trial table (``onset``, ``response_time``, ``feedback_time``).
    event : {"onset", "response", "feedback"}
        Stimulus onset, the choice (``onset + response_time``) or feedback
        (``onset + feedback_time``).

    Returns
    -------
    numpy.ndarray
        One time per trial, seconds.
    """
    onset = events["onset"].to_numpy(dtype=float)
    if event == "onset":
        return onset
    if event == "response":
        return onset + events["response_time"].to_numpy(dtype=float)
    if event == "feedback":
        return onset + events["feedback_time"].to_numpy(dtype=float)
    raise ValueError(
        f"unknown alignment event {event!r}; use one of {list(ALIGN_EVENTS)} "
        "in config['decoding']['align']."
    )
