"""Exporting the simulated raw dataset as a lab's plain folder in acquisition formats."""

import datetime as dt
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from panneuro.ephys.preprocessing import read_recording
from panneuro.simulate.ephys import simulate_probe, write_probe_nwb
from panneuro.simulate.lab_export import (
    FORMATS,
    add_lab_recording,
    add_lab_sleep_run,
    export_lab_folder,
)
from panneuro.simulate.task import build_events

FS = 30000.0
#: (probe, channels, region, duration s): a 32-contact shank and an 8-wire bundle. 2.5 s is not a
#: whole number of 1 s chunks, so the last chunk is a short one.
PROBES = [("PFC", 32, "prefrontal", 2.5), ("MW", 8, "hippocampus", 1.2)]


def _events(n_problems=1, seed=0):
    rng = np.random.default_rng(seed)
    problem = np.repeat(np.arange(1, 1 + n_problems), 2)
    trial = np.tile(np.arange(1, 3), n_problems)
    return build_events(problem, trial, np.ones(problem.size, dtype=int), rng, trial_duration=0.5)


def _write_channels(path, recording):
    ids = [str(c) for c in recording.channel_ids]
    path.write_text("name\ttype\tunits\tstatus\n" + "".join(f"{c}\tSEEG\tuV\tgood\n" for c in ids))


@pytest.fixture(scope="module")
def raw_dir(tmp_path_factory):
    """A small raw BIDS dataset shaped like resources/raw, with git/DataLad leftovers."""
    root = tmp_path_factory.mktemp("raw")
    (root / "dataset_description.json").write_text('{"Name": "sim", "BIDSVersion": "1.10.1"}\n')
    (root / "participants.tsv").write_text("participant_id\tspecies\nsub-M1\tmacaque\n")
    (root / "participants.json").write_text("{}\n")
    (root / "README.md").write_text("# Simulated\n")
    (root / "task-harlow_events.json").write_text("{}\n")
    (root / ".gitattributes").write_text("* annex.largefiles=anything\n")
    (root / ".datalad").mkdir()
    (root / ".datalad" / "config").write_text("[datalad]\n")
    subject = root / "sub-M1"
    (subject / "ses-01" / "beh").mkdir(parents=True)
    (subject / "sub-M1_sessions.tsv").write_text("session_id\tacq_time\nses-01\tn/a\n")
    events = _events()
    events.to_csv(
        subject / "ses-01" / "beh" / "sub-M1_ses-01_task-harlow_events.tsv", sep="\t", index=False
    )
    ieeg = subject / "ses-01" / "ieeg"
    ieeg.mkdir()
    annex = root / ".git" / "annex" / "objects"
    annex.mkdir(parents=True)
    rows = [
        (
            "M1",
            "01",
            "macaque",
            "beh",
            "n/a",
            "n/a",
            "sub-M1/ses-01/beh/sub-M1_ses-01_task-harlow_events.tsv",
            "tsv",
        )
    ]
    scans = ["filename\tacq_time"]
    for seed, (probe, n_channels, region, duration) in enumerate(PROBES):
        sim = simulate_probe(
            events,
            n_channels=n_channels,
            n_units=3,
            sampling_frequency=FS,
            duration=duration,
            region=region,
            seed=seed + 3,
        )
        stem = f"sub-M1_ses-01_task-harlow_acq-{probe}"
        nwb = ieeg / f"{stem}_ieeg.nwb"
        write_probe_nwb(
            sim,
            nwb,
            subject="M1",
            session="01",
            species="macaque",
            region=region,
            session_start=dt.datetime(2000, 1, 1, 9, tzinfo=dt.UTC),
        )
        if probe == "MW":  # an annexed file: a symlink into .git/annex, copied by content
            target = annex / "MD5E-s1--0.nwb"
            os.replace(nwb, target)
            nwb.symlink_to(os.path.relpath(target, nwb.parent))
        _write_channels(ieeg / f"{stem}_channels.tsv", sim.recording)
        (ieeg / f"{stem}_ieeg.json").write_text(json.dumps({"SamplingFrequency": FS}))
        (ieeg / f"{stem}_electrodes.tsv").write_text("name\tx\ty\tz\n")
        events.to_csv(ieeg / f"{stem}_events.tsv", sep="\t", index=False)
        rows.append(
            (
                "M1",
                "01",
                "macaque",
                "array",
                probe,
                region,
                f"sub-M1/ses-01/ieeg/{stem}_ieeg.nwb",
                "nwb",
            )
        )
        scans.append(f"ieeg/{stem}_ieeg.nwb\t2000-01-01T09:00:00")
    # an ECoG-like BrainVision triple with session-level sidecars: copied as is, never read
    for ext in ("vhdr", "vmrk", "eeg"):
        (ieeg / f"sub-M1_ses-01_task-harlow_ieeg.{ext}").write_bytes(f"ecog {ext}\n".encode())
    (ieeg / "sub-M1_ses-01_coordsystem.json").write_text("{}\n")
    rows.append(
        (
            "M1",
            "01",
            "macaque",
            "ecog",
            "grid",
            "temporal",
            "sub-M1/ses-01/ieeg/sub-M1_ses-01_task-harlow_ieeg.vhdr",
            "brainvision",
        )
    )
    scans.append("ieeg/sub-M1_ses-01_task-harlow_ieeg.vhdr\t2000-01-01T09:00:00")
    (subject / "ses-01" / "sub-M1_ses-01_scans.tsv").write_text("\n".join(scans) + "\n")
    sheet = pd.DataFrame(
        rows,
        columns=["subject", "session", "species", "datatype", "probe", "region", "path", "format"],
    )
    return root, sheet


