import shutil
from pathlib import Path

import numpy as np
import pytest

from panneuro.compendium.storage import (
    STORAGE_PREFIX_VARIABLE,
    dataset_listing,
    declared_companions,
    declared_ieeg_sidecars,
    declared_raw_dataset,
    declared_sheet_files,
    local_storage_prefix,
    logical_path,
)


def test_local_prefix_drops_the_scheme_as_the_s3_plugin_does():
    prefix = local_storage_prefix(".snakemake/storage", "s3", "s3://bucket/run/")
    assert prefix == ".snakemake/storage/s3/bucket/run/"
    assert local_storage_prefix("/scratch/x/", "fs", None) == "/scratch/x/fs/"


def test_logical_path_strips_the_prefix_from_the_environment(monkeypatch):
    local = ".snakemake/storage/s3/bucket/run/results/nwb/a.nwb"
    monkeypatch.delenv(STORAGE_PREFIX_VARIABLE, raising=False)
    assert logical_path(local) == local  # no remote storage: unchanged
    monkeypatch.setenv(STORAGE_PREFIX_VARIABLE, ".snakemake/storage/s3/bucket/run/")
    assert logical_path(local) == "results/nwb/a.nwb"
    assert logical_path("results/x.tsv") == "results/x.tsv"


def test_logical_path_also_strips_the_absolute_prefix(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    prefix = ".snakemake/storage/s3/b/r/"
    absolute = tmp_path / prefix / "results" / "qc" / "x.json"
    assert logical_path(absolute, prefix) == "results/qc/x.json"


def test_companions_are_declared_by_convention():
    assert declared_companions("raw/sub-1_ieeg.vhdr", "brainvision") == [
        "raw/sub-1_ieeg.eeg",
        "raw/sub-1_ieeg.vmrk",
    ]
    assert declared_companions("raw/rec.dat", "binary") == ["raw/rec.dat.json"]
    assert declared_companions("raw/rec.nwb", "nwb") == []
    with pytest.raises(ValueError, match="folder of files"):
        declared_companions("raw/run_g0", "spikeglx")


def test_sheet_files_come_with_their_companions():
    import pandas as pd

    sheet = pd.DataFrame(
        {"path": ["sub-1/beh/e.tsv", "sub-1/ieeg/x.vhdr"], "format": ["tsv", "brainvision"]}
    )
    assert declared_sheet_files(sheet, "raw") == [
        "raw/dataset_description.json",
        "raw/sub-1/beh/e.tsv",
        "raw/sub-1/ieeg/x.vhdr",
        "raw/sub-1/ieeg/x.eeg",
        "raw/sub-1/ieeg/x.vmrk",
    ]


def test_a_labs_dataset_is_declared_whole_but_its_version_control(tmp_path):
    """The planning copy's files, content or not (annexed: broken links), sheet's first."""
    import os

    import pandas as pd

    raw = tmp_path / "raw"
    for name in (
        "dataset_description.json",
        "participants.tsv",
        ".bidsignore",
        ".gitattributes",
        ".datalad/config",
        ".git/HEAD",
        "sub-1/sub-1_sessions.tsv",
        "sub-1/beh/e.tsv",
        "sub-1/ieeg/x.vhdr",
        "sub-1/ieeg/x_channels.tsv",
    ):
        (raw / name).parent.mkdir(parents=True, exist_ok=True)
        (raw / name).write_text("x")
    os.symlink("../../.git/annex/objects/XX/key", raw / "sub-1/ieeg/x.eeg")  # no content
    assert dataset_listing(raw) == [
        f"{raw}/{name}"
        for name in (
            ".bidsignore",
            "dataset_description.json",
            "participants.tsv",
            "sub-1/beh/e.tsv",
            "sub-1/ieeg/x.eeg",
            "sub-1/ieeg/x.vhdr",
            "sub-1/ieeg/x_channels.tsv",
            "sub-1/sub-1_sessions.tsv",
        )
    ]
    sheet = pd.DataFrame(
        {"path": ["sub-1/beh/e.tsv", "sub-1/ieeg/x.vhdr"], "format": ["tsv", "brainvision"]}
    )
    declared = declared_raw_dataset(sheet, str(raw))
    assert declared == [
        *declared_sheet_files(sheet, str(raw)),  # x.vmrk too: a companion the copy lacks
        f"{raw}/.bidsignore",
        f"{raw}/participants.tsv",
        f"{raw}/sub-1/ieeg/x_channels.tsv",
        f"{raw}/sub-1/sub-1_sessions.tsv",
    ]


@pytest.fixture(scope="module")
def ecog_dataset(tmp_path_factory):
    """A simulated BIDS ECoG recording (BrainVision, sidecars by mne-bids) and its files."""
    from panneuro.simulate.ecog import simulate_ecog, write_ecog_bids
    from panneuro.simulate.task import build_events

    rng = np.random.default_rng(3)
    problem, trial = np.repeat(np.arange(1, 5), 6), np.tile(np.arange(1, 7), 4)
    events = build_events(problem, trial, rng.integers(0, 2, 24), rng, trial_duration=1.5)
    sim = simulate_ecog(
        events, n_electrodes=6, sfreq=500.0, n_planted=1, gain=1.5, line_frequency=60.0, seed=2
    )
    root = tmp_path_factory.mktemp("bids")
    vhdr = write_ecog_bids(sim, root, subject="H1", session="01", line_frequency=60.0)
    listing = sorted(p.relative_to(root.parent).as_posix() for p in root.rglob("*") if p.is_file())
    return root, Path(vhdr).relative_to(root.parent).as_posix(), listing


def _only_declared(root: Path, files: list[str], into: Path) -> Path:
    for name in files:
        (into / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(root.parent / name, into / name)
    return into


@pytest.mark.parametrize("with_listing", [True, False])
def test_declared_ieeg_sidecars_are_enough_for_mne_bids(ecog_dataset, tmp_path, with_listing):
    """A job given only the recording, its companions and the declared sidecars (as under
    remote storage) reads the same channels, types and bads as from the whole dataset."""
    from panneuro.ecog.high_gamma import read_ecog

    root, recording, listing = ecog_dataset
    sidecars = declared_ieeg_sidecars(recording, root.name, listing if with_listing else None)
    assert set(sidecars) <= set(listing), set(sidecars) - set(listing)
    assert f"{root.name}/dataset_description.json" in sidecars
    assert any(s.endswith("_channels.tsv") for s in sidecars)
    assert recording not in sidecars
    declared = [recording, *declared_companions(recording, "brainvision"), *sidecars]
    copy = _only_declared(root, declared, tmp_path)
    full, alone = read_ecog(str(root.parent / recording)), read_ecog(str(copy / recording))
    assert alone.get_channel_types() == full.get_channel_types()
    assert "ecog" in alone.get_channel_types()
    assert alone.ch_names == full.ch_names and alone.info["bads"] == full.info["bads"]
    if with_listing:  # electrode positions too (electrodes.tsv, coordsystem.json)
        assert any(s.endswith("_electrodes.tsv") for s in sidecars)
        np.testing.assert_array_equal(
            alone.get_montage().get_positions()["ch_pos"]["G01"],
            full.get_montage().get_positions()["ch_pos"]["G01"],
        )


def test_undeclared_channels_tsv_loses_the_ecog_types(ecog_dataset, tmp_path):
    """What the declaration prevents: without channels.tsv mne-bids reads no ECoG channel."""
    from panneuro.ecog.high_gamma import read_ecog

    root, recording, _ = ecog_dataset
    copy = _only_declared(
        root, [recording, *declared_companions(recording, "brainvision")], tmp_path
    )
    with pytest.raises(ValueError, match="no ECOG channel"):
        read_ecog(str(copy / recording))


def test_no_sidecars_are_declared_for_a_file_not_named_as_bids_ieeg():
    assert declared_ieeg_sidecars("raw/grid/rec.vhdr", "raw") == []
    assert declared_ieeg_sidecars("raw/sub-1/ieeg/sub-1_task-t_ieeg.vhdr", "raw") == [
        "raw/dataset_description.json",
        "raw/sub-1/ieeg/sub-1_task-t_channels.tsv",
        "raw/sub-1/ieeg/sub-1_task-t_ieeg.json",
    ]
