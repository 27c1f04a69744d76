"""The de-identification check: passes on compliant data, fails naming file and field."""

import datetime as dt
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from panneuro.compendium.deidentification import (
    DANDI_SUBJECT_FIELDS,
    SHIFTED_YEAR_MAX,
    check_deidentification,
    scan_file,
)
from panneuro.ephys.nwb_units import make_nwbfile, write_nwbfile
from panneuro.io.tables import write_json, write_tsv
from panneuro.simulate.bids import DATE_SHIFT_DAYS, shift_date

TRUE_START = dt.datetime(1999, 3, 4, 10, 30, tzinfo=dt.UTC)
SHIFTED_START = shift_date(TRUE_START)


def _nwb(path, start=SHIFTED_START, **subject_extra):
    nwbfile = make_nwbfile(
        subject="H2",
        session="01",
        species="human",
        session_start=start,
        description="test recording",
        identifier="sub-H2_ses-01",
        age="P53Y",
        sex="M",
    )
    for name, value in subject_extra.items():
        setattr(nwbfile.subject, name, value)
    write_nwbfile(nwbfile, path)


@pytest.fixture
def dataset(tmp_path):
    """A small compliant raw dataset and results folder (the shapes the pipeline writes)."""
    raw, results = tmp_path / "raw", tmp_path / "results"
    write_tsv(
        pd.DataFrame(
            {
                "participant_id": ["sub-H1", "sub-H2"],
                "species": ["Homo sapiens"] * 2,
                "sex": ["F", "M"],
                "age": [26, 53],
            }
        ),
        raw / "participants.tsv",
    )
    write_json(
        {"age": {"Description": "Age at the first session", "Units": "year"}},
        raw / "participants.json",
    )
    write_json(
        {"Name": "study", "BIDSVersion": "1.10.1", "Authors": ["A. Author"]},
        raw / "dataset_description.json",
    )
    session = raw / "sub-H1" / "ses-01"
    write_tsv(
        pd.DataFrame(
            {
                "filename": ["ieeg/sub-H1_ses-01_task-harlow_ieeg.vhdr"],
                "acq_time": [SHIFTED_START.strftime("%Y-%m-%dT%H:%M:%S")],
            }
        ),
        session / "sub-H1_ses-01_scans.tsv",
    )
    write_tsv(
        pd.DataFrame({"name": ["G01", "G02"], "type": "ECOG", "units": "V"}),
        session / "ieeg" / "sub-H1_ses-01_task-harlow_channels.tsv",
    )
    write_json(
        {"TaskName": "harlow", "SamplingFrequency": 1000.0},
        session / "ieeg" / "sub-H1_ses-01_task-harlow_ieeg.json",
    )
    (session / "ieeg" / "sub-H1_ses-01_task-harlow_ieeg.vmrk").write_text(
        "Brain Vision Data Exchange Marker File, Version 1.0\n[Marker Infos]\n"
        ";             <Date (YYYYMMDDhhmmssuuuuuu)>\n"
        f"Mk1=New Segment,,1,1,0,{SHIFTED_START.strftime('%Y%m%d%H%M%S')}000000\n"
        "Mk2=Stimulus,S  1,1001,1,0\n"
    )
    (raw / "sub-H2" / "ses-01" / "ieeg").mkdir(parents=True)
    _nwb(raw / "sub-H2" / "ses-01" / "ieeg" / "sub-H2_ses-01_task-harlow_acq-MW_ieeg.nwb")
    (results / "nwb").mkdir(parents=True)
    _nwb(results / "nwb" / "sub-H2_ses-01_units.nwb")
    write_tsv(
        pd.DataFrame({"subject": ["H1"], "region": ["temporal"], "score": [0.7]}),
        results / "decoding" / "sub-H1_ses-01_decoding.tsv",
    )
    # A tool's own timestamp (when it ran) is not a person's date.
    write_json(
        {"sorter_name": "spykingcircus2", "datetime": "2026-11-25 12:00:00", "run_time": 3.2},
        results / "ephys" / "spikeinterface_log.json",
    )
    return raw, results


