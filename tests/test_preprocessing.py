"""Reading raw recordings, band-pass + bad channels + common reference, and the binary save."""

import datetime as dt
import json

import numpy as np
import pytest

from panneuro.ephys.motion import read_motion
from panneuro.ephys.preprocessing import (
    BAD_CHANNELS_FILE,
    READER_NAMES,
    READERS,
    load_preprocessed,
    preprocess,
    preprocess_kwargs,
    read_bad_channels,
    read_recording,
    save_recording,
    threads_limited_once,
)
from panneuro.simulate.ephys import simulate_probe, write_probe_nwb
from panneuro.simulate.task import build_events


def _events(n_problems, seed=0):
    rng = np.random.default_rng(seed)
    problem = np.repeat(np.arange(1, 1 + n_problems), 6)
    trial = np.tile(np.arange(1, 7), n_problems)
    return build_events(problem, trial, np.ones(problem.size, dtype=int), rng, trial_duration=1.5)


@pytest.fixture(scope="module")
def raw_nwb(tmp_path_factory):
    """A 32-channel, ~29 s simulated probe written as NWB."""
    events = _events(3)
    sim = simulate_probe(
        events,
        n_channels=32,
        n_units=8,
        sampling_frequency=30000.0,
        duration=29.0,
        region="prefrontal",
        seed=21,
    )
    path = tmp_path_factory.mktemp("raw") / "sub-M1_ses-04_task-harlow_acq-PFC_ieeg.nwb"
    write_probe_nwb(
        sim,
        path,
        subject="M1",
        session="04",
        species="macaque",
        region="prefrontal",
        session_start=dt.datetime(2000, 1, 1, tzinfo=dt.UTC),
    )
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
    out, bad = preprocess(
        recording,
        freq_min=300.0,
        freq_max=6000.0,
        reference="median",
        detect_bad_channels=True,
        seed=1,
    )
    assert not bad["bad"].any(), bad[bad["bad"]]
    assert out.get_num_channels() == 32 and out.get_dtype() == np.int16
    np.testing.assert_allclose(out.get_channel_gains(), recording.get_channel_gains())
    saved = save_recording(
        out, tmp_path / "preprocessed", n_jobs=2, chunk_duration="5s", bad_channels=bad
    )
    assert saved.get_num_samples() == recording.get_num_samples()
    assert (tmp_path / "preprocessed" / BAD_CHANNELS_FILE).exists()
    assert read_bad_channels(tmp_path / "preprocessed")["channel_id"].tolist() == [
        str(c) for c in recording.channel_ids
    ]
    traces = (
        load_preprocessed(tmp_path / "preprocessed")
        .get_traces(start_frame=30000, end_frame=60000, return_in_uV=True)
        .astype(float)
    )
    # band-passed: no offset, and the common median reference removes shared signal
    assert np.abs(traces.mean(axis=0)).max() < 2.0
    np.testing.assert_allclose(np.median(traces, axis=1), 0, atol=0.5)
    with pytest.raises(FileNotFoundError, match="not a SpikeInterface binary folder"):
        load_preprocessed(tmp_path)


def test_saved_provenance_names_the_raw_file_as_given_not_its_annex_object(raw_nwb, tmp_path):
    """A raw file behind a symlink (a DataLad dataset's annexed file) and the same file
    fetched from a bucket (no symlink) give the same saved folder's provenance.json: found
    2026-12-07 differing (SpikeInterface records resolved paths)."""
    import shutil

    def saved_record(dataset) -> bytes:
        recording = read_recording(dataset / "sub-M1" / raw_nwb.name, "nwb")
        folder = dataset.parent / "results" / dataset.name / "preprocessed"
        folder.parent.mkdir(parents=True)
        save_recording(recording.frame_slice(0, 3000), folder, n_jobs=1, chunk_duration="1s")
        return (folder / "provenance.json").read_bytes()

    annexed = tmp_path / "a" / "raw"
    (annexed / ".git" / "annex" / "objects").mkdir(parents=True)
    (annexed / "sub-M1").mkdir()
    shutil.copy(raw_nwb, annexed / ".git" / "annex" / "objects" / "KEY.nwb")
    (annexed / "sub-M1" / raw_nwb.name).symlink_to("../.git/annex/objects/KEY.nwb")
    plain = tmp_path / "b" / "raw"
    (plain / "sub-M1").mkdir(parents=True)
    shutil.copy(raw_nwb, plain / "sub-M1" / raw_nwb.name)
    from_annex, from_bucket = saved_record(annexed), saved_record(plain)
    assert b"annex/objects" not in from_annex
    assert f"../../../raw/sub-M1/{raw_nwb.name}".encode() in from_annex
    assert from_annex == from_bucket


