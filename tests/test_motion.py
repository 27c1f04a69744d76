"""Motion correction of a drifting high-density probe (panneuro.ephys.motion, simulate.drift)."""

import time

import numpy as np
import pandas as pd
import pytest

from panneuro.ephys.ground_truth import compare_to_ground_truth
from panneuro.ephys.motion import (
    MOTION_FILE,
    contact_pitch_um,
    gc_frozen,
    is_high_density,
    motion_correction_applies,
    motion_error,
    motion_settings,
    read_motion,
    write_motion,
)
from panneuro.ephys.preprocessing import preprocess, preprocess_kwargs, save_recording
from panneuro.ephys.sorting import run_sorter_for_probe
from panneuro.simulate.drift import (
    make_high_density_probe,
    read_planted_motion,
    simulate_drifting_probe,
    write_drifting_ground_truth,
)
from panneuro.simulate.ephys import make_probe

#: The small drifting probe of the CI test: 64 channels, 40 µm of zigzag drift.
N_CHANNELS, N_UNITS, DURATION_S, DRIFT_UM, SEED = 64, 20, 40.0, 40.0, 3
#: Recovery bound: mean accuracy of the SNR > 5 units; holds with correction, fails without.
MIN_STRONG_ACCURACY = 0.65


def test_auto_means_high_density_probes_only():
    """auto corrects a Neuropixels-like shank, never the study's 32-contact arrays or bundles."""
    from spikeinterface.core import NumpyRecording

    def recording(probe):
        n = probe.get_contact_count()
        rec = NumpyRecording([np.zeros((10, n), dtype="int16")], sampling_frequency=30000.0)
        rec.set_probe(probe)
        return rec

    hd = recording(make_high_density_probe(64))
    assert contact_pitch_um(hd.get_channel_locations()) < 40.0
    assert is_high_density(hd) and motion_correction_applies("auto", hd)
    for probe in (make_probe(32, "linear"), make_probe(64, "linear"), make_probe(8, "bundle")):
        assert not motion_correction_applies("auto", recording(probe))
    assert motion_correction_applies(True, recording(make_probe(8, "bundle")))
    assert not motion_correction_applies(False, hd)


def test_motion_settings_are_checked():
    assert motion_settings(None)["enabled"] == "auto"
    kwargs = preprocess_kwargs(
        {
            "freq_min": 300.0,
            "freq_max": 6000.0,
            "reference": "median",
            "bad_channel_detection": True,
        }
    )
    assert kwargs["motion_correction"] == "auto"
    with pytest.raises(ValueError, match="enabled"):
        motion_settings({"enabled": "sometimes"})
    with pytest.raises(ValueError, match="preset"):
        motion_settings({"preset": "kilosort5"})
    with pytest.raises(ValueError, match="unknown key"):
        motion_settings({"presett": "rigid_fast"})


def test_drifting_probe_is_deterministic_and_its_truth_is_written(tmp_path):
    a = simulate_drifting_probe(n_channels=16, n_units=6, duration=2.0, seed=5, n_similar_pairs=1)
    b = simulate_drifting_probe(n_channels=16, n_units=6, duration=2.0, seed=5, n_similar_pairs=1)
    assert np.array_equal(
        a.recording.get_traces(end_frame=3000), b.recording.get_traces(end_frame=3000)
    )
    pd.testing.assert_frame_equal(a.units, b.units)
    assert a.units["similar_to"].astype(bool).sum() == 2  # one pair, each names the other
    assert 30.0 < np.ptp(a.motion["displacement_um"]) <= 40.0  # a zigzag, 40 µm peak to peak
    write_drifting_ground_truth(a, tmp_path / "sub-X_ses-Y_acq-P")
    pd.testing.assert_frame_equal(read_planted_motion(tmp_path / "sub-X_ses-Y_acq-P"), a.motion)
    assert (tmp_path / "sub-X_ses-Y_acq-P_spikes.npz").exists()


def test_coarser_template_bank_keeps_the_planted_motion_and_spikes():
    """drift_step_um (the template bank's step) changes the waveforms' rounding only."""
    # 2.5 s: the zigzag moves 9.6 µm per 0.2 s bin, off both template grids (2 s: 12 µm, on both)
    kwargs = {"n_channels": 16, "n_units": 6, "duration": 2.5, "seed": 5, "n_similar_pairs": 1}
    fine = simulate_drifting_probe(**kwargs)
    coarse = simulate_drifting_probe(**kwargs, drift_step_um=2.0)
    pd.testing.assert_frame_equal(fine.motion, coarse.motion)
    pd.testing.assert_frame_equal(fine.units, coarse.units)
    for unit in fine.sorting.unit_ids:
        assert np.array_equal(
            fine.sorting.get_unit_spike_train(unit), coarse.sorting.get_unit_spike_train(unit)
        )
    a = fine.recording.get_traces().astype(float)
    b = coarse.recording.get_traces().astype(float)
    assert 0 < np.abs(a - b).max() < 0.5 * np.abs(a).max()
    with pytest.raises(ValueError, match="drift_step_um"):
        simulate_drifting_probe(**kwargs, drift_step_um=0.0)