def _findings(report, path_part):
    return [f for f in report.findings if path_part in f.path]


def test_compliant_data_pass(dataset):
    raw, results = dataset
    report = check_deidentification([raw, results])
    assert report.passed, report.summary()
    assert len(report.checked) == 11
    assert f"{raw.as_posix()}/participants.tsv" in report.checked
    assert any(p.endswith("_units.nwb") for p in report.checked)
    summary = report.to_dict()
    assert summary["status"] == "pass" and summary["n_checked"] == 11
    assert summary["shifted_year_max"] == SHIFTED_YEAR_MAX


def test_planted_name_fails_naming_file_and_field(dataset):
    raw, results = dataset
    table = pd.read_csv(raw / "participants.tsv", sep="\t")
    table["name"] = ["Jane Doe", "John Roe"]
    write_tsv(table, raw / "participants.tsv")
    sidecar = raw / "sub-H1" / "ses-01" / "ieeg" / "sub-H1_ses-01_task-harlow_ieeg.json"
    write_json({**json.loads(sidecar.read_text()), "PatientName": "Jane Doe"}, sidecar)
    report = check_deidentification([raw, results])
    assert not report.passed
    [participants] = _findings(report, "participants.tsv")
    assert participants.field == "column 'name'" and "name" in participants.problem
    [key] = _findings(report, "_ieeg.json")
    assert key.field == "key PatientName" and "name" in key.problem
    assert "participants.tsv: column 'name': a person's name; fix:" in report.summary()


def test_planted_unshifted_date_fails_naming_file_and_field(dataset):
    raw, results = dataset
    scans = raw / "sub-H1" / "ses-01" / "sub-H1_ses-01_scans.tsv"
    table = pd.read_csv(scans, sep="\t")
    table["acq_time"] = TRUE_START.strftime("%Y-%m-%dT%H:%M:%S")
    write_tsv(table, scans)
    _nwb(results / "nwb" / "sub-H2_ses-01_units.nwb", start=TRUE_START)
    report = check_deidentification([raw, results])
    [acq] = _findings(report, "_scans.tsv")
    assert acq.field == "column 'acq_time', row 1"
    assert acq.problem == "unshifted date 1999-03-04" and "1925" in acq.fix
    nwb = _findings(report, "_units.nwb")
    assert {f.field for f in nwb} == {
        "session_start_time",
        "timestamps_reference_time",
        "file_create_date",
    }
    assert not _findings(report, "_ieeg.nwb")  # the raw NWB is still shifted


@pytest.mark.parametrize(
    ("content", "field"),
    [
        ("Mk1=New Segment,,1,1,0,20190304103000000000\n", "Mk1 (New Segment date)"),
    ],
)
def test_brainvision_marker_date(tmp_path, content, field):
    path = tmp_path / "x_ieeg.vmrk"
    path.write_text("[Marker Infos]\n" + content)
    [finding] = scan_file(path)
    assert finding.field == field and finding.problem == "unshifted date 20190304103000000000"


def test_nwb_subject_holds_only_dandi_fields(tmp_path):
    _nwb(tmp_path / "a.nwb")
    assert scan_file(tmp_path / "a.nwb") == []
    _nwb(
        tmp_path / "b.nwb",
        date_of_birth=dt.datetime(1966, 5, 2, tzinfo=dt.UTC),
        description="Jane Doe, epilepsy surgery at St Elsewhere",
    )
    findings = {f.field: f for f in scan_file(tmp_path / "b.nwb")}
    assert set(findings) == {"general/subject/date_of_birth", "general/subject/description"}
    assert findings["general/subject/date_of_birth"].problem == "birth date"
    assert ", ".join(DANDI_SUBJECT_FIELDS) in findings["general/subject/description"].fix