def _files(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def _assert_same_recording(exported, original):
    assert exported.get_sampling_frequency() == original.get_sampling_frequency()
    assert [str(c) for c in exported.channel_ids] == [str(c) for c in original.channel_ids]
    assert exported.get_num_samples() == original.get_num_samples()
    assert exported.get_dtype() == original.get_dtype() == np.int16
    np.testing.assert_array_equal(exported.get_traces(), original.get_traces())
    np.testing.assert_allclose(
        exported.get_channel_gains(), original.get_channel_gains(), rtol=1e-9, atol=0
    )
    np.testing.assert_allclose(exported.get_channel_offsets(), 0.0)
    np.testing.assert_allclose(
        exported.get_channel_locations(), original.get_channel_locations(), rtol=1e-9, atol=0
    )


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f != "nwb"])
def test_round_trip_through_each_format(raw_dir, tmp_path, fmt):
    root, sheet = raw_dir
    dest = tmp_path / "lab"
    lab = export_lab_folder(root, sheet, dest, {"PFC": fmt, "MW": fmt})
    assert lab.columns.tolist() == sheet.columns.tolist() and len(lab) == len(sheet)
    for (_, new), (_, old) in zip(lab.iterrows(), sheet.iterrows(), strict=True):
        assert new.drop(["path", "format"]).equals(old.drop(["path", "format"]))
        if old["probe"] not in ("PFC", "MW"):
            assert (new["path"], new["format"]) == (old["path"], old["format"])
            continue
        assert new["format"] == fmt and (dest / new["path"]).is_file()
        if fmt == "binary":  # a BIDS-like path outside sourcedata
            assert new["path"] == f"sub-M1/ses-01/ephys/sub-M1_ses-01_acq-{old['probe']}_raw.bin"
        else:
            assert new["path"].startswith("sourcedata/sub-M1/ses-01/ephys/")
        _assert_same_recording(
            read_recording(dest / new["path"], fmt), read_recording(root / old["path"], "nwb")
        )
    files = _files(dest)
    # the converted NWB files and their own sidecars are gone, the rest is there
    assert not any(f.endswith(".nwb") or "acq-PFC_" in f and "/ieeg/" in f for f in files)
    assert "sub-M1/ses-01/ieeg/sub-M1_ses-01_task-harlow_ieeg.eeg" in files
    assert "sub-M1/ses-01/ieeg/sub-M1_ses-01_coordsystem.json" in files
    assert (dest / "sub-M1/ses-01/sub-M1_ses-01_scans.tsv").read_text().splitlines() == [
        "filename\tacq_time",
        "ieeg/sub-M1_ses-01_task-harlow_ieeg.vhdr\t2000-01-01T09:00:00",
    ]