def test_thread_limits_are_set_once_per_save_not_per_chunk(raw_nwb, tmp_path, monkeypatch):
    import spikeinterface.core as si
    import threadpoolctl

    loads = []
    original = threadpoolctl.ThreadpoolController._load_libraries

    def counted(self):
        loads.append(1)
        return original(self)

    monkeypatch.setattr(threadpoolctl.ThreadpoolController, "_load_libraries", counted)
    before = si.get_global_job_kwargs()["max_threads_per_worker"]
    out, bad = preprocess(
        read_recording(raw_nwb, "nwb"),
        freq_min=300.0,
        freq_max=6000.0,
        reference="median",
        detect_bad_channels=False,
    )
    loads.clear()
    save_recording(out, tmp_path / "p", n_jobs=2, chunk_duration="0.5s", bad_channels=bad)
    # dozens of chunks, one threadpoolctl scan of the process's libraries
    assert out.get_total_duration() / 0.5 >= 20
    assert len(loads) == 1
    assert si.get_global_job_kwargs()["max_threads_per_worker"] == before
    with threads_limited_once(limit=1):
        assert si.get_global_job_kwargs()["max_threads_per_worker"] is None
        assert all(pool["num_threads"] == 1 for pool in threadpoolctl.threadpool_info())
    assert si.get_global_job_kwargs()["max_threads_per_worker"] == before


def test_dead_and_noisy_channels_are_removed(raw_nwb):
    import spikeinterface.preprocessing as spre

    recording = read_recording(raw_nwb, "nwb")
    gains = np.ones(32)
    gains[5], gains[20] = 0.0, 10.0
    damaged = spre.scale(recording, gain=gains, dtype="int16")
    out, bad = preprocess(
        damaged,
        freq_min=300.0,
        freq_max=6000.0,
        reference="median",
        detect_bad_channels=True,
        seed=1,
    )
    labels = dict(zip(bad["channel_id"], bad["label"], strict=True))
    ids = [str(c) for c in recording.channel_ids]
    assert labels[ids[5]] == "dead" and labels[ids[20]] == "noise"
    assert bad["bad"].sum() == 2 and set(bad["method"]) == {"coherence+psd"}
    assert out.get_num_channels() == 30 and ids[5] not in [str(c) for c in out.channel_ids]


def test_bundle_uses_mad_and_options_are_checked():
    events = _events(2)
    sim = simulate_probe(
        events,
        n_channels=8,
        n_units=4,
        sampling_frequency=30000.0,
        duration=19.0,
        region="hippocampus",
        seed=2,
    )
    out, bad = preprocess(
        sim.recording,
        freq_min=300.0,
        freq_max=6000.0,
        reference="none",
        detect_bad_channels=True,
        seed=1,
    )
    assert set(bad["method"]) == {"mad"} and out.get_num_channels() == 8
    _, skipped = preprocess(
        sim.recording,
        freq_min=300.0,
        freq_max=6000.0,
        reference="average",
        detect_bad_channels=False,
    )
    assert set(skipped["method"]) == {"none"} and not skipped["bad"].any()
    with pytest.raises(ValueError, match="reference"):
        preprocess(
            sim.recording,
            freq_min=300.0,
            freq_max=6000.0,
            reference="car",
            detect_bad_channels=False,
        )
    with pytest.raises(ValueError, match="Nyquist"):
        preprocess(
            sim.recording,
            freq_min=300.0,
            freq_max=20000.0,
            reference="median",
            detect_bad_channels=False,
        )


def _binary_file(tmp_path, n_samples=3000, n_channels=4):
    """A small int16 recording written with SpikeInterface's binary writer, and its traces."""
    from spikeinterface.core import NumpyRecording, write_binary_recording

    traces = np.random.default_rng(3).integers(-2000, 2000, (n_samples, n_channels), dtype=np.int16)
    path = tmp_path / "probe.bin"
    write_binary_recording(
        NumpyRecording(traces, sampling_frequency=30000.0),
        file_paths=path,
        dtype="int16",
        add_file_extension=False,
    )
    return path, traces


def test_binary_round_trip_with_sidecar_and_options(tmp_path):
    path, traces = _binary_file(tmp_path)
    locations = [[0.0, 50.0 * i] for i in range(4)]
    (tmp_path / "probe.bin.json").write_text(
        json.dumps(
            {
                "sampling_frequency": 30000.0,
                "num_channels": 4,
                "dtype": "int16",
                "gain_to_uV": 0.195,
                "channel_locations": locations,
            }
        )
    )
    recording = read_recording(path, "binary")
    assert recording.get_num_channels() == 4 and recording.get_num_samples() == 3000
    assert recording.get_sampling_frequency() == 30000.0 and recording.has_probe()
    np.testing.assert_array_equal(recording.get_traces(), traces)
    np.testing.assert_allclose(recording.get_traces(return_in_uV=True), traces * 0.195, rtol=1e-6)
    np.testing.assert_allclose(recording.get_channel_locations(), locations)
    # options given in code win over the sidecar (here: 2 channels of twice the length)
    two = read_recording(
        path, "binary", {"num_channels": 2, "channel_locations": [[0.0, 0.0], [0.0, 50.0]]}
    )
    assert two.get_num_channels() == 2 and two.get_num_samples() == 6000
    # geometry from a probeinterface file named in the sidecar, relative to it
    import probeinterface as pi

    probe = pi.generate_linear_probe(num_elec=4, ypitch=20.0)
    probe.set_device_channel_indices(np.arange(4))
    pi.write_probeinterface(tmp_path / "probe.json", probe)
    (tmp_path / "probe.bin.json").write_text(
        json.dumps(
            {
                "sampling_frequency": 30000.0,
                "num_channels": 4,
                "dtype": "int16",
                "probe_file": "probe.json",
            }
        )
    )
    np.testing.assert_allclose(
        read_recording(path, "binary").get_channel_locations(), probe.contact_positions
    )


