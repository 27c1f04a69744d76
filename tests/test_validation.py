"""Tests of panneuro.io.validation: config and sheet checks, BIDS sidecars, non-finite samples."""

import copy
import json
from pathlib import Path

import mne
import numpy as np
import pandas as pd
import pytest
import yaml
from compendium import fresh_copy, snakemake

from panneuro.io.validation import (
    InputError,
    bids_stem,
    check_finite,
    check_ieeg_sidecars,
    check_raw_finite,
    check_recording_finite,
    check_sample_files,
    coerce_command_line_values,
    read_samples,
    validate_config,
    validate_samples,
)

ROOT = Path(__file__).resolve().parents[1]
CONFIG_SCHEMA = ROOT / "workflow/schemas/config.schema.yaml"
SAMPLES_SCHEMA = ROOT / "workflow/schemas/samples.schema.yaml"


@pytest.fixture(scope="module")
def config() -> dict:
    return yaml.safe_load((ROOT / "config/config.yaml").read_text())


def _message(function, *args, **kwargs) -> str:
    with pytest.raises(InputError) as info:
        function(*args, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_shipped_config_and_sheet_are_valid(config):
    validate_config(config, CONFIG_SCHEMA)
    validate_samples(
        read_samples(ROOT / "config/samples.tsv"), SAMPLES_SCHEMA, sheet="config/samples.tsv"
    )


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda c: c.update(sead=1), ["unknown key", "'sead'", "'seed'", "config/README.md"]),
        (lambda c: c["ecog"].update(n_permutation=3), ["ecog.n_permutation", "'n_permutations'"]),
        (lambda c: c["ephys"]["curation"].update(snr=3.0), ["ephys.curation.snr", "_(min|max)"]),
        (lambda c: c.update(seed="abc"), ["seed = 'abc'", "integer"]),
        (lambda c: c.update(size="huge"), ["size = 'huge'", "'tiny'", "'default'"]),
        (
            lambda c: c["ephys"]["sorting"]["array"].update(sorter="kilosort9"),
            ["ephys.sorting.array.sorter = 'kilosort9'", "'spykingcircus2'"],
        ),
        (lambda c: c.pop("raw_dir"), ["'raw_dir' is a required property", "add it"]),
        (lambda c: c["ecog"].update(alpha=2.0), ["ecog.alpha = 2.0", "out of range"]),
    ],
)
def test_config_errors_name_the_key_and_the_fix(config, change, expected):
    bad = copy.deepcopy(config)
    change(bad)
    message = _message(validate_config, bad, CONFIG_SCHEMA)
    for text in expected:
        assert text in message, message


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("false", False),
        ("False", False),
        ("no", False),
        ("true", True),
        ("YES", True),
        ("on", True),
    ],
)
def test_command_line_booleans_in_yaml_spelling_are_accepted(config, typed, expected):
    given = copy.deepcopy(config)
    given.update(simulate=typed, raw_drop=typed)  # as --config simulate=false passes them
    coerce_command_line_values(given, CONFIG_SCHEMA)
    assert given["simulate"] is expected and given["raw_drop"] is expected
    validate_config(given, CONFIG_SCHEMA)


def test_command_line_coercion_leaves_other_strings_to_validation(config):
    given = copy.deepcopy(config)
    given.update(simulate="maybe", size="tiny")
    coerce_command_line_values(given, CONFIG_SCHEMA)
    assert given["simulate"] == "maybe" and given["size"] == "tiny"
    assert "simulate = 'maybe'" in _message(validate_config, given, CONFIG_SCHEMA)


def test_command_line_integers_inside_a_mapping_are_accepted(config):
    """``--config threads="{ephys: 4}"`` reaches the config as {"ephys": "4"}."""
    given = copy.deepcopy(config)
    given["threads"] = {"ephys": "4", "decoding": " 2 ", "simulate": "two"}
    coerce_command_line_values(given, CONFIG_SCHEMA)
    assert given["threads"] == {"ephys": 4, "decoding": 2, "simulate": "two"}
    assert "threads.simulate = 'two'" in _message(validate_config, given, CONFIG_SCHEMA)
    given["threads"]["simulate"] = 0
    assert "threads.simulate" in _message(validate_config, given, CONFIG_SCHEMA)


