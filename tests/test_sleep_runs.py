"""A sleep run's ripples and a session's reactivation, as the workflow computes them."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
from test_reactivation import _counts
from test_sleep import DESIGN, PROBE

from panneuro.sleep.sleep_runs import (
    REACTIVATION_COLUMNS,
    ripple_score,
    run_ripples,
    select_ripple_channels,
    session_reactivation,
)

ASSEMBLIES = [np.arange(0, 6), np.arange(6, 12)]
SETTINGS = {
    "lfp_band": [1.0, 400.0],
    "lfp_sampling_frequency": 1500.0,
    "ripple_channels": 4,
    "ripple_detector": "kay",
    "ripple_zscore_threshold": 2.0,
    "ripple_minimum_duration": 0.015,
}


def _spikes(counts, starts, width, rng):
    """Spike times (unit -> s) with ``counts[i, u]`` spikes of unit u inside interval i."""
    return {
        u: np.sort(
            np.concatenate(
                [s + width * rng.random(int(c)) for s, c in zip(starts, counts[:, u], strict=True)]
            )
        )
        for u in range(counts.shape[1])
    }


def _session(rng, reactivation):
    task_counts = _counts(rng, 1200, ASSEMBLIES, [0.2, 0.2], n_units=16)
    task = _spikes(task_counts, np.arange(1200) * 0.05, 0.05, rng)
    ripples, sleep = [], []
    for p_active in (0.0, reactivation):
        starts = np.arange(80) * 0.5 + 0.1
        counts = _counts(rng, 80, ASSEMBLIES, [p_active, p_active], n_units=16)
        sleep.append(_spikes(counts, starts, 0.08, rng))
        ripples.append(pd.DataFrame({"start_time": starts, "end_time": starts + 0.08}))
    return task, sleep, ripples


KEY = {
    "subject": "M1",
    "session": "01",
    "probe": "HPC",
    "species": "macaque",
    "region": "hippocampus",
}


def test_reactivation_after_the_task_and_its_truth():
    task, (pre, post), ripples = _session(np.random.default_rng(0), reactivation=0.3)
    truth = {"task": task, "pre": pre, "post": post, "ripples": ripples}
    table = session_reactivation(
        task,
        pre,
        post,
        ripples,
        task_duration=60.0,
        key=KEY,
        seed=5,
        n_permutations=50,
        truth=truth,
    )
    assert list(table.columns) == list(REACTIVATION_COLUMNS)
    assert list(table["method"]) == ["ev", "assembly"]
    assert (table["statistic"] > 0).all() and (table["p_value"] < 0.05).all()
    ev = table.iloc[0]
    assert ev["post"] > ev["pre"] and ev["n_units"] == 16 and ev["n_ripples_post"] == 80
    # the same spike trains and ripples as truth give the same statistic (same seed)
    np.testing.assert_allclose(table["truth"], table["statistic"])
    # without truth the truth columns are empty; without reactivation no effect
    task, (pre, post), ripples = _session(np.random.default_rng(1), reactivation=0.0)
    null = session_reactivation(
        task, pre, post, ripples, task_duration=60.0, key=KEY, seed=5, n_permutations=50
    )
    assert null["truth"].isna().all() and (null["p_value"] > 0.01).all()


def test_too_few_ripples_give_nan_not_an_error():
    task, (pre, post), ripples = _session(np.random.default_rng(2), reactivation=0.3)
    few = [ripples[0].iloc[:2], ripples[1]]
    table = session_reactivation(
        task, pre, post, few, task_duration=60.0, key=KEY, seed=5, n_permutations=10
    )
    assert table["statistic"].isna().all() and (table["n_ripples_pre"] == 2).all()


def test_ripple_channels_and_score():
    rng = np.random.default_rng(3)
    fs, n = 1500.0, 15000
    lfp = rng.normal(0, 10, (n, 6))
    t = np.arange(n) / fs
    lfp[:, 4] += 40 * np.sin(2 * np.pi * 200 * t) * (np.sin(2 * np.pi * 0.5 * t) > 0.9)
    assert list(select_ripple_channels(lfp, fs, 1)) == [4]
    assert len(select_ripple_channels(lfp, fs, 10)) == 6
    planted = pd.DataFrame({"start_time": [1.0, 2.0, 3.0], "end_time": [1.1, 2.1, 3.1]})
    detected = pd.DataFrame({"start_time": [1.05, 5.0], "end_time": [1.2, 5.1]})
    row = ripple_score(detected, planted, {"subject": "M1", "run": "1"}).iloc[0]
    assert row["subject"] == "M1" and row["n_matched"] == 1
    assert row["recall"] == pytest.approx(1 / 3) and row["precision"] == pytest.approx(0.5)


def test_ripples_of_a_simulated_sleep_run():
    from panneuro.behaviour.model import LearningSetParams, simulate_agent
    from panneuro.simulate.sleep import simulate_sleep_probe
    from panneuro.simulate.task import build_events

    sim = simulate_agent(
        LearningSetParams(30.0, 0.65), np.arange(100, 104), np.random.default_rng(1)
    )
    events = build_events(
        sim["problem"].to_numpy(),
        sim["trial"].to_numpy(),
        sim["correct"].to_numpy(),
        np.random.default_rng(2),
        trial_duration=1.5,
    )
    sleep = simulate_sleep_probe(
        events,
        coding=None,
        sleep_seed=3,
        epoch="pre",
        design=dataclasses.replace(DESIGN, duration_s=30.0),
        **PROBE,
    )
    ripples, lfp = run_ripples(sleep.recording, SETTINGS)
    score = ripple_score(ripples, sleep.ripples, {}).iloc[0]
    assert score["recall"] >= 0.8 and score["precision"] >= 0.8
    assert lfp["lfp"].dtype == np.float32 and len(lfp["channel_ids"]) == 4
    assert lfp["time"][0] == 0.0 and lfp["time"][-1] == pytest.approx(30.0, abs=0.01)
