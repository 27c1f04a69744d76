"""A lab's FIF ECoG (not a BIDS iEEG format) converted to BrainVision with mne-bids."""

import json
from pathlib import Path

import pytest

from panneuro.compendium.bids_validation import run_bids_validator
from panneuro.ecog.high_gamma import read_ecog
from panneuro.ingest.ecog_conversion import (
    convert_ecog_to_brainvision,
    converted_ecog_files,
    needs_ecog_conversion,
)

REAL_FIF = Path(__file__).parent / "data/realdata/sample_ecog_ieeg.fif"  # MNE sample, BSD-3


def test_only_fif_needs_conversion():
    assert needs_ecog_conversion("fif")
    assert not needs_ecog_conversion("brainvision") and not needs_ecog_conversion("edf")


def test_file_names_follow_mne_bids():
    assert converted_ecog_files("r/sub-H1/ses-01/ieeg/sub-H1_ses-01_task-harlow_ieeg.vhdr") == [
        "r/sub-H1/ses-01/ieeg/sub-H1_ses-01_task-harlow_ieeg.vhdr",
        "r/sub-H1/ses-01/ieeg/sub-H1_ses-01_task-harlow_ieeg.eeg",
        "r/sub-H1/ses-01/ieeg/sub-H1_ses-01_task-harlow_ieeg.vmrk",
        "r/sub-H1/ses-01/ieeg/sub-H1_ses-01_task-harlow_channels.tsv",
        "r/sub-H1/ses-01/ieeg/sub-H1_ses-01_task-harlow_ieeg.json",
        "r/sub-H1/ses-01/ieeg/sub-H1_ses-01_electrodes.tsv",
        "r/sub-H1/ses-01/ieeg/sub-H1_ses-01_electrodes.json",
        "r/sub-H1/ses-01/ieeg/sub-H1_ses-01_coordsystem.json",
    ]


def test_real_fif_becomes_valid_bids_the_ecog_stage_reads(tmp_path, caplog):
    root = tmp_path / "bids"
    root.mkdir()
    (root / "dataset_description.json").write_text(
        json.dumps({"Name": "converted", "BIDSVersion": "1.10.1", "Authors": ["a", "b"]})
    )
    target = root / "sub-H9/ses-01/ieeg/sub-H9_ses-01_task-harlow_ieeg.vhdr"
    files = convert_ecog_to_brainvision(REAL_FIF, target, line_frequency=60.0)
    assert [str(f) for f in files] == converted_ecog_files(str(target))
    assert not list(target.parent.glob(".ecog-bids-*"))  # the temporary root is gone
    # the sample's positions are in MNE's head frame, which BIDS iEEG cannot hold: said so
    assert "left out of the converted electrodes.tsv" in caplog.text
    raw = read_ecog(target, preload=True)
    assert raw.info["sfreq"] == 160.0 and len(raw.ch_names) == 394
    assert raw.get_channel_types().count("ecog") == 320 and raw.n_times == 113
    summary = run_bids_validator(root)
    assert summary["n_errors"] == 0, summary["errors"][:5]


def test_unreadable_ecog_is_one_line_naming_it(tmp_path):
    bad = tmp_path / "sub-H9_ses-01_task-harlow_ieeg.fif"
    bad.write_bytes(b"not a fif file")
    with pytest.raises(ValueError, match="cannot read the ECoG recording with MNE") as info:
        convert_ecog_to_brainvision(
            bad, tmp_path / "out/sub-H9_ses-01_task-harlow_ieeg.vhdr", line_frequency=50.0
        )
    assert str(bad) in str(info.value) and "\n" not in str(info.value)
