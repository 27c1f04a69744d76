import numpy as np
import pytest

from panneuro.io.arrays import write_npz


def test_npz_round_trip_and_identical_bytes(tmp_path):
    arrays = {
        "a": np.arange(10.0),
        "names": np.array(["x", "yy"]),
        "m": np.eye(3, dtype=int),
        "scalar": np.float64(30000.0),
        "view": np.eye(4)[:, ::2],
    }
    write_npz(arrays, tmp_path / "one.npz")
    write_npz(arrays, tmp_path / "two.npz")
    assert (tmp_path / "one.npz").read_bytes() == (tmp_path / "two.npz").read_bytes()
    with np.load(tmp_path / "one.npz") as loaded:
        assert list(loaded) == ["a", "names", "m", "scalar", "view"]
        assert loaded["scalar"].shape == () and float(loaded["scalar"]) == 30000.0
        np.testing.assert_array_equal(loaded["view"], np.eye(4)[:, ::2])
        np.testing.assert_array_equal(loaded["m"], np.eye(3, dtype=int))
        assert loaded["names"].tolist() == ["x", "yy"]


def test_object_arrays_are_refused(tmp_path):
    with pytest.raises(ValueError):
        write_npz({"o": np.array([{"a": 1}], dtype=object)}, tmp_path / "o.npz")
    assert not (tmp_path / "o.npz").exists()
