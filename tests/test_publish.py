"""Layouts for the archives: a dandiset that ``dandi validate`` passes, BIDS + derivatives."""

import json
import shutil

import pytest
import yaml

from panneuro import cli
from panneuro.compendium import publish
from panneuro.results import open_run

DANDI_OPTIONS = {
    "identifier": "000123",
    "name": "n",
    "description": "d\n",
    "license": "CC-BY-4.0",
    "keywords": ["k"],
    "contributors": [{"name": "Doe, Jane", "roles": ["ContactPerson"]}],
}


def test_dandiset_metadata_from_config():
    meta = publish.dandiset_metadata(DANDI_OPTIONS)
    assert meta["identifier"] == "DANDI:000123" and meta["license"] == ["spdx:CC-BY-4.0"]
    assert meta["contributor"] == [
        {"schemaKey": "Person", "name": "Doe, Jane", "roleName": ["dcite:ContactPerson"]}
    ]
    with pytest.raises(ValueError, match="six digits"):
        publish.dandiset_metadata(dict(DANDI_OPTIONS, identifier="123"))


@pytest.mark.workflow
def test_dandi_layout_of_the_tiny_run_validates(tiny_run, tmp_path):
    run = open_run(tiny_run)
    folder = tmp_path / "000000"
    report = publish.publish_dandi(run, folder)
    assert report["errors"] == [], report["errors"]
    assert set(report["assets"]) == {
        "sub-M1/sub-M1_ses-01_ecephys.nwb",
        "sub-H2/sub-H2_ses-01_ecephys.nwb",
    }
    assert (folder / "sub-M1/sub-M1_ses-01_ecephys.nwb").read_bytes() == (
        tiny_run / "results/nwb/sub-M1_ses-01_units.nwb"
    ).read_bytes()
    described = yaml.safe_load((folder / "dandiset.yaml").read_text())
    assert described["identifier"] == "DANDI:000000"
    assert not list(folder.rglob("*.prov.json"))  # provenance sidecars stay in results/
    # the validator is not blind: a file named outside DANDI's layout is an error
    shutil.copy(folder / "sub-M1/sub-M1_ses-01_ecephys.nwb", folder / "sub-M1/units.nwb")
    errors = publish.validate_dandiset(folder)["errors"]
    assert {e["id"] for e in errors} == {"DANDI.NON_DANDI_FILENAME"}, errors


@pytest.mark.workflow
def test_openneuro_layout_of_the_tiny_run_validates(tiny_run, tmp_path):
    report = publish.publish_openneuro(open_run(tiny_run), tmp_path / "openneuro")
    raw, derivative = report["raw"], report["derivative"]
    assert raw["n_errors"] == 0 and raw["n_warnings"] <= 5, raw["warning_codes"]
    assert derivative["n_errors"] == 0, derivative["errors"]
    assert derivative["n_warnings"] <= 1, derivative["warning_codes"]  # one author
    deriv = tmp_path / "openneuro/derivatives/panneuro"
    assert (
        json.loads((deriv / "dataset_description.json").read_text())["DatasetType"] == "derivative"
    )
    sidecar = json.loads(
        (deriv / "sub-M1/ses-01/ieeg/sub-M1_ses-01_task-harlow_desc-units_ieeg.json").read_text()
    )
    assert sidecar["Sources"] == [
        "bids:raw:sub-M1/ses-01/ieeg/sub-M1_ses-01_task-harlow_acq-PFC_ieeg.nwb",
        "bids:raw:sub-M1/ses-01/ieeg/sub-M1_ses-01_task-harlow_acq-HPC_ieeg.nwb",
    ]
    assert not list((tmp_path / "openneuro").rglob("*.prov.json"))


@pytest.mark.workflow
def test_publish_command_prints_the_upload_command(tiny_run, tmp_path, capsys):
    folder = tmp_path / "ds"
    assert cli.main(["publish", "dandi", "--root", str(tiny_run), "--out", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "dandi validate: 0 error(s)" in out
    assert f"cd {folder} && dandi upload" in out
