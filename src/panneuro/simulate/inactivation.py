"""Reversible inactivation of one region (muscimol-style) in the simulated study, planted.

In an inactivation session the inactivated region's units are silenced (their rates scaled by
``rate_factor``) and lose their task coding (``coding_factor``, 0 = removed), and the agent
uses its learning set less: the prior odds that a new problem is structured, ``p / tau``, are
multiplied by ``prior_odds_factor`` (< 1). With the learning-to-learn agent
(:mod:`panneuro.behaviour.model`) that is the same agent with ``n_half / prior_odds_factor``
(``tau`` is proportional to ``n_half`` at a fixed ``beta``), so one-trial learning is slower:
trial-2 accuracy falls below that of the neighbouring control sessions (the behavioural cost),
and the effect is reversible (the next session's agent is the control one again).

The abstract (``stay``) code of every region follows the learning-set prior the agent
*expresses* in the session, ``pi_p = k p / (k p + tau)`` (``k`` = ``prior_odds_factor`` under
inactivation, 1 otherwise): the other region's stay code weakens with the behaviour (the
planted effect on the other region's codes), and across sessions every region's stay code
grows with the agent's own learning-set prior rather than with a fixed curve of the problem.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from panneuro.behaviour.model import LearningSetParams, expected_accuracy, learning_set_prior
from panneuro.simulate.ephys import CODING_COLUMNS

#: Conditions of a session (the ``condition`` column of ``sessions.tsv``).
CONDITIONS: tuple[str, ...] = ("control", "inactivation")


@dataclass(frozen=True)
class Inactivation:
    """What an inactivation does (``design.inactivation`` of a size preset).

    Parameters
    ----------
    region : str
        The inactivated region (a sheet ``region``, e.g. ``hippocampus``).
    prior_odds_factor : float
        Multiplies the agent's prior odds of structure (0 < k <= 1).
    coding_factor : float
        Multiplies the inactivated region's tuned gains (0 = task coding removed).
    rate_factor : float
        Multiplies the inactivated region's firing rates (silencing), > 0.
    """

    region: str
    prior_odds_factor: float
    coding_factor: float
    rate_factor: float

    def __post_init__(self) -> None:
        """Check the ranges."""
        if not 0.0 < self.prior_odds_factor <= 1.0:
            raise ValueError(
                f"inactivation prior_odds_factor must lie in (0, 1], got {self.prior_odds_factor}"
            )
        if not 0.0 <= self.coding_factor <= 1.0:
            raise ValueError(
                f"inactivation coding_factor must lie in [0, 1], got {self.coding_factor}"
            )
        if not self.rate_factor > 0.0:
            raise ValueError(f"inactivation rate_factor must be > 0, got {self.rate_factor}")

    @classmethod
    def from_config(cls, block: Mapping[str, Any]) -> Inactivation:
        """Build from the ``design.inactivation`` block of a size preset."""
        return cls(
            region=str(block["region"]),
            prior_odds_factor=float(block["prior_odds_factor"]),
            coding_factor=float(block["coding_factor"]),
            rate_factor=float(block["rate_factor"]),
        )


def session_agent(
    agent: LearningSetParams, condition: str, inactivation: Inactivation
) -> LearningSetParams:
    """Return the agent a session's behaviour expresses (its learning set reduced if inactivated).

    Parameters
    ----------
    agent : LearningSetParams
        The subject's own agent.
    condition : {"control", "inactivation"}
        The session's condition.
    inactivation : Inactivation
        What an inactivation does.

    Returns
    -------
    LearningSetParams
        ``agent`` in a control session; under inactivation the same ``beta`` with
        ``n_half / prior_odds_factor`` (prior odds ``p / tau`` times the factor).
    """
    if condition not in CONDITIONS:
        raise ValueError(f"session condition {condition!r} unknown; use {CONDITIONS}")
    if condition == "control":
        return agent
    return LearningSetParams(n_half=agent.n_half / inactivation.prior_odds_factor, beta=agent.beta)


def probe_coding(
    events: pd.DataFrame,
    *,
    agent: LearningSetParams,
    condition: str,
    region: str,
    inactivation: Inactivation,
) -> pd.DataFrame:
    """Per-trial coding of one probe in one session (the ``coding`` of the simulated probe).

    Parameters
    ----------
    events : pandas.DataFrame
        The session's trial table.
    agent : LearningSetParams
        The subject's own agent.
    condition : {"control", "inactivation"}
        The session's condition.
    region : str
        The probe's region.
    inactivation : Inactivation
        What an inactivation does.

    Returns
    -------
    pandas.DataFrame
        :data:`panneuro.simulate.ephys.CODING_COLUMNS`, one row per trial:
        ``learning_set_prior`` (the subject's own prior on the trial's problem),
        ``stay_factor`` (the prior the session expresses: the stay gain's multiplier),
        ``coding_factor`` and ``rate_factor`` (below 1 in the inactivated region only).
    """
    problems = events["problem"].to_numpy(int)
    expressed = session_agent(agent, condition, inactivation)
    silenced = condition == "inactivation" and region == inactivation.region
    table = pd.DataFrame(
        {
            "problem": problems,
            "trial": events["trial"].to_numpy(int),
            "learning_set_prior": np.round(learning_set_prior(agent, problems), 9),
            "stay_factor": np.round(learning_set_prior(expressed, problems), 9),
            "coding_factor": inactivation.coding_factor if silenced else 1.0,
            "rate_factor": inactivation.rate_factor if silenced else 1.0,
        }
    )
    return table[list(CODING_COLUMNS)]


def behaviour_truth(
    agent: LearningSetParams, condition: str, inactivation: Inactivation, problems: np.ndarray
) -> dict[str, float]:
    """Return the expected trial-2 accuracy of a session, as simulated and uninactivated.

    Parameters
    ----------
    agent : LearningSetParams
        The subject's own agent.
    condition : {"control", "inactivation"}
        The session's condition.
    inactivation : Inactivation
        What an inactivation does.
    problems : numpy.ndarray
        The session's problems.

    Returns
    -------
    dict
        ``expected_trial2_accuracy`` (the agent the session expresses, mean over its
        problems), ``control_trial2_accuracy`` (the subject's own agent on the same problems)
        and their difference ``trial2_cost`` (0 in a control session); the expressed agent's
        ``n_half``, ``beta`` and the mean ``stay_factor`` and ``learning_set_prior``.
    """
    expressed = session_agent(agent, condition, inactivation)
    simulated = float(expected_accuracy(expressed, problems)[:, 1].mean())
    control = float(expected_accuracy(agent, problems)[:, 1].mean())
    return {
        "expected_trial2_accuracy": round(simulated, 9),
        "control_trial2_accuracy": round(control, 9),
        "trial2_cost": round(control - simulated, 9),
        "expressed_n_half": round(expressed.n_half, 9),
        "expressed_beta": round(expressed.beta, 9),
        "mean_learning_set_prior": round(float(learning_set_prior(agent, problems).mean()), 9),
        "mean_stay_factor": round(float(learning_set_prior(expressed, problems).mean()), 9),
    }
