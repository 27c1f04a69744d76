"""Simulated probes: planted tuning in the spike trains, the recording, NWB and ground truth."""

import datetime as dt
import hashlib

import numpy as np
import pandas as pd
import pytest

from panneuro.simulate.ephys import (
    GAIN_TO_UV,
    LEARNING_TAU,
    NOISE_UV,
    REFRACTORY_MS,
    WINDOWS,
    poisson_spike_samples,
    read_probe_ground_truth,
    read_session_ground_truth,
    refractory_keep,
    simulate_probe,
    tuned_rates,
    write_probe_ground_truth,
    write_probe_nwb,
)
from panneuro.simulate.task import build_events, task_variables

START = dt.datetime(2000, 1, 1, 9, 0, 0, tzinfo=dt.UTC)


def _events(n_problems, first_problem=1, seed=0):
    rng = np.random.default_rng(seed)
    problem = np.repeat(np.arange(first_problem, first_problem + n_problems), 6)
    trial = np.tile(np.arange(1, 7), n_problems)
    correct = (rng.random(problem.size) < np.where(trial == 1, 0.5, 0.85)).astype(int)
    return build_events(problem, trial, correct, rng, trial_duration=1.5)


def _duration(events):
    return float(events["onset"].iloc[-1] + events["duration"].iloc[-1] + 1.0)


@pytest.fixture(scope="module")
def long_probe():
    """300 trials: only the spike trains are used (the recording stays lazy)."""
    events = _events(50, first_problem=200)
    sim = simulate_probe(
        events,
        n_channels=32,
        n_units=25,
        sampling_frequency=30000.0,
        duration=_duration(events),
        region="prefrontal",
        seed=11,
    )
    return events, sim


def _window_counts(events, spike_times, variable):
    anchor, start, stop = WINDOWS[variable]
    onset = events["onset"].to_numpy()
    anchors = {
        "onset": onset,
        "response": onset + events["response_time"].to_numpy(),
        "feedback": onset + events["feedback_time"].to_numpy(),
    }
    a = anchors[anchor] + start
    b = anchors["response"] if stop is None else anchors[anchor] + stop
    return np.searchsorted(spike_times, b) - np.searchsorted(spike_times, a)


def test_planted_tuning_shows_in_spike_counts(long_probe):
    events, sim = long_probe
    variables = task_variables(events)
    fs = sim.recording.get_sampling_frequency()
    tuned = sim.units[sim.units["variable"] != "none"]
    assert len(tuned) >= 15 and (sim.units["variable"] == "none").sum() >= 3
    for unit in tuned.itertuples():
        times = sim.sorting.get_unit_spike_train(unit.unit_id) / fs
        counts = _window_counts(events, times, unit.variable)
        value = variables[unit.variable].to_numpy()
        high, low = counts[value == 1].mean(), counts[value == 0].mean()
        # rate ratio exp(2 * gain) >= e between the two conditions: clearly visible
        assert high > 1.5 * low, (unit.unit_id, unit.variable, high, low)
    for unit in sim.units[sim.units["variable"] == "none"].itertuples():
        times = sim.sorting.get_unit_spike_train(unit.unit_id) / fs
        counts = _window_counts(events, times, "choice")
        value = variables["choice"].to_numpy()
        assert (
            abs(np.log((counts[value == 1].mean() + 0.1) / (counts[value == 0].mean() + 0.1))) < 0.5
        )


def test_stay_gain_grows_with_learning():
    events = _events(40, first_problem=1)
    units = pd.DataFrame({"variable": ["stay"], "gain": [1.0], "base_rate": [5.0]})
    rates = tuned_rates(events, units, duration=_duration(events))[0]
    stay = task_variables(events)["stay"].to_numpy()
    bins = ((events["onset"] + 0.2) / 0.001).astype(int).to_numpy()
    modulation = np.abs(np.log(rates[bins] / 5.0))
    early = modulation[(events["problem"] <= 3).to_numpy() & ~np.isnan(stay)]
    late = modulation[(events["problem"] >= 35).to_numpy() & ~np.isnan(stay)]
    assert early.max() < 0.2 < 0.8 < late.min()
    np.testing.assert_allclose(modulation[np.isnan(stay)], 0, atol=1e-12)  # first trials


def test_coding_table_of_factors_one_reproduces_the_fixed_curve():
    events = _events(12, first_problem=3)
    units = pd.DataFrame(
        {
            "variable": ["stay", "choice", "none"],
            "gain": [0.8, 0.6, 0.0],
            "base_rate": [5.0, 7.0, 3.0],
        }
    )
    problem = events["problem"].to_numpy(float)
    coding = pd.DataFrame(
        {
            "problem": events["problem"],
            "trial": events["trial"],
            "learning_set_prior": 0.0,
            "stay_factor": 1.0 - np.exp(-problem / LEARNING_TAU),
            "coding_factor": 1.0,
            "rate_factor": 1.0,
        }
    )
    fixed = tuned_rates(events, units, duration=_duration(events))
    np.testing.assert_allclose(
        tuned_rates(events, units, duration=_duration(events), coding=coding), fixed, rtol=1e-12
    )