def test_binary_errors_are_one_line_and_name_the_file(tmp_path):
    path, _ = _binary_file(tmp_path, n_samples=100)
    with open(path, "ab") as f:
        f.write(b"\x00\x01\x02")  # a partial frame: truncated file
    sidecar = {
        "sampling_frequency": 30000.0,
        "num_channels": 4,
        "dtype": "int16",
        "channel_locations": [[0.0, 10.0 * i] for i in range(4)],
    }
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
        read_recording(
            good, "binary", {k: v for k, v in sidecar.items() if k != "channel_locations"}
        )
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


@pytest.mark.parametrize(
    ("fmt", "function", "name"),
    [
        ("spikeglx", "read_spikeglx", "run_g0_t0.imec0.ap.bin"),
        ("openephys", "read_openephys", "Record Node 101"),
        ("intan", "read_intan", "rec.rhd"),
        ("blackrock", "read_blackrock", "rec.ns5"),
        ("neuralynx", "read_neuralynx", "nlx"),
    ],
)
def test_neo_formats_dispatch_to_their_reader(fmt, function, name, tmp_path):
    import spikeinterface.extractors as se

    # dispatch and the missing-file error; a file of each format is also written and read back
    # below (SpikeGLX, Open Ephys, Blackrock, Intan, Neuralynx)
    assert hasattr(se, function)
    assert READER_NAMES[fmt] == f"spikeinterface.extractors.{function}"
    assert READERS[fmt].__name__ == READER_NAMES[fmt]
    with pytest.raises(
        FileNotFoundError,
        match=f"not found \\(format {fmt}, reader spikeinterface.extractors.{function}\\)",
    ):
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
    write_binary_recording(
        NumpyRecording(traces, sampling_frequency=30000.0),
        file_paths=path,
        dtype="float32",
        add_file_extension=False,
    )
    sidecar = {
        "sampling_frequency": 30000.0,
        "num_channels": 4,
        "dtype": "float32",
        "channel_ids": ["a", "b", "c", "d"],
        "channel_locations": [[0.0, 10.0 * i] for i in range(4)],
    }
    (folder / "sub-1_task-x_ieeg.bin.json").write_text(json.dumps(sidecar))
    (folder / "sub-1_task-x_ieeg.json").write_text(json.dumps({"SamplingFrequency": 30000.0}))
    with pytest.raises(ValueError, match="sub-1_task-x_channels.tsv: missing"):
        read_recording(path, "binary")
    (folder / "sub-1_task-x_channels.tsv").write_text(
        "name\ttype\tunits\n" + "".join(f"{c}\tSEEG\tuV\n" for c in "abcd")
    )
    with pytest.raises(ValueError, match=r"NaN or infinite samples in 1 channel\(s\): c \(1 "):
        read_recording(path, "binary")
    with pytest.raises(ValueError, match="SamplingFrequency 30000 Hz but .* reads at 15000 Hz"):
        read_recording(path, "binary", {"sampling_frequency": 15000.0})
    with pytest.raises(ValueError, match="num_channels is 2 but channel_ids lists 4") as info:
        read_recording(path, "binary", {"num_channels": 2})
    assert str(info.value).startswith(str(path)) and "ieeg.bin.json" in str(info.value)


