"""Raw inputs through DataLad: keys without content, install on first use, get, drop, errors."""

import json
import subprocess
import textwrap
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from compendium import BIN
from compendium import ENV as BASE_ENV

from panneuro.compendium import datalad_io
from panneuro.simulate.study import save_datalad_dataset

# datalad commits (create, save, clone -d): a git identity even where none is configured
ENV = dict(
    BASE_ENV,
    GIT_AUTHOR_NAME="panneuro",
    GIT_AUTHOR_EMAIL="panneuro@localhost",
    GIT_COMMITTER_NAME="panneuro",
    GIT_COMMITTER_EMAIL="panneuro@localhost",
)

N_SESSIONS = 6


def _session_file(root: Path, index: int) -> Path:
    return root / f"sub-M{index}" / f"sub-M{index}_rec.nwb"


@pytest.fixture(scope="module")
def origin(tmp_path_factory) -> Path:
    """A raw dataset with one annexed recording per session, a trial table, a human subdataset."""
    root = tmp_path_factory.mktemp("origin") / "raw"
    for index in range(N_SESSIONS):
        path = _session_file(root, index)
        path.parent.mkdir(parents=True)
        path.write_bytes(bytes([index, 0]) * 25_000)  # binary: annexed
    (root / "sub-M0" / "events.tsv").write_text("onset\tduration\n0.0\t1.5\n")
    human = root / "sub-H1" / "ieeg"
    human.mkdir(parents=True)
    (human / "rec.vhdr").write_text(
        "Brain Vision Data Exchange Header File Version 1.0\n"
        "[Common Infos]\nDataFile=rec.eeg\nMarkerFile=rec.vmrk\n"
    )
    (human / "rec.eeg").write_bytes(bytes(range(256)) * 100)
    (human / "rec.vmrk").write_text("Brain Vision Data Exchange Marker File, Version 1.0\n")
    (root / "dataset_description.json").write_text('{"Name": "test", "BIDSVersion": "1.9.0"}')
    save_datalad_dataset(root, message="origin", subdatasets=["sub-H1"])
    return root


