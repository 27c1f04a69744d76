from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from panneuro.ecog.high_gamma import (
    detect_bad_channels,
    epoch_high_gamma,
    high_gamma_envelope,
    power_spectrum,
    preprocess_ecog,
    read_ecog,
    read_high_gamma,
    spectral_peak,
    write_high_gamma,
)
from panneuro.simulate.ecog import simulate_ecog, write_ecog_bids
from panneuro.simulate.task import build_events

REALDATA = Path(__file__).parent / "data" / "realdata"


def _events(n_trials=48, seed=1):
    rng = np.random.default_rng(seed)
    problem = np.repeat(np.arange(1, n_trials // 6 + 1), 6)
    trial = np.tile(np.arange(1, 7), n_trials // 6)
    correct = (rng.random(n_trials) < 0.6).astype(int)
    return build_events(problem, trial, correct, rng, trial_duration=1.5)


@pytest.fixture(scope="module")
def session():
    events = _events()
    sim = simulate_ecog(
        events, n_electrodes=12, sfreq=1000.0, n_planted=3, gain=1.5, line_frequency=60.0, seed=11
    )
    clean, bads = preprocess_ecog(sim.raw, line_frequency=60.0)
    envelope = high_gamma_envelope(clean, (70.0, 150.0), 4, sfreq_out=200.0)
    epochs = epoch_high_gamma(
        envelope, events, window=(-0.5, 1.0), baseline=(-0.5, -0.1), bad_channels=bads
    )
    return {
        "events": events,
        "sim": sim,
        "clean": clean,
        "bads": bads,
        "envelope": envelope,
        "epochs": epochs,
    }


def test_line_noise_removed(session):
    raw, clean = session["sim"].raw, session["clean"]
    freqs, before = power_spectrum(raw.get_data(), 1000.0, fmin=40, fmax=140)
    _, after = power_spectrum(clean.get_data(), 1000.0, fmin=40, fmax=140)
    for line in (60.0, 120.0):
        at = np.argmin(np.abs(freqs - line))
        assert np.median(after[:, at] / before[:, at]) < 0.05
    # ... while leaving the neighbouring frequencies alone.
    away = np.argmin(np.abs(freqs - 90.0))
    ratio = np.median(after[:, away] / before[:, away])
    assert 0.5 < ratio < 1.5


def test_envelope_is_decimated_and_normalised(session):
    envelope = session["envelope"]
    assert envelope.info["sfreq"] == 200.0
    assert len(envelope.ch_names) == 12
    np.testing.assert_allclose(envelope.get_data().mean(axis=1), 1.0, atol=0.05)
    with pytest.raises(ValueError, match="high-gamma band"):
        high_gamma_envelope(session["clean"], (70.0, 600.0))


def test_envelope_peaks_in_planted_window(session):
    epochs, truth = session["epochs"], session["sim"].truth
    assert epochs.data.shape == (48, 12, len(epochs.times))
    rewarded = epochs.trials["correct"].to_numpy() == 1
    planted = [epochs.channels.index(c) for c in truth["planted_electrodes"]]
    others = [i for i in range(12) if i not in planted]
    course = epochs.data[rewarded][:, planted].mean(axis=(0, 1))
    peak = epochs.times[np.argmax(course)]
    assert truth["window"][0] <= peak <= truth["window"][1]
    assert course.max() > 0.3
    assert epochs.data[rewarded][:, others].mean(axis=(0, 1)).max() < 0.15
    baseline = (epochs.times >= -0.5) & (epochs.times <= -0.1)
    assert abs(epochs.data[:, :, baseline].mean()) < 0.02


def test_bad_channel_detection_gives_reasons(session):
    raw = session["sim"].raw.copy()
    data = raw.get_data()
    data[2] = 0.0
    data[5] *= 30.0
    raw._data[:] = data
    table = detect_bad_channels(raw)
    reasons = dict(zip(table["channel"], table["reason"], strict=True))
    assert reasons["G03"] == "flat"
    assert reasons["G06"].startswith("high variance")
    assert table["bad"].sum() == 2
    clean, bads = preprocess_ecog(raw, line_frequency=60.0)
    assert "G03" not in clean.ch_names and "G06" not in clean.ch_names
    assert list(bads["channel"]) == raw.ch_names


def test_channels_tsv_status_honoured(session, tmp_path):
    import mne_bids

    vhdr = write_ecog_bids(
        session["sim"], tmp_path, subject="H1", session="01", line_frequency=60.0
    )
    bids_path = mne_bids.get_bids_path_from_fname(vhdr)
    mne_bids.mark_channels(
        bids_path, ch_names=["G04"], status="bad", descriptions=["test"], verbose=False
    )
    raw = read_ecog(vhdr)
    assert raw.info["bads"] == ["G04"]
    clean, bads = preprocess_ecog(raw, line_frequency=60.0, detect_bads=False)
    assert "G04" not in clean.ch_names
    assert bads.set_index("channel").loc["G04", "reason"] == "channels.tsv status"


def test_bipolar_reference_pairs_grid_neighbours(session):
    clean, _ = preprocess_ecog(session["sim"].raw, line_frequency=60.0, reference="bipolar")
    # 12 contacts on a 4-column grid (3 rows): 3 × 3 row pairs + 2 × 4 column pairs
    assert len(clean.ch_names) == 17
    assert "G01-G02" in clean.ch_names and "G01-G05" in clean.ch_names
    assert "G04-G05" not in clean.ch_names  # end of one row, start of the next: not neighbours
    notched, _ = preprocess_ecog(session["sim"].raw, line_frequency=60.0, reference="none")
    pair = notched.get_data(["G01"]) - notched.get_data(["G02"])
    np.testing.assert_allclose(clean.get_data(["G01-G02"]), pair, atol=1e-12)
    loc = {ch["ch_name"]: ch["loc"][:3] for ch in clean.info["chs"]}
    mono = {ch["ch_name"]: ch["loc"][:3] for ch in notched.info["chs"]}
    np.testing.assert_allclose(loc["G01-G02"], (mono["G01"] + mono["G02"]) / 2)


def test_read_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        read_ecog(tmp_path / "missing_ieeg.vhdr")
    with pytest.raises(ValueError, match="reference"):
        preprocess_ecog(None, line_frequency=60.0, reference="laplacian")


def test_epoch_errors(session):
    with pytest.raises(ValueError, match="baseline"):
        epoch_high_gamma(
            session["envelope"], session["events"], window=(-0.2, 1.0), baseline=(-0.5, -0.1)
        )


def test_write_read_round_trip_is_byte_stable(session, tmp_path):
    epochs = session["epochs"]
    first, second = tmp_path / "a.npz", tmp_path / "b.npz"
    write_high_gamma(epochs, first)
    write_high_gamma(epochs, second)
    assert first.read_bytes() == second.read_bytes()
    back = read_high_gamma(first)
    np.testing.assert_allclose(back.data, epochs.data, rtol=1e-6, atol=1e-7)
    assert back.channels == epochs.channels
    pd.testing.assert_series_equal(
        back.trials["correct"], epochs.trials["correct"], check_dtype=False
    )
    np.testing.assert_allclose(back.positions, epochs.positions)
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(ValueError, match="not a high-gamma"):
        read_high_gamma(tmp_path / "other.npz")


def test_real_ecog_spectrum_shows_beta_peak():
    signal = np.load(REALDATA / "human_m1_ecog_1khz.npy")
    freqs, psd = power_spectrum(signal, 1000.0, fmin=3.0, fmax=45.0)
    peak = spectral_peak(freqs, psd)
    assert 13.0 <= peak["peak_frequency"] <= 30.0
    assert peak["peak_height"] > 0.3  # > 2x above the aperiodic fit
    assert 0.5 < peak["aperiodic_exponent"] < 3.0


def test_spectral_peak_on_pure_power_law():
    freqs = np.arange(2.0, 60.0, 0.5)
    psd = freqs**-2.0
    psd[(freqs > 9.5) & (freqs < 10.5)] *= 10.0
    peak = spectral_peak(freqs, psd)
    assert peak["peak_frequency"] == pytest.approx(10.0, abs=0.5)
    assert peak["aperiodic_exponent"] == pytest.approx(2.0, abs=0.05)
    assert spectral_peak(freqs, psd, band=(20, 40))["peak_height"] < 0.05