def test_stay_code_follows_the_agents_own_learning_set_prior():
    """Two learners on the same problems: the faster one's stay code is stronger."""
    from panneuro.behaviour.model import LearningSetParams
    from panneuro.simulate.inactivation import Inactivation, probe_coding

    none = Inactivation(
        region="hippocampus", prior_odds_factor=1.0, coding_factor=0.0, rate_factor=0.25
    )
    events = _events(60, first_problem=21)
    units = pd.DataFrame(
        {"unit_id": np.arange(8), "variable": "stay", "gain": 0.8, "base_rate": 8.0}
    )
    stay = task_variables(events)["stay"].to_numpy()
    fs, duration = 30000.0, _duration(events)
    modulation = {}
    for n_half in (10.0, 120.0):
        agent = LearningSetParams(n_half=n_half, beta=0.65)
        coding = probe_coding(
            events, agent=agent, condition="control", region="prefrontal", inactivation=none
        )
        # the planted factor is the agent's prior p / (p + tau), not a curve of the problem
        np.testing.assert_allclose(
            coding["stay_factor"], events["problem"] / (events["problem"] + agent.tau), rtol=1e-8
        )
        rates = tuned_rates(events, units, duration=duration, coding=coding)
        trains = poisson_spike_samples(
            rates,
            dt=0.001,
            sampling_frequency=fs,
            refractory_ms=REFRACTORY_MS,
            margin_samples=0,
            n_samples=int(duration * fs),
            rng=np.random.default_rng(int(n_half)),
        )
        ratios = []
        for train in trains:
            counts = _window_counts(events, train / fs, "stay")
            ratios.append(np.log(counts[stay == 1].mean() / counts[stay == 0].mean()))
        modulation[n_half] = float(np.mean(ratios))
    # planted: 2 * 0.8 * prior, ~1.3 for the fast learner (prior ~0.85) and ~0.5 (~0.3)
    assert modulation[10.0] > 1.0 and modulation[120.0] < 0.75
    assert modulation[10.0] - modulation[120.0] > 0.5


def test_refractory_period_and_rates(long_probe):
    events, sim = long_probe
    fs = sim.recording.get_sampling_frequency()
    duration = sim.recording.get_total_duration()
    for unit in sim.units.itertuples():
        train = sim.sorting.get_unit_spike_train(unit.unit_id)
        assert np.all(np.diff(train) > REFRACTORY_MS * 1e-3 * fs)
        rate = train.size / duration
        assert 0.3 * unit.base_rate < rate < 3 * unit.base_rate


def test_recording_properties_and_snr():
    events = _events(2)
    sim = simulate_probe(
        events,
        n_channels=32,
        n_units=10,
        sampling_frequency=30000.0,
        duration=_duration(events),
        region="prefrontal",
        seed=3,
    )
    rec = sim.recording
    assert rec.get_dtype() == np.int16 and rec.get_num_channels() == 32
    assert rec.get_sampling_frequency() == 30000.0 and rec.has_probe()
    np.testing.assert_allclose(rec.get_channel_gains(), GAIN_TO_UV)
    assert sim.geometry == "linear"
    assert np.ptp(rec.get_channel_locations()[:, 1]) == pytest.approx(31 * 50.0)
    assert (sim.units["snr"] > 5).mean() > 0.7
    # band-limited noise level as planted (filtered traces, robust s.d.)
    import spikeinterface.preprocessing as spre

    filtered = spre.bandpass_filter(rec, freq_min=300, freq_max=6000, dtype="float32")
    traces = filtered.get_traces(start_frame=30000, end_frame=90000, return_in_uV=True)
    mad_sd = np.median(np.abs(traces - np.median(traces, axis=0)), axis=0) / 0.6745
    assert np.median(mad_sd) == pytest.approx(NOISE_UV, rel=0.15)
    # the same seed gives the same data; another seed does not
    again = simulate_probe(
        events,
        n_channels=32,
        n_units=10,
        sampling_frequency=30000.0,
        duration=_duration(events),
        region="prefrontal",
        seed=3,
    )
    np.testing.assert_array_equal(
        rec.get_traces(end_frame=3000), again.recording.get_traces(end_frame=3000)
    )
    assert sim.units.equals(again.units)


def test_microwire_bundle_geometry():
    events = _events(1)
    sim = simulate_probe(
        events,
        n_channels=8,
        n_units=6,
        sampling_frequency=30000.0,
        duration=_duration(events),
        region="hippocampus",
        seed=4,
    )
    assert sim.geometry == "bundle"
    locations = sim.recording.get_channel_locations()
    distances = np.linalg.norm(locations[:, None] - locations[None], axis=-1)
    assert distances[~np.eye(8, dtype=bool)].min() > 100  # wires far apart
    assert set(sim.units["region"]) == {"hippocampus"}


