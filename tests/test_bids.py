import json

import numpy as np
import pandas as pd
import pytest

from panneuro.compendium.bids_validation import run_bids_validator
from panneuro.io.tables import read_tsv, write_tsv
from panneuro.simulate.bids import EVENTS_SIDECAR, write_dataset_files, write_nwb_ieeg_sidecars
from panneuro.simulate.task import build_events


def _dataset(root):
    rng = np.random.default_rng(0)
    events = build_events(
        np.repeat([1, 2], 6),
        np.tile(np.arange(1, 7), 2),
        rng.integers(0, 2, 12),
        rng,
        trial_duration=1.5,
    )
    write_tsv(events, root / "sub-M1/ses-01/beh/sub-M1_ses-01_task-harlow_events.tsv")
    participants = pd.DataFrame(
        [{"participant_id": "sub-M1", "species": "Macaca mulatta", "sex": "M", "age": 7}]
    )
    write_dataset_files(root, participants)
    nwb = root / "sub-M1/ses-01/ieeg/sub-M1_ses-01_task-harlow_acq-PFC_ieeg.nwb"
    nwb.parent.mkdir(parents=True)
    nwb.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(64))
    write_tsv(events, nwb.parent / "sub-M1_ses-01_task-harlow_acq-PFC_events.tsv")
    write_nwb_ieeg_sidecars(
        nwb,
        channel_ids=np.array(["ch0", "ch1", "ch2"]),
        locations_um=np.array([[0.0, 0.0], [0.0, 50.0], [0.0, 100.0]]),
        sampling_frequency=30000.0,
        duration=10.0,
        region="prefrontal",
        probe_description="linear probe",
        line_frequency=60.0,
    )
    return events


def test_sidecars_describe_the_recording(tmp_path):
    _dataset(tmp_path)
    stem = tmp_path / "sub-M1/ses-01/ieeg/sub-M1_ses-01_task-harlow_acq-PFC"
    sidecar = json.loads((stem.parent / f"{stem.name}_ieeg.json").read_text())
    assert sidecar["SamplingFrequency"] == 30000.0 and sidecar["SEEGChannelCount"] == 3
    electrodes = read_tsv(stem.parent / "sub-M1_ses-01_acq-PFC_electrodes.tsv")
    np.testing.assert_allclose(electrodes["y"], [0.0, 0.05, 0.1])  # micrometres → mm
    channels = read_tsv(stem.parent / f"{stem.name}_channels.tsv")
    assert channels["name"].tolist() == ["ch0", "ch1", "ch2"]


def test_every_event_column_is_described(tmp_path):
    events = _dataset(tmp_path)
    assert set(events.columns) == set(EVENTS_SIDECAR)


def test_official_validator_passes_the_layout(tmp_path):
    _dataset(tmp_path)
    summary = run_bids_validator(tmp_path)
    assert summary["n_errors"] == 0, summary["errors"]


def test_recommended_sidecar_keys_are_filled(tmp_path):
    # 225 warnings before the task, device, site and coordinate keys were filled in: now only
    # the dataset description's (HEDVersion: no HED tags; SourceDatasets: simulated; one author)
    _dataset(tmp_path)
    summary = run_bids_validator(tmp_path)
    assert summary["n_errors"] == 0, summary["errors"]
    assert {w["location"] for w in summary["warnings"]} <= {"/dataset_description.json"}, summary[
        "warnings"
    ]
    assert summary["n_warnings"] <= 3, summary["warning_codes"]


@pytest.mark.workflow
def test_simulated_raw_dataset_has_no_errors_and_at_most_5_warnings(tiny_run):
    summary = json.loads((tiny_run / "results/qc/bids_validation.json").read_text())
    assert summary["n_errors"] == 0, summary["errors"]
    assert summary["n_warnings"] <= 5, summary["warning_codes"]


def test_sleep_runs_share_the_probe_sidecars_of_the_task_recording():
    from panneuro.simulate.bids import nwb_ieeg_sidecar_paths

    task = nwb_ieeg_sidecar_paths("sub-M1/ses-01/ieeg/sub-M1_ses-01_task-harlow_acq-HPC_ieeg.nwb")
    sleep = nwb_ieeg_sidecar_paths(
        "sub-M1/ses-01/ieeg/sub-M1_ses-01_task-sleep_acq-HPC_run-2_ieeg.nwb"
    )
    assert (
        task[2:]
        == sleep[2:]
        == [
            "sub-M1/ses-01/ieeg/sub-M1_ses-01_acq-HPC_electrodes.tsv",
            "sub-M1/ses-01/ieeg/sub-M1_ses-01_acq-HPC_coordsystem.json",
        ]
    )
    assert sleep[:2] == [
        "sub-M1/ses-01/ieeg/sub-M1_ses-01_task-sleep_acq-HPC_run-2_ieeg.json",
        "sub-M1/ses-01/ieeg/sub-M1_ses-01_task-sleep_acq-HPC_run-2_channels.tsv",
    ]


def test_design_sessions_and_scans_files(tmp_path):
    import datetime as dt

    from panneuro.simulate.bids import write_design_sessions_files, write_scans_file

    table = pd.DataFrame(
        {
            "session_id": ["ses-01", "ses-02"],
            "acq_time": ["1923-05-05T09:00:00", "1923-05-06T09:00:00"],
            "condition": ["control", "inactivation"],
            "inactivated_region": ["n/a", "hippocampus"],
        }
    )
    write_design_sessions_files(tmp_path, "M1", table)
    sidecar = json.loads((tmp_path / "sub-M1" / "sub-M1_sessions.json").read_text())
    assert set(sidecar) == {"acq_time", "condition", "inactivated_region"}
    start = dt.datetime(1923, 5, 5, 9, 0, 0)
    later = start + dt.timedelta(minutes=70)
    write_scans_file(
        tmp_path / "scans.tsv", [("ieeg/a_ieeg.nwb", start), ("ieeg/b_ieeg.nwb", later)]
    )
    scans = read_tsv(tmp_path / "scans.tsv")
    assert scans["acq_time"].tolist() == ["1923-05-05T09:00:00", "1923-05-05T10:10:00"]