# Small files in the acquisition systems' own documented formats, written here byte by byte:
# SpikeGLX (https://billkarsh.github.io/SpikeGLX/help/metadata/) and Open Ephys binary
# (https://open-ephys.github.io/gui-docs/User-Manual/Recording-data/Binary-format.html).
def _write_spikeglx(folder, n_samples=1000, *, ap_gain=500, range_max=0.6):
    """A Neuropixels 1.0 AP stream (384 channels + sync): ``.bin`` and ``.meta``, and its traces."""
    folder.mkdir(parents=True, exist_ok=True)
    n_channels = 384
    data = np.random.default_rng(5).integers(-512, 512, (n_samples, n_channels + 1), dtype=np.int16)
    stem = "run_g0_t0.imec0.ap"
    (folder / f"{stem}.bin").write_bytes(data.tobytes())
    meta = {
        "fileName": f"D:/data/run_g0/run_g0_imec0/{stem}.bin",
        "fileSizeBytes": data.nbytes,
        "firstSample": 0,
        "imAiRangeMax": range_max,
        "imAiRangeMin": -range_max,
        "imSampRate": 30000,
        "imDatPrb_pn": "NP1000",
        "imDatPrb_type": 0,
        "nSavedChans": n_channels + 1,
        "snsApLfSy": "384,0,1",
        "snsSaveChanSubset": "all",
        "typeThis": "imec",
        # (probe type, channels) then (channel bank reference ap-gain lf-gain ap-filter)
        "~imroTbl": "(0,384)" + "".join(f"({c} 0 0 {ap_gain} 250 1)" for c in range(384)),
        "~snsChanMap": "(384,384,1)"
        + "".join(f"(AP{c};{c}:{c})" for c in range(384))
        + "(SY0;768:768)",
    }
    (folder / f"{stem}.meta").write_text("".join(f"{k}={v}\n" for k, v in meta.items()))
    return folder / f"{stem}.bin", data[:, :n_channels]


def test_spikeglx_file_reads_back_samples_gain_rate_and_probe(tmp_path):
    path, data = _write_spikeglx(tmp_path / "run_g0_imec0")
    recording = read_recording(path, "spikeglx")  # the sheet names the .bin
    assert recording.get_num_channels() == 384 and recording.get_sampling_frequency() == 30000.0
    np.testing.assert_array_equal(recording.get_traces(), data)  # the sync channel is left out
    # NP 1.0: µV per count = imAiRangeMax / 512 / AP gain × 1e6
    np.testing.assert_allclose(recording.get_channel_gains(), 0.6 / 512 / 500 * 1e6)
    locations = recording.get_channel_locations()
    assert recording.has_probe() and np.unique(locations[:, 0]).size == 4  # staggered columns
    np.testing.assert_allclose(np.sort(np.unique(locations[:, 1]))[:3], [0.0, 20.0, 40.0])
    folder = read_recording(path.parent, "spikeglx", {"stream_name": "imec0.ap"})
    np.testing.assert_array_equal(folder.get_traces(start_frame=10, end_frame=20), data[10:20])
    # a truncated copy (neo would silently drop the partial frame): one line naming the file
    with open(path, "r+b") as f:
        f.truncate(path.stat().st_size - 100)
    with pytest.raises(ValueError, match="bytes but its .meta records") as info:
        read_recording(path, "spikeglx")
    assert str(info.value).startswith(str(path)) and "\n" not in str(info.value)


def _write_openephys(root, n_samples=3000, n_channels=8, bit_volts=0.195):
    """An Open Ephys (GUI >= 0.6) binary recording: ``structure.oebin`` + ``continuous.dat``."""
    recording = root / "Record Node 101" / "experiment1" / "recording1"
    stream = "Acquisition_Board-100.Rhythm Data"
    continuous = recording / "continuous" / stream
    continuous.mkdir(parents=True)
    data = np.random.default_rng(6).integers(-3000, 3000, (n_samples, n_channels), dtype=np.int16)
    (continuous / "continuous.dat").write_bytes(data.tobytes())
    np.save(continuous / "sample_numbers.npy", np.arange(n_samples, dtype=np.int64))
    np.save(continuous / "timestamps.npy", np.arange(n_samples) / 30000.0)
    channels = [
        {
            "channel_name": f"CH{i + 1}",
            "description": "headstage data channel",
            "identifier": "genericdata.continuous",
            "history": "Acquisition Board",
            "bit_volts": bit_volts,
            "units": "uV",
            "source_processor_index": i,
            "recorded_processor_index": i,
        }
        for i in range(n_channels)
    ]
    oebin = {
        "GUI version": "0.6.7",
        "events": [],
        "spikes": [],
        "continuous": [
            {
                "folder_name": f"{stream}/",
                "sample_rate": 30000.0,
                "source_processor_id": 100,
                "source_processor_name": "Acquisition Board",
                "stream_name": "Rhythm Data",
                "recorded_processor": "Record Node",
                "recorded_processor_id": 101,
                "num_channels": n_channels,
                "channels": channels,
            }
        ],
    }
    (recording / "structure.oebin").write_text(json.dumps(oebin, indent=2))
    return recording / "structure.oebin", data


