"""The task's units found in a sleep run by template matching against the task's templates."""

import dataclasses

import numpy as np
import pytest
from spikeinterface.comparison import compare_sorter_to_ground_truth
from test_sleep import DESIGN, PROBE

from panneuro.behaviour.model import LearningSetParams, simulate_agent
from panneuro.ephys.preprocessing import preprocess
from panneuro.simulate.ephys import simulate_probe
from panneuro.simulate.sleep import simulate_sleep_probe
from panneuro.simulate.task import build_events
from panneuro.sleep.matching import match_units, spike_times, task_templates

PREPROCESS = {
    "freq_min": 300.0,
    "freq_max": 6000.0,
    "reference": "median",
    "detect_bad_channels": False,
}


@pytest.fixture(scope="module")
def probe():
    sim = simulate_agent(
        LearningSetParams(30.0, 0.65), np.arange(100, 106), np.random.default_rng(1)
    )
    events = build_events(
        sim["problem"].to_numpy(),
        sim["trial"].to_numpy(),
        sim["correct"].to_numpy(),
        np.random.default_rng(2),
        trial_duration=1.5,
    )
    task = simulate_probe(events, duration=float(events["onset"].iloc[-1] + 2.5), **PROBE)
    sleep = simulate_sleep_probe(
        events,
        coding=None,
        sleep_seed=2,
        epoch="post",
        design=dataclasses.replace(DESIGN, duration_s=20.0),
        **PROBE,
    )
    task_pre = preprocess(task.recording, **PREPROCESS)[0].save(format="memory")
    sleep_pre = preprocess(sleep.recording, **PREPROCESS)[0].save(format="memory")
    return task, sleep, task_pre, sleep_pre


def test_sleep_spikes_of_the_task_units_are_found(probe):
    task, sleep, task_pre, sleep_pre = probe
    templates = task_templates(task_pre, task.sorting, task.sorting.unit_ids, seed=1)
    assert templates.templates_array.shape[0] == len(task.sorting.unit_ids)
    matched = match_units(sleep_pre, templates)
    assert list(matched.unit_ids) == list(task.sorting.unit_ids)  # the task's unit ids
    perf = compare_sorter_to_ground_truth(
        sleep.sorting, matched, exhaustive_gt=True
    ).get_performance()
    # measured: recall 1.0 for all 12 units, precision >= 0.78 (the two lowest-SNR units)
    assert perf["recall"].min() >= 0.9
    assert perf["accuracy"].median() >= 0.9
    # the same unit, not just any: each GT unit's best match is the sorted unit of its id
    cmp = compare_sorter_to_ground_truth(sleep.sorting, matched, exhaustive_gt=True)
    best = cmp.best_match_12
    assert all(str(best[u]) == str(u) for u in sleep.sorting.unit_ids)


def test_matching_uses_the_channels_both_recordings_kept(probe):
    task, sleep, task_pre, sleep_pre = probe
    templates = task_templates(task_pre, task.sorting, task.sorting.unit_ids[:4], seed=1)
    fewer = sleep_pre.remove_channels([sleep_pre.channel_ids[0]])  # a bad channel in sleep
    times = spike_times(match_units(fewer, templates))
    assert list(times) == list(task.sorting.unit_ids[:4])
    truth = spike_times(sleep.sorting)
    for unit, found in times.items():
        hits = np.mean([np.min(np.abs(found - t)) < 0.001 for t in truth[unit]])
        assert hits >= 0.9, unit
    with pytest.raises(ValueError, match="shares no channel"):
        match_units(sleep_pre.rename_channels([f"x{c}" for c in sleep_pre.channel_ids]), templates)