def test_job_threads_come_from_the_config(tmp_path):
    """Each kind of job reserves the threads the config gives it (a dry run's plan)."""
    workdir = fresh_copy(tmp_path / "copy")
    result = snakemake(workdir, "threads={ephys: 3, decoding: 1, simulate: 2}", "-n", cores=8)
    assert result.returncode == 0, result.stderr[-3000:]
    plan = result.stdout + result.stderr
    threads = {}
    for block in plan.split("\nrule ")[1:]:
        name = block.split(":", 1)[0]
        line = [x for x in block.splitlines() if x.strip().startswith("threads:")]
        threads.setdefault(name, set()).add(int(line[0].split(":")[1]) if line else 1)
    for rule in ("preprocess_probe", "sort_probe", "curate_units"):
        assert threads[rule] == {3}, (rule, threads)
    for rule in ("decode_session", "decoding_oracle", "compare_ground_truth"):
        assert threads[rule] == {1}, (rule, threads)
    assert threads["simulate_dataset"] == {2}


def _sheet() -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "subject": "M1",
                "session": "01",
                "species": "macaque",
                "datatype": "beh",
                "probe": "n/a",
                "region": "n/a",
                "path": "sub-M1/ses-01/beh/events.tsv",
                "format": "tsv",
            },
            {
                "subject": "M1",
                "session": "01",
                "species": "macaque",
                "datatype": "array",
                "probe": "PFC",
                "region": "prefrontal",
                "path": "sub-M1/ses-01/ieeg/x_ieeg.nwb",
                "format": "nwb",
            },
        ]
    )


def test_sample_sheet_errors_name_the_line_column_and_values():
    sheet = _sheet()
    sheet.loc[1, "datatype"] = "spikes"
    message = _message(validate_samples, sheet, SAMPLES_SCHEMA, sheet="s.tsv")
    assert message.startswith("s.tsv line 3: datatype = 'spikes'"), message
    assert "'microwire'" in message
    message = _message(
        validate_samples, _sheet().drop(columns="format"), SAMPLES_SCHEMA, sheet="s.tsv"
    )
    assert "line 2" in message and "'format' is a required property" in message
    assert "no row" in _message(validate_samples, _sheet().iloc[0:0], SAMPLES_SCHEMA, sheet="s.tsv")


def test_read_samples_names_a_missing_or_ragged_sheet(tmp_path):
    assert "sample sheet not found" in _message(read_samples, tmp_path / "none.tsv")
    ragged = tmp_path / "ragged.tsv"
    ragged.write_text("subject\tsession\nM1\t01\nM2\t01\textra\tcolumns\n")
    assert "not a tab-separated table" in _message(read_samples, ragged)


def test_check_sample_files_lists_every_missing_row(tmp_path):
    sheet = _sheet()
    check_sample_files(sheet, tmp_path / "not_yet_cloned", sheet="s.tsv")
    message = _message(check_sample_files, sheet, tmp_path, sheet="s.tsv")
    assert "2 row(s)" in message and "line 2 (sub-M1 ses-01 beh)" in message
    assert "line 3 (sub-M1 ses-01 array)" in message and "datalad" in message
    (tmp_path / "sub-M1/ses-01/beh").mkdir(parents=True)
    (tmp_path / "sub-M1/ses-01/beh/events.tsv").write_text("onset\n")
    message = _message(check_sample_files, sheet, tmp_path, sheet="s.tsv")
    assert "1 row(s)" in message and "beh)" not in message
    # A dangling annex symlink (content not got) is left to the readers' datalad message.
    (tmp_path / "sub-M1/ses-01/ieeg").mkdir(parents=True)
    (tmp_path / "sub-M1/ses-01/ieeg/x_ieeg.nwb").symlink_to(tmp_path / ".git/annex/absent")
    check_sample_files(sheet, tmp_path, sheet="s.tsv")


def test_bids_stem():
    assert bids_stem("a/sub-1_task-x_ieeg.vhdr") == "a/sub-1_task-x"
    assert bids_stem("a/sub-1_task-x_acq-P_ieeg.bin") == "a/sub-1_task-x_acq-P"
    assert bids_stem("a/recording.bin") is None