def test_openephys_binary_reads_back_samples_gain_rate(tmp_path):
    oebin, data = _write_openephys(tmp_path / "2000-01-01_00-00-00")
    locations = [[0.0, 25.0 * i] for i in range(8)]
    # no settings.xml probe here: the geometry comes from the sidecar beside the named file
    (oebin.parent / "structure.oebin.json").write_text(json.dumps({"channel_locations": locations}))
    recording = read_recording(oebin, "openephys")
    assert recording.get_num_channels() == 8 and recording.get_sampling_frequency() == 30000.0
    np.testing.assert_array_equal(recording.get_traces(), data)
    np.testing.assert_allclose(recording.get_channel_gains(), 0.195)
    np.testing.assert_allclose(
        recording.get_traces(return_in_uV=True, end_frame=100), data[:100] * 0.195, rtol=1e-6
    )
    np.testing.assert_allclose(recording.get_channel_locations(), locations)
    with pytest.raises(ValueError, match="no channel locations"):
        read_recording(tmp_path / "2000-01-01_00-00-00", "openephys")  # folder, no sidecar
    dat = next(oebin.parent.rglob("continuous.dat"))
    with open(dat, "ab") as f:
        f.write(b"\x00" * 6)  # 3 samples of a 16-byte frame
    with pytest.raises(ValueError, match="not a whole number of 16-byte frames") as info:
        read_recording(oebin, "openephys")
    assert str(info.value).startswith(str(dat)) and "\n" not in str(info.value)


def _run_script(name, monkeypatch, **fields):
    """Run a workflow script in this process with a Snakemake-like ``snakemake`` object."""
    import runpy
    import sys
    from pathlib import Path
    from types import SimpleNamespace

    from snakemake.iocontainers import InputFiles, Log, Namedlist, OutputFiles, Params, Wildcards

    monkeypatch.setattr(sys, "stderr", sys.stderr)  # the script sends stderr to its log
    smk = SimpleNamespace(
        input=InputFiles(fromdict=fields["input"]),
        output=OutputFiles(fromdict=fields["output"]),
        log=Log([fields["log"]]),
        params=Params(fromdict=fields["params"]),
        wildcards=Wildcards(fromdict=fields["wildcards"]),
        threads=fields.get("threads", 1),
        config=fields["config"],
        rule=name,
    )
    assert isinstance(smk.params, Namedlist)
    script = Path(__file__).resolve().parents[1] / "workflow" / "scripts" / f"{name}.py"
    runpy.run_path(str(script), init_globals={"snakemake": smk}, run_name="__main__")


def test_preprocess_script_passes_the_reader_sidecar(tmp_path, monkeypatch):
    """The rule's script reads a plain-binary file through its <file>.json sidecar."""
    n_samples, n_channels, gain = 30000 * 4, 8, 0.25
    rng = np.random.default_rng(9)
    traces = (rng.normal(0, 40, (n_samples, n_channels))).astype(np.int16)
    path = tmp_path / "probe.dat"
    path.write_bytes(traces.tobytes())
    locations = [[0.0, 40.0 * i] for i in range(n_channels)]
    (tmp_path / "probe.dat.json").write_text(
        json.dumps(
            {
                "sampling_frequency": 20000.0,
                "num_channels": n_channels,
                "dtype": "int16",
                "gain_to_uV": gain,
                "channel_locations": locations,
            }
        )
    )
    settings = {
        "freq_min": 300.0,
        "freq_max": 6000.0,
        "reference": "median",
        "bad_channel_detection": False,
        "direction": "forward",
        "filter_method": "sos",
    }
    fields = {
        "input": {"recording": str(path)},
        "output": {
            "folder": str(tmp_path / "preprocessed"),
            "motion": str(tmp_path / "motion.tsv"),
        },
        "log": str(tmp_path / "preprocess.log"),
        "params": {"format": "binary", "preprocessing": settings, "chunk_duration": "1s"},
        "wildcards": {"subject": "M1", "session": "01", "probe": "PFC"},
        "config": {"seed": 1},
    }
    monkeypatch.chdir(tmp_path)
    _run_script("preprocess_probe", monkeypatch, **fields)
    saved = load_preprocessed(tmp_path / "preprocessed")
    # the sidecar's rate, channel count, gain and geometry reached the saved recording
    assert saved.get_sampling_frequency() == 20000.0 and saved.get_num_channels() == n_channels
    assert saved.get_num_samples() == n_samples
    np.testing.assert_allclose(saved.get_channel_gains(), gain)
    np.testing.assert_allclose(saved.get_channel_locations(), locations)
    provenance = json.loads((tmp_path / "preprocessed.prov.json").read_text())
    assert provenance["params"]["preprocessing"]["direction"] == "forward"
    assert provenance["params"]["preprocessing"]["filter_method"] == "sos"
    assert read_motion(tmp_path / "motion.tsv") is None  # 8 contacts: never corrected
    # without the sidecar the job fails with the reader's one-line message naming the file
    (tmp_path / "probe.dat.json").unlink()
    fields["output"] = {"folder": str(tmp_path / "again"), "motion": str(tmp_path / "m2.tsv")}
    with pytest.raises(ValueError, match=r"probe\.dat: plain binary needs"):
        _run_script("preprocess_probe", monkeypatch, **fields)
    assert not (tmp_path / "again").exists()


