import inspect

import numpy as np
import pytest

from panneuro.ecog.chunked_envelope import (
    ENVELOPE_PARAMS,
    envelope_settings,
    high_gamma_in_chunks,
)
from panneuro.ecog.high_gamma import (
    detect_bad_channels,
    high_gamma_envelope,
    preprocess_ecog,
    read_ecog,
)
from panneuro.simulate.ecog import simulate_ecog, write_ecog_bids
from panneuro.simulate.task import build_events
from panneuro.study import HIGH_GAMMA_CONFIG

SETTINGS = {"line_frequency": 60.0, "band": (70.0, 150.0), "n_subbands": 4, "sfreq_out": 200.0}


@pytest.fixture(scope="module")
def sim():
    rng = np.random.default_rng(5)
    n_trials = 48
    problem = np.repeat(np.arange(1, n_trials // 6 + 1), 6)
    trial = np.tile(np.arange(1, 7), n_trials // 6)
    correct = (rng.random(n_trials) < 0.6).astype(int)
    events = build_events(problem, trial, correct, rng, trial_duration=1.5)
    return simulate_ecog(
        events, n_electrodes=12, sfreq=1000.0, n_planted=3, gain=1.5, line_frequency=60.0, seed=5
    )


@pytest.fixture(scope="module")
def in_memory(sim):
    clean, bads = preprocess_ecog(sim.raw, line_frequency=60.0)
    return high_gamma_envelope(
        clean, SETTINGS["band"], SETTINGS["n_subbands"], sfreq_out=SETTINGS["sfreq_out"]
    ), bads


@pytest.fixture(scope="module")
def chunked(sim):
    return high_gamma_in_chunks(sim.raw, chunk_duration=20.0, **SETTINGS)


def _interior(a, b, margin=400):
    """Mean and max |a − b| relative to the mean envelope, 2 s away from the session edges
    (where the notch filter's 3.3 s kernel meets the padding)."""
    diff = np.abs(a - b)[:, margin:-margin] / a.mean()
    return diff.mean(), diff.max()


def test_chunks_match_the_in_memory_envelope(in_memory, chunked):
    reference, bads = in_memory
    envelope, chunked_bads = chunked
    assert envelope.ch_names == reference.ch_names
    assert envelope.info["sfreq"] == reference.info["sfreq"]
    assert envelope.n_times == reference.n_times
    mean, worst = _interior(reference.get_data(), envelope.get_data())
    assert mean < 0.01 and worst < 0.06
    assert chunked_bads.equals(bads)
    assert len(envelope.annotations) == len(reference.annotations)


def test_result_does_not_depend_on_the_chunk_length(sim, chunked):
    other, _ = high_gamma_in_chunks(sim.raw, chunk_duration=35.0, **SETTINGS)
    mean, worst = _interior(chunked[0].get_data(), other.get_data())
    assert worst < 1e-3


def test_long_session_scale_from_a_sample_of_chunks(sim, chunked):
    sampled, _ = high_gamma_in_chunks(sim.raw, chunk_duration=10.0, max_scale_chunks=3, **SETTINGS)
    ratio = sampled.get_data().mean(axis=1) / chunked[0].get_data().mean(axis=1)
    assert np.all(np.abs(ratio - 1) < 0.05)
    assert not np.allclose(ratio, 1.0, atol=1e-9)  # an estimate, not the session mean


def test_bad_channels_and_bipolar_in_chunks(sim):
    raw = sim.raw.copy()
    raw._data[2] = 0.0
    raw._data[5] *= 30.0
    envelope, bads = high_gamma_in_chunks(raw, chunk_duration=20.0, reference="bipolar", **SETTINGS)
    expected = detect_bad_channels(
        preprocess_ecog(raw, line_frequency=60.0, detect_bads=False, reference="none")[0]
    )
    assert bads["bad"].tolist() == expected["bad"].tolist()
    assert bads.set_index("channel").loc["G03", "reason"] == "flat"
    assert not any("G03" in c or "G06" in c for c in envelope.ch_names)
    clean, _ = preprocess_ecog(raw, line_frequency=60.0, reference="bipolar")
    assert envelope.ch_names == clean.ch_names


def test_lazy_bids_read_gives_the_same_envelope(sim, chunked, tmp_path):
    vhdr = write_ecog_bids(sim, tmp_path, subject="H1", session="01", line_frequency=60.0)
    raw = read_ecog(vhdr, preload=False)
    assert not raw.preload
    envelope, _ = high_gamma_in_chunks(raw, chunk_duration=20.0, **SETTINGS)
    # BrainVision stores float32 samples: equal to rounding
    mean, worst = _interior(chunked[0].get_data(), envelope.get_data())
    assert worst < 1e-3


def test_errors(sim):
    with pytest.raises(ValueError, match="ecog.reference"):
        high_gamma_in_chunks(sim.raw, line_frequency=60.0, reference="laplacian")
    with pytest.raises(ValueError, match="high_gamma_band"):
        high_gamma_in_chunks(sim.raw, line_frequency=60.0, band=(70.0, 600.0))
    with pytest.raises(ValueError, match="envelope_sfreq"):
        high_gamma_in_chunks(sim.raw, line_frequency=60.0, sfreq_out=300.0, chunk_duration=20.001)


def test_envelope_settings_read_every_param_of_the_rules_config():
    params = {
        "line_frequency": 50,
        "reference": "bipolar",
        "bad_channel_detection": False,
        "band": [70, 150],
        "n_subbands": 8,
        "envelope_sfreq": 100,
        "seed": 3,  # another param of the rule: ignored
    }
    settings = envelope_settings(params)
    assert settings == {
        "line_frequency": 50.0,
        "reference": "bipolar",
        "detect_bads": False,
        "band": (70, 150),
        "n_subbands": 8,
        "sfreq_out": 100.0,
    }
    assert set(settings) <= set(inspect.signature(high_gamma_in_chunks).parameters)
    # the workflow's rules name their params after the study's envelope config
    assert set(ENVELOPE_PARAMS) == set(HIGH_GAMMA_CONFIG)
    with pytest.raises(KeyError, match="n_subbands"):
        envelope_settings({k: v for k, v in params.items() if k != "n_subbands"})