def test_spikeglx_is_an_nidq_stream_neo_reads(raw_dir, tmp_path):
    import spikeinterface.extractors as se

    root, sheet = raw_dir
    lab = export_lab_folder(root, sheet, tmp_path / "lab", {"PFC": "spikeglx"})
    path = tmp_path / "lab" / lab.loc[lab["probe"] == "PFC", "path"].item()
    assert path.name == "sub-M1_ses-01_acq-PFC_g0_t0.nidq.bin"
    assert path.parent.name == "sub-M1_ses-01_acq-PFC_g0"
    meta = dict(line.split("=", 1) for line in path.with_suffix(".meta").read_text().splitlines())
    assert meta["typeThis"] == "nidq" and meta["snsMnMaXaDw"] == "32,0,0,0"
    assert meta["~snsChanMap"].startswith("(1,0,32,0,0)(0;0:0)(1;1:1)")
    assert int(meta["fileSizeBytes"]) == path.stat().st_size == int(2.5 * FS) * 32 * 2
    # µV per count = niAiRangeMax / niMaxInt / niMNGain × 1e6
    gain = float(meta["niAiRangeMax"]) / float(meta["niMaxInt"]) / float(meta["niMNGain"]) * 1e6
    assert gain == pytest.approx(0.195, rel=1e-12)
    import hashlib

    assert meta["fileSHA1"] == hashlib.sha1(path.read_bytes()).hexdigest().upper()
    # neo (through SpikeInterface) reads the folder as SpikeGLX's nidq stream
    plain = se.read_spikeglx(path.parent)
    assert plain.stream_id == "nidq" and plain.get_num_channels() == 32
    assert plain.channel_ids[0] == "nidq#0"
    original = read_recording(root / sheet.loc[sheet["probe"] == "PFC", "path"].item(), "nwb")
    np.testing.assert_array_equal(
        plain.get_traces(start_frame=100, end_frame=200),
        original.get_traces(start_frame=100, end_frame=200),
    )
    sidecar = json.loads(Path(f"{path}.json").read_text())
    assert sidecar == {"probe_file": "sub-M1_ses-01_acq-PFC_probe.json", "use_names_as_ids": True}


def test_openephys_layout(raw_dir, tmp_path):
    root, sheet = raw_dir
    lab = export_lab_folder(root, sheet, tmp_path / "lab", {"MW": "openephys"})
    oebin = tmp_path / "lab" / lab.loc[lab["probe"] == "MW", "path"].item()
    assert oebin.relative_to(tmp_path / "lab").as_posix() == (
        "sourcedata/sub-M1/ses-01/ephys/2000-01-01_09-00-00_MW/Record Node 101/experiment1/"
        "recording1/structure.oebin"
    )
    stream = oebin.parent / "continuous" / "Acquisition_Board-100.Rhythm Data"
    n = int(1.2 * FS)
    np.testing.assert_array_equal(np.load(stream / "sample_numbers.npy"), np.arange(n))
    np.testing.assert_allclose(np.load(stream / "timestamps.npy"), np.arange(n) / FS)
    assert (stream / "continuous.dat").stat().st_size == n * 8 * 2
    assert json.loads(oebin.read_text())["continuous"][0]["channels"][0]["bit_volts"] == 0.195
    # PFC stays NWB: copied with all its sidecars, the iEEG events included
    files = _files(tmp_path / "lab")
    for suffix in ("ieeg.nwb", "channels.tsv", "ieeg.json", "electrodes.tsv", "events.tsv"):
        assert f"sub-M1/ses-01/ieeg/sub-M1_ses-01_task-harlow_acq-PFC_{suffix}" in files
    assert not any("acq-MW" in f and "/ieeg/" in f for f in files)
    # and it still reads inside the lab folder (its BIDS sidecars came along)
    nwb = "sub-M1/ses-01/ieeg/sub-M1_ses-01_task-harlow_acq-PFC_ieeg.nwb"
    assert lab.loc[lab["probe"] == "PFC", "path"].item() == nwb
    _assert_same_recording(
        read_recording(tmp_path / "lab" / nwb, "nwb"), read_recording(root / nwb, "nwb")
    )


def test_plain_folder_copied_and_byte_identical(raw_dir, tmp_path):
    root, sheet = raw_dir
    formats = {"PFC": "spikeglx", "MW": "openephys"}
    first = export_lab_folder(root, sheet, tmp_path / "a", formats)
    second = export_lab_folder(root, sheet, tmp_path / "b", formats)
    assert first.equals(second)
    files = _files(tmp_path / "a")
    assert files == _files(tmp_path / "b")
    for f in files:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f
    # a plain folder: no git, no DataLad, no symlinks, no temporaries
    assert not any(part.startswith(".") for f in files for part in Path(f).parts)
    assert not any(p.is_symlink() for p in (tmp_path / "a").rglob("*"))
    for name in (
        "dataset_description.json",
        "participants.tsv",
        "participants.json",
        "README.md",
        "task-harlow_events.json",
        "sub-M1/sub-M1_sessions.tsv",
        "sub-M1/ses-01/beh/sub-M1_ses-01_task-harlow_events.tsv",
    ):
        assert (tmp_path / "a" / name).read_bytes() == (root / name).read_bytes()
    # nothing converted: the same folder less git/DataLad, and the same sheet
    same = export_lab_folder(root, sheet, tmp_path / "c", {"PFC": "nwb"})
    assert same.equals(sheet)
    assert "sub-M1/ses-01/ieeg/sub-M1_ses-01_task-harlow_acq-MW_ieeg.nwb" in _files(tmp_path / "c")
    assert not (
        tmp_path / "c" / "sub-M1/ses-01/ieeg/sub-M1_ses-01_task-harlow_acq-MW_ieeg.nwb"
    ).is_symlink()


