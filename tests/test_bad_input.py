"""Bad input, end to end: each case of docs/bad-input.md gives one clear message.

A "lab" copy of the compendium runs with ``simulate=False`` on a copy of the tiny reference
run's raw dataset (``tiny_run``, read-only), in which the two monkey arrays are converted to
plain binary with a reader sidecar (``<file>.json``), so that the binary reader's cases are
real. Files are then damaged round by round; each round runs one target per recording with
``--keep-going``: the damaged recordings' jobs fail with their message, the others finish, and
what an earlier round computed is neither removed nor redone. Configuration errors stop the
run before any job starts.
"""

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from compendium import digests, fresh_copy, snakemake

from panneuro.ecog.high_gamma import preprocess_ecog, read_ecog
from panneuro.ephys.preprocessing import read_recording

pytestmark = pytest.mark.workflow

IEEG = {
    "HPC": "sub-M1/ses-01/ieeg/sub-M1_ses-01_task-harlow_acq-HPC",
    "PFC": "sub-M1/ses-01/ieeg/sub-M1_ses-01_task-harlow_acq-PFC",
    "H1": "sub-H1/ses-01/ieeg/sub-H1_ses-01_task-harlow",
}
H1_EVENTS = "sub-H1/ses-01/beh/sub-H1_ses-01_task-harlow_events.tsv"
# One target per recording (the first step that reads it) and its log.
TARGETS = {
    "HPC": (
        "results/ephys/sub-M1/ses-01/acq-HPC/preprocessed",
        "logs/preprocess_probe/sub-M1_ses-01_acq-HPC.log",
    ),
    "PFC": (
        "results/ephys/sub-M1/ses-01/acq-PFC/preprocessed",
        "logs/preprocess_probe/sub-M1_ses-01_acq-PFC.log",
    ),
    "MW": (
        "results/ephys/sub-H2/ses-01/acq-MW/preprocessed",
        "logs/preprocess_probe/sub-H2_ses-01_acq-MW.log",
    ),
    "H1": ("results/ecog/sub-H1_ses-01_high_gamma.npz", "logs/high_gamma_epochs/sub-H1_ses-01.log"),
}


def _copy_files(source: Path, target: Path) -> Path:
    """Copy a folder of a DataLad dataset as plain writable files (annexed content read)."""
    shutil.copytree(
        source,
        target,
        symlinks=False,
        ignore=shutil.ignore_patterns(".git", ".datalad", ".gitattributes"),
    )
    for folder, _, files in os.walk(target):
        for name in files:
            os.chmod(Path(folder) / name, 0o644)
    return target


def _write(path: Path, data: bytes) -> None:
    """Replace a raw file's content (an annexed file's symlink becomes a modified file)."""
    if path.is_symlink():
        path.unlink()
    path.write_bytes(data)


def _to_binary(raw: Path, stem: str) -> dict:
    """Rewrite an NWB recording as plain int16 binary with its reader sidecar; return it."""
    recording = read_recording(raw / f"{stem}_ieeg.nwb", "nwb")
    traces = recording.get_traces(return_in_uV=False)
    assert traces.dtype == np.int16
    traces.tofile(raw / f"{stem}_ieeg.bin")
    sidecar = {
        "sampling_frequency": recording.get_sampling_frequency(),
        "num_channels": recording.get_num_channels(),
        "dtype": "int16",
        "gain_to_uV": float(recording.get_channel_gains()[0]),
        "offset_to_uV": float(recording.get_channel_offsets()[0]),
        "channel_ids": [str(c) for c in recording.channel_ids],
        "channel_locations": recording.get_channel_locations().tolist(),
    }
    (raw / f"{stem}_ieeg.bin.json").write_text(json.dumps(sidecar))
    (raw / f"{stem}_ieeg.nwb").unlink()
    return sidecar


@pytest.fixture(scope="module")
def lab(tiny_run, tmp_path_factory) -> dict:
    """A compendium copy set up for a lab's own data: raw copy, binary arrays, sample sheet."""
    base = tmp_path_factory.mktemp("bad_input")
    # A lab's raw data is a DataLad dataset too: copy the whole dataset (.git and annex).
    raw = Path(shutil.copytree(tiny_run / "resources/raw", base / "raw", symlinks=True))
    sidecars = {probe: _to_binary(raw, IEEG[probe]) for probe in ("HPC", "PFC")}
    workdir = fresh_copy(base / "compendium")
    sheet = pd.read_csv(workdir / "config/samples.tsv", sep="\t", dtype=str, keep_default_na=False)
    arrays = sheet["datatype"] == "array"
    sheet.loc[arrays, "path"] = sheet.loc[arrays, "path"].str.replace(".nwb", ".bin")
    sheet.loc[arrays, "format"] = "binary"
    sheet.to_csv(workdir / "config/samples_lab.tsv", sep="\t", index=False)
    return {
        "raw": raw,
        "workdir": workdir,
        "sidecars": sidecars,
        "sheet": sheet,
        "config": ["simulate=False", f"raw_dir={raw}", "samples=config/samples_lab.tsv"],
    }


