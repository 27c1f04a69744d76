"""Session start, age, sex and species from a BIDS dataset's own files."""

import datetime as dt

import pytest

from panneuro.ingest.session_metadata import metadata_files, session_metadata
from panneuro.io.validation import InputError

PARTICIPANTS = "participant_id\tspecies\tsex\tage\nsub-M1\tMacaca mulatta\tM\t7\n"


def _dataset(
    root,
    *,
    participants=PARTICIPANTS,
    sessions="session_id\tacq_time\nses-01\t1923-05-05T09:00:00\n",
):
    root.mkdir(parents=True, exist_ok=True)
    if participants is not None:
        (root / "participants.tsv").write_text(participants)
    (root / "sub-M1").mkdir(exist_ok=True)
    if sessions is not None:
        (root / "sub-M1" / "sub-M1_sessions.tsv").write_text(sessions)
    return root


def test_reads_participants_and_sessions(tmp_path):
    root = _dataset(tmp_path / "raw")
    meta = session_metadata(root, "M1", "01")
    assert meta == {
        "session_start": dt.datetime(1923, 5, 5, 9, tzinfo=dt.UTC),
        "age": "P7Y",
        "sex": "M",
        "species": "Macaca mulatta",
    }
    assert metadata_files(root, "M1", "01") == [
        str(root / "participants.tsv"),
        str(root / "sub-M1" / "sub-M1_sessions.tsv"),
    ]


def test_scans_file_and_plain_words_are_understood(tmp_path):
    root = _dataset(
        tmp_path / "raw",
        sessions=None,
        participants="participant_id\tspecies\tsex\tage\nsub-M1\tmacaque\tfemale\tP30M\n",
    )
    scans = root / "sub-M1" / "ses-02" / "sub-M1_ses-02_scans.tsv"
    scans.parent.mkdir(parents=True)
    scans.write_text(
        "filename\tacq_time\nieeg/a.nwb\t1920-01-02T10:00:00\nieeg/b.nwb\t1920-01-02T08:30:00Z\n"
    )
    meta = session_metadata(root, "M1", "02")
    assert meta["session_start"] == dt.datetime(1920, 1, 2, 8, 30, tzinfo=dt.UTC)  # earliest
    assert (meta["sex"], meta["age"], meta["species"]) == ("F", "P30M", "Macaca mulatta")
    assert metadata_files(root, "M1", "02")[-1] == str(scans)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (dict(sessions=None), ["sub-M1_sessions.tsv", "no acquisition time", "acq_time"]),
        (dict(sessions="session_id\tacq_time\nses-01\tyesterday\n"), ["'yesterday'", "YYYY"]),
        (dict(participants=None), ["participants.tsv: missing"]),
        (dict(participants="participant_id\tsex\nsub-M2\tM\n"), ["no row for sub-M1"]),
        (dict(participants="participant_id\tsex\tage\nsub-M1\tX\t7\n"), ["sex 'X'"]),
        (dict(participants="participant_id\tsex\tage\nsub-M1\tM\tseven\n"), ["age 'seven'"]),
    ],
)
def test_missing_or_malformed_metadata_is_one_line_naming_the_file(tmp_path, change, expected):
    root = _dataset(tmp_path / "raw", **change)
    with pytest.raises(InputError) as info:
        session_metadata(root, "M1", "01")
    message = str(info.value)
    assert "\n" not in message and str(root) in message
    for text in expected:
        assert text in message, message


def test_species_may_be_absent(tmp_path):
    root = _dataset(tmp_path / "raw", participants="participant_id\tsex\tage\nsub-M1\tn/a\tn/a\n")
    meta = session_metadata(root, "M1", "01")
    assert (meta["species"], meta["sex"], meta["age"]) == (None, "U", None)


def test_metadata_root_is_where_the_job_got_participants(tmp_path):
    from panneuro.ingest.session_metadata import metadata_root

    copy = ".snakemake/storage/s3/bucket/run/resources/raw/participants.tsv"
    assert (
        str(metadata_root([copy, "x/sub-M1/sub-M1_sessions.tsv"], "resources/raw"))
        == ".snakemake/storage/s3/bucket/run/resources/raw"
    )
    assert str(metadata_root([], "resources/raw")) == "resources/raw"


def test_recording_metadata_is_the_datasets_task_sidecar_or_nothing(tmp_path):
    """A lab states its recordings' site, device and reference once, at its dataset's root
    (BIDS inheritance: task-<task>_ieeg.json); it is listed among a session's metadata files
    only when present, and a broken one is one error naming it."""
    from panneuro.ingest.session_metadata import recording_metadata

    root = _dataset(tmp_path / "raw")
    assert recording_metadata(root, "harlow") == {}
    assert not any(p.endswith("_ieeg.json") for p in metadata_files(root, "M1", "01", "harlow"))
    (root / "task-harlow_ieeg.json").write_text('{"InstitutionName": "Lab", "iEEGReference": "x"}')
    assert recording_metadata(root, "harlow") == {"InstitutionName": "Lab", "iEEGReference": "x"}
    assert recording_metadata(root, "sleep") == {}
    assert metadata_files(root, "M1", "01", "harlow")[-1] == str(root / "task-harlow_ieeg.json")
    assert metadata_files(root, "M1", "01") == [
        str(root / "participants.tsv"),
        str(root / "sub-M1/sub-M1_sessions.tsv"),
    ]
    for text, problem in (("{nope", "not valid JSON"), ('["a"]', "not an object")):
        (root / "task-harlow_ieeg.json").write_text(text)
        with pytest.raises(InputError, match=problem) as info:
            recording_metadata(root, "harlow")
        assert str(root / "task-harlow_ieeg.json") in str(info.value)


def test_recording_institution_is_stated_or_panneuro_for_the_simulated_study(tmp_path):
    from panneuro.ingest.session_metadata import recording_institution

    root = _dataset(tmp_path / "raw")
    assert recording_institution(root, "harlow", simulated=True) == "panneuro"
    assert recording_institution(root, "harlow", simulated=False) is None
    (root / "task-harlow_ieeg.json").write_text('{"InstitutionName": "Lab"}')
    assert recording_institution(root, "harlow", simulated=False) == "Lab"
    assert recording_institution(root, "sleep", simulated=False) is None