def _write_ns5(path, data, *, digital=32764, analog=8191):
    """A Blackrock NSx 2.3 continuous file (30 kHz), packed by hand from the NEV/NSx spec.

    Basic header (314 bytes), one 66-byte ``CC`` extended header per channel, then one data
    packet (flag 1, timestamp, number of samples) of interleaved int16 samples.
    """
    import struct

    n_samples, n_channels = data.shape
    basic = struct.pack(
        "<8sBBI16s256sII8HI",
        b"NEURALCD",
        2,
        3,
        314 + 66 * n_channels,
        b"30 kS/s",
        b"",
        1,
        30000,
        2000,
        1,
        6,
        1,
        0,
        0,
        0,
        0,
        n_channels,
    )
    extended = b"".join(
        struct.pack(
            "<2sH16sBBhhhh16sIIHIIH",
            b"CC",
            c + 1,
            f"elec{c + 1}".encode(),
            1,
            c + 1,
            -digital,
            digital,
            -analog,
            analog,
            b"uV",
            300,
            1,
            1,
            7500,
            3,
            1,
        )
        for c in range(n_channels)
    )
    packet = struct.pack("<BII", 1, 0, n_samples)
    path.write_bytes(basic + extended + packet + data.astype("<i2").tobytes())


def test_blackrock_nsx_reads_back_samples_gain_rate(tmp_path):
    data = np.random.default_rng(7).integers(-3000, 3000, (3000, 8), dtype=np.int16)
    path = tmp_path / "rec.ns5"
    _write_ns5(path, data)
    locations = [[0.0, 400.0 * i] for i in range(8)]  # a Utah-like row, from the sidecar
    (tmp_path / "rec.ns5.json").write_text(json.dumps({"channel_locations": locations}))
    recording = read_recording(path, "blackrock")
    assert recording.get_num_channels() == 8 and recording.get_sampling_frequency() == 30000.0
    np.testing.assert_array_equal(recording.get_traces(), data)
    # µV per count = analog range / digital range, from the extended headers
    np.testing.assert_allclose(recording.get_channel_gains(), 8191 / 32764)
    np.testing.assert_allclose(recording.get_channel_locations(), locations)
    with open(path, "r+b") as f:  # the header still counts 3000 samples
        f.truncate(path.stat().st_size - 100)
    with pytest.raises(ValueError, match="cannot read as blackrock") as info:
        read_recording(path, "blackrock")
    assert str(info.value).startswith(str(path)) and "\n" not in str(info.value)


# Intan RHD2000 "traditional" .rhd file (header, then data blocks), packed by hand from Intan's
# "RHD2000 Application Note: Data File Formats"
# (https://intantech.com/files/Intan_RHD2000_data_file_formats.pdf), with the version-dependent
# header fields neo 0.14.6's IntanRawIO reads (versions 1.0-1.3, 2.0, 3.x).
def _write_intan_rhd(path, data, *, version=(3, 0), sampling_rate=30000.0):
    """An RHD file holding only amplifier channels (port A), and nothing else.

    ``data`` is uint16 (n_samples × n_channels, 0.195 µV per count around 32768); n_samples must
    be a whole number of data blocks (60 samples before version 2.0, 128 from 2.0).
    """
    import struct

    def qstring(text):  # uint32 length in bytes, then UTF-16 (0xFFFFFFFF: a null string)
        raw = text.encode("utf-16-le")
        return struct.pack("<I", len(raw)) + raw if raw else struct.pack("<I", 0xFFFFFFFF)

    n_samples, n_channels = data.shape
    block = 60 if version < (2, 0) else 128
    assert n_samples % block == 0, "whole data blocks only"
    # magic, version, rate, DSP enabled, actual then desired DSP cutoff / lower / upper band,
    # notch mode, desired / actual impedance-test frequency, then three notes
    header = struct.pack(
        "<Ihhfhffffffhff",
        0xC6912702,
        *version,
        sampling_rate,
        1,
        1.0,
        0.1,
        7500.0,
        1.0,
        0.1,
        7500.0,
        0,
        1000.0,
        1000.0,
    )
    header += qstring("panneuro test") + qstring("") + qstring("")
    if version >= (1, 1):
        header += struct.pack("<h", 0)  # temperature sensor channels
    if version >= (1, 3):
        header += struct.pack("<h", 0)  # evaluation board mode
    if version >= (2, 0):
        header += qstring("n/a")  # reference channel (hardware reference)
    header += struct.pack("<h", 1)  # one signal group: port A, all channels enabled
    header += qstring("Port A") + qstring("A") + struct.pack("<hhh", 1, n_channels, n_channels)
    for c in range(n_channels):
        header += qstring(f"A-{c:03d}") + qstring(f"A-{c:03d}")
        # native/custom order, signal type 0 (amplifier), enabled, chip channel, board stream,
        # spike-scope trigger mode/threshold/digital channel/edge, impedance magnitude/phase
        header += struct.pack("<hhhhhhhhhhff", c, c, 0, 1, c, 0, 0, 0, 0, 0, 5.0e5, -60.0)
    # each block: its sample numbers, then each channel's samples in turn
    stamp = "<i4" if version >= (1, 2) else "<u4"
    blocks = np.zeros(
        n_samples // block, dtype=[("t", stamp, block), ("amplifier", "<u2", (n_channels, block))]
    )
    blocks["t"] = np.arange(n_samples).reshape(-1, block)
    blocks["amplifier"] = data.reshape(-1, block, n_channels).transpose(0, 2, 1)
    path.write_bytes(header + blocks.tobytes())