def _run(lab: dict, *args: str, workdir: Path | None = None):
    return snakemake(workdir or lab["workdir"], "--config", *lab["config"], *args)


# The binary arrays are first read by their conversion to NWB (panneuro.ingest), then sorted.
CONVERSION_LOGS = {
    probe: f"logs/convert_recording/sub-M1_ses-01_acq-{probe}.log" for probe in ("HPC", "PFC")
}


def _error_text(workdir: Path, result, probe: str) -> str:
    """snakemake's stderr and the jobs' logs: where the user reads the message."""
    logs = [workdir / TARGETS[probe][1]]
    if probe in CONVERSION_LOGS:
        logs.append(workdir / CONVERSION_LOGS[probe])
    return result.stderr + "".join(log.read_text() for log in logs if log.exists())


def _assert_message(text: str, *parts: str) -> None:
    """One line of ``text`` holds every part (file, problem, fix)."""
    lines = [line for line in text.splitlines() if all(p in line for p in parts)]
    assert lines, f"no line with {parts} in:\n{text[-4000:]}"


# --- Configuration: caught before any job starts ------------------------------------------


def _config_case(lab: dict, tmp_path: Path, case: str) -> tuple[list[str], list[str]]:
    """Arguments that plant one configuration error, and the parts of its expected message."""
    if case == "unknown key":
        return ["--config", "sead=1"], ["unknown key(s) ['sead']", "'seed'", "config/README.md"]
    if case == "malformed value":
        return ["--config", "seed=abc"], ["seed = 'abc'", "must be integer"]
    if case == "unknown sorter":
        override = tmp_path / "sorter.yaml"
        override.write_text("ephys:\n  sorting:\n    array: {sorter: kilosort9, params: {}}\n")
        return (
            ["--configfile", str(override)],
            ["ephys.sorting.array.sorter = 'kilosort9'", "'spykingcircus2'"],
        )
    sheet = lab["sheet"].copy()
    if case == "bad sheet value":
        sheet.loc[3, "datatype"] = "behaviour"
        sheet.to_csv(tmp_path / "sheet.tsv", sep="\t", index=False)
        return (
            ["--config", f"samples={tmp_path / 'sheet.tsv'}"],
            ["sheet.tsv line 5: datatype = 'behaviour'", "'beh'"],
        )
    assert case == "sheet row to a missing file (missing events.tsv)"
    sheet.loc[3, "path"] = sheet.loc[3, "path"].replace("ses-02", "ses-12")
    sheet.to_csv(tmp_path / "sheet.tsv", sep="\t", index=False)
    return (
        ["--config", *lab["config"], f"samples={tmp_path / 'sheet.tsv'}"],
        [
            "1 row(s) point at files that do not exist",
            "line 5 (sub-M1 ses-02 beh)",
            "ses-12",
            "Fix the path column",
        ],
    )


@pytest.mark.parametrize(
    "case",
    [
        "unknown key",
        "malformed value",
        "unknown sorter",
        "bad sheet value",
        "sheet row to a missing file (missing events.tsv)",
    ],
)
def test_config_errors_stop_before_any_job(lab, tmp_path, case):
    workdir = fresh_copy(tmp_path / "compendium")
    args, parts = _config_case(lab, tmp_path, case)
    result = snakemake(workdir, *args)
    assert result.returncode != 0
    _assert_message(result.stderr, *parts)
    assert "InputError" in result.stderr
    assert not (workdir / "results").exists() and not (workdir / "logs").exists()
    assert not (workdir / "resources/raw").exists()


# --- Damaged data files: one target per recording, --keep-going -----------------------------


def _stamp(workdir: Path, probe: str) -> dict:
    target = workdir / TARGETS[probe][0]
    files = digests(target) if target.is_dir() else {"": digests(target.parent)[target.name]}
    return {"digests": files, "mtime": target.stat().st_mtime_ns}


def _run_round(lab: dict) -> object:
    return _run(lab, "--keep-going", *[TARGETS[p][0] for p in TARGETS])


