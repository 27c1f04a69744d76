"""Acquisition-format recordings converted to iEEG-datatype NWB with NeuroConv."""

import datetime as dt
import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from panneuro.ephys.preprocessing import read_recording
from panneuro.ingest.nwb_conversion import (
    EMPTY_EVENTS_HEADER,
    convert_recording_to_nwb,
    needs_conversion,
    write_epoch_events,
    write_recording_events,
)
from panneuro.simulate.bids import nwb_ieeg_sidecar_paths

FS = 30000.0
N_CHANNELS = 8


@pytest.fixture(scope="module")
def binary_recording(tmp_path_factory):
    """A plain int16 binary recording with its reader sidecar (2.5 s, 8 channels)."""
    folder = tmp_path_factory.mktemp("lab")
    data = np.random.default_rng(3).integers(
        -2000, 2000, (int(2.5 * FS), N_CHANNELS), dtype=np.int16
    )
    path = folder / "probe_raw.bin"
    path.write_bytes(data.tobytes())
    locations = [[0.0, 50.0 * i] for i in range(N_CHANNELS)]
    (folder / "probe_raw.bin.json").write_text(
        json.dumps(
            {
                "sampling_frequency": FS,
                "num_channels": N_CHANNELS,
                "dtype": "int16",
                "gain_to_uV": 0.195,
                "channel_ids": [f"ch{i}" for i in range(N_CHANNELS)],
                "channel_locations": locations,
            }
        )
    )
    return path, data, np.asarray(locations)


def _convert(source, target, **kwargs):
    return convert_recording_to_nwb(
        source,
        "binary",
        target,
        subject="M1",
        session="01",
        probe="PFC",
        region="prefrontal",
        species="Macaca mulatta",
        session_start=dt.datetime(1923, 5, 5, 9, tzinfo=dt.UTC),
        age="P7Y",
        sex="M",
        line_frequency=60.0,
        **kwargs,
    )


def _sidecars(target: Path) -> dict[str, str]:
    return {
        Path(p).name.split("_")[-1]: Path(p).read_text() for p in nwb_ieeg_sidecar_paths(target)
    }


def test_a_labs_converted_recording_is_described_by_its_dataset_not_as_simulated(
    binary_recording, tmp_path
):
    """The sidecars of a lab's recording say what its files and its dataset's
    task-harlow_ieeg.json state, nothing of the simulated study (found 2026-12-07: every
    converted recording said it was simulated, by the panneuro simulator, with simulated
    reference, ground, electrodes, instructions and institution); without the file, the keys
    BIDS requires are n/a and the rest is left out."""
    from pynwb import NWBHDF5IO

    stated = {
        "InstitutionName": "Primate Lab, Example University",
        "Manufacturer": "Blackrock Microsystems",
        "iEEGReference": "titanium skull screw over the occipital lobe",
        "SamplingFrequency": 1.0,  # wrong: the recording's own rate wins
    }
    target = tmp_path / "sub-M1_ses-01_task-harlow_acq-PFC_ieeg.nwb"
    _convert(binary_recording[0], target, stated=stated)
    sidecars = _sidecars(target)
    assert not any("simulat" in text.lower() for text in sidecars.values()), sidecars
    ieeg = json.loads(sidecars["ieeg.json"])
    assert ieeg["InstitutionName"] == stated["InstitutionName"]
    assert ieeg["Manufacturer"] == stated["Manufacturer"]
    assert ieeg["iEEGReference"] == stated["iEEGReference"]
    assert ieeg["SamplingFrequency"] == FS and ieeg["TaskName"] == "harlow"
    assert "Instructions" not in ieeg and "iEEGGround" not in ieeg
    with NWBHDF5IO(target, "r") as io:
        assert io.read().institution == stated["InstitutionName"]

    bare = tmp_path / "bare" / target.name
    _convert(binary_recording[0], bare)  # a dataset that states nothing
    sidecars = _sidecars(bare)
    assert not any("simulat" in text.lower() for text in sidecars.values()), sidecars
    ieeg = json.loads(sidecars["ieeg.json"])
    assert ieeg["iEEGReference"] == "n/a" and ieeg["SoftwareFilters"] == "n/a"
    assert "InstitutionName" not in ieeg and "Manufacturer" not in ieeg
    assert "\tn/a\t" in sidecars["channels.tsv"] and "\tn/a\t" in sidecars["electrodes.tsv"]
    with NWBHDF5IO(bare, "r") as io:
        assert io.read().institution is None


def test_a_sleep_run_is_converted_without_its_probes_sidecars(binary_recording, tmp_path):
    """A sleep run's probe is its task recording's: only the run's _ieeg.json and
    _channels.tsv are written beside it, with the sleep task's name."""
    target = tmp_path / "sub-M1_ses-01_task-sleep_acq-HPC_run-1_ieeg.nwb"
    _convert(binary_recording[0], target, task="sleep", stated={}, probe_sidecars=False)
    written = sorted(p.name for p in tmp_path.iterdir())
    expected = [Path(p).name for p in nwb_ieeg_sidecar_paths(target, probe_sidecars=False)]
    assert written == sorted([target.name, *expected])
    assert len(expected) == 2 and not any("electrodes" in n or "coordsystem" in n for n in written)
    ieeg = json.loads(Path(nwb_ieeg_sidecar_paths(target)[0]).read_text())
    assert ieeg["TaskName"] == "sleep" and "TaskDescription" not in ieeg


