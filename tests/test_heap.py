"""Tests of panneuro.ephys.heap (glibc's mmap/trim thresholds for chunked processing)."""

import json
import os
import platform
import subprocess
import sys

import pytest

from panneuro.ephys import heap

#: A chunk loop like the preprocessing chain's: arrays of a few MB made and freed in turn.
WORKLOAD = """
import json, resource, sys
import numpy as np
from panneuro.ephys.heap import chunk_buffers_kept_in_heap
with chunk_buffers_kept_in_heap() as raised:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for chunk in range(40):
        traces = np.ones((60_000, 32), dtype=np.int16)
        block = np.zeros((32, 61_440), dtype=np.float32)
        block[:, :60_000] = traces.T
        spectrum = np.fft.rfft(block[:4], axis=1)
        ordered = np.sort(block.T, axis=1)
        out = (block.T - ordered[:, 15:16]).astype(np.int16)
        del traces, block, spectrum, ordered, out
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
print(json.dumps({"raised": raised, "faults": faults}))
"""


def _run(**env: str) -> dict:
    environment = {k: v for k, v in os.environ.items() if k != heap.ENABLE_VARIABLE}
    environment.update(env)
    done = subprocess.run(
        [sys.executable, "-c", WORKLOAD],
        env=environment,
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_freed_chunk_arrays_are_reused_instead_of_faulted_in():
    tuned = _run()
    default = _run(**{heap.ENABLE_VARIABLE: "0"})
    assert tuned["raised"] is True
    assert default["raised"] is False
    # every chunk's ~30 MB of arrays arrive as fresh pages by default; reused when tuned
    assert default["faults"] > 40 * 1000
    assert tuned["faults"] * 5 < default["faults"]


def test_disabled_by_the_environment_variable(monkeypatch):
    monkeypatch.setenv(heap.ENABLE_VARIABLE, "0")
    with heap.chunk_buffers_kept_in_heap() as raised:
        assert raised is False


def test_other_c_libraries_are_left_alone(monkeypatch):
    monkeypatch.delenv(heap.ENABLE_VARIABLE, raising=False)
    monkeypatch.setattr(heap.platform, "libc_ver", lambda: ("", ""))
    with heap.chunk_buffers_kept_in_heap() as raised:
        assert raised is False


def test_thresholds_left_at_glibc_dynamic_ceiling(monkeypatch):
    calls = []

    class FakeLibc:
        def mallopt(self, parameter, value):
            calls.append((parameter, value))
            return 1

        def malloc_trim(self, pad):
            calls.append(("trim", pad))
            return 1

    monkeypatch.setattr(heap, "_glibc", lambda: FakeLibc())
    with pytest.raises(RuntimeError), heap.chunk_buffers_kept_in_heap():
        raise RuntimeError("a chunk failed")
    # raised inside, left at the ceiling of glibc's own dynamic thresholds even on an error
    assert calls == [
        (heap.M_MMAP_THRESHOLD, heap.MMAP_THRESHOLD_BYTES),
        (heap.M_TRIM_THRESHOLD, heap.TRIM_THRESHOLD_BYTES),
        (heap.M_MMAP_THRESHOLD, heap.AFTER_MMAP_THRESHOLD_BYTES),
        (heap.M_TRIM_THRESHOLD, heap.AFTER_TRIM_THRESHOLD_BYTES),
        ("trim", 0),
    ]
