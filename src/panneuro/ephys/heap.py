"""Keep the buffers of chunked processing in the process heap (glibc's ``malloc``).

Each chunk of the preprocessing chain makes about eight arrays of a few MB (1 s of 32
channels: the read, the float32 copy, the two FFT outputs, the sort, the reference, the int16
output, 2-4 MB each) and frees them. glibc's ``malloc`` serves an allocation above
``M_MMAP_THRESHOLD`` with a fresh ``mmap`` and gives it back to the kernel on ``free``; smaller
ones come from the heap, whose free top is returned to the kernel above ``M_TRIM_THRESHOLD``
(in threads' arenas too). glibc raises both thresholds by itself only as far as the biggest
block freed, so the heap still gives a chunk's worth of freed arrays back, and the next
chunk's arrays arrive as fresh pages: every 4 kB page costs a page fault and the kernel
zeroing it. Saving the 300 s, 32-channel benchmark recording took 115,000-390,000 minor page
faults; with the thresholds raised, 9,000, and the 2-thread save 17% less time (1 s chunks,
3 processes of 4 saves each alternated: medians 1.27-1.33 s against 1.51-1.69 s).

The thresholds are glibc's documented ``mallopt`` parameters, the same ones the environment
variables ``MALLOC_MMAP_THRESHOLD_`` and ``MALLOC_TRIM_THRESHOLD_`` set at start-up; no library
sets them for a stretch of a running process, hence these few lines. Setting either turns
glibc's dynamic threshold off for good, so on leaving :func:`chunk_buffers_kept_in_heap` they
are set to where that dynamic threshold ends in a process that frees big arrays (32 MB and
twice that), not to the start-up defaults: with 128 kB the sorting that followed in the same
process took 41-44 s instead of 26-27 s. What the save kept is returned to the kernel
(``malloc_trim``). In the pipeline the save is its own job; in the benchmark's single-process
stage the sorting after it peaked at 1,230-1,280 MB instead of 1,071-1,076 MB. Other C
libraries (macOS, musl) are left alone.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import os
import platform
from collections.abc import Iterator

logger = logging.getLogger(__name__)

#: Set this environment variable to ``0`` to leave glibc's thresholds at their defaults.
ENABLE_VARIABLE = "PANNEURO_HEAP_TUNING"
#: ``mallopt`` parameter numbers (glibc's ``malloc.h``).
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
#: Allocations up to this size come from the heap: the most glibc's own dynamic threshold
#: reaches (``DEFAULT_MMAP_THRESHOLD_MAX``, 32 MB on 64-bit).
MMAP_THRESHOLD_BYTES = 32 * 2**20
#: Free heap memory kept before any is returned to the kernel: a few chunks' working set.
TRIM_THRESHOLD_BYTES = 128 * 2**20
#: Left on exit: glibc's dynamic thresholds at their ceiling (``DEFAULT_MMAP_THRESHOLD_MAX``;
#: the trim threshold follows at twice the mmap threshold).
AFTER_MMAP_THRESHOLD_BYTES, AFTER_TRIM_THRESHOLD_BYTES = 32 * 2**20, 64 * 2**20


def _glibc() -> ctypes.CDLL | None:
    """glibc, or None (another C library, or turned off by :data:`ENABLE_VARIABLE`)."""
    if os.environ.get(ENABLE_VARIABLE, "1") == "0" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt.argtypes, libc.mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
        libc.malloc_trim.argtypes, libc.malloc_trim.restype = (ctypes.c_size_t,), ctypes.c_int
    except (OSError, AttributeError) as error:
        logger.debug("heap tuning: no mallopt (%s)", error)
        return None
    return libc


@contextlib.contextmanager
def chunk_buffers_kept_in_heap() -> Iterator[bool]:
    """Raise glibc's mmap and trim thresholds inside the block, so freed chunk arrays are reused.

    On exit they are left at :data:`AFTER_MMAP_THRESHOLD_BYTES` and
    :data:`AFTER_TRIM_THRESHOLD_BYTES` and the freed memory is returned to the kernel.
    A no-op when :data:`ENABLE_VARIABLE` is ``0`` or the C library is not glibc.

    Yields
    ------
    bool
        Whether the thresholds are raised.
    """
    libc = _glibc()
    raised = bool(
        libc is not None
        and libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
        and libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES)
    )
    try:
        yield raised
    finally:
        if libc is not None:
            libc.mallopt(M_MMAP_THRESHOLD, AFTER_MMAP_THRESHOLD_BYTES)
            libc.mallopt(M_TRIM_THRESHOLD, AFTER_TRIM_THRESHOLD_BYTES)
            libc.malloc_trim(0)
