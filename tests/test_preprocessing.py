"""Reading raw recordings, band-pass + bad channels + common reference, and the binary save."""

import datetime as dt
import json

import numpy as np
import pytest

from panneuro.ephys.preprocessing import (
    BAD_CHANNELS_FILE,
    READER_NAMES,
    READERS,
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
    with pytest.raises(ValueError, match="no reader for format 'plexon'.*supported"):
        read_recording(raw_nwb, "plexon")
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


def _binary_file(tmp_path, n_samples=3000, n_channels=4):
    """A small int16 recording written with SpikeInterface's binary writer, and its traces."""
    from spikeinterface.core import NumpyRecording, write_binary_recording

    traces = np.random.default_rng(3).integers(-2000, 2000, (n_samples, n_channels),
                                               dtype=np.int16)
    path = tmp_path / "probe.bin"
    write_binary_recording(NumpyRecording(traces, sampling_frequency=30000.0), file_paths=path,
                           dtype="int16", add_file_extension=False)
    return path, traces


def test_binary_round_trip_with_sidecar_and_options(tmp_path):
    path, traces = _binary_file(tmp_path)
    locations = [[0.0, 50.0 * i] for i in range(4)]
    (tmp_path / "probe.bin.json").write_text(json.dumps(
        {"sampling_frequency": 30000.0, "num_channels": 4, "dtype": "int16",
         "gain_to_uV": 0.195, "channel_locations": locations}))
    recording = read_recording(path, "binary")
    assert recording.get_num_channels() == 4 and recording.get_num_samples() == 3000
    assert recording.get_sampling_frequency() == 30000.0 and recording.has_probe()
    np.testing.assert_array_equal(recording.get_traces(), traces)
    np.testing.assert_allclose(recording.get_traces(return_in_uV=True), traces * 0.195,
                               rtol=1e-6)
    np.testing.assert_allclose(recording.get_channel_locations(), locations)
    # options given in code win over the sidecar (here: 2 channels of twice the length)
    two = read_recording(path, "binary", {"num_channels": 2,
                                          "channel_locations": [[0.0, 0.0], [0.0, 50.0]]})
    assert two.get_num_channels() == 2 and two.get_num_samples() == 6000
    # geometry from a probeinterface file named in the sidecar, relative to it
    import probeinterface as pi

    probe = pi.generate_linear_probe(num_elec=4, ypitch=20.0)
    probe.set_device_channel_indices(np.arange(4))
    pi.write_probeinterface(tmp_path / "probe.json", probe)
    (tmp_path / "probe.bin.json").write_text(json.dumps(
        {"sampling_frequency": 30000.0, "num_channels": 4, "dtype": "int16",
         "probe_file": "probe.json"}))
    np.testing.assert_allclose(read_recording(path, "binary").get_channel_locations(),
                               probe.contact_positions)


def test_binary_errors_are_one_line_and_name_the_file(tmp_path):
    path, _ = _binary_file(tmp_path, n_samples=100)
    with open(path, "ab") as f:
        f.write(b"\x00\x01\x02")  # a partial frame: truncated file
    sidecar = {"sampling_frequency": 30000.0, "num_channels": 4, "dtype": "int16",
               "channel_locations": [[0.0, 10.0 * i] for i in range(4)]}
    (tmp_path / "probe.bin.json").write_text(json.dumps(sidecar))
    with pytest.raises(ValueError, match="not a whole number of frames") as info:
        read_recording(path, "binary")
    message = str(info.value)
    assert "\n" not in message and message.startswith(str(path))
    # no sidecar and no options: says what is needed and where
    path.with_name("probe.bin.json").unlink()
    with pytest.raises(ValueError, match=r"plain binary needs .*probe\.bin\.json"):
        read_recording(path, "binary")
    # no geometry: a clear error too
    (tmp_path / "good").mkdir()
    good, _ = _binary_file(tmp_path / "good", n_samples=100)
    with pytest.raises(ValueError, match="no channel locations"):
        read_recording(good, "binary", {k: v for k, v in sidecar.items()
                                        if k != "channel_locations"})
    with pytest.raises(ValueError, match="unknown plain-binary option"):
        read_recording(good, "binary", {**sidecar, "n_chan": 4})


def test_mislabelled_files_give_one_line_errors(raw_nwb, tmp_path):
    path, _ = _binary_file(tmp_path, n_samples=100)
    for fmt in ("nwb", "blackrock", "intan"):
        with pytest.raises(ValueError, match=f"cannot read as {fmt} with") as info:
            read_recording(path, fmt)
        assert str(info.value).startswith(str(path)) and "\n" not in str(info.value)
    # an NWB file read as SpikeGLX: the folder has no .meta/.bin pair
    with pytest.raises(ValueError, match="cannot read as spikeglx with .*read_spikeglx"):
        read_recording(raw_nwb, "spikeglx")


@pytest.mark.parametrize(("fmt", "function", "name"), [
    ("spikeglx", "read_spikeglx", "run_g0_t0.imec0.ap.bin"),
    ("openephys", "read_openephys", "Record Node 101"),
    ("intan", "read_intan", "rec.rhd"),
    ("blackrock", "read_blackrock", "rec.ns5"),
    ("neuralynx", "read_neuralynx", "nlx"),
])
def test_neo_formats_dispatch_to_their_reader(fmt, function, name, tmp_path):
    import spikeinterface.extractors as se

    # neo cannot write these formats, so the test checks the dispatch and the missing-file error
    assert hasattr(se, function)
    assert READER_NAMES[fmt] == f"spikeinterface.extractors.{function}"
    assert READERS[fmt].__name__ == READER_NAMES[fmt]
    with pytest.raises(FileNotFoundError, match=f"not found \\(format {fmt}, reader "
                                                f"spikeinterface.extractors.{function}\\)"):
        read_recording(tmp_path / name, fmt)


def test_read_recording_checks_bids_sidecars_channel_counts_and_nans(tmp_path):
    """Inside a BIDS dataset a recording must agree with its _ieeg.json and _channels.tsv."""
    from spikeinterface.core import NumpyRecording, write_binary_recording

    (tmp_path / "dataset_description.json").write_text("{}")
    folder = tmp_path / "sub-1" / "ieeg"
    folder.mkdir(parents=True)
    path = folder / "sub-1_task-x_ieeg.bin"
    traces = np.zeros((3000, 4), dtype="float32")
    traces[1000, 2] = np.nan
    write_binary_recording(NumpyRecording(traces, sampling_frequency=30000.0), file_paths=path,
                           dtype="float32", add_file_extension=False)
    sidecar = {"sampling_frequency": 30000.0, "num_channels": 4, "dtype": "float32",
               "channel_ids": ["a", "b", "c", "d"],
               "channel_locations": [[0.0, 10.0 * i] for i in range(4)]}
    (folder / "sub-1_task-x_ieeg.bin.json").write_text(json.dumps(sidecar))
    (folder / "sub-1_task-x_ieeg.json").write_text(json.dumps({"SamplingFrequency": 30000.0}))
    with pytest.raises(ValueError, match="sub-1_task-x_channels.tsv: missing"):
        read_recording(path, "binary")
    (folder / "sub-1_task-x_channels.tsv").write_text("name\ttype\tunits\n" + "".join(
        f"{c}\tSEEG\tuV\n" for c in "abcd"))
    with pytest.raises(ValueError, match=r"NaN or infinite samples in 1 channel\(s\): c \(1 "):
        read_recording(path, "binary")
    with pytest.raises(ValueError, match="SamplingFrequency 30000 Hz but .* reads at 15000 Hz"):
        read_recording(path, "binary", {"sampling_frequency": 15000.0})
    with pytest.raises(ValueError, match="num_channels is 2 but channel_ids lists 4") as info:
        read_recording(path, "binary", {"num_channels": 2})
    assert str(info.value).startswith(str(path)) and "ieeg.bin.json" in str(info.value)
