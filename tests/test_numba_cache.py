"""Tests of panneuro.ephys.numba_cache (SpikeInterface kernels cached on disk)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from panneuro.ephys import numba_cache

# Run in fresh processes: in this one, other tests may have compiled the kernels already.
SCRIPT = """
import json
import numpy as np
from panneuro.ephys.numba_cache import cache_spikeinterface_kernels
from spikeinterface.core import sorting_tools

enabled = cache_spikeinterface_kernels()
again = cache_spikeinterface_kernels()
spikes = np.zeros(6, dtype=[("sample_index", "int64"), ("unit_index", "int64"),
                            ("segment_index", "int64")])
spikes["sample_index"] = [1, 2, 3, 5, 8, 13]
spikes["unit_index"] = [0, 1, 0, 2, 1, 0]
indices = sorting_tools.spike_vector_to_indices([spikes], unit_ids=np.array([0, 1, 2]))
kernel = sorting_tools.get_numba_vector_to_list_of_spiketrain()
print(json.dumps({"enabled": enabled, "again": again,
                  "unit0": indices[0][0].tolist(), "unit2": indices[0][2].tolist(),
                  "hits": sum(kernel.stats.cache_hits.values()),
                  "misses": sum(kernel.stats.cache_misses.values())}))
"""


def _run(tmp_path, script=SCRIPT, **env):
    environment = {k: v for k, v in os.environ.items() if k != numba_cache.ENABLE_VARIABLE}
    environment.update(NUMBA_CACHE_DIR=str(tmp_path), **env)
    done = subprocess.run(
        [sys.executable, "-c", script], env=environment, check=True, capture_output=True, text=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_kernels_are_compiled_once_then_loaded_from_disk(tmp_path):
    first = _run(tmp_path)
    assert first["enabled"] >= 20 and first["again"] == 0  # 34 in SpikeInterface 0.105.3
    assert first["misses"] == 1 and first["hits"] == 0  # compiled, then written to disk
    written = list(tmp_path.rglob("*.nbi"))
    assert any("sorting_tools" in p.name for p in written)
    second = _run(tmp_path)
    assert second["hits"] == 1 and second["misses"] == 0  # loaded, not compiled
    assert second["unit0"] == first["unit0"] == [0, 2, 5]  # positions of unit 0's spikes
    assert second["unit2"] == [3]


def test_cache_can_be_turned_off(tmp_path):
    off = _run(tmp_path, **{numba_cache.ENABLE_VARIABLE: "0"})
    assert off["enabled"] == 0 and off["hits"] == 0
    assert not list(tmp_path.rglob("*.nbi"))


# A job that only compares sortings: the comparison's kernel (built by a getter SpikeInterface
# names get_optimized_*) cached without importing the sorter's subpackages (hdbscan, sklearn).
COMPARISON_SCRIPT = """
import json, sys
import numpy as np
from panneuro.ephys.numba_cache import COMPARISON_PACKAGES, cache_spikeinterface_kernels
from spikeinterface.core import NumpySorting
from spikeinterface.comparison import comparisontools

enabled = cache_spikeinterface_kernels(COMPARISON_PACKAGES)
light = "hdbscan" not in sys.modules and "spikeinterface.sortingcomponents" not in sys.modules
more = cache_spikeinterface_kernels(("core", "postprocessing"))
a = NumpySorting.from_samples_and_labels([np.array([10, 50, 90])], [np.array([0, 1, 0])], 1000.0)
b = NumpySorting.from_samples_and_labels([np.array([11, 52, 300])], [np.array([5, 5, 6])], 1000.0)
counts = comparisontools.make_match_count_matrix(a, b, delta_frames=3)
kernel = comparisontools.get_optimized_compute_matching_matrix()
print(json.dumps({"enabled": enabled, "more": more, "light": light,
                  "counts": counts.to_numpy().tolist(),
                  "hits": sum(kernel.stats.cache_hits.values()),
                  "misses": sum(kernel.stats.cache_misses.values())}))
"""


def test_a_subset_of_subpackages_is_cached_without_the_others(tmp_path):
    first = _run(tmp_path, script=COMPARISON_SCRIPT)
    assert first["light"]  # neither the sorter's components nor hdbscan imported
    assert first["enabled"] >= 3  # core's getters and the comparison's
    assert first["more"] >= 1  # core already done: only postprocessing's kernels added
    assert first["misses"] == 1 and first["hits"] == 0
    second = _run(tmp_path, script=COMPARISON_SCRIPT)
    assert second["hits"] == 1 and second["misses"] == 0  # the matching kernel loaded from disk
    # unit 0 (10, 90) matches unit 5's 11; unit 1 (50) matches 5's 52; nothing matches unit 6
    assert second["counts"] == first["counts"] == [[1, 0], [1, 0]]