def _md5(path):
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_nwb_round_trip_and_ground_truth(tmp_path):
    import spikeinterface.extractors as se
    from pynwb import NWBHDF5IO

    events = _events(1)
    sim = simulate_probe(
        events,
        n_channels=8,
        n_units=4,
        sampling_frequency=30000.0,
        duration=_duration(events),
        region="hippocampus",
        seed=5,
    )
    path = tmp_path / "sub-H2_ses-01_task-harlow_acq-MW_ieeg.nwb"
    kwargs = dict(
        subject="H2",
        session="01",
        species="human",
        region="hippocampus",
        session_start=START,
        age="P35Y",
        sex="F",
    )
    write_probe_nwb(sim, path, **kwargs)
    first = _md5(path)
    write_probe_nwb(sim, path, **kwargs)
    assert _md5(path) == first  # deterministic object IDs and dates
    back = se.read_nwb_recording(path, electrical_series_path="acquisition/ElectricalSeriesRaw")
    np.testing.assert_array_equal(back.get_traces(), sim.recording.get_traces())
    np.testing.assert_allclose(back.get_channel_gains(), GAIN_TO_UV)
    np.testing.assert_allclose(back.get_channel_locations(), sim.recording.get_channel_locations())
    with NWBHDF5IO(str(path), "r") as io:
        nwbfile = io.read()
        assert set(nwbfile.electrodes["location"][:]) == {"hippocampus"}
        assert nwbfile.subject.species == "Homo sapiens" and nwbfile.subject.age == "P35Y"
        assert nwbfile.session_start_time.astimezone(dt.UTC) == START

    prefix = tmp_path / "sub-H2_ses-01_acq-MW"
    write_probe_ground_truth(sim, prefix)
    first = _md5(tmp_path / "sub-H2_ses-01_acq-MW_spikes.npz")
    write_probe_ground_truth(sim, prefix)
    assert _md5(tmp_path / "sub-H2_ses-01_acq-MW_spikes.npz") == first
    sorting, units = read_probe_ground_truth(prefix)
    pd.testing.assert_frame_equal(units, sim.units, check_dtype=False)
    for unit in units["unit_id"]:
        np.testing.assert_array_equal(
            sorting.get_unit_spike_train(unit), sim.sorting.get_unit_spike_train(unit)
        )
    with pytest.raises(FileNotFoundError, match="ground truth not found"):
        read_probe_ground_truth(tmp_path / "nothing")


def _refractory_keep_by_loop(samples: np.ndarray, refractory: int) -> np.ndarray:
    """The sequential rule over every spike (what the simulator ran before, the reference)."""
    keep = np.ones(samples.size, dtype=bool)
    last = -refractory - 1
    for k, s in enumerate(samples):
        if s - last <= refractory:
            keep[k] = False
        else:
            last = s
    return keep


@pytest.mark.parametrize("rate_hz", [5.0, 200.0, 900.0])
def test_refractory_mask_is_the_sequential_rule(rate_hz):
    """Same mask as the loop over every spike, also where runs of close spikes chain (900 Hz)."""
    rng = np.random.default_rng(int(rate_hz))
    samples = np.sort(rng.integers(0, 30000 * 20, size=int(rate_hz * 20)))
    expected = _refractory_keep_by_loop(samples, 45)
    np.testing.assert_array_equal(refractory_keep(samples, 45), expected)
    assert rate_hz < 100 or (~expected).sum() > 10  # the fast rates do drop spikes


def test_session_ground_truth_stacks_the_probes(tmp_path):
    """Two probes' truth: units with their probe, trains in s in the units' order, one rate."""
    events = _events(1)
    prefixes = []
    for probe, fs in (("PFC", 30000.0), ("HPC", 30000.0), ("SLOW", 20000.0)):
        sim = simulate_probe(
            events,
            n_channels=4,
            n_units=2,
            sampling_frequency=fs,
            duration=_duration(events),
            region="prefrontal",
            seed=len(probe),
        )
        prefix = tmp_path / f"sub-M1_ses-01_acq-{probe}"
        write_probe_ground_truth(sim, prefix)
        prefixes.append((prefix, sim))
    truth = read_session_ground_truth([p for p, _ in prefixes[:2]])
    assert truth.units["probe"].tolist() == ["PFC", "PFC", "HPC", "HPC"]
    assert truth.sampling_frequency == 30000.0 and truth.codings == {"PFC": None, "HPC": None}
    expected = [
        s.sorting.get_unit_spike_train(u) / 30000.0
        for _, s in prefixes[:2]
        for u in s.units["unit_id"]
    ]
    for got, want in zip(truth.trains, expected, strict=True):
        np.testing.assert_array_equal(got, want)
    with pytest.raises(ValueError, match="one sampling frequency"):
        read_session_ground_truth([prefixes[0][0], prefixes[2][0]])