def test_gc_frozen_freezes_and_always_unfreezes():
    import gc

    before = gc.get_freeze_count()
    with pytest.raises(RuntimeError), gc_frozen():
        assert gc.get_freeze_count() > before
        raise RuntimeError
    assert gc.get_freeze_count() == before


def test_motion_motion_error_removes_offset_and_sign():
    t = np.arange(0, 10, 0.2)
    planted = pd.DataFrame({"time_s": t, "displacement_um": 10 * np.sin(t)})
    est = pd.DataFrame({"time_s": t, "depth_um": 0.0, "displacement_um": 5 - 10 * np.sin(t)})
    error = motion_error(est, planted)
    assert error["rms_um"] < 1e-9 and error["sign"] == -1.0


def test_motion_table_has_rows_only_when_corrected(tmp_path):
    """Every recording gets a motion.tsv (a declared output): no rows means not corrected."""
    estimate = pd.DataFrame(
        {
            "time_s": [0.0, 0.0, 2.0, 2.0],
            "depth_um": [100.0, 300.0] * 2,
            "displacement_um": [1.5, 1.25, -3.0, -2.5],
        }
    )
    write_motion(estimate, tmp_path / "corrected" / MOTION_FILE)
    pd.testing.assert_frame_equal(read_motion(tmp_path / "corrected" / MOTION_FILE), estimate)
    write_motion(None, tmp_path / "still" / MOTION_FILE)
    assert (tmp_path / "still" / MOTION_FILE).read_text() == "time_s\tdepth_um\tdisplacement_um\n"
    assert read_motion(tmp_path / "still" / MOTION_FILE) is None
    with pytest.raises(FileNotFoundError, match="no motion table; rerun the rule"):
        read_motion(tmp_path / "missing" / MOTION_FILE)


def _recovery(sim, folder, motion_correction):
    recording, bad = preprocess(
        sim.recording,
        freq_min=300.0,
        freq_max=6000.0,
        reference="median",
        detect_bad_channels=True,
        seed=1,
        motion_correction=motion_correction,
        n_jobs=2,
    )
    saved = save_recording(
        recording, folder / "preprocessed", n_jobs=2, chunk_duration="1s", bad_channels=bad
    )
    write_motion(bad.attrs.get("motion"), folder / MOTION_FILE)  # as preprocess_probe does
    sorting = run_sorter_for_probe(
        saved, "spykingcircus2", {}, folder / "sorting", n_jobs=2, label="drifting probe", seed=1
    )
    table = compare_to_ground_truth(
        sim.sorting, sorting, match_score=0.5, well_detected_accuracy=0.8, gt_units=sim.units
    )
    return table, read_motion(folder / MOTION_FILE)


@pytest.mark.slow
def test_motion_correction_recovers_units_of_a_drifting_probe(tmp_path):
    """With correction the stage's sorter finds the SNR > 5 units; without it, it does not."""
    start = time.perf_counter()
    sim = simulate_drifting_probe(
        n_channels=N_CHANNELS, n_units=N_UNITS, duration=DURATION_S, seed=SEED, drift_um=DRIFT_UM
    )
    corrected, motion = _recovery(sim, tmp_path / "on", "auto")
    assert not (tmp_path / "on" / "preprocessed" / MOTION_FILE).exists()  # beside it, declared
    error = motion_error(motion, sim.motion)
    assert error["rms_um"] < 4.0 and error["correlation"] > 0.95, error
    raw, no_motion = _recovery(sim, tmp_path / "off", False)
    assert no_motion is None
    strong_on = corrected[corrected["snr"] > 5]
    strong_off = raw[raw["snr"] > 5]
    accuracy_on, accuracy_off = strong_on["accuracy"].mean(), strong_off["accuracy"].mean()
    print(
        f"motion error {error}; SNR>5 units: mean accuracy {accuracy_on:.3f} with correction, "
        f"{accuracy_off:.3f} without; well detected {strong_on['well_detected'].sum()} vs "
        f"{strong_off['well_detected'].sum()} of {len(strong_on)}; all units "
        f"{corrected['accuracy'].mean():.3f} vs {raw['accuracy'].mean():.3f}; "
        f"{time.perf_counter() - start:.0f} s"
    )
    assert accuracy_on >= MIN_STRONG_ACCURACY
    assert accuracy_off < MIN_STRONG_ACCURACY  # the bound could fail: it does without
    assert strong_on["well_detected"].sum() > strong_off["well_detected"].sum()
