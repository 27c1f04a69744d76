"""The session NWB of curated units: content, round trip, determinism, NWB Inspector."""

import datetime as dt
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from panneuro.ephys.nwb_units import (
    ProbeUnits,
    deterministic_object_ids,
    read_units,
    write_session_units_nwb,
)
from panneuro.simulate.task import build_events

START = dt.datetime(2000, 1, 1, 9, 0, 0, tzinfo=dt.UTC)
FS = 30000.0


def _probe(label, region, n_units, n_channels, seed):
    rng = np.random.default_rng(seed)
    ids = [str(u) for u in rng.choice(100, n_units, replace=False)]
    spike_times = {u: np.sort(rng.uniform(0, 60, rng.integers(50, 200))) for u in ids}
    templates = rng.normal(0, 5, (n_units, 90, n_channels)).astype(np.float32)
    peaks = rng.integers(0, n_channels, n_units)
    templates[np.arange(n_units), 30, peaks] = -100.0
    metrics = pd.DataFrame(
        {
            "unit_id": ids,
            "peak_channel": [str(p) for p in peaks],
            "snr": rng.uniform(3, 15, n_units),
            "isi_violations_ratio": rng.uniform(0, 0.2, n_units),
            "presence_ratio": np.ones(n_units),
            "amplitude_cutoff": np.full(n_units, np.nan),
            "firing_rate": rng.uniform(1, 10, n_units),
            "num_spikes": rng.integers(50, 200, n_units),
            "keep": True,
            "reject_reason": "",
        }
    )
    waveforms = {
        "unit_ids": np.array(ids),
        "templates": templates,
        "channel_ids": np.array([str(c) for c in range(n_channels)]),
        "channel_locations": np.column_stack([np.zeros(n_channels), 50.0 * np.arange(n_channels)]),
        "peak_channel": peaks,
        "sampling_frequency": np.float64(FS),
        "nbefore": np.int64(30),
    }
    return ProbeUnits(label, region, spike_times, metrics, waveforms), peaks


@pytest.fixture
def session(tmp_path):
    rng = np.random.default_rng(0)
    problem = np.repeat(np.arange(301, 305), 6)
    events = build_events(
        problem, np.tile(np.arange(1, 7), 4), rng.integers(0, 2, 24), rng, trial_duration=1.5
    )
    pfc, pfc_peaks = _probe("PFC", "prefrontal", 5, 32, 1)
    hpc, hpc_peaks = _probe("HPC", "hippocampus", 3, 32, 2)
    path = tmp_path / "sub-M1_ses-04_units.nwb"
    kwargs = dict(
        subject="M1", session="04", species="macaque", session_start=START, age="P7Y", sex="M"
    )
    write_session_units_nwb(path, [pfc, hpc], events, **kwargs)
    return path, [pfc, hpc], [pfc_peaks, hpc_peaks], events, kwargs


def test_units_round_trip(session):
    path, probes, peaks, events, _ = session
    units, spike_times = read_units(path)
    assert units.index.name == "unit_id" and list(units.index) == list(range(8))
    assert units["probe"].tolist() == ["PFC"] * 5 + ["HPC"] * 3
    assert units["region"].tolist() == ["prefrontal"] * 5 + ["hippocampus"] * 3
    assert units["probe_unit_id"].tolist() == list(probes[0].metrics["unit_id"]) + list(
        probes[1].metrics["unit_id"]
    )
    for column in ("snr", "isi_violations_ratio", "presence_ratio", "firing_rate"):
        expected = np.concatenate([p.metrics[column] for p in probes])
        np.testing.assert_allclose(units[column], expected)
    assert "keep" not in units and "reject_reason" not in units
    assert len(spike_times) == 8
    for i, (probe, unit) in enumerate(zip(units["probe"], units["probe_unit_id"], strict=True)):
        source = probes[0] if probe == "PFC" else probes[1]
        np.testing.assert_allclose(spike_times[i], source.spike_times[unit])
    # the peak electrode indexes the session's electrodes table (HPC after PFC's 32)
    np.testing.assert_array_equal(
        units["peak_electrode"], np.concatenate([peaks[0], 32 + peaks[1]])
    )


def test_nwb_content(session):
    from pynwb import NWBHDF5IO

    path, _, _, events, _ = session
    with NWBHDF5IO(str(path), "r") as io:
        nwbfile = io.read()
        assert nwbfile.units.resolution == pytest.approx(1 / FS)
        electrodes = nwbfile.electrodes.to_dataframe()
        assert len(electrodes) == 64
        assert electrodes["location"].tolist() == ["prefrontal"] * 32 + ["hippocampus"] * 32
        trials = nwbfile.trials.to_dataframe()
        np.testing.assert_allclose(trials["start_time"], events["onset"])
        assert trials["choice"].tolist() == events["choice"].tolist()
        assert nwbfile.subject.species == "Macaca mulatta"
        assert (nwbfile.subject.age, nwbfile.subject.sex) == ("P7Y", "M")
        assert nwbfile.session_start_time == START
        waveform = nwbfile.units["waveform_mean"][0]
        assert waveform.shape == (90,) and waveform.min() == pytest.approx(-100e-6)


def test_deterministic_bytes(session, tmp_path):
    path, probes, _, events, kwargs = session
    again = tmp_path / "again" / path.name
    write_session_units_nwb(again, probes, events, **kwargs)
    assert hashlib.md5(again.read_bytes()).digest() == hashlib.md5(path.read_bytes()).digest()
    from hdmf.container import Container

    with deterministic_object_ids("x"):
        a = Container(name="a").object_id
    with deterministic_object_ids("x"):
        b = Container(name="b").object_id
    with deterministic_object_ids("y"):
        c = Container(name="c").object_id
    assert a == b != c


def test_nwbinspector_finds_no_violation(session, tmp_path):
    path = session[0]
    report = tmp_path / "report.json"
    inspector = Path(sys.executable).parent / "nwbinspector"
    subprocess.run(
        [
            str(inspector),
            str(path),
            "--config",
            "dandi",
            "--json-file-path",
            str(report),
            "--progress-bar",
            "False",
        ],
        check=True,
        capture_output=True,
    )
    messages = json.loads(report.read_text())["messages"]
    serious = [
        m for m in messages if m["importance"] in ("CRITICAL", "BEST_PRACTICE_VIOLATION", "ERROR")
    ]
    assert serious == [], serious


def test_read_units_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="export_session_nwb"):
        read_units(tmp_path / "missing.nwb")


def test_institution_is_the_stated_one_or_none(session, tmp_path):
    """The simulated study's files name panneuro; a lab's name its stated institution, or
    none (export_session_nwb reads it from the dataset's task-<task>_ieeg.json)."""
    from pynwb import NWBHDF5IO

    path, probes, _, events, kwargs = session
    with NWBHDF5IO(path, "r") as io:
        assert io.read().institution == "panneuro"
    for institution in ("Primate Lab, Example University", None):
        other = tmp_path / "lab" / path.name
        other.parent.mkdir(exist_ok=True)
        write_session_units_nwb(other, probes, events, **kwargs, institution=institution)
        with NWBHDF5IO(other, "r") as io:
            assert io.read().institution == institution