def test_birth_dates_free_text_and_old_ages(tmp_path):
    write_tsv(
        pd.DataFrame(
            {
                "participant_id": ["sub-H1"],
                "age": [93],
                "birthdate": ["n/a"],
                "notes": ["left-handed teacher"],
            }
        ),
        tmp_path / "participants.tsv",
    )
    write_json(
        {"Subject": {"Comments": "referred by Dr X"}, "DateOfBirth": "1950-02-03"},
        tmp_path / "sub-H1_sessions.json",
    )
    fields = {
        (Path(f.path).name, f.field): f.problem for f in check_deidentification([tmp_path]).findings
    }
    assert fields == {
        ("participants.tsv", "column 'age', row 1"): "age 93 over 89",
        ("participants.tsv", "column 'birthdate'"): "birth date",
        ("participants.tsv", "column 'notes'"): "free text about a person",
        ("sub-H1_sessions.json", "key Subject.Comments"): "free text about a person",
        ("sub-H1_sessions.json", "key DateOfBirth"): "birth date",
    }


def test_date_in_file_name_and_other_formats(tmp_path):
    write_tsv(
        pd.DataFrame({"onset": [1.0], "comment_code": ["visit 04/03/2019"]}),
        tmp_path / "sub-H1_ses-20190304_events.tsv",
    )
    problems = sorted((f.field, f.problem) for f in check_deidentification([tmp_path]).findings)
    assert problems == [
        ("column 'comment_code', row 1", "unshifted date 04/03/2019"),
        ("file name", "unshifted date 20190304"),
    ]


def test_absent_annexed_content_is_listed_unchecked(dataset):
    raw, results = dataset
    (raw / "sub-H2" / "ses-01" / "ieeg" / "dropped_ieeg.nwb").symlink_to(
        "../../../.git/annex/objects/XX/missing.nwb"
    )
    report = check_deidentification([raw, results])
    assert report.passed
    assert report.unchecked == [f"{raw.as_posix()}/sub-H2/ses-01/ieeg/dropped_ieeg.nwb"]


def test_missing_root_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing: folder to check"):
        check_deidentification([tmp_path / "missing"])


def test_shift_date_keeps_intervals_and_reaches_1925():
    later = TRUE_START + dt.timedelta(days=30, hours=2)
    assert SHIFTED_START.year <= SHIFTED_YEAR_MAX
    assert shift_date(later) - SHIFTED_START == later - TRUE_START
    assert TRUE_START - SHIFTED_START == dt.timedelta(days=DATE_SHIFT_DAYS)
    with pytest.raises(ValueError, match="shift it by at least"):
        shift_date(TRUE_START, days_back=365)


@pytest.mark.workflow
def test_tiny_run_passes_and_fails_on_planted_fields(tiny_run, tmp_path):
    report = json.loads((tiny_run / "results/qc/deidentification.json").read_text())
    assert report["status"] == "pass" and report["findings"] == []
    checked = report["checked"]
    assert "resources/raw/participants.tsv" in checked
    assert any(p.startswith("results/nwb/") and p.endswith("_units.nwb") for p in checked)
    assert any(p.endswith("_scans.tsv") for p in checked)
    # The same data with a planted name and an unshifted date fail, naming file and field.
    raw = tmp_path / "raw"
    shutil.copytree(
        tiny_run / "resources/raw", raw, symlinks=True, ignore=shutil.ignore_patterns(".git")
    )
    table = pd.read_csv(raw / "participants.tsv", sep="\t")
    table["name"] = "Jane Doe"
    write_tsv(table, raw / "participants.tsv")
    [scans] = sorted(raw.rglob("*_scans.tsv"))
    table = pd.read_csv(scans, sep="\t")
    table["acq_time"] = "2019-03-04T10:30:00"
    write_tsv(table, scans)
    planted = check_deidentification([raw, tiny_run / "results"])
    assert {(Path(f.path).name, f.field) for f in planted.findings} == {
        ("participants.tsv", "column 'name'"),
        (scans.name, "column 'acq_time', row 1"),
    }
