"""The converted BIDS dataset as the validator sees it: raw files, conversions, sourcedata."""

import pytest

from panneuro.ingest.bids_view import (
    assemble_bids_view,
    converted_view,
    in_scope,
    original_files,
)


@pytest.fixture
def lab(tmp_path):
    """A lab's folder: a plain binary at a BIDS-like path, SpikeGLX in sourcedata, another
    subject's recording the sheet does not use, and the converted NWB of the binary."""
    raw = tmp_path / "lab"
    files = {
        "dataset_description.json": "{}",
        "participants.tsv": "participant_id\nsub-M1\n",
        "sub-M1/sub-M1_sessions.tsv": "session_id\tacq_time\n",
        "sub-M1/ses-01/sub-M1_ses-01_scans.tsv": "filename\tacq_time\n",
        "sub-M1/ses-01/ephys/sub-M1_ses-01_acq-HPC_raw.bin": "x",
        "sub-M1/ses-01/ephys/sub-M1_ses-01_acq-HPC_raw.bin.json": "{}",
        "sub-M1/ses-01/beh/sub-M1_ses-01_task-harlow_events.tsv": "onset\n",
        "sourcedata/sub-M1/ses-01/ephys/run_g0/run_g0_t0.nidq.bin": "x",
        "sourcedata/sub-M1/ses-01/ephys/run_g0/run_g0_t0.nidq.meta": "k=v\n",
        "sub-M9/ses-01/ephys/other.bin": "x",
    }
    for rel, text in files.items():
        (raw / rel).parent.mkdir(parents=True, exist_ok=True)
        (raw / rel).write_text(text)
    nwb = tmp_path / "results/bids/sub-M1/ses-01/ieeg/sub-M1_ses-01_task-harlow_acq-HPC_ieeg.nwb"
    nwb.parent.mkdir(parents=True)
    nwb.write_text("nwb")
    return raw, nwb


def test_original_files_of_file_and_folder_formats(lab):
    raw, _ = lab
    assert original_files(raw, "sub-M1/ses-01/ephys/sub-M1_ses-01_acq-HPC_raw.bin", "binary") == [
        "sub-M1/ses-01/ephys/sub-M1_ses-01_acq-HPC_raw.bin",
        "sub-M1/ses-01/ephys/sub-M1_ses-01_acq-HPC_raw.bin.json",
    ]
    glx = original_files(
        raw, "sourcedata/sub-M1/ses-01/ephys/run_g0/run_g0_t0.nidq.bin", "spikeglx"
    )
    assert [f.rsplit(".", 1)[-1] for f in glx] == ["bin", "meta"]


def test_view_moves_originals_places_conversions_and_keeps_the_sheets_part(lab, tmp_path):
    raw, nwb = lab
    conversions = [
        {
            "path": "sub-M1/ses-01/ephys/sub-M1_ses-01_acq-HPC_raw.bin",
            "format": "binary",
            "converted": [str(nwb)],
        },
        {
            "path": "sourcedata/sub-M1/ses-01/ephys/run_g0/run_g0_t0.nidq.bin",
            "format": "spikeglx",
            "converted": [],
        },
    ]
    scope = {
        "subjects": ["sub-M1"],
        "sessions": ["sub-M1/ses-01"],
        "folders": ["sub-M1/ses-01/beh", "sub-M1/ses-01/ephys"],
    }
    view = converted_view(
        raw,
        tmp_path / "view",
        conversions,
        scope=scope,
        converted_root=str(tmp_path / "results/bids"),
    )
    rel = sorted(str(p.relative_to(view)) for p in view.rglob("*") if p.is_symlink())
    assert rel == [
        "dataset_description.json",
        "participants.tsv",
        "sourcedata/sub-M1/ses-01/ephys/run_g0/run_g0_t0.nidq.bin",
        "sourcedata/sub-M1/ses-01/ephys/run_g0/run_g0_t0.nidq.meta",
        "sourcedata/sub-M1/ses-01/ephys/sub-M1_ses-01_acq-HPC_raw.bin",
        "sourcedata/sub-M1/ses-01/ephys/sub-M1_ses-01_acq-HPC_raw.bin.json",
        "sub-M1/ses-01/beh/sub-M1_ses-01_task-harlow_events.tsv",
        "sub-M1/ses-01/ieeg/sub-M1_ses-01_task-harlow_acq-HPC_ieeg.nwb",
        "sub-M1/ses-01/sub-M1_ses-01_scans.tsv",
        "sub-M1/sub-M1_sessions.tsv",
    ]  # sub-M9 (not in the sheet) left out; the raw dataset itself untouched
    assert (view / rel[7]).read_text() == "nwb"
    assert (raw / conversions[0]["path"]).exists()
    with pytest.raises(FileExistsError, match="not empty"):
        assemble_bids_view(raw, view)


def test_without_conversions_or_scope_the_dataset_itself_is_validated(lab, tmp_path):
    raw, _ = lab
    assert converted_view(raw, tmp_path / "unused", []) == raw
    assert not (tmp_path / "unused").exists()
    assert in_scope("README", {"sessions": []}) and not in_scope("sub-M9/x", {"sessions": []})


def test_a_tasks_dataset_level_sidecars_are_in_the_view_only_with_its_data():
    """A lab states task-sleep_ieeg.json at its root; a sheet without sleep data (ECoG only)
    must not carry it into its view (the validator: SIDECAR_WITHOUT_DATAFILE, found by the
    ECoG-only sheet of tests/test_lab_data.py)."""
    scope = {"sessions": ["sub-H1/ses-01"], "tasks": ["harlow"]}
    assert in_scope("task-harlow_ieeg.json", scope) and in_scope("participants.tsv", scope)
    assert not in_scope("task-sleep_ieeg.json", scope)
    assert in_scope("task-sleep_ieeg.json", {**scope, "tasks": ["harlow", "sleep"]})
    assert in_scope("task-sleep_ieeg.json", {"sessions": []})  # no tasks named: every file
