import pytest

from panneuro.compendium.storage import (
    STORAGE_PREFIX_VARIABLE,
    declared_companions,
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

    from panneuro.compendium.storage import declared_sheet_files

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
