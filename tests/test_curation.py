"""Quality metrics of sorted units and their threshold curation."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from panneuro.ephys.curation import (
    compute_unit_metrics,
    curate,
    read_waveforms,
    write_waveforms,
)
from panneuro.ephys.preprocessing import preprocess
from panneuro.simulate.ephys import simulate_probe
from panneuro.simulate.task import build_events

THRESHOLDS = {
    "snr_min": 3.0,
    "isi_violations_ratio_max": 0.5,
    "presence_ratio_min": 0.8,
    "firing_rate_min": 0.1,
}


@pytest.fixture(scope="module")
def analysed():
    """Metrics of the ground-truth units of a 32-channel, 30 s simulated probe."""
    rng = np.random.default_rng(0)
    problem = np.repeat(np.arange(1, 4), 6)
    events = build_events(
        problem, np.tile(np.arange(1, 7), 3), np.ones(18, dtype=int), rng, trial_duration=1.5
    )
    sim = simulate_probe(
        events,
        n_channels=32,
        n_units=10,
        sampling_frequency=30000.0,
        duration=30.0,
        region="prefrontal",
        seed=8,
    )
    recording, _ = preprocess(
        sim.recording,
        freq_min=300.0,
        freq_max=6000.0,
        reference="median",
        detect_bad_channels=False,
    )
    metrics, waveforms = compute_unit_metrics(
        recording, sim.sorting, n_jobs=1, chunk_duration="10s", seed=1
    )
    return sim, metrics, waveforms


def test_metrics_follow_the_planted_units(analysed):
    sim, metrics, waveforms = analysed
    assert metrics["unit_id"].tolist() == [str(u) for u in sim.units["unit_id"]]
    for column in (
        "snr",
        "isi_violations_ratio",
        "presence_ratio",
        "amplitude_cutoff",
        "firing_rate",
        "num_spikes",
    ):
        assert column in metrics
    rho = spearmanr(metrics["snr"], sim.units["snr"]).statistic
    assert rho > 0.8
    assert (metrics["isi_violations_ratio"] == 0).all()  # 2 ms refractory period
    assert (metrics["presence_ratio"] > 0.8).all()  # short recording: ten 3-s bins
    counts = sim.sorting.count_num_spikes_per_unit(outputs="array")
    np.testing.assert_array_equal(metrics["num_spikes"], counts)
    templates = waveforms["templates"]
    assert templates.shape[0] == 10 and templates.shape[2] == 32
    peak_channel_ids = waveforms["channel_ids"][waveforms["peak_channel"]]
    assert metrics["peak_channel"].tolist() == peak_channel_ids.tolist()
    # the templates' peak sits on (or next to) the planted peak channel
    assert np.all(np.abs(waveforms["peak_channel"] - sim.units["peak_channel"]) <= 1)


def test_curation_thresholds():
    metrics = pd.DataFrame(
        {
            "unit_id": ["a", "b", "c", "d"],
            "peak_channel": ["0", "1", "2", "3"],
            "snr": [8.0, 2.0, 6.0, np.nan],
            "isi_violations_ratio": [0.0, 0.1, 0.9, 0.0],
            "presence_ratio": [1.0, 1.0, 0.5, 1.0],
            "firing_rate": [5.0, 5.0, 0.05, 5.0],
        }
    )
    table = curate(metrics, THRESHOLDS)
    assert table["keep"].tolist() == [True, False, False, False]
    assert table.loc[0, "reject_reason"] == ""
    assert table.loc[1, "reject_reason"] == "snr<3"
    assert table.loc[2, "reject_reason"].split(";") == [
        "isi_violations_ratio>0.5",
        "presence_ratio<0.8",
        "firing_rate<0.1",
    ]
    assert table.loc[3, "reject_reason"] == "snr<3"  # a missing metric fails its threshold
    with pytest.raises(ValueError, match="'snr_minimum'"):
        curate(metrics, {"snr_minimum": 3.0})
    with pytest.raises(ValueError, match="'drift_max'"):
        curate(metrics, {"drift_max": 3.0})


def test_waveforms_round_trip(analysed, tmp_path):
    _, _, waveforms = analysed
    write_waveforms(waveforms, tmp_path / "waveforms.npz")
    write_waveforms(waveforms, tmp_path / "again.npz")
    assert (tmp_path / "waveforms.npz").read_bytes() == (tmp_path / "again.npz").read_bytes()
    back = read_waveforms(tmp_path / "waveforms.npz")
    assert set(back) == set(waveforms)
    for key in waveforms:
        np.testing.assert_array_equal(back[key], waveforms[key])
    with pytest.raises(FileNotFoundError, match="curate_units"):
        read_waveforms(tmp_path / "missing.npz")


def test_no_units_gives_empty_tables(analysed):
    from spikeinterface.core import NumpySorting

    sim, _, _ = analysed
    empty = NumpySorting.from_unit_dict({}, sampling_frequency=30000.0)
    metrics, waveforms = compute_unit_metrics(
        sim.recording, empty, n_jobs=1, chunk_duration="10s", seed=1
    )
    assert len(metrics) == 0 and "snr" in metrics
    assert waveforms["templates"].shape[0] == 0
    assert curate(metrics, THRESHOLDS)["keep"].tolist() == []
