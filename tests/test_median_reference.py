"""Tests of panneuro.ephys.median_reference (common median reference by sorting)."""

from __future__ import annotations

import numpy as np
import pytest
import spikeinterface.core as si
import spikeinterface.preprocessing as spre

from panneuro.ephys.median_reference import (
    SortedMedianReferenceRecording,
    median_by_sort,
    sorted_median_reference,
)


@pytest.mark.parametrize("n_channels", [1, 2, 31, 32])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_median_by_sort_equals_numpy_median_bit_for_bit(n_channels, dtype):
    rng = np.random.default_rng(n_channels)
    traces = (rng.standard_normal((5000, n_channels)) * 50).astype(dtype)
    for axis in (0, 1):
        for keepdims in (False, True):
            got = median_by_sort(traces, axis=axis, keepdims=keepdims)
            expected = np.median(traces, axis=axis, keepdims=keepdims)
            assert got.dtype == expected.dtype and got.shape == expected.shape
            np.testing.assert_array_equal(got, expected)
    with pytest.raises(ValueError, match="zero channels"):
        median_by_sort(np.zeros((3, 0), dtype=np.float32))


def _recording():
    recording = si.generate_recording(num_channels=16, durations=[2.0], seed=3)
    return spre.bandpass_filter(recording, freq_min=300.0, freq_max=6000.0, dtype="float32")


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"reference": "local", "local_radius": (0.0, 60.0)},
        {"groups": [list(range(8)), list(range(8, 16))]},
    ],
)
def test_recording_equals_spikeinterface_common_reference(kwargs):
    recording = _recording()
    if "groups" in kwargs:
        ids = recording.channel_ids
        kwargs = {"groups": [list(ids[g]) for g in kwargs["groups"]]}
    ours = sorted_median_reference(recording, **kwargs)
    theirs = spre.common_reference(recording, operator="median", **kwargs)
    np.testing.assert_array_equal(
        ours.get_traces(start_frame=100, end_frame=20000),
        theirs.get_traces(start_frame=100, end_frame=20000),
    )
    assert ours.get_dtype() == theirs.get_dtype()


def test_average_operator_is_spikeinterface_own():
    recording = _recording()
    ours = sorted_median_reference(recording, operator="average")
    np.testing.assert_array_equal(
        ours.get_traces(end_frame=5000),
        spre.common_reference(recording, operator="average").get_traces(end_frame=5000),
    )


def test_serialises_and_saves_with_its_class(tmp_path):
    recording = _recording()
    ours = sorted_median_reference(recording)
    again = si.load(ours.to_dict())
    assert isinstance(again, SortedMedianReferenceRecording)
    assert again._recording_segments[0].operator_func is median_by_sort
    saved = ours.save(
        folder=tmp_path / "saved", n_jobs=1, chunk_duration="0.5s", progress_bar=False
    )
    theirs = spre.common_reference(recording, operator="median").save(
        folder=tmp_path / "theirs", n_jobs=1, chunk_duration="0.5s", progress_bar=False
    )
    np.testing.assert_array_equal(saved.get_traces(), theirs.get_traces())