@pytest.mark.parametrize("version", [(1, 0), (3, 0)])
def test_intan_rhd_reads_back_samples_gain_rate(version, tmp_path):
    data = np.random.default_rng(8).integers(
        32768 - 3000, 32768 + 3000, (1920, 4), dtype=np.uint16
    )  # 32 blocks of 60, 15 of 128
    path = tmp_path / "rec.rhd"
    _write_intan_rhd(path, data, version=version, sampling_rate=20000.0)
    locations = [[0.0, 50.0 * i] for i in range(4)]
    (tmp_path / "rec.rhd.json").write_text(json.dumps({"channel_locations": locations}))
    recording = read_recording(path, "intan")
    assert recording.get_num_channels() == 4 and recording.get_sampling_frequency() == 20000.0
    assert [str(c) for c in recording.channel_ids] == [f"A-{c:03d}" for c in range(4)]
    assert recording.get_num_samples() == 1920
    np.testing.assert_array_equal(recording.get_traces(), data)  # unsigned, as stored
    # µV = 0.195 × (count − 32768) (the application note's amplifier scaling)
    np.testing.assert_allclose(recording.get_channel_gains(), 0.195)
    np.testing.assert_allclose(recording.get_channel_offsets(), -32768 * 0.195)
    # (SpikeInterface scales in float32: counts × gain + offset rounds to ~5e-4 µV near 6390)
    np.testing.assert_allclose(
        recording.get_traces(return_in_uV=True),
        (data.astype(float) - 32768) * 0.195,
        rtol=0,
        atol=1e-3,
    )
    np.testing.assert_allclose(recording.get_channel_locations(), locations)
    with open(path, "r+b") as f:  # cut inside the last data block
        f.truncate(path.stat().st_size - 100)
    with pytest.raises(ValueError, match="cannot read as intan .*truncated") as info:
        read_recording(path, "intan")
    assert str(info.value).startswith(str(path)) and "\n" not in str(info.value)


