"""A sleep run and a session's pair of runs, analysed: ripples, their score, reactivation.

These compose the sleep stage's building blocks for the workflow's scripts:
:func:`run_ripples` (broadband -> LFP -> ripples on the channels with the most ripple-band
power), :func:`ripple_score` (detected vs planted ripples, simulated study) and
:func:`session_reactivation` (the task's co-firing reactivated in the ripples after vs before
the task, by both measures of :mod:`panneuro.sleep.reactivation`, beside the same statistic on
the ground truth when there is one).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from panneuro.sleep.lfp import lfp_from_broadband, lfp_traces
from panneuro.sleep.reactivation import binned_counts, event_counts, reactivation_test
from panneuro.sleep.ripples import detect_ripples, match_events, ripple_band

if TYPE_CHECKING:
    from spikeinterface.core import BaseRecording

#: Reactivation measures computed per session (``reactivation_test`` methods).
REACTIVATION_METHODS: tuple[str, ...] = ("ev", "assembly")
#: Columns of a session's reactivation table.
REACTIVATION_COLUMNS: tuple[str, ...] = (
    "subject",
    "session",
    "probe",
    "species",
    "region",
    "method",
    "statistic",
    "p_value",
    "pre",
    "post",
    "n_units",
    "n_ripples_pre",
    "n_ripples_post",
    "truth",
    "truth_p_value",
    "truth_pre",
    "truth_post",
    "truth_n_units",
)
#: Columns of a sleep run's ripple-score table (rule ``score_ripples``: the run, its probe's
#: species and region, then :func:`ripple_score`'s counts and rates).
RIPPLE_SCORE_COLUMNS: tuple[str, ...] = (
    "subject",
    "session",
    "probe",
    "run",
    "species",
    "region",
    "n_planted",
    "n_detected",
    "n_matched",
    "recall",
    "precision",
)


def select_ripple_channels(traces: np.ndarray, sampling_frequency: float, n: int) -> np.ndarray:
    """Return the indices of the ``n`` channels with the most ripple-band power (sorted).

    The ripple is largest in the pyramidal layer; its channels carry the most 150–250 Hz
    power over a sleep run (``ripple_detection``'s ripple filter).

    Parameters
    ----------
    traces : numpy.ndarray
        LFP, shape (samples, channels).
    sampling_frequency : float
        LFP rate, Hz.
    n : int
        Channels kept (all when the probe has fewer).

    Returns
    -------
    numpy.ndarray
        Channel indices, ascending.
    """
    power = np.mean(ripple_band(traces, sampling_frequency) ** 2, axis=0)
    order = np.argsort(-power, kind="stable")
    return np.sort(order[: max(1, min(n, traces.shape[1]))])


def run_ripples(
    recording: BaseRecording, settings: Mapping[str, Any]
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Detect a sleep run's ripples in the LFP of its broadband recording.

    Parameters
    ----------
    recording : spikeinterface.core.BaseRecording
        The raw broadband recording of the run.
    settings : mapping
        ``config["sleep"]``: ``lfp_band``, ``lfp_sampling_frequency``, ``ripple_channels``,
        ``ripple_detector``, ``ripple_zscore_threshold``, ``ripple_minimum_duration``.

    Returns
    -------
    ripples : pandas.DataFrame
        :data:`panneuro.sleep.ripples.RIPPLE_COLUMNS`, times on the run's clock (s).
    lfp : dict
        ``time`` (s), ``lfp`` (µV, float32) of the channel with the most ripple-band power,
        ``channel_ids`` used by the detector, ``sampling_frequency``: the figure's example.
    """
    fs = float(settings["lfp_sampling_frequency"])
    lfp = lfp_from_broadband(recording, band=tuple(settings["lfp_band"]), sampling_frequency=fs)
    time, traces = lfp_traces(lfp)
    time = time - time[0]  # the run's own clock (the planted ripples' and the spikes')
    channels = select_ripple_channels(traces, fs, int(settings["ripple_channels"]))
    ripples = detect_ripples(
        time,
        traces[:, channels],
        fs,
        detector=str(settings["ripple_detector"]),
        zscore_threshold=float(settings["ripple_zscore_threshold"]),
        minimum_duration=float(settings["ripple_minimum_duration"]),
    )
    power = np.mean(ripple_band(traces[:, channels], fs) ** 2, axis=0)
    best = channels[int(np.argmax(power))]
    example = {
        "time": time.astype(np.float64),
        "lfp": traces[:, best].astype(np.float32),
        "channel_ids": np.asarray(lfp.channel_ids)[channels].astype(str),
        "sampling_frequency": np.float64(fs),
    }
    return ripples.astype(float).reset_index(drop=True), example


def ripple_score(
    detected: pd.DataFrame, planted: pd.DataFrame, key: Mapping[str, str]
) -> pd.DataFrame:
    """One row: the run's key, planted and detected counts, recall and precision.

    Parameters
    ----------
    detected, planted : pandas.DataFrame
        ``start_time`` and ``end_time`` (s) of the detected and the planted ripples.
    key : mapping
        ``subject``, ``session``, ``probe``, ``run`` (written first).

    Returns
    -------
    pandas.DataFrame
        ``subject, session, probe, run, n_planted, n_detected, n_matched, recall,
        precision`` (:func:`panneuro.sleep.ripples.match_events`).
    """
    score = match_events(detected, planted)
    row = {
        **dict(key),
        **{k: score[k] for k in ("n_planted", "n_detected", "n_matched", "recall", "precision")},
    }
    return pd.DataFrame([row])


def _counts(
    task: Mapping[Any, np.ndarray],
    pre: Mapping[Any, np.ndarray],
    post: Mapping[Any, np.ndarray],
    ripples: Sequence[pd.DataFrame],
    task_duration: float,
    bin_s: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    units = [u for u in task if u in pre and u in post]
    pick = [{u: spikes[u] for u in units} for spikes in (task, pre, post)]
    task_counts = binned_counts(pick[0], 0.0, task_duration, bin_s)
    return (
        task_counts,
        event_counts(pick[1], ripples[0]) if len(ripples[0]) else np.zeros((0, len(units))),
        event_counts(pick[2], ripples[1]) if len(ripples[1]) else np.zeros((0, len(units))),
    )


def _tests(counts, rng_seed: int, n_permutations: int) -> dict[str, Any]:
    out = {}
    for method in REACTIVATION_METHODS:
        rng = np.random.default_rng([rng_seed, REACTIVATION_METHODS.index(method)])
        task, pre, post = counts
        if task.shape[1] < 3 or len(pre) < 3 or len(post) < 3:
            out[method] = None  # too few units or ripples for pair correlations
            continue
        out[method] = reactivation_test(
            task, pre, post, rng, method=method, n_permutations=n_permutations
        )
    return out


def _pre_post(test) -> tuple[float, float]:
    if test is None:
        return float("nan"), float("nan")
    if test.method == "ev":
        return test.detail["rev"], test.detail["ev"]
    return test.detail["pre"], test.detail["post"]


def session_reactivation(
    task: Mapping[Any, np.ndarray],
    pre: Mapping[Any, np.ndarray],
    post: Mapping[Any, np.ndarray],
    ripples: Sequence[pd.DataFrame],
    *,
    task_duration: float,
    key: Mapping[str, str],
    seed: int,
    bin_s: float = 0.05,
    n_permutations: int = 500,
    truth: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Reactivation of the task's co-firing in the ripples after vs before the task.

    Counts: the task's spikes in ``bin_s`` bins over the task recording, each run's spikes in
    each of its ripples (pynapple). Per method (:data:`REACTIVATION_METHODS`): the statistic
    (``EV - REV``, or mean assembly strength after minus before), its permutation p-value,
    and the two parts (``pre``/``post``: REV/EV, or the mean strengths). With ``truth`` the
    same statistic on the ground-truth spike trains counted in the planted ripples (the
    realised truth: what a perfect sorting and a perfect detector would give).

    Parameters
    ----------
    task, pre, post : mapping
        Unit id -> spike times (s) in the task recording and in the runs before and after it
        (the same units: the task's, found in the runs by template matching).
    ripples : sequence of two pandas.DataFrame
        Detected ripples (``start_time``, ``end_time``) of the runs before and after.
    task_duration : float
        Length of the task recording (s).
    key : mapping
        ``subject``, ``session``, ``probe``, ``species``, ``region`` (written first).
    seed : int
        Seeds the permutations and fast ICA (the truth uses the same seed).
    bin_s : float
        Task bin, s.
    n_permutations : int
        Relabellings of the test.
    truth : mapping, optional
        ``task``, ``pre``, ``post`` (ground-truth spike times) and ``ripples`` (the planted
        ripples of both runs).

    Returns
    -------
    pandas.DataFrame
        One row per method, :data:`REACTIVATION_COLUMNS` (truth columns NaN without truth).
    """
    counts = _counts(task, pre, post, ripples, task_duration, bin_s)
    tests = _tests(counts, seed, n_permutations)
    truth_tests: dict[str, Any] = dict.fromkeys(REACTIVATION_METHODS)
    truth_units = 0
    if truth is not None:
        truth_counts = _counts(
            truth["task"], truth["pre"], truth["post"], truth["ripples"], task_duration, bin_s
        )
        truth_units = truth_counts[0].shape[1]
        truth_tests = _tests(truth_counts, seed, n_permutations)
    nan = float("nan")
    rows = []
    for method in REACTIVATION_METHODS:
        test, true = tests[method], truth_tests[method]
        pre_v, post_v = _pre_post(test)
        true_pre, true_post = _pre_post(true)
        rows.append(
            {
                **dict(key),
                "method": method,
                "statistic": test.statistic if test else nan,
                "p_value": test.p_value if test else nan,
                "pre": pre_v,
                "post": post_v,
                "n_units": counts[0].shape[1],
                "n_ripples_pre": len(ripples[0]),
                "n_ripples_post": len(ripples[1]),
                "truth": true.statistic if true else nan,
                "truth_p_value": true.p_value if true else nan,
                "truth_pre": true_pre,
                "truth_post": true_post,
                "truth_n_units": truth_units if truth is not None else nan,
            }
        )
    return pd.DataFrame(rows, columns=list(REACTIVATION_COLUMNS))