def test_damaged_files_fail_alone_and_nothing_computed_is_lost(lab):
    workdir, raw = lab["workdir"], lab["raw"]
    hpc_bin = raw / f"{IEEG['HPC']}_ieeg.bin"
    pfc_sidecar = raw / f"{IEEG['PFC']}_ieeg.bin.json"
    h1_channels = raw / f"{IEEG['H1']}_channels.tsv"
    h1_eeg = raw / f"{IEEG['H1']}_ieeg.eeg"
    intact = {p: p.read_bytes() for p in (hpc_bin, h1_channels, h1_eeg)}

    # Round 1: a truncated binary, a sidecar with the wrong sampling rate, no channels.tsv.
    _write(hpc_bin, intact[hpc_bin][:-1003])
    pfc = dict(lab["sidecars"]["PFC"], sampling_frequency=15000.0)
    pfc_sidecar.write_text(json.dumps(pfc))
    h1_channels.unlink()
    result = _run_round(lab)
    assert result.returncode != 0
    _assert_message(
        _error_text(workdir, result, "HPC"),
        str(hpc_bin),
        "not a whole number of frames",
        "truncated",
    )
    _assert_message(
        _error_text(workdir, result, "PFC"),
        f"{IEEG['PFC']}_ieeg.json",
        "SamplingFrequency 30000 Hz",
        "reads at 15000 Hz",
        "Fix",
    )
    _assert_message(_error_text(workdir, result, "H1"), str(h1_channels), "missing", "datalad get")
    assert (workdir / TARGETS["MW"][0] / "bad_channels.tsv").exists()  # the others finish
    for probe in ("HPC", "PFC", "H1"):
        assert not (workdir / TARGETS[probe][0]).exists()
    done = {"MW": _stamp(workdir, "MW")}

    # Round 2: sidecar fixed; the wrong channel count; NaNs in the ECoG recording.
    pfc_sidecar.write_text(json.dumps(lab["sidecars"]["PFC"]))
    _write(hpc_bin, intact[hpc_bin])
    hpc_sidecar = raw / f"{IEEG['HPC']}_ieeg.bin.json"
    hpc_sidecar.write_text(json.dumps(dict(lab["sidecars"]["HPC"], num_channels=16)))
    _write(h1_channels, intact[h1_channels])
    eeg = np.frombuffer(intact[h1_eeg], dtype="<f4").copy()
    eeg[32 * 20_000 + 5] = np.nan  # channel 6 (G06), 20 s in
    _write(h1_eeg, eeg.tobytes())
    result = _run_round(lab)
    assert result.returncode != 0
    _assert_message(
        _error_text(workdir, result, "HPC"),
        str(hpc_bin),
        "num_channels is 16 but channel_ids lists 32",
        "fix",
        str(hpc_sidecar),
    )
    _assert_message(
        _error_text(workdir, result, "H1"),
        str(h1_eeg.with_suffix(".vhdr")),
        "NaN or infinite samples in 1 channel(s)",
        "G06",
        "mark the channel bad",
    )
    assert _stamp(workdir, "MW") == done["MW"]
    done["PFC"] = _stamp(workdir, "PFC")

    # Round 3: no trials in the ECoG session; a flat channel in a binary recording.
    hpc_sidecar.write_text(json.dumps(lab["sidecars"]["HPC"]))
    data = np.frombuffer(intact[hpc_bin], dtype="<i2").reshape(-1, 32).copy()
    data[:, 7] = 0
    _write(hpc_bin, data.tobytes())
    _write(h1_eeg, intact[h1_eeg])
    events = raw / H1_EVENTS
    _write(events, (events.read_text().splitlines()[0] + "\n").encode())
    result = _run_round(lab)
    assert result.returncode != 0
    _assert_message(
        _error_text(workdir, result, "H1"),
        str(events),
        "no trials",
        "remove the session from the sample sheet",
    )
    bad = pd.read_csv(workdir / TARGETS["HPC"][0] / "bad_channels.tsv", sep="\t")
    flat_id = lab["sidecars"]["HPC"]["channel_ids"][7]
    assert bad.loc[bad["channel_id"].astype(str) == flat_id, "bad"].item()
    assert bad["bad"].sum() == 1, bad
    assert flat_id in (workdir / TARGETS["HPC"][1]).read_text()
    for probe, stamp in done.items():
        assert _stamp(workdir, probe) == stamp, f"{probe} was removed or redone"


def test_flat_ecog_channel_is_excluded_with_its_reason(tiny_run, tmp_path):
    """A flat ECoG channel is not an error: it is marked bad ("flat") and left out."""
    source = tiny_run / "resources/raw"
    raw = _copy_files(source / "sub-H1", tmp_path / "raw" / "sub-H1").parent
    shutil.copy(source / "dataset_description.json", raw)
    shutil.copy(source / "participants.tsv", raw)
    eeg_path = raw / f"{IEEG['H1']}_ieeg.eeg"
    channels = pd.read_csv(raw / f"{IEEG['H1']}_channels.tsv", sep="\t")
    eeg = np.fromfile(eeg_path, dtype="<f4").reshape(-1, len(channels))
    eeg[:, 2] = 0.0
    eeg.tofile(eeg_path)
    clean, bad_channels = preprocess_ecog(
        read_ecog(raw / f"{IEEG['H1']}_ieeg.vhdr"), line_frequency=60.0
    )
    flat = channels["name"][2]
    assert bad_channels.set_index("channel").loc[flat, "reason"] == "flat"
    assert bad_channels["bad"].sum() == 1
    assert flat not in clean.ch_names


def test_truncated_nwb_says_get_it_again(tiny_run, tmp_path):
    """A truncated NWB (HDF5) recording: the reader's one line names the file and the fix."""
    source = tiny_run / "resources/raw/sub-H2/ses-01/ieeg/sub-H2_ses-01_task-harlow_acq-MW_ieeg.nwb"
    path = tmp_path / source.name
    path.write_bytes(source.read_bytes()[: source.stat().st_size // 2])
    with pytest.raises(ValueError) as info:
        read_recording(path, "nwb")
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{path}: cannot read as nwb")
    assert "truncated" in message and "get it again" in message