# Neuralynx CSC (.ncs) files, one per channel in a folder: a 16 kB text header of "-Key value"
# lines, then 1044-byte records (uint64 µs timestamp, uint32 channel, uint32 sampling
# frequency, uint32 number of valid samples, 512 int16 samples), from Neuralynx's "Data File
# Formats" (https://neuralynx.fh-co.com/article/neuralynx-data-file-formats) and the Cheetah 6
# header keys neo 0.14.6's NeuralynxRawIO parses.
def _write_neuralynx_ncs(
    folder, data, *, sampling_rate=32000, ad_bit_volts=1e-3 / 32767, start_us=1_000_000
):
    """Write ``CSC1.ncs`` ... (one per column of int16 ``data``); the last record is part-valid."""
    folder.mkdir(parents=True, exist_ok=True)
    n_samples, n_channels = data.shape
    n_records = -(-n_samples // 512)
    for c in range(n_channels):
        header = "\r\n".join(
            [
                "######## Neuralynx Data File Header",
                "-FileType CSC",
                "-FileVersion 3.4",
                "-RecordSize 1044",
                '-ApplicationName Cheetah "6.4.1"',
                "-AcquisitionSystem AcqSystem1 DigitalLynxSX",
                "-HardwareSubSystemName AcqSystem1",
                "-HardwareSubSystemType DigitalLynxSX",
                f"-OriginalFileName CSC{c + 1}.ncs",
                "-TimeCreated 2000/01/01 00:00:00",
                "-TimeClosed 2000/01/01 00:10:00",
                f"-SamplingFrequency {sampling_rate}",
                "-ADMaxValue 32767",
                f"-ADBitVolts {ad_bit_volts:.24f}",
                f"-AcqEntName CSC{c + 1}",
                "-NumADChannels 1",
                f"-ADChannel {c}",
                "-InputRange 1000",
                "-InputInverted False",
                "-DSPLowCutFilterEnabled True",
                "-DspLowCutFrequency 0.1",
                "-DSPHighCutFilterEnabled True",
                "-DspHighCutFrequency 9000",
                "",
            ]
        ).encode("latin-1")
        records = np.zeros(
            n_records,
            dtype=[
                ("timestamp", "<u8"),
                ("channel", "<u4"),
                ("sampling_frequency", "<u4"),
                ("valid", "<u4"),
                ("samples", "<i2", 512),
            ],
        )
        records["timestamp"] = start_us + np.arange(n_records) * round(512e6 / sampling_rate)
        records["channel"], records["sampling_frequency"] = c, sampling_rate
        records["valid"] = 512
        records["valid"][-1] = n_samples - 512 * (n_records - 1)
        samples = np.zeros(512 * n_records, dtype="<i2")
        samples[:n_samples] = data[:, c]
        records["samples"] = samples.reshape(n_records, 512)
        (folder / f"CSC{c + 1}.ncs").write_bytes(header.ljust(16384, b"\x00") + records.tobytes())
    return folder


def test_neuralynx_ncs_reads_back_samples_gain_rate(tmp_path):
    data = np.random.default_rng(10).integers(-3000, 3000, (5 * 512 + 200, 4), dtype=np.int16)
    folder = _write_neuralynx_ncs(tmp_path / "nlx", data)
    locations = [[0.0, 30.0 * i] for i in range(4)]  # a tetrode-like bundle
    (tmp_path / "nlx.json").write_text(json.dumps({"channel_locations": locations}))
    recording = read_recording(folder, "neuralynx")  # the sidecar of a folder: <folder>.json
    assert recording.get_num_channels() == 4 and recording.get_sampling_frequency() == 32000.0
    assert recording.get_num_samples() == data.shape[0]  # the last record's valid part only
    np.testing.assert_array_equal(recording.get_traces(), data)
    # µV per count = ADBitVolts × 1e6
    np.testing.assert_allclose(recording.get_channel_gains(), 1e-3 / 32767 * 1e6, rtol=1e-9)
    np.testing.assert_allclose(recording.get_channel_offsets(), 0.0)
    np.testing.assert_allclose(recording.get_channel_locations(), locations)
    # a file of the folder also works; its sidecar is <file>.json
    (folder / "CSC1.ncs.json").write_text(json.dumps({"channel_locations": locations[::-1]}))
    by_file = read_recording(folder / "CSC1.ncs", "neuralynx")
    np.testing.assert_array_equal(by_file.get_traces(start_frame=500, end_frame=600), data[500:600])
    np.testing.assert_allclose(by_file.get_channel_locations(), locations[::-1])
    csc3 = folder / "CSC3.ncs"
    with open(csc3, "r+b") as f:  # a partial last record
        f.truncate(csc3.stat().st_size - 100)
    with pytest.raises(
        ValueError, match="whole 1044-byte CSC records; the file is truncated"
    ) as info:
        read_recording(folder, "neuralynx")
    assert str(info.value).startswith(str(csc3)) and "\n" not in str(info.value)
    with open(csc3, "r+b") as f:  # cut inside the header: neo alone would drop the channel
        f.truncate(10000)
    with pytest.raises(ValueError, match="CSC3.ncs: 10000 bytes is not a 16384-byte header"):
        read_recording(folder / "CSC1.ncs", "neuralynx")


def test_fft_and_sos_filter_methods_agree_and_are_checked(raw_nwb):
    """The default FFT band-pass gives sosfiltfilt's output (int16 counts) away from the edges."""
    from panneuro.ephys.fft_bandpass import FFTBandpassFilterRecording
    from panneuro.ephys.median_reference import SortedMedianReferenceRecording

    recording = read_recording(raw_nwb, "nwb")
    settings = {
        "freq_min": 300.0,
        "freq_max": 6000.0,
        "reference": "median",
        "bad_channel_detection": True,
        "bad_channel_chunks": 12,
    }
    kwargs = preprocess_kwargs(settings)
    assert kwargs["filter_method"] == "fft" and kwargs["bad_channel_chunks"] == 12
    fft, fft_table = preprocess(recording, **kwargs, seed=1)
    sos, sos_table = preprocess(recording, **{**kwargs, "filter_method": "sos"}, seed=1)
    assert isinstance(fft, SortedMedianReferenceRecording) and fft.get_dtype() == np.int16
    chain, node = [], fft
    while node is not None:
        chain.append(type(node))
        node = node._kwargs.get("recording", node._kwargs.get("parent_recording"))
    assert FFTBandpassFilterRecording in chain
    assert fft_table["label"].tolist() == sos_table["label"].tolist()
    margin = int(0.008 * recording.get_sampling_frequency())  # 8 ms edges
    end = recording.get_num_samples() - margin
    a = fft.get_traces(start_frame=margin, end_frame=end).astype(int)
    b = sos.get_traces(start_frame=margin, end_frame=end).astype(int)
    assert np.abs(a - b).max() <= 1 and (a != b).mean() < 0.01  # rounding only
    with pytest.raises(ValueError, match="filter_method is 'fir'"):
        preprocess(recording, **{**kwargs, "filter_method": "fir"})
    with pytest.raises(ValueError, match="zero-phase only"):
        preprocess(recording, **{**kwargs, "direction": "forward"})
