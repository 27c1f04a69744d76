"""Tests of panneuro.ephys.fft_bandpass (zero-phase band-pass by FFT)."""

from __future__ import annotations

import numpy as np
import pytest
import spikeinterface.core as si
import spikeinterface.preprocessing as spre

from panneuro.ephys.fft_bandpass import (
    FFTBandpassFilterRecording,
    fft_bandpass_filter,
    squared_magnitude_response,
)

FS = 30000.0
MARGIN = 500  # SpikeInterface's automatic margin at 300 Hz: 16.7 ms


@pytest.fixture(scope="module")
def recording():
    recording, _ = si.generate_ground_truth_recording(
        durations=[12.0], num_channels=8, num_units=6, sampling_frequency=FS, seed=11
    )
    # broadband: add slow drift (kept out by the band-pass) and an offset
    t = np.arange(recording.get_num_samples()) / FS
    slow = (200 * np.sin(2 * np.pi * 3 * t) + 1000)[:, None].astype(np.float32)
    traces = recording.get_traces() * 20 + slow
    return si.NumpyRecording(
        traces.astype(np.float32), sampling_frequency=FS, channel_ids=recording.channel_ids
    )


def test_response_is_that_of_sosfiltfilt():
    import scipy.signal

    sos = scipy.signal.iirfilter(5, [300, 6000], fs=FS, btype="bandpass", output="sos")
    response = squared_magnitude_response(sos, 30000, FS)
    impulse = np.zeros(30000)
    impulse[15000] = 1.0
    measured = np.abs(np.fft.rfft(scipy.signal.sosfiltfilt(sos, impulse)))
    np.testing.assert_allclose(response, measured, atol=1e-5)
    assert response[0] == pytest.approx(0.0, abs=1e-12)
    assert response[3000] == pytest.approx(1.0, abs=1e-3)  # 3 kHz, mid band


def test_equals_sosfiltfilt_away_from_the_recording_edges(recording):
    ours = fft_bandpass_filter(recording, freq_min=300.0, freq_max=6000.0)
    theirs = spre.bandpass_filter(recording, freq_min=300.0, freq_max=6000.0, dtype="float32")
    for start, end in ((MARGIN, 60000), (100000, 160123), (200000, 359000 - MARGIN)):
        a = ours.get_traces(start_frame=start, end_frame=end)
        b = theirs.get_traces(start_frame=start, end_frame=end)
        assert a.dtype == np.float32 and a.shape == b.shape
        assert np.abs(a - b).max() < 0.02 * b.std()  # float32 FFT rounding only
    # the whole recording saved in chunks equals one read in a single chunk
    saved = ours.save(
        folder=None, format="memory", n_jobs=1, chunk_duration="0.7s", progress_bar=False
    )
    whole = ours.get_traces()
    assert np.abs(saved.get_traces() - whole).max() < 0.02 * whole.std()


def test_recording_edges_are_as_close_to_the_longer_recording_as_sosfiltfilt(recording):
    full = spre.bandpass_filter(recording, freq_min=300.0, freq_max=6000.0, dtype="float32")
    cut = recording.frame_slice(60000, 240000)
    errors = {}
    for filt in (fft_bandpass_filter, spre.bandpass_filter):
        filtered = filt(cut, freq_min=300.0, freq_max=6000.0, dtype="float32")
        start = filtered.get_traces(end_frame=3000) - full.get_traces(
            start_frame=60000, end_frame=63000
        )
        end = filtered.get_traces(start_frame=177000) - full.get_traces(
            start_frame=237000, end_frame=240000
        )
        rms = np.sqrt(np.mean(np.concatenate([start, end]) ** 2))
        errors[filt.__name__] = rms
    assert errors["fft_bandpass_filter"] <= 1.5 * errors["bandpass_filter"]


def test_int16_output_serialisation_and_short_recordings(recording, tmp_path):
    ours = fft_bandpass_filter(recording, freq_min=300.0, freq_max=6000.0, dtype="int16")
    traces = ours.get_traces(start_frame=1000, end_frame=5000)
    floats = fft_bandpass_filter(recording, freq_min=300.0, freq_max=6000.0).get_traces(
        start_frame=1000, end_frame=5000
    )
    assert traces.dtype == np.int16
    np.testing.assert_array_equal(traces, np.round(floats).astype(np.int16))
    again = si.load(ours.to_dict())
    assert isinstance(again, FFTBandpassFilterRecording)
    assert ours.is_filtered() and again.is_filtered() and not recording.is_filtered()
    np.testing.assert_array_equal(again.get_traces(start_frame=1000, end_frame=5000), traces)
    short = fft_bandpass_filter(recording.frame_slice(0, 300), freq_min=300.0, freq_max=6000.0)
    assert short.get_traces().shape == (300, 8)
    assert np.isfinite(short.get_traces()).all()
    with pytest.raises(ValueError, match="does not fit below Nyquist"):
        fft_bandpass_filter(recording, freq_min=300.0, freq_max=16000.0)
