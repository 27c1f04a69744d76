import json

import pytest

from panneuro.compendium.resources import (
    STAGE_COSTS,
    estimate,
    file_channel_seconds,
    preset_channel_seconds,
    recording_channel_seconds,
)

TINY = {
    "recorded_problems": 10,
    "trial_duration_s": 1.5,
    "n_channels_array": 32,
    "n_channels_microwire": 8,
    "n_electrodes_ecog": 16,
}


@pytest.mark.parametrize("stage", sorted(STAGE_COSTS))
def test_requests_grow_with_channel_seconds_and_attempt(stage):
    small = estimate(stage, 8 * 60.0)
    large = estimate(stage, 384 * 7200.0)
    retry = estimate(stage, 384 * 7200.0, attempt=2)
    assert small.mem_mb < large.mem_mb < retry.mem_mb
    assert small.runtime < large.runtime < retry.runtime
    assert retry.mem_mb >= 2 * large.mem_mb - 1 and retry.runtime >= 2 * large.runtime - 1


def test_an_hour_of_neuropixels_sorting_asks_for_hours_and_gigabytes():
    request = estimate("sort", 384 * 3600.0)
    assert 60 <= request.runtime <= 24 * 60
    assert 8_000 <= request.mem_mb <= 256_000


def test_bad_requests_say_what_to_use():
    with pytest.raises(ValueError, match="unknown stage 'plot'.*preprocess"):
        estimate("plot", 1.0)
    with pytest.raises(ValueError, match="attempt >= 1"):
        estimate("sort", 1.0, attempt=0)


def test_preset_channel_seconds():
    assert preset_channel_seconds("array", TINY) == 32 * 10 * 6 * 1.5
    assert preset_channel_seconds("microwire", TINY) == 8 * 90.0
    assert preset_channel_seconds("ecog", TINY) == 16 * 90.0
    with pytest.raises(ValueError, match="n_channels_tetrode"):
        preset_channel_seconds("tetrode", TINY)


def test_file_size_gives_channel_seconds(tmp_path):
    raw = tmp_path / "probe.bin"
    raw.write_bytes(bytes(2 * 30_000 * 4 * 10))  # int16, 4 channels, 10 s at 30 kHz
    assert file_channel_seconds(raw, 30_000.0) == pytest.approx(40.0)
    (tmp_path / "probe.bin.json").write_text(
        json.dumps({"sampling_frequency": 20_000.0, "dtype": "float32"})
    )
    assert file_channel_seconds(raw, 30_000.0) == pytest.approx(2 * 30_000 * 40 / (4 * 20_000))
    assert file_channel_seconds(tmp_path / "absent.nwb", 30_000.0) is None


def test_brainvision_header_gives_format_and_rate(tmp_path):
    header = tmp_path / "sub-1_ieeg.vhdr"
    header.write_text(
        "Brain Vision Data Exchange Header File Version 1.0\n[Common Infos]\n"
        "DataFile=sub-1_ieeg.eeg\nSamplingInterval=1000.0\n"
        "[Binary Infos]\nBinaryFormat=IEEE_FLOAT_32\n"
    )
    assert file_channel_seconds(header, 30_000.0) is None  # the data file is not there yet
    (tmp_path / "sub-1_ieeg.eeg").write_bytes(bytes(4 * 1000 * 32 * 5))  # 32 ch x 5 s
    assert file_channel_seconds(header, 30_000.0) == pytest.approx(160.0)
    header.write_text("DataFile=sub-1_ieeg.eeg\nSamplingInterval=1000\nBinaryFormat=UINT_8\n")
    with pytest.raises(ValueError, match="sub-1_ieeg.vhdr: BinaryFormat 'UINT_8'"):
        file_channel_seconds(header, 30_000.0)


def test_recording_is_sized_from_its_file_else_from_the_preset(tmp_path):
    raw = tmp_path / "probe.nwb"
    assert recording_channel_seconds(raw, "array", TINY, 30_000.0) == 2880.0
    raw.write_bytes(bytes(2 * 30_000 * 64 * 100))
    assert recording_channel_seconds(raw, "array", TINY, 30_000.0) == pytest.approx(6400.0)
