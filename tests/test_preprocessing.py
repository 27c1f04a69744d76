"""Reading raw recordings, band-pass + bad channels + common reference, and the binary save."""

import datetime as dt

import numpy as np
import pytest

from panneuro.ephys.preprocessing import (
    BAD_CHANNELS_FILE,
    load_preprocessed,
    preprocess,
    read_bad_channels,
    read_recording,
    save_recording,
)
from panneuro.simulate.ephys import simulate_probe, write_probe_nwb
from panneuro.simulate.task import build_events


def _events(n_problems, seed=0):
    rng = np.random.default_rng(seed)
    problem = np.repeat(np.arange(1, 1 + n_problems), 6)
    trial = np.tile(np.arange(1, 7), n_problems)
    return build_events(problem, trial, np.ones(problem.size, dtype=int), rng,
                        trial_duration=1.5)


@pytest.fixture(scope="module")
def raw_nwb(tmp_path_factory):
    """A 32-channel, ~29 s simulated probe written as NWB."""
    events = _events(3)
    sim = simulate_probe(events, n_channels=32, n_units=8, sampling_frequency=30000.0,
                         duration=29.0, region="prefrontal", seed=21)
    path = tmp_path_factory.mktemp("raw") / "sub-M1_ses-04_task-harlow_acq-PFC_ieeg.nwb"
    write_probe_nwb(sim, path, subject="M1", session="04", species="macaque",
                    region="prefrontal", session_start=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    return path


def test_read_recording_by_format(raw_nwb, tmp_path):
    recording = read_recording(raw_nwb, "nwb")
    assert recording.get_num_channels() == 32 and recording.has_probe()
    with pytest.raises(ValueError, match="no reader for format 'spikeglx'"):
        read_recording(raw_nwb, "spikeglx")
    with pytest.raises(FileNotFoundError, match="raw recording not found"):
        read_recording(tmp_path / "missing.nwb", "nwb")


def test_preprocess_and_save(raw_nwb, tmp_path):
    recording = read_recording(raw_nwb, "nwb")
    out, bad = preprocess(recording, freq_min=300.0, freq_max=6000.0, reference="median",
                          detect_bad_channels=True, seed=1)
    assert not bad["bad"].any(), bad[bad["bad"]]
    assert out.get_num_channels() == 32 and out.get_dtype() == np.int16
    np.testing.assert_allclose(out.get_channel_gains(), recording.get_channel_gains())
    saved = save_recording(out, tmp_path / "preprocessed", n_jobs=2, chunk_duration="5s",
                           bad_channels=bad)
    assert saved.get_num_samples() == recording.get_num_samples()
    assert (tmp_path / "preprocessed" / BAD_CHANNELS_FILE).exists()
    assert read_bad_channels(tmp_path / "preprocessed")["channel_id"].tolist() == [
        str(c) for c in recording.channel_ids]
    traces = load_preprocessed(tmp_path / "preprocessed").get_traces(
        start_frame=30000, end_frame=60000, return_in_uV=True).astype(float)
    # band-passed: no offset, and the common median reference removes shared signal
    assert np.abs(traces.mean(axis=0)).max() < 2.0
    np.testing.assert_allclose(np.median(traces, axis=1), 0, atol=0.5)
    with pytest.raises(FileNotFoundError, match="not a SpikeInterface binary folder"):
        load_preprocessed(tmp_path)


def test_dead_and_noisy_channels_are_removed(raw_nwb):
    import spikeinterface.preprocessing as spre

    recording = read_recording(raw_nwb, "nwb")
    gains = np.ones(32)
    gains[5], gains[20] = 0.0, 10.0
    damaged = spre.scale(recording, gain=gains, dtype="int16")
    out, bad = preprocess(damaged, freq_min=300.0, freq_max=6000.0, reference="median",
                          detect_bad_channels=True, seed=1)
    labels = dict(zip(bad["channel_id"], bad["label"], strict=True))
    ids = [str(c) for c in recording.channel_ids]
    assert labels[ids[5]] == "dead" and labels[ids[20]] == "noise"
    assert bad["bad"].sum() == 2 and set(bad["method"]) == {"coherence+psd"}
    assert out.get_num_channels() == 30 and ids[5] not in [str(c) for c in out.channel_ids]


def test_bundle_uses_mad_and_options_are_checked():
    events = _events(2)
    sim = simulate_probe(events, n_channels=8, n_units=4, sampling_frequency=30000.0,
                         duration=19.0, region="hippocampus", seed=2)
    out, bad = preprocess(sim.recording, freq_min=300.0, freq_max=6000.0, reference="none",
                          detect_bad_channels=True, seed=1)
    assert set(bad["method"]) == {"mad"} and out.get_num_channels() == 8
    _, skipped = preprocess(sim.recording, freq_min=300.0, freq_max=6000.0,
                            reference="average", detect_bad_channels=False)
    assert set(skipped["method"]) == {"none"} and not skipped["bad"].any()
    with pytest.raises(ValueError, match="reference"):
        preprocess(sim.recording, freq_min=300.0, freq_max=6000.0, reference="car",
                   detect_bad_channels=False)
    with pytest.raises(ValueError, match="Nyquist"):
        preprocess(sim.recording, freq_min=300.0, freq_max=20000.0, reference="median",
                   detect_bad_channels=False)