def test_only_nwb_is_bids_native():
    assert not needs_conversion("nwb")
    assert all(
        needs_conversion(f)
        for f in ("binary", "spikeglx", "openephys", "intan", "blackrock", "neuralynx")
    )


def test_conversion_keeps_samples_gain_geometry_and_is_byte_identical(binary_recording, tmp_path):
    source, data, locations = binary_recording
    target = tmp_path / "bids/sub-M1/ses-01/ieeg/sub-M1_ses-01_task-harlow_acq-PFC_ieeg.nwb"
    _convert(source, target)
    back = read_recording(target, "nwb")
    np.testing.assert_array_equal(back.get_traces(), data)
    np.testing.assert_allclose(back.get_channel_gains(), 0.195, rtol=1e-9)
    np.testing.assert_allclose(back.get_channel_locations(), locations)
    assert [str(c) for c in back.channel_ids] == [f"ch{i}" for i in range(N_CHANNELS)]
    assert back.get_sampling_frequency() == FS
    for sidecar in nwb_ieeg_sidecar_paths(target):
        assert Path(sidecar).is_file(), sidecar
    ieeg = json.loads((target.parent / target.name.replace("_ieeg.nwb", "_ieeg.json")).read_text())
    assert ieeg["SamplingFrequency"] == FS and ieeg["PowerLineFrequency"] == 60.0
    first = hashlib.sha256(target.read_bytes()).hexdigest()
    _convert(source, target)
    assert hashlib.sha256(target.read_bytes()).hexdigest() == first


def test_converted_file_passes_nwbinspector_dandi_config(binary_recording, tmp_path):
    from nwbinspector import inspect_all, load_config

    target = tmp_path / "sub-M1_ses-01_task-harlow_acq-PFC_ieeg.nwb"
    _convert(binary_recording[0], target)
    messages = list(inspect_all(path=tmp_path, config=load_config("dandi")))
    serious = [
        m for m in messages if m.importance.name in ("CRITICAL", "BEST_PRACTICE_VIOLATION", "ERROR")
    ]
    assert not serious, [(m.check_function_name, m.message) for m in serious]


def test_unreadable_recording_is_one_line_naming_it(tmp_path):
    bad = tmp_path / "broken.bin"
    bad.write_bytes(b"\x00" * 7)
    (tmp_path / "broken.bin.json").write_text(
        json.dumps({"sampling_frequency": FS, "num_channels": 2, "dtype": "int16"})
    )
    with pytest.raises(ValueError, match="not a whole number of frames") as info:
        _convert(bad, tmp_path / "out_ieeg.nwb")
    assert str(bad) in str(info.value) and "\n" not in str(info.value)
    assert not (tmp_path / "out_ieeg.nwb").exists()


def test_recording_events_are_the_sessions_trials_or_none(tmp_path):
    trials = tmp_path / "events.tsv"
    trials.write_text("onset\tduration\ttrial_type\n0.0\t1.5\ttrial\n")
    write_recording_events(trials, tmp_path / "a_events.tsv")
    assert (tmp_path / "a_events.tsv").read_bytes() == trials.read_bytes()
    write_recording_events(None, tmp_path / "b_events.tsv")
    assert (tmp_path / "b_events.tsv").read_text() == EMPTY_EVENTS_HEADER


def test_a_sleep_runs_events_are_the_run_as_one_epoch(binary_recording, tmp_path):
    source, _, _ = binary_recording
    name = "sub-M1/ses-01/ieeg/sub-M1_ses-01_task-sleep_acq-PFC_run-1_ieeg.nwb"
    duration = _convert(source, tmp_path / name, task="sleep", probe_sidecars=False)
    ieeg = json.loads((tmp_path / name.replace(".nwb", ".json")).read_text())
    assert duration == pytest.approx(ieeg["RecordingDuration"])
    target = tmp_path / "run_events.tsv"
    write_epoch_events(target, duration, "sleep")
    table = pd.read_csv(target, sep="\t")
    assert list(table.columns) == ["onset", "duration", "trial_type"]
    assert table.to_dict("records") == [
        {"onset": 0.0, "duration": pytest.approx(duration), "trial_type": "sleep"}
    ]


def test_read_buffer_does_not_change_the_file(binary_recording, tmp_path, monkeypatch):
    """One HDF5 chunk per read or ten (the default): the same NWB bytes; buffers stay bounded."""
    from panneuro.ingest import nwb_conversion

    assert nwb_conversion.buffer_chunks(30000, 32) == nwb_conversion.MAX_BUFFER_CHUNKS
    assert nwb_conversion.buffer_chunks(30000, 384) == 1  # 46 MB a chunk: one at a time
    source, _, _ = binary_recording
    name = "sub-M1/ses-01/ieeg/sub-M1_ses-01_task-harlow_acq-PFC_ieeg.nwb"
    _convert(source, tmp_path / "ten" / name)
    monkeypatch.setattr(nwb_conversion, "MAX_BUFFER_CHUNKS", 1)
    _convert(source, tmp_path / "one" / name)
    assert (tmp_path / "ten" / name).read_bytes() == (tmp_path / "one" / name).read_bytes()
