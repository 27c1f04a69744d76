import numpy as np
import pytest
import spikeinterface.core as si

from panneuro.sleep.lfp import lfp_from_broadband, lfp_traces
from panneuro.sleep.ripples import detect_ripples, match_events


def test_lfp_keeps_low_and_ripple_bands_and_drops_spike_band():
    fs = 30000.0
    t = np.arange(int(10 * fs)) / fs
    signal = np.sin(2 * np.pi * 8 * t) + np.sin(2 * np.pi * 180 * t) + np.sin(2 * np.pi * 2000 * t)
    rec = si.NumpyRecording(np.c_[signal, 2 * signal].astype("float32"), fs)
    lfp = lfp_from_broadband(rec)
    assert lfp.get_sampling_frequency() == 1500.0
    time, traces = lfp_traces(lfp)
    assert traces.shape == (15000, 2) and time[1] - time[0] == pytest.approx(1 / 1500)
    spectrum = np.abs(np.fft.rfft(traces[1500:-1500, 0])) / (len(traces) - 3000) * 2
    freqs = np.fft.rfftfreq(len(traces) - 3000, 1 / 1500)
    for f in (8, 180):
        assert spectrum[np.argmin(np.abs(freqs - f))] == pytest.approx(1.0, abs=0.1)
    assert spectrum[freqs > 450].max() < 0.02  # the 2 kHz spike band is gone
    np.testing.assert_allclose(traces[1500:-1500, 1], 2 * traces[1500:-1500, 0], atol=1e-3)
    with pytest.raises(ValueError, match="half the LFP rate"):
        lfp_from_broadband(rec, band=(1.0, 800.0))


def test_ripples_planted_in_a_broadband_recording_are_found_in_its_lfp():
    from test_ripples import planted_lfp

    fs = 30000.0
    t, x, planted = planted_lfp(
        np.random.default_rng(3), fs=fs, duration=30.0, n_ripples=25, noise_uv=30.0
    )
    rec = si.NumpyRecording(x.astype("float32"), fs)
    time, traces = lfp_traces(lfp_from_broadband(rec, channel_ids=rec.channel_ids[:3]))
    assert traces.shape[1] == 3
    score = match_events(detect_ripples(time, traces, 1500.0), planted)
    assert score["recall"] >= 0.9 and score["precision"] >= 0.9
