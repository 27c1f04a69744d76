"""Sleep epochs: sharp-wave ripples in the hippocampal broadband and replay of the task."""

import dataclasses

import numpy as np
import pytest
import scipy.signal

from panneuro.behaviour.model import LearningSetParams, simulate_agent
from panneuro.simulate.ephys import (
    poisson_spike_samples,
    probe_neurons,
    simulate_probe,
    tuned_rates,
)
from panneuro.simulate.sleep import (
    SleepDesign,
    correlation,
    pattern_similarity,
    ripple_counts,
    simulate_sleep_probe,
    task_cofiring,
    write_sleep_truth,
)
from panneuro.simulate.task import build_events

FS = 30000.0
DESIGN = SleepDesign(
    regions=("hippocampus",),
    duration_s=150.0,
    gap_s=60.0,
    ripple_rate_hz=1.0,
    ripple_min_interval_s=0.25,
    frequency_hz=(150.0, 250.0),
    duration_range_s=(0.04, 0.1),
    amplitude_uv=(40.0, 100.0),
    sharp_wave_factor=1.5,
    unit_rate_factor=0.5,
    ripple_rate_gain=8.0,
    replay_fraction={"pre": 0.1, "post": 0.8},
    n_variants=16,
)
PROBE = {
    "n_channels": 32,
    "n_units": 12,
    "sampling_frequency": FS,
    "region": "hippocampus",
    "seed": 7,
}


@pytest.fixture(scope="module")
def events():
    sim = simulate_agent(
        LearningSetParams(30.0, 0.65), np.arange(100, 130), np.random.default_rng(1)
    )
    return build_events(
        sim["problem"].to_numpy(),
        sim["trial"].to_numpy(),
        sim["correct"].to_numpy(),
        np.random.default_rng(2),
        trial_duration=1.5,
    )


@pytest.fixture(scope="module")
def epochs(events):
    return {
        epoch: simulate_sleep_probe(
            events, coding=None, sleep_seed=seed, epoch=epoch, design=DESIGN, **PROBE
        )
        for epoch, seed in (("pre", 1), ("post", 2))
    }


def _seconds(sorting):
    return [sorting.get_unit_spike_train(u) / FS for u in sorting.unit_ids]


def test_sleep_recording_holds_the_task_neurons(events, epochs):
    task = simulate_probe(events, duration=float(events["onset"].iloc[-1] + 2.5), **PROBE)
    for sleep in epochs.values():
        assert sleep.units.equals(task.units)
        assert sleep.recording.get_num_channels() == 32
        assert sleep.recording.get_total_duration() == pytest.approx(DESIGN.duration_s)
        np.testing.assert_array_equal(
            sleep.recording.get_channel_locations(), task.recording.get_channel_locations()
        )
    again = simulate_sleep_probe(
        events, coding=None, sleep_seed=1, epoch="pre", design=DESIGN, **PROBE
    )
    assert again.ripples.equals(epochs["pre"].ripples)


def test_ripples_are_in_the_broadband_at_the_planted_times(epochs):
    sleep = epochs["pre"]
    ripples = sleep.ripples
    assert 100 <= len(ripples) <= 150  # ~1 Hz over 150 s, thinned to 0.25 s intervals
    assert ripples["frequency"].between(150, 250).all()
    # the first 20 s of the broadband, ripple band (150-250 Hz) envelope on the profile's peak
    traces = sleep.recording.get_traces(start_frame=0, end_frame=int(20 * FS), return_in_uV=True)
    sos = scipy.signal.butter(4, [150.0, 250.0], btype="band", fs=FS, output="sos")
    band = scipy.signal.sosfiltfilt(sos, traces[:, int(np.argmax(sleep.profile))].astype(float))
    envelope = np.abs(scipy.signal.hilbert(band))
    peaks, _ = scipy.signal.find_peaks(
        envelope, height=envelope.mean() + 3 * envelope.std(), distance=int(0.1 * FS)
    )
    detected = peaks / FS
    planted = ripples["peak_time"].to_numpy()
    planted = planted[planted < 19.9]
    hits = np.mean([np.min(np.abs(detected - t)) < 0.03 for t in planted])
    false = np.mean([np.min(np.abs(planted - t)) > 0.05 for t in detected])
    assert len(planted) >= 12 and hits >= 0.9 and false <= 0.1
    # the ripple band is quiet away from the ripples (no planted event, no detection)
    far = np.min(np.abs(np.arange(0, 20, 0.01)[:, None] - planted[None, :]), axis=1) > 0.15
    quiet = envelope[(np.arange(0, 20, 0.01)[far] * FS).astype(int)]
    assert np.percentile(quiet, 99) < 0.5 * ripples["amplitude_uv"].min()