def _bids_recording(
    folder: Path, n_channels: int = 4, sfreq: float = 1000.0, duration: float = 2.0
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dataset_description.json").write_text("{}")
    path = folder / "sub-1_task-x_ieeg.bin"
    path.write_bytes(b"")
    pd.DataFrame(
        {"name": [f"ch{i}" for i in range(n_channels)], "type": "SEEG", "units": "uV"}
    ).to_csv(folder / "sub-1_task-x_channels.tsv", sep="\t", index=False)
    (folder / "sub-1_task-x_ieeg.json").write_text(
        json.dumps({"SamplingFrequency": sfreq, "RecordingDuration": duration})
    )
    return path


def test_check_ieeg_sidecars_agreeing_recording_passes(tmp_path):
    path = _bids_recording(tmp_path / "bids")
    check_ieeg_sidecars(
        path, sampling_frequency=1000.0, channel_names=["a", "b", "c", "d"], duration=2.0
    )
    check_ieeg_sidecars(tmp_path / "not_bids.bin", sampling_frequency=1.0, channel_names=[])
    outside = tmp_path / "elsewhere" / "sub-1_task-x_ieeg.bin"  # not in a BIDS dataset
    check_ieeg_sidecars(outside, sampling_frequency=1.0, channel_names=[])


def test_check_ieeg_sidecars_catches_each_disagreement(tmp_path):
    path = _bids_recording(tmp_path)
    names = ["a", "b", "c", "d"]
    message = _message(check_ieeg_sidecars, path, sampling_frequency=2000.0, channel_names=names)
    assert "sub-1_task-x_ieeg.json" in message and "SamplingFrequency 1000 Hz" in message
    assert "reads at 2000 Hz" in message and "Fix" in message
    message = _message(check_ieeg_sidecars, path, channel_names=names[:3])
    assert "channels.tsv: lists 4 channels" in message and "has 3" in message
    message = _message(check_ieeg_sidecars, path, sampling_frequency=1000.0, duration=1.0)
    assert "truncated" in message and "RecordingDuration 2 s" in message
    (tmp_path / "sub-1_task-x_channels.tsv").unlink()
    message = _message(check_ieeg_sidecars, path)
    assert "sub-1_task-x_channels.tsv: missing" in message and "datalad get" in message


def test_check_finite_names_the_channels():
    data = np.zeros((3, 100))
    check_finite(data, ["a", "b", "c"], path="f.bin", fix="Do X.")
    data[1, 5:8] = np.nan
    data[2, 0] = np.inf
    message = _message(check_finite, data, ["a", "b", "c"], path="f.bin", fix="Do X.")
    assert message.startswith("f.bin: NaN or infinite samples in 2 channel(s)")
    assert "b (3 samples)" in message and "c (1 samples)" in message and "Do X." in message


def test_check_raw_finite_skips_bad_channels_and_reads_in_chunks():
    data = np.zeros((3, 5000))
    data[0, 4500] = np.nan
    raw = mne.io.RawArray(data, mne.create_info(["a", "b", "c"], 1000.0, "ecog"), verbose=False)
    message = _message(check_raw_finite, raw, path="r.vhdr", fix="Mark it bad.", chunk_seconds=1.0)
    assert "a (1 samples)" in message and "Mark it bad." in message
    raw.info["bads"] = ["a"]
    check_raw_finite(raw, path="r.vhdr", fix="Mark it bad.", chunk_seconds=1.0)


def test_check_recording_finite_float_and_int():
    from spikeinterface.core import NumpyRecording

    traces = np.zeros((3000, 2), dtype="float32")
    check_recording_finite(NumpyRecording(traces, 1000.0), path="x.bin", chunk_seconds=1.0)
    traces[2500, 1] = np.nan
    message = _message(
        check_recording_finite, NumpyRecording(traces, 1000.0), path="x.bin", chunk_seconds=1.0
    )
    assert "x.bin: NaN or infinite samples in 1 channel(s): 1 (1 samples)" in message
    check_recording_finite(NumpyRecording(np.zeros((10, 2), dtype="int16"), 1000.0), path="x.bin")
