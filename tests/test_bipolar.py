import mne
import numpy as np
import pytest

from panneuro.ecog.bipolar import (
    bipolar_pairs,
    channel_positions,
    reference_matrix,
    set_bipolar,
)
from panneuro.simulate.ecog import grid_positions


def _grid_raw(n=8, seed=0):
    names = [f"G{i + 1:02d}" for i in range(n)]
    info = mne.create_info(names, 500.0, ch_types="ecog")
    data = np.random.default_rng(seed).standard_normal((n, 1000)) * 1e-5
    raw = mne.io.RawArray(data, info, verbose=False)
    xy = grid_positions(n) / 1000.0
    raw.set_montage(
        mne.channels.make_dig_montage(
            ch_pos={c: np.array([x, y, 0.0]) for c, (x, y) in zip(names, xy, strict=True)},
            coord_frame="head",
        ),
        verbose=False,
    )
    return raw


def test_grid_pairs_are_row_and_column_neighbours():
    names = [f"G{i + 1:02d}" for i in range(32)]
    pairs = bipolar_pairs(names, np.column_stack([grid_positions(32), np.zeros(32)]))
    assert len(pairs) == 8 * 3 + 7 * 4  # an 8 × 4 grid
    assert ("G01", "G02") in pairs and ("G01", "G05") in pairs
    assert ("G04", "G05") not in pairs and ("G01", "G06") not in pairs  # no wrap, no diagonal
    assert len(set(pairs)) == len(pairs)


def test_a_missing_contact_forms_no_pair():
    names = [f"G{i + 1:02d}" for i in range(8) if i != 1]  # G02 bad, removed
    positions = np.column_stack([grid_positions(8), np.zeros(8)])[[0, 2, 3, 4, 5, 6, 7]]
    pairs = bipolar_pairs(names, positions)
    assert all("G02" not in p for p in pairs)
    assert ("G01", "G05") in pairs and ("G01", "G03") not in pairs


def test_pairs_from_names_without_positions():
    names = ["LA1", "LA2", "LA3", "LB1", "LB2", "LA5"]
    pairs = bipolar_pairs(names, np.full((6, 3), np.nan))
    assert pairs == [("LA1", "LA2"), ("LA2", "LA3"), ("LB1", "LB2")]
    with pytest.raises(ValueError, match="no neighbouring"):
        bipolar_pairs(["A", "B"])


def test_reference_matrices():
    names = ["G01", "G02", "G03", "G04"]
    positions = np.column_stack([grid_positions(4), np.zeros(4)])
    car, out, _ = reference_matrix(names, "average", positions)
    assert out == names
    np.testing.assert_allclose(car.sum(axis=1), 0.0, atol=1e-12)
    bip, out, mid = reference_matrix(names, "bipolar", positions)
    assert out == ["G01-G02", "G02-G03", "G03-G04"]
    np.testing.assert_array_equal(bip[0], [1, -1, 0, 0])
    np.testing.assert_allclose(mid[0], (positions[0] + positions[1]) / 2)
    with pytest.raises(ValueError, match="ecog.reference"):
        reference_matrix(names, "laplacian")


def test_set_bipolar_matches_the_matrix():
    raw = _grid_raw()
    positions = channel_positions(raw.info, raw.ch_names)
    matrix, names, mid = reference_matrix(raw.ch_names, "bipolar", positions)
    expected = matrix @ raw.get_data()
    out = set_bipolar(raw.copy())
    assert out.ch_names == names
    np.testing.assert_allclose(out.get_data(), expected, atol=1e-15)
    np.testing.assert_allclose(channel_positions(out.info, out.ch_names), mid)
    assert set(out.get_channel_types()) == {"ecog"}