def test_added_recording_is_a_new_session_of_plain_binary(raw_dir, tmp_path):
    """A recording the study does not make (a drifting high-density probe) joins the lab folder."""
    from panneuro.ingest.session_metadata import session_metadata
    from panneuro.simulate.drift import simulate_drifting_probe

    root, sheet = raw_dir
    dest = tmp_path / "lab"
    lab = export_lab_folder(root, sheet, dest, {})
    sim = simulate_drifting_probe(n_channels=16, n_units=4, duration=1.5, seed=2, n_similar_pairs=1)
    added = add_lab_recording(
        sim.recording,
        dest,
        lab,
        subject="M1",
        session="02",
        probe="NP",
        region="prefrontal",
        acq_time="2000-01-02T09:00:00",
    )
    assert added.iloc[:-1].equals(lab)
    assert added.iloc[-1].to_dict() == {
        "subject": "M1",
        "session": "02",
        "species": "macaque",
        "datatype": "array",
        "probe": "NP",
        "region": "prefrontal",
        "path": "sub-M1/ses-02/ephys/sub-M1_ses-02_acq-NP_raw.bin",
        "format": "binary",
    }
    _assert_same_recording(read_recording(dest / added.iloc[-1]["path"], "binary"), sim.recording)
    assert (dest / "sub-M1/sub-M1_sessions.tsv").read_text().splitlines() == [
        "session_id\tacq_time",
        "ses-01\tn/a",
        "ses-02\t2000-01-02T09:00:00",
    ]
    start = session_metadata(dest, "M1", "02")["session_start"]
    assert start == dt.datetime(2000, 1, 2, 9, tzinfo=dt.UTC)
    with pytest.raises(ValueError, match="ses-02 is already in the sample sheet"):
        add_lab_recording(
            sim.recording,
            dest,
            added,
            subject="M1",
            session="02",
            probe="X",
            region="prefrontal",
            acq_time="2000-01-02T09:00:00",
        )
    with pytest.raises(ValueError, match="sub-Z has no row in the sample sheet"):
        add_lab_recording(
            sim.recording,
            dest,
            added,
            subject="Z",
            session="01",
            probe="X",
            region="prefrontal",
            acq_time="2000-01-02T09:00:00",
        )


def test_sleep_run_joins_its_task_session_as_plain_binary(raw_dir, tmp_path):
    """A sleep run of a task probe: a binary file of that session, a row with task and run."""
    root, sheet = raw_dir
    dest = tmp_path / "lab"
    lab = export_lab_folder(root, sheet, dest, {})
    task = read_recording(dest / lab[lab["probe"] == "MW"].iloc[0]["path"], "nwb")
    sleep = task.frame_slice(0, int(0.5 * FS))  # the task's channels, as a sleep run's
    added = add_lab_sleep_run(sleep, dest, lab, subject="M1", session="01", probe="MW", run="2")
    assert "task" not in lab.columns  # the caller's sheet is left as it was
    assert added.iloc[:-1].drop(columns=["task", "run"]).equals(lab)
    assert set(added.iloc[:-1]["task"]) == {"harlow"} and set(added.iloc[:-1]["run"]) == {"n/a"}
    row = added.iloc[-1].to_dict()
    mw = lab[lab["probe"] == "MW"].iloc[0].to_dict()
    assert row == {
        **mw,
        "path": "sub-M1/ses-01/ephys/sub-M1_ses-01_task-sleep_acq-MW_run-2_raw.bin",
        "format": "binary",
        "task": "sleep",
        "run": "2",
    }
    _assert_same_recording(read_recording(dest / row["path"], "binary"), sleep)
    sessions = (dest / "sub-M1/sub-M1_sessions.tsv").read_text()
    assert sessions == (root / "sub-M1/sub-M1_sessions.tsv").read_text()  # same session
    with pytest.raises(ValueError, match="already has a sleep run 2"):
        add_lab_sleep_run(sleep, dest, added, subject="M1", session="01", probe="MW", run="2")
    with pytest.raises(ValueError, match="no task recording of probe HPC"):
        add_lab_sleep_run(sleep, dest, added, subject="M1", session="01", probe="HPC", run="1")