def _clone(origin: Path, target: Path) -> Path:
    result = subprocess.run(
        [str(BIN / "datalad"), "clone", str(origin), str(target)],
        capture_output=True,
        text=True,
        env=ENV,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return target


def test_keys_are_read_without_content(origin, tmp_path):
    clone = _clone(origin, tmp_path / "raw")
    recording = _session_file(clone, 0)
    assert not recording.exists()  # a dangling annex symlink: no content yet
    key = datalad_io.annex_key(recording)
    assert key is not None and key.startswith("MD5E-s50000--") and key.endswith(".nwb")
    assert datalad_io.content_id(recording) == datalad_io.annex_key(_session_file(origin, 0))
    events = clone / "sub-M0" / "events.tsv"
    assert datalad_io.annex_key(events) is None
    assert datalad_io.content_id(events).startswith("sha256:")


def test_absent_raw_file_names_the_fix(tmp_path):
    (tmp_path / "Snakefile").write_text("")
    (tmp_path / "raw" / "sub-H1").mkdir(parents=True)  # an uninstalled subdataset: empty
    (tmp_path / "raw" / "dataset_description.json").write_text("{}")
    with pytest.raises(datalad_io.RawDataError, match=r"fix: datalad get -n -r \S*/raw/sub-H1 "):
        datalad_io.content_id(tmp_path / "raw" / "sub-H1" / "ses-01" / "x.nwb")
    with pytest.raises(datalad_io.RawDataError, match=r"fix: datalad get -n -r \S*/gone "):
        datalad_io.content_id(tmp_path / "gone" / "sub-M1" / "x.nwb")


def test_key_record_identifies_file_and_companions(origin):
    header = origin / "sub-H1" / "ieeg" / "rec.vhdr"
    names = sorted(p.name for p in datalad_io.companions(header))
    assert names == ["rec.eeg", "rec.vmrk"]
    record = json.loads(datalad_io.key_record(header))
    assert record["key"].startswith("sha256:")
    eeg = str(header.parent / "rec.eeg")
    assert record["companions"][eeg].startswith("MD5E-s25600--")
    pending = json.loads(datalad_io.key_record(header, identify=False))
    assert pending == {"path": str(header), "key": None, "companions": {}}
    assert (
        datalad_io.key_record_path("raw/sub-M1/a.nwb", "raw")
        == f"{datalad_io.KEY_DIR}/sub-M1/a.nwb.json"
    )


def test_missing_dataset_without_source_names_the_fix(tmp_path):
    with pytest.raises(datalad_io.RawDataError, match=r"datalad clone <source URL> resources/raw"):
        datalad_io.ensure_installed("resources/raw", None, superdataset=tmp_path)


def test_plain_folder_without_description_is_told_so(tmp_path):
    raw = tmp_path / "raw"
    (raw / "sub-1").mkdir(parents=True)
    (raw / "sub-1" / "rec.bin").write_bytes(b"x" * 10)
    with pytest.raises(datalad_io.RawDataError) as info:
        datalad_io.ensure_installed("raw", superdataset=tmp_path)
    message = str(info.value)
    assert message.startswith(f"{raw}: not a BIDS dataset: dataset_description.json missing")
    assert "add one" in message and "BIDSVersion" in message and "\n" not in message


def test_study_datasets_need_the_simulated_studys_truth(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the workflow's paths are relative to the compendium
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "dataset_description.json").write_text("{}")
    config = {
        "raw_dir": "raw",
        "raw_source": "",
        "groundtruth_dir": "truth",
        "groundtruth_source": "",
        "simulate": True,
    }
    # simulated here: nothing to install (the simulation writes both)
    datalad_io.install_study_datasets(config, raw_simulated=True)
    # a simulated study's raw dataset from elsewhere needs its ground truth installed
    with pytest.raises(
        datalad_io.RawDataError,
        match=r"^truth: the simulated study's ground truth is not installed; "
        r"fix: set groundtruth_source .* datalad clone <source URL> truth$",
    ):
        datalad_io.install_study_datasets(config, raw_simulated=False)
    # a lab's own data (simulate: false) needs no ground truth
    datalad_io.install_study_datasets({**config, "simulate": False}, raw_simulated=False)


def test_plain_bids_folder_is_used_as_it_is(tmp_path):
    raw = tmp_path / "raw"
    (raw / "sub-1").mkdir(parents=True)
    (raw / "dataset_description.json").write_text("{}")
    recording = raw / "sub-1" / "rec.nwb"
    recording.write_bytes(b"x" * 100)
    assert datalad_io.ensure_installed("raw", superdataset=tmp_path) is False
    first = datalad_io.content_id(recording)
    assert first.startswith("stat:100:")  # not hashed at every planning
    recording.write_bytes(b"y" * 101)
    assert datalad_io.content_id(recording) != first


def test_files_tracked_in_git_are_identified_by_content(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "events.tsv").write_text("onset\n1\n")
    (tmp_path / "untracked.tsv").write_text("onset\n1\n")
    subprocess.run(["git", "-C", str(tmp_path), "add", "events.tsv"], check=True)
    datalad_io._git_tracked.cache_clear()
    assert datalad_io.content_id(tmp_path / "events.tsv").startswith("sha256:")
    assert datalad_io.content_id(tmp_path / "untracked.tsv").startswith("stat:")


def test_installed_on_first_use_with_nested_subdatasets(origin, tmp_path):
    assert datalad_io.ensure_installed("raw", str(origin), superdataset=tmp_path)
    assert datalad_io.is_installed(tmp_path / "raw")
    assert datalad_io.is_installed(tmp_path / "raw" / "sub-H1")  # the human subdataset
    assert not (tmp_path / "raw" / "sub-H1" / "ieeg" / "rec.eeg").exists()  # no content
    assert not datalad_io.ensure_installed("raw", str(origin), superdataset=tmp_path)


def test_get_then_drop_only_where_a_copy_exists(origin, tmp_path):
    clone = _clone(origin, tmp_path / "raw")
    recording = _session_file(clone, 1)
    assert datalad_io.get_content([recording]) == [str(recording)]
    assert recording.read_bytes() == bytes([1, 0]) * 25_000
    assert datalad_io.get_content([recording]) == []  # present: nothing to do
    assert datalad_io.drop_content([recording]) == [str(recording)]
    assert not recording.exists() and datalad_io.annex_key(recording)
    # the origin holds the only other copy of nothing: it keeps its content
    own = tmp_path / "own"
    own.mkdir()
    (own / "only.nwb").write_bytes(b"\x00" * 4096)
    save_datalad_dataset(own, message="own")
    assert datalad_io.drop_content([own / "only.nwb"]) == []
    assert (own / "only.nwb").exists()


def test_unobtainable_content_names_the_command(origin, tmp_path):
    clone = _clone(origin, tmp_path / "raw")
    subprocess.run(["git", "remote", "remove", "origin"], cwd=clone, env=ENV, check=True)
    recording = _session_file(clone, 2)
    with pytest.raises(datalad_io.RawDataError, match=rf"fix: .*datalad get {recording}"):
        datalad_io.get_content([recording])


def test_fetch_replaces_key_records_and_gets_companions(origin, tmp_path, monkeypatch):
    from snakemake.iocontainers import InputFiles

    monkeypatch.chdir(tmp_path)
    _clone(origin, tmp_path / "raw")
    subprocess.run(
        [str(BIN / "datalad"), "get", "-n", "-r", "."],
        cwd="raw",
        env=ENV,
        check=True,
        capture_output=True,
    )
    header = "raw/sub-H1/ieeg/rec.vhdr"
    record = Path(datalad_io.key_record_path(header, "raw"))
    record.parent.mkdir(parents=True)
    record.write_text(datalad_io.key_record(header))
    inputs = InputFiles([str(record), "raw/sub-M0/events.tsv"])
    inputs._set_name("ecog", 0)
    inputs._set_name("events", 1)
    smk = SimpleNamespace(input=inputs, threads=2, config={"raw_drop": False})
    fetched = datalad_io.fetch_raw_inputs(smk)
    assert smk.input.ecog == header and smk.input[0] == header
    assert sorted(fetched) == sorted(
        [header, "raw/sub-H1/ieeg/rec.eeg", "raw/sub-H1/ieeg/rec.vmrk"]
    )
    assert Path("raw/sub-H1/ieeg/rec.eeg").read_bytes() == bytes(range(256)) * 100
    datalad_io.release(fetched, registry=Path(datalad_io.KEY_DIR) / ".in-use", drop=True)
    assert not Path("raw/sub-H1/ieeg/rec.eeg").exists()


def test_running_jobs_keep_what_another_job_uses(origin, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    clone = _clone(origin, tmp_path / "raw")
    shared = str(_session_file(clone.relative_to(tmp_path), 3))
    registry = tmp_path / "registry"
    other = subprocess.Popen(["sleep", "30"])
    try:
        (registry).mkdir()
        (registry / f"{other.pid}.json").write_text(json.dumps([shared]))
        datalad_io.acquire([shared], registry=registry)
        assert Path(shared).exists()
        assert datalad_io.release([shared], registry=registry, drop=True) == []
        assert Path(shared).exists()  # still in use by the other job
    finally:
        other.kill()
        other.wait()
    datalad_io.acquire([shared], registry=registry)
    assert datalad_io.release([shared], registry=registry, drop=True) == [shared]


SNAKEFILE = """
SESSIONS = list(range({n}))


rule all:
    input:
        expand("out/{{s}}.json", s=SESSIONS),


rule process:
    input:
        "{keys}/sub-M{{s}}/sub-M{{s}}_rec.nwb.json",
    output:
        "out/{{s}}.json",
    threads: 1
    script:
        "process.py"
"""

SCRIPT = """
import json, os, time
from pathlib import Path
from panneuro.compendium.datalad_io import fetch_raw_inputs

smk = snakemake
raw = fetch_raw_inputs(smk)
time.sleep(0.6)
present = sorted(str(p) for p in Path("raw").glob("sub-M*/*.nwb") if p.exists())
data = Path(raw[0]).read_bytes()
Path(smk.output[0]).write_text(json.dumps({{"present": present, "first": data[0]}}))
"""


def test_disk_holds_at_most_the_jobs_in_flight(origin, tmp_path):
    """N sessions, k parallel jobs, raw_drop: never more than k sessions' raw content at once.

    Then all content is gone, and ``snakemake -n`` has nothing to do (key records, not the
    dropped files, are what the DAG sees).
    """
    k = 2
    work = tmp_path / "work"
    work.mkdir()
    clone = _clone(origin, work / "raw")
    for index in range(N_SESSIONS):
        raw_file = _session_file(clone.relative_to(work), index)
        record = work / datalad_io.key_record_path(raw_file, "raw")
        record.parent.mkdir(parents=True)
        record.write_text(json.dumps({"path": str(raw_file), "key": None, "companions": {}}))
    (work / "Snakefile").write_text(SNAKEFILE.format(n=N_SESSIONS, keys=datalad_io.KEY_DIR))
    (work / "process.py").write_text(textwrap.dedent(SCRIPT.format()))
    run = [str(BIN / "snakemake"), "--cores", str(k), "--config", "raw_drop=True"]
    files = [_session_file(clone, index) for index in range(N_SESSIONS)]
    sampled = []  # sessions with content present, polled from outside while the jobs run
    with subprocess.Popen(
        run, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=ENV
    ) as process:
        while process.poll() is None:
            sampled.append(sum(path.exists() for path in files))
            time.sleep(0.02)
        log = process.stdout.read()
    assert process.returncode == 0, log[-3000:]
    assert 1 <= max(sampled) <= k, sampled
    peaks = []
    for index in range(N_SESSIONS):
        out = json.loads((work / "out" / f"{index}.json").read_text())
        assert out["first"] == index
        peaks.append(len(out["present"]))
    assert 1 <= max(peaks) <= k, peaks
    assert not [p for p in clone.glob("sub-M*/*.nwb") if p.exists()]
    dry = subprocess.run(
        [*run, "--dry-run"], cwd=work, capture_output=True, text=True, env=ENV, check=False
    )
    assert dry.returncode == 0 and "Nothing to be done" in dry.stdout + dry.stderr, dry.stdout


def test_special_remote_of_the_source_is_verified_in_a_clone(origin, tmp_path):
    """git-annex 10.20261026 refuses an unverified special remote; the source's one is accepted."""
    published = tmp_path / "published"
    subprocess.run(["cp", "-a", str(origin), str(published)], check=True)
    store = f"ria+file://{tmp_path / 'store'}"
    datalad = str(BIN / "datalad")
    for args in (
        ["create-sibling-ria", "-s", "store", "--new-store-ok", "-r", "--alias", "raw", store],
        ["push", "-r", "--to", "store"],
    ):
        result = subprocess.run(
            [datalad, *args], cwd=published, capture_output=True, text=True, env=ENV, check=False
        )
        assert result.returncode == 0, result.stderr
    assert datalad_io.ensure_installed("raw", f"{store}#~raw", superdataset=tmp_path)
    clone = tmp_path / "raw"
    subprocess.run(
        ["git", "config", "--unset", "remote.store-storage.annex-verified"],
        cwd=clone,
        env=ENV,
        check=False,
    )
    recording = _session_file(clone, 4)
    with pytest.raises(datalad_io.RawDataError, match="annexed content not available"):
        datalad_io.get_content([recording])
    assert datalad_io.verify_special_remotes(clone, f"{store}#~raw") == [f"{clone}:store-storage"]
    assert datalad_io.verify_special_remotes(clone, "ria+file:///elsewhere#~raw") == []
    assert datalad_io.get_content([recording]) == [str(recording)]


def test_forget_absent_annexed_removes_only_dangling_annex_links(tmp_path):
    results = tmp_path / "results"
    (results / "fig").mkdir(parents=True)
    key = "MD5E-s3--0123456789abcdef0123456789abcdef.png"
    dangling = results / "fig" / "a.png"
    dangling.symlink_to(f"../../.git/annex/objects/Xx/Yy/{key}/{key}")
    (results / "table.tsv").write_text("a\n")
    present = results / "b.png"
    other = key.replace("0123", "4567")
    target = tmp_path / ".git/annex/objects/Xx/Yy" / other / other
    target.parent.mkdir(parents=True)
    target.write_bytes(b"png")
    present.symlink_to(target)
    assert datalad_io.forget_absent_annexed(results) == [dangling.as_posix()]
    assert not dangling.is_symlink() and present.exists() and (results / "table.tsv").exists()
    assert datalad_io.forget_absent_annexed(tmp_path / "none") == []


def test_get_waits_for_another_jobs_transfer_of_the_same_file(tmp_path, monkeypatch):
    target = tmp_path / "rec.eeg"
    calls = []

    def fake_run(args, cwd=None):
        calls.append(args)
        if len(calls) == 1:  # the other job holds the transfer lock
            return SimpleNamespace(
                returncode=1,
                stdout="",
                stderr=(
                    "get(error): rec.eeg (file) [transfer already in progress, or unable to take "
                    "transfer lock]"
                ),
            )
        target.write_bytes(b"data")  # the other job's transfer has finished
        return SimpleNamespace(returncode=0, stdout="", stderr="")

    monkeypatch.setattr(datalad_io, "run_command", fake_run)
    monkeypatch.setattr(datalad_io.time, "sleep", lambda s: None)
    assert datalad_io.get_content([target]) == [str(target)]
    assert len(calls) == 2


def test_get_does_not_retry_other_failures(tmp_path, monkeypatch):
    calls = []

    def fake_run(args, cwd=None):
        calls.append(args)
        return SimpleNamespace(returncode=1, stdout="", stderr="get(error): not available")

    monkeypatch.setattr(datalad_io, "run_command", fake_run)
    with pytest.raises(datalad_io.RawDataError, match="not available"):
        datalad_io.get_content([tmp_path / "rec.eeg"])
    assert len(calls) == 1
