"""The Harlow object-discrimination task: trial tables and the task variables neurons encode.

A problem presents two novel objects for six trials; one of them is rewarded throughout. The
trial table (a BIDS ``*_events.tsv``) is the contract between behaviour, ephys, ECoG and
decoding (see ``docs/architecture.md``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from panneuro.io.tables import EVENTS_COLUMNS

TRIALS_PER_PROBLEM = 6
#: Choice and feedback timing within a trial (seconds after stimulus onset).
RESPONSE_TIME_RANGE = (0.40, 0.60)
FEEDBACK_DELAY = 0.20


def build_events(
    problem: np.ndarray,
    trial: np.ndarray,
    correct: np.ndarray,
    rng: np.random.Generator,
    *,
    trial_duration: float,
    first_onset: float = 1.0,
) -> pd.DataFrame:
    """Lay out a session's trial table from the agent's trial-by-trial accuracy.

    Parameters
    ----------
    problem, trial : numpy.ndarray
        Problem number (1-based, over the subject's history) and trial within the problem
        (1–6) of each trial, in order.
    correct : numpy.ndarray
        1 where the agent chose the rewarded object.
    rng : numpy.random.Generator
        Draws which object of each pair is rewarded, the side of each object on every trial
        and the response times.
    trial_duration : float
        Seconds from one stimulus onset to the next.
    first_onset : float
        Onset of the first trial in seconds from the start of the recording.

    Returns
    -------
    pandas.DataFrame
        One row per trial with the columns of :data:`panneuro.io.tables.EVENTS_COLUMNS`.
    """
    problem = np.asarray(problem, dtype=int)
    trial = np.asarray(trial, dtype=int)
    correct = np.asarray(correct, dtype=int)
    n = len(problem)
    if not (len(trial) == len(correct) == n):
        raise ValueError("problem, trial and correct must have the same length")
    first_object = 2 * problem - 1
    unique_problems = np.unique(problem)
    second_rewarded = dict(
        zip(unique_problems, rng.integers(0, 2, len(unique_problems)), strict=True)
    )
    rewarded = first_object + np.array([second_rewarded[p] for p in problem])
    unrewarded = np.where(rewarded == first_object, first_object + 1, first_object)
    chosen = np.where(correct == 1, rewarded, unrewarded)
    first_on_left = rng.integers(0, 2, n).astype(bool)
    object_left = np.where(first_on_left, first_object, first_object + 1)
    object_right = np.where(first_on_left, first_object + 1, first_object)
    choice = np.where(chosen == object_left, "left", "right")
    response_time = np.round(rng.uniform(*RESPONSE_TIME_RANGE, n), 3)
    events = pd.DataFrame(
        {
            "onset": np.round(first_onset + trial_duration * np.arange(n), 6),
            "duration": trial_duration,
            "trial_type": "trial",
            "problem": problem,
            "trial": trial,
            "object_left": object_left,
            "object_right": object_right,
            "rewarded_object": rewarded,
            "chosen_object": chosen,
            "choice": choice,
            "correct": correct,
            "response_time": response_time,
            "feedback_time": np.round(response_time + FEEDBACK_DELAY, 3),
        }
    )
    return events[list(EVENTS_COLUMNS)]


def task_variables(events: pd.DataFrame) -> pd.DataFrame:
    """Binary task variables of each trial, as neurons encode them and decoders read them.

    Parameters
    ----------
    events : pandas.DataFrame
        A trial table (columns of :data:`panneuro.io.tables.EVENTS_COLUMNS`).

    Returns
    -------
    pandas.DataFrame
        Same index as ``events``; columns ``choice`` (1 = right), ``correct``,
        ``rewarded_object`` (1 = the rewarded object is the pair's second object) and ``stay``
        (1 = the same object as on the previous trial of the problem was chosen; NaN on each
        problem's first trial). ``stay`` is the abstract, problem-independent variable.
    """
    previous = events.groupby("problem")["chosen_object"].shift(1)
    stay = (events["chosen_object"] == previous).astype(float).where(previous.notna())
    return pd.DataFrame(
        {
            "choice": (events["choice"] == "right").astype(int),
            "correct": events["correct"].astype(int),
            "rewarded_object": (events["rewarded_object"] == 2 * events["problem"]).astype(int),
            "stay": stay,
        },
        index=events.index,
    )