def test_errors_name_the_problem_and_the_fix(raw_dir, tmp_path):
    root, sheet = raw_dir
    with pytest.raises(
        ValueError,
        match=r"formats\['PFC'\] is 'plexon': not an export format; "
        r"use one of \['spikeglx'",
    ):
        export_lab_folder(root, sheet, tmp_path / "x", {"PFC": "plexon"})
    with pytest.raises(
        ValueError,
        match=r"formats names probe 'V1', which no row .* lists "
        r"\['MW', 'PFC', 'grid'\]\); fix the probe label",
    ):
        export_lab_folder(root, sheet, tmp_path / "x", {"V1": "binary"})
    with pytest.raises(
        ValueError,
        match=r"rows of probe 'grid' are format \['brainvision'\] "
        r"\(sub-M1/.*only NWB probe recordings",
    ):
        export_lab_folder(root, sheet, tmp_path / "x", {"grid": "binary"})
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "old.txt").write_text("x")
    with pytest.raises(ValueError, match="full: exists and is not an empty folder; remove it"):
        export_lab_folder(root, sheet, tmp_path / "full", {})
    with pytest.raises(ValueError, match="inside the raw dataset"):
        export_lab_folder(root, sheet, root / "lab", {})
    moved = sheet.copy()
    moved.loc[1, "path"] = "sub-M1/ses-01/ieeg/missing_ieeg.nwb"
    with pytest.raises(FileNotFoundError, match=r"missing_ieeg\.nwb: not found; .*datalad get"):
        export_lab_folder(root, moved, tmp_path / "x", {})
    assert not (tmp_path / "x").exists()  # checks come before anything is written


def test_written_chunk_by_chunk_and_atomically(raw_dir, tmp_path, monkeypatch):
    """Samples are read 1 s at a time, and a failed write leaves no partial recording."""
    import panneuro.ephys.preprocessing as preprocessing
    from panneuro.simulate import lab_export

    root, sheet = raw_dir
    requested = []
    read = preprocessing.read_recording

    def spying(path, fmt, options=None):
        recording = read(path, fmt, options)
        get_traces = recording.get_traces

        def traces(*args, start_frame=None, end_frame=None, **kwargs):
            requested.append(end_frame - start_frame)
            return get_traces(*args, start_frame=start_frame, end_frame=end_frame, **kwargs)

        recording.get_traces = traces
        return recording

    monkeypatch.setattr(preprocessing, "read_recording", spying)
    export_lab_folder(root, sheet, tmp_path / "lab", {"PFC": "binary"})
    assert requested == [30000, 30000, 15000]  # 2.5 s in 1 s chunks, never the whole file

    def failing(recording, path):
        path.write_bytes(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(lab_export, "_write_samples", failing)
    for fmt in ("spikeglx", "openephys", "binary"):
        dest = tmp_path / fmt
        with pytest.raises(OSError, match="disk full"):
            export_lab_folder(root, sheet, dest, {"PFC": fmt})
        ephys = dest / (
            "sub-M1/ses-01/ephys" if fmt == "binary" else "sourcedata/sub-M1/ses-01/ephys"
        )
        assert not any(ephys.iterdir()), list(ephys.iterdir())  # no partial file or temporary


def test_missing_annexed_content_is_named(tmp_path):
    root = tmp_path / "raw"
    beh = root / "sub-M1" / "ses-01" / "beh"
    beh.mkdir(parents=True)
    (root / "dataset_description.json").write_text("{}\n")
    events = beh / "sub-M1_ses-01_task-harlow_events.tsv"
    events.symlink_to("../../../.git/annex/objects/XX/MD5E-s10--0.tsv")  # not `datalad get`
    sheet = pd.DataFrame(
        [
            (
                "M1",
                "01",
                "macaque",
                "beh",
                "n/a",
                "n/a",
                "sub-M1/ses-01/beh/sub-M1_ses-01_task-harlow_events.tsv",
                "tsv",
            )
        ],
        columns=["subject", "session", "species", "datatype", "probe", "region", "path", "format"],
    )
    with pytest.raises(
        FileNotFoundError,
        match=r"events\.tsv: is a symlink whose content is not "
        r"present; .*datalad get -r",
    ):
        export_lab_folder(root, sheet, tmp_path / "lab", {})
    with pytest.raises(
        FileNotFoundError,
        match=r"dataset_description\.json: not found; raw_dir "
        "must be the raw BIDS dataset",
    ):
        export_lab_folder(tmp_path / "lab", sheet, tmp_path / "x", {})