def test_ripple_cofiring_is_more_like_the_task_after_than_before(events, epochs):
    neurons = probe_neurons(
        **{k: PROBE[k] for k in ("n_channels", "n_units", "sampling_frequency", "region", "seed")}
    )
    duration = float(events["onset"].iloc[-1] + events["duration"].iloc[-1] + 1.0)
    rates = tuned_rates(events, neurons.units, duration=duration)
    # the task's co-firing, measured from task spike trains in 50 ms bins
    trains = poisson_spike_samples(
        rates,
        dt=0.001,
        sampling_frequency=FS,
        refractory_ms=2.0,
        margin_samples=0,
        n_samples=int(duration * FS),
        rng=np.random.default_rng(3),
    )
    edges = np.arange(0.0, duration, 0.05)
    task = correlation(np.column_stack([np.histogram(t / FS, edges)[0] for t in trains]))
    assert pattern_similarity(task, task_cofiring(rates)) > 0.5
    similarity = {}
    for epoch, sleep in epochs.items():
        counts = ripple_counts(_seconds(sleep.sorting), sleep.ripples)
        assert counts.sum(axis=1).mean() > 10  # units burst in ripples
        similarity[epoch] = pattern_similarity(correlation(counts), task)
    assert similarity["post"] > 0.25
    assert similarity["post"] - similarity["pre"] > 0.15
    # the replay fractions planted (0.1 before, 0.8 after)
    assert epochs["pre"].ripples["replay"].mean() < 0.25
    assert epochs["post"].ripples["replay"].mean() > 0.65


def test_without_replay_the_epochs_do_not_differ(events):
    flat = dataclasses.replace(DESIGN, replay_fraction={"pre": 0.0, "post": 0.0})
    sleep = simulate_sleep_probe(
        events, coding=None, sleep_seed=2, epoch="post", design=flat, **PROBE
    )
    neurons = probe_neurons(**PROBE)
    duration = float(events["onset"].iloc[-1] + events["duration"].iloc[-1] + 1.0)
    template = task_cofiring(tuned_rates(events, neurons.units, duration=duration))
    counts = ripple_counts(_seconds(sleep.sorting), sleep.ripples)
    assert abs(pattern_similarity(correlation(counts), template)) < 0.2


def test_truth_files(epochs, tmp_path):
    from spikeinterface.core import NpzSortingExtractor

    from panneuro.io.tables import read_tsv

    write_sleep_truth(epochs["post"], tmp_path / "x_task-sleep_acq-HPC_run-2")
    ripples = read_tsv(tmp_path / "x_task-sleep_acq-HPC_run-2_ripples.tsv")
    assert len(ripples) == len(epochs["post"].ripples)
    assert (ripples["end_time"] > ripples["start_time"]).all()
    assert ripples.loc[ripples["replay"] == 0, "replayed_task_time"].isna().all()
    sorting = NpzSortingExtractor(tmp_path / "x_task-sleep_acq-HPC_run-2_spikes.npz")
    assert sorting.count_total_num_spikes() == epochs["post"].sorting.count_total_num_spikes()
