"""Sharp-wave ripple detection in hippocampal LFP (``ripple-detection``, Frank lab).

:func:`detect_ripples` filters the LFP to the ripple band and runs Kay et al.'s (2016)
multichannel consensus detector or Karlsson et al.'s (2009) per-channel detector, both from
``ripple_detection``. The animal is at rest in a sleep epoch, so the detectors' speed criterion
is switched off (speed 0). At the LFP rate of 1500 Hz the package's precomputed Frank-lab
filter is used; at other rates the package's Remez design (101 taps, 25 Hz transition bands),
rebuilt here with ``fs=``: ``ripple_bandpass_filter`` of ripple-detection 1.7.1 passes
``Hz=`` to ``scipy.signal.remez``, a keyword SciPy has since removed (TypeError on 1.17).

The events become a pynapple ``IntervalSet`` (:func:`ripple_epochs`) for the reactivation
analysis. :func:`match_events` scores detected against planted events (recall, precision): an
overlap match, one to one, written here because neither library scores a detector against
ground truth.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import pynapple as nap

#: Columns of :func:`detect_ripples`'s table.
RIPPLE_COLUMNS: tuple[str, ...] = (
    "start_time",
    "end_time",
    "duration",
    "peak_time",
    "max_zscore",
)


def ripple_band(lfp: np.ndarray, sampling_frequency: float) -> np.ndarray:
    """Band-pass LFP to the ripple band (150–250 Hz) with ``ripple_detection``'s filters.

    Parameters
    ----------
    lfp : numpy.ndarray
        Shape (samples, channels).
    sampling_frequency : float
        LFP rate in Hz.

    Returns
    -------
    numpy.ndarray
        The ripple-band signal, same shape.
    """
    from ripple_detection import filter_ripple_band
    from scipy.signal import filtfilt, remez

    if np.isclose(sampling_frequency, 1500.0):
        return filter_ripple_band(lfp)
    # ripple_detection.core.ripple_bandpass_filter's design, with SciPy's current keyword
    edges = [0, 125, 150, 250, 275, sampling_frequency / 2]
    taps = remez(101, edges, [0, 1, 0], fs=sampling_frequency)
    return filtfilt(taps, 1.0, lfp, axis=0)


def detect_ripples(
    time: np.ndarray,
    lfp: np.ndarray,
    sampling_frequency: float,
    *,
    detector: str = "kay",
    zscore_threshold: float | None = None,
    minimum_duration: float = 0.015,
    close_ripple_threshold: float = 0.0,
) -> pd.DataFrame:
    """Detect sharp-wave ripples in rest or sleep LFP.

    Parameters
    ----------
    time : numpy.ndarray
        Sample times in seconds, shape (samples,).
    lfp : numpy.ndarray
        LFP of hippocampal channels, shape (samples, channels) (:func:`~panneuro.sleep.lfp.
        lfp_traces`).
    sampling_frequency : float
        LFP rate in Hz.
    detector : {"kay", "karlsson"}
        Kay et al. 2016 (consensus of channels' squared envelopes) or Karlsson et al. 2009
        (per channel, merged).
    zscore_threshold : float, optional
        Detection threshold in s.d. of the detection trace; the detector's default (Kay 2,
        Karlsson 3) when omitted.
    minimum_duration : float
        Minimum time above threshold, s.
    close_ripple_threshold : float
        Events closer than this (s) are merged.

    Returns
    -------
    pandas.DataFrame
        One row per ripple: :data:`RIPPLE_COLUMNS` (``peak_time`` the time of the largest
        ripple-band envelope summed over channels inside the event).
    """
    from ripple_detection import Karlsson_ripple_detector, Kay_ripple_detector
    from ripple_detection.core import get_envelope

    time = np.asarray(time, dtype=float)
    lfp = np.asarray(lfp, dtype=float)
    if lfp.ndim == 1:
        lfp = lfp[:, None]
    if lfp.shape[0] != time.shape[0]:
        raise ValueError(f"lfp has {lfp.shape[0]} samples but time has {time.shape[0]}.")
    detectors = {"kay": (Kay_ripple_detector, 2.0), "karlsson": (Karlsson_ripple_detector, 3.0)}
    if detector not in detectors:
        raise ValueError(f"detector must be 'kay' or 'karlsson', not {detector!r}.")
    function, default_threshold = detectors[detector]
    filtered = ripple_band(lfp, sampling_frequency)
    events = function(
        time,
        filtered,
        np.zeros(time.shape[0]),  # at rest: no movement to exclude
        sampling_frequency,
        minimum_duration=minimum_duration,
        zscore_threshold=default_threshold if zscore_threshold is None else zscore_threshold,
        close_ripple_threshold=close_ripple_threshold,
    )
    if events.empty:
        return pd.DataFrame(columns=list(RIPPLE_COLUMNS))
    envelope = np.sum(get_envelope(filtered), axis=1)
    start = np.searchsorted(time, events["start_time"].to_numpy())
    stop = np.searchsorted(time, events["end_time"].to_numpy(), side="right")
    peaks = [time[a + int(np.argmax(envelope[a:b]))] for a, b in zip(start, stop, strict=True)]
    out = events.reset_index(drop=True).assign(peak_time=peaks)
    return out[list(RIPPLE_COLUMNS)]


def ripple_epochs(ripples: pd.DataFrame) -> nap.IntervalSet:
    """Return the ripples as a pynapple ``IntervalSet`` (start and end times, s).

    Parameters
    ----------
    ripples : pandas.DataFrame
        :func:`detect_ripples`'s table (or any with ``start_time``/``end_time``).

    Returns
    -------
    pynapple.IntervalSet
        One interval per ripple.
    """
    import pynapple as nap

    return nap.IntervalSet(
        start=ripples["start_time"].to_numpy(float), end=ripples["end_time"].to_numpy(float)
    )


def match_events(
    detected: pd.DataFrame, planted: pd.DataFrame, *, tolerance: float = 0.0
) -> dict[str, float]:
    """Score detected events against planted ones by interval overlap, one to one.

    A planted event is found when a detected event overlaps it (within ``tolerance`` s);
    each detected event matches at most one planted event (the one it overlaps most).

    Parameters
    ----------
    detected, planted : pandas.DataFrame
        ``start_time`` and ``end_time`` columns (s).
    tolerance : float
        Slack added to both ends of the planted events.

    Returns
    -------
    dict
        ``n_detected``, ``n_planted``, ``n_matched``, ``recall`` (matched / planted),
        ``precision`` (matched / detected); NaN ratios when a denominator is 0.
    """
    d0, d1 = detected["start_time"].to_numpy(float), detected["end_time"].to_numpy(float)
    p0 = planted["start_time"].to_numpy(float) - tolerance
    p1 = planted["end_time"].to_numpy(float) + tolerance
    overlap = np.minimum(d1[:, None], p1[None, :]) - np.maximum(d0[:, None], p0[None, :])
    matched = 0
    free = np.ones(len(p0), dtype=bool)
    for i in np.argsort(-overlap.max(axis=1, initial=0.0)) if len(d0) else []:
        candidates = np.where(free & (overlap[i] > 0), overlap[i], -np.inf)
        if candidates.size and np.isfinite(candidates.max()):
            free[int(np.argmax(candidates))] = False
            matched += 1
    n_d, n_p = len(d0), len(p0)
    return {
        "n_detected": n_d,
        "n_planted": n_p,
        "n_matched": matched,
        "recall": matched / n_p if n_p else float("nan"),
        "precision": matched / n_d if n_d else float("nan"),
    }
