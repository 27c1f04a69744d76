"""Reversible inactivation: the planted behavioural cost and the effect on both regions' codes."""

import numpy as np
import pandas as pd
import pytest

from panneuro.behaviour.model import LearningSetParams, simulate_agent
from panneuro.simulate.ephys import WINDOWS, poisson_spike_samples, tuned_rates
from panneuro.simulate.inactivation import (
    Inactivation,
    behaviour_truth,
    probe_coding,
    session_agent,
)
from panneuro.simulate.task import build_events, task_variables

AGENT = LearningSetParams(n_half=30.0, beta=0.65)
HPC = Inactivation(region="hippocampus", prior_odds_factor=0.1, coding_factor=0.0, rate_factor=0.25)
FS = 30000.0


def _session(problems, condition, seed):
    agent = session_agent(AGENT, condition, HPC)
    sim = simulate_agent(agent, problems, np.random.default_rng(seed))
    return build_events(
        sim["problem"].to_numpy(),
        sim["trial"].to_numpy(),
        sim["correct"].to_numpy(),
        np.random.default_rng(seed + 1),
        trial_duration=1.5,
    )


def _trial2(events):
    return float(events.loc[events["trial"] == 2, "correct"].mean())


def test_inactivated_agent_scales_the_prior_odds():
    inactivated = session_agent(AGENT, "inactivation", HPC)
    assert inactivated.beta == AGENT.beta
    assert inactivated.tau == pytest.approx(AGENT.tau / HPC.prior_odds_factor)
    assert session_agent(AGENT, "control", HPC) is AGENT
    with pytest.raises(ValueError, match="condition 'muscimol' unknown"):
        session_agent(AGENT, "muscimol", HPC)


def test_trial2_accuracy_is_lower_than_in_the_neighbouring_control_sessions():
    # control, inactivation, control: 150 problems each (behaviour only, cheap)
    blocks = [np.arange(141, 291), np.arange(291, 441), np.arange(441, 591)]
    conditions = ["control", "inactivation", "control"]
    sessions = [
        _session(p, c, seed=10 + i) for i, (p, c) in enumerate(zip(blocks, conditions, strict=True))
    ]
    accuracy = [_trial2(e) for e in sessions]
    neighbours = (accuracy[0] + accuracy[2]) / 2
    cost = neighbours - accuracy[1]
    truth = behaviour_truth(AGENT, "inactivation", HPC, blocks[1])
    assert 0.12 <= truth["trial2_cost"] <= 0.3  # the planted cost, ~0.2
    se = np.sqrt(accuracy[1] * (1 - accuracy[1]) / 150 + neighbours * (1 - neighbours) / 300)
    assert cost > 0.08 and abs(accuracy[1] - truth["expected_trial2_accuracy"]) < 3 * se
    # reversible: the control session after it is back at the control agent's accuracy
    after = behaviour_truth(AGENT, "control", HPC, blocks[2])
    assert after["trial2_cost"] == 0.0
    assert abs(accuracy[2] - after["expected_trial2_accuracy"]) < 3 * np.sqrt(0.25 / 150)


def _stay_modulation(events, units, coding, seed):
    """Log ratio of the stay units' window rates on stay vs switch trials, and the mean rate."""
    duration = float(events["onset"].iloc[-1] + events["duration"].iloc[-1] + 1.0)
    rates = tuned_rates(events, units, duration=duration, coding=coding)
    trains = poisson_spike_samples(
        rates,
        dt=0.001,
        sampling_frequency=FS,
        refractory_ms=2.0,
        margin_samples=0,
        n_samples=int(duration * FS),
        rng=np.random.default_rng(seed),
    )
    onset = events["onset"].to_numpy()
    start = onset + WINDOWS["stay"][1]
    stop = onset + events["response_time"].to_numpy()
    stay = task_variables(events)["stay"].to_numpy()
    modulation = []
    for train in trains:
        t = train / FS
        counts = np.searchsorted(t, stop) - np.searchsorted(t, start)
        modulation.append(
            np.log((counts[stay == 1].mean() + 0.01) / (counts[stay == 0].mean() + 0.01))
        )
    mean_rate = np.mean([len(t) / duration for t in trains])
    return float(np.mean(modulation)), float(mean_rate)


def test_codes_of_both_regions_change_under_inactivation():
    units = pd.DataFrame({"unit_id": range(6), "variable": "stay", "gain": 0.8, "base_rate": 10.0})
    problems = {"control": np.arange(141, 201), "inactivation": np.arange(201, 261)}
    result = {}
    for condition, block in problems.items():
        events = _session(block, condition, seed=3)
        for region in ("prefrontal", "hippocampus"):
            coding = probe_coding(
                events, agent=AGENT, condition=condition, region=region, inactivation=HPC
            )
            result[condition, region] = _stay_modulation(events, units, coding, seed=4)
            if condition == "inactivation" and region == "prefrontal":
                pfc = coding
    # the other region (PFC): its stay code follows the reduced learning set (planted 0.94 ->
    # 0.63 of the full gain here), its rate unchanged
    assert pfc["stay_factor"].mean() < 0.75 * pfc["learning_set_prior"].mean()
    control, inactivated = result["control", "prefrontal"], result["inactivation", "prefrontal"]
    assert inactivated[0] < control[0] - 0.3 and inactivated[0] > 0.2
    assert inactivated[1] == pytest.approx(control[1], rel=0.15)
    # the inactivated region (HPC): silenced (a quarter of the rate) and no task coding left
    silenced = result["inactivation", "hippocampus"]
    assert silenced[1] == pytest.approx(0.25 * result["control", "hippocampus"][1], rel=0.2)
    assert abs(silenced[0]) < 0.15 and result["control", "hippocampus"][0] > 1.0


def test_coding_table_is_checked_against_the_trials():
    events = _session(np.arange(1, 5), "control", seed=1)
    coding = probe_coding(
        events, agent=AGENT, condition="control", region="prefrontal", inactivation=HPC
    )
    units = pd.DataFrame({"unit_id": [0], "variable": ["stay"], "gain": [0.5], "base_rate": [5.0]})
    with pytest.raises(ValueError, match="does not match the trial table"):
        tuned_rates(events, units, duration=40.0, coding=coding.iloc[1:])
    with pytest.raises(ValueError, match="prior_odds_factor must lie in"):
        Inactivation(
            region="hippocampus", prior_odds_factor=0.0, coding_factor=0.0, rate_factor=0.25
        )
