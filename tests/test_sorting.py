"""Spike sorting of a short simulated probe with SpyKING CIRCUS 2, and its helpers."""

import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from panneuro.ephys.preprocessing import preprocess, preprocess_kwargs, save_recording
from panneuro.ephys.sorting import (
    SortingError,
    estimate_resources,
    load_sorting,
    preset_probe_size,
    run_sorter_for_probe,
    seeded_peak_detection,
    sorter_params,
)
from panneuro.simulate.ephys import simulate_probe
from panneuro.simulate.task import build_events

EPHYS = yaml.safe_load(
    (Path(__file__).resolve().parents[1] / "config" / "config.yaml").read_text()
)["ephys"]


@pytest.fixture(scope="module")
def sorted_probe(tmp_path_factory):
    """32 channels, 12 units, ~40 s: simulated, preprocessed, sorted once for the module."""
    rng = np.random.default_rng(0)
    problem = np.repeat(np.arange(1, 5), 6)
    events = build_events(
        problem, np.tile(np.arange(1, 7), 4), np.ones(24, dtype=int), rng, trial_duration=1.5
    )
    sim = simulate_probe(
        events,
        n_channels=32,
        n_units=12,
        sampling_frequency=30000.0,
        duration=40.0,
        region="prefrontal",
        seed=7,
    )
    folder = tmp_path_factory.mktemp("sorting")
    # the pipeline's settings (config/config.yaml), as the preprocess and sort rules use them
    out, bad = preprocess(
        sim.recording, **{**preprocess_kwargs(EPHYS["preprocessing"]), "detect_bad_channels": False}
    )
    recording = save_recording(
        out,
        folder / "preprocessed",
        n_jobs=2,
        chunk_duration=EPHYS["chunk_duration"],
        bad_channels=bad,
    )
    start = time.perf_counter()
    sorter = EPHYS["sorting"]["array"]
    sorting = run_sorter_for_probe(
        recording,
        sorter["sorter"],
        sorter.get("params") or {},
        folder / "sorting",
        n_jobs=2,
        label="sub-T ses-1 acq-X",
        seed=3,
    )
    elapsed = time.perf_counter() - start
    print(f"SpykingCircus2 on 32 ch x 40 s: {elapsed:.1f} s")
    return sim, sorting, folder


def test_sorter_recovers_most_ground_truth_units(sorted_probe):
    from spikeinterface.comparison import compare_sorter_to_ground_truth

    sim, sorting, folder = sorted_probe
    comparison = compare_sorter_to_ground_truth(sim.sorting, sorting)
    well = comparison.get_well_detected_units(well_detected_score=0.8)
    accuracy = comparison.get_performance()["accuracy"].astype(float)
    print(f"well detected {len(well)}/12, mean accuracy {accuracy.mean():.3f}")
    assert len(well) >= 0.7 * 12
    # the saved NumpyFolder reloads with the same spikes; the scratch folder is gone
    again = load_sorting(folder / "sorting")
    assert list(again.unit_ids) == list(sorting.unit_ids)
    assert again.count_total_num_spikes() == sorting.count_total_num_spikes()
    assert sorted(p.name for p in folder.iterdir()) == ["preprocessed", "sorting"]


def test_sorting_is_deterministic_across_runs_and_jobs(sorted_probe, tmp_path):
    from spikeinterface.core import load
    from spikeinterface.sortingcomponents.peak_detection import matched_filtering

    sim, first, folder = sorted_probe
    # the same saved recording sorted again, in one process instead of two: identical spikes
    sorter = EPHYS["sorting"]["array"]
    again = run_sorter_for_probe(
        load(folder / "preprocessed"),
        sorter["sorter"],
        sorter.get("params") or {},
        tmp_path / "sorting",
        n_jobs=1,
        label="sub-T ses-1 acq-X",
        seed=3,
    )
    assert list(again.unit_ids) == list(first.unit_ids)
    assert np.array_equal(again.to_spike_vector(), first.to_spike_vector())
    # the seeding of SpikeInterface's matched-filter noise chunks is undone afterwards
    original = matched_filtering.get_random_data_chunks
    with seeded_peak_detection(5):
        seeded = matched_filtering.get_random_data_chunks(sim.recording, num_chunks_per_segment=2)
        assert np.array_equal(
            seeded,
            matched_filtering.get_random_data_chunks(sim.recording, num_chunks_per_segment=2),
        )
    assert matched_filtering.get_random_data_chunks is original


def test_sorter_params_merge_defaults_config_and_seed():
    params = sorter_params("spykingcircus2", {"apply_motion_correction": True}, n_jobs=2, seed=5)
    assert params["apply_preprocessing"] is False  # the recording is preprocessed already
    assert params["apply_motion_correction"] is True  # config wins
    assert params["cache_preprocessing"] == {"mode": "no-cache"}
    assert params["seed"] == 5 and params["job_kwargs"]["n_jobs"] == 2
    assert params["job_kwargs"]["pool_engine"] == "thread"  # panneuro's default
    with pytest.raises(ValueError, match="has no parameter"):
        sorter_params("spykingcircus2", {"not_a_param": 1}, n_jobs=1, seed=None)
    with pytest.raises(ValueError, match="unknown sorter"):
        sorter_params("not_a_sorter", {}, n_jobs=1, seed=None)


def test_sorter_failure_names_the_probe(tmp_path):
    from spikeinterface.core import NumpyRecording

    recording = NumpyRecording(np.zeros((3000, 4), dtype="float32"), sampling_frequency=30000.0)
    with pytest.raises(SortingError, match="sub-X ses-1 acq-P: sorter spykingcircus2 failed"):
        run_sorter_for_probe(
            recording,
            "spykingcircus2",
            {},
            tmp_path / "sorting",
            n_jobs=1,
            label="sub-X ses-1 acq-P",
        )
    assert not (tmp_path / "sorting").exists()
    assert list(tmp_path.iterdir()) == []


def test_resources_grow_with_size_and_attempt():
    small = estimate_resources("sort", 8, 60.0)
    large = estimate_resources("sort", 32, 360.0)
    retry = estimate_resources("sort", 32, 360.0, attempt=2)
    assert small["mem_mb"] < large["mem_mb"] < retry["mem_mb"]
    assert small["runtime"] <= large["runtime"] < retry["runtime"]
    with pytest.raises(ValueError, match="unknown ephys stage"):
        estimate_resources("plot", 8, 1.0)


def test_preset_probe_size():
    size = {
        "recorded_problems": 40,
        "trial_duration_s": 1.5,
        "n_channels_array": 32,
        "n_channels_microwire": 8,
    }
    assert preset_probe_size("array", size) == (32, 360.0)
    assert preset_probe_size("microwire", size) == (8, 360.0)
