"""Per-ground-truth-unit accuracy of a sorting (SpikeInterface comparison)."""

import numpy as np
import pandas as pd
import pytest
from spikeinterface.core import NumpySorting

from panneuro.ephys.ground_truth import compare_to_ground_truth

FS = 30000.0


def _gt():
    rng = np.random.default_rng(0)
    trains = {
        u: np.sort(rng.choice(np.arange(100, 30 * 30000, 200), 300, replace=False))
        for u in range(4)
    }
    return trains, NumpySorting.from_unit_dict(trains, sampling_frequency=FS)


def test_accuracy_per_ground_truth_unit():
    trains, gt = _gt()
    rng = np.random.default_rng(1)
    tested = {
        10: trains[0],  # perfect
        11: trains[1][::2],  # half the spikes missed
        12: np.sort(np.concatenate([trains[2], rng.integers(100, 30 * 30000, 300)])),  # +FP
        # unit 3 is not found at all
    }
    sorting = NumpySorting.from_unit_dict(tested, sampling_frequency=FS)
    units = pd.DataFrame(
        {
            "unit_id": [0, 1, 2, 3],
            "snr": [9.0, 8.0, 7.0, 6.0],
            "variable": ["choice", "none", "stay", "correct"],
        }
    )
    curated = pd.DataFrame({"unit_id": ["10", "11", "12"], "keep": [True, False, True]})
    table = compare_to_ground_truth(
        gt, sorting, match_score=0.3, well_detected_accuracy=0.8, gt_units=units, curated=curated
    )
    table = table.set_index("gt_unit_id")
    assert table.loc["0", "accuracy"] == pytest.approx(1.0)
    assert table.loc["1", "accuracy"] == pytest.approx(0.5, abs=0.02)
    assert table.loc["1", "recall"] == pytest.approx(0.5, abs=0.02)
    assert table.loc["2", "precision"] == pytest.approx(0.5, abs=0.05)
    assert table.loc["3", "accuracy"] == 0 and table.loc["3", "matched_unit_id"] == ""
    assert table["matched_unit_id"].tolist() == ["10", "11", "12", ""]
    assert table["well_detected"].tolist() == [True, False, False, False]
    assert table["snr"].tolist() == [9.0, 8.0, 7.0, 6.0]
    assert table["kept"].tolist() == [True, False, True, False]


def test_sampling_rates_must_match():
    _, gt = _gt()
    other = NumpySorting.from_unit_dict({0: np.array([1, 2, 3])}, sampling_frequency=20000.0)
    with pytest.raises(ValueError, match="different sampling rates"):
        compare_to_ground_truth(gt, other, match_score=0.5, well_detected_accuracy=0.8)
