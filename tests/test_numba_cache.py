"""Tests of panneuro.ephys.numba_cache (SpikeInterface kernels cached on disk)."""

from __future__ import annotations

import numpy as np

from panneuro.ephys import numba_cache


def test_kernels_are_cached_on_disk_and_give_the_same_result(tmp_path, monkeypatch):
    import numba
    from spikeinterface.core import sorting_tools

    monkeypatch.setattr(numba.config, "CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(numba_cache, "_done", False)
    monkeypatch.delenv(numba_cache.ENABLE_VARIABLE, raising=False)
    enabled = numba_cache.cache_spikeinterface_kernels()
    assert enabled >= 20  # SpikeInterface 0.105.3: peak detection, similarity, metrics, ...
    assert numba_cache.cache_spikeinterface_kernels() == 0  # once per process
    before = set(tmp_path.rglob("*.nbi"))
    spikes = np.zeros(6, dtype=[("sample_index", "int64"), ("unit_index", "int64"),
                                ("segment_index", "int64")])
    spikes["sample_index"] = [1, 2, 3, 5, 8, 13]
    spikes["unit_index"] = [0, 1, 0, 2, 1, 0]
    indices = sorting_tools.spike_vector_to_indices([spikes], unit_ids=np.array([0, 1, 2]))
    # numba wrote an index file for the kernel it compiled, under the cache directory
    written = set(tmp_path.rglob("*.nbi")) - before
    assert written and all("sorting_tools" in p.name for p in written)
    np.testing.assert_array_equal(indices[0][0], [0, 2, 5])
    np.testing.assert_array_equal(indices[0][2], [3])


def test_cache_can_be_turned_off(monkeypatch):
    monkeypatch.setattr(numba_cache, "_done", False)
    monkeypatch.setenv(numba_cache.ENABLE_VARIABLE, "0")
    assert numba_cache.cache_spikeinterface_kernels() == 0
    assert numba_cache._done is False
