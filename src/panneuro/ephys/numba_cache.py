"""Keep SpikeInterface's numba kernels compiled on disk across sorting jobs.

SpikeInterface 0.105 compiles its numba kernels (peak detection, template similarity, the
quality metrics, ...) without ``cache=True``, so every sorting job, a fresh process, compiles
them again: on the 300 s, 32-channel benchmark recording SpyKING CIRCUS 2 took 39.7 s cold and
29.5 s once the kernels were cached (2 threads), with the same spikes bit for bit. At thousands
of probe-sessions a week that compilation is pure waste, so the stage turns numba's own on-disk
cache on for those kernels (:meth:`numba.core.dispatcher.Dispatcher.enable_caching`, what
``cache=True`` does). numba keys each cached kernel on its source file and the CPU, so a new
SpikeInterface or another machine compiles afresh; the cache lives where numba puts it
(``__pycache__`` beside the library, else the user's cache directory, or ``NUMBA_CACHE_DIR``).
"""

from __future__ import annotations

import importlib
import logging
import os
import pkgutil
from collections.abc import Sequence

logger = logging.getLogger(__name__)

#: Set this environment variable to ``0`` to leave SpikeInterface's kernels uncached.
ENABLE_VARIABLE = "PANNEURO_NUMBA_CACHE"
#: SpikeInterface subpackages whose modules define the kernels sorting uses (the default).
PACKAGES = ("core", "sortingcomponents", "postprocessing", "curation", "metrics")
#: ... those reading a sorting's spike trains use (``to_reordered_spike_vector`` and the like).
SPIKE_TRAIN_PACKAGES = ("core",)
#: ... those the units' quality metrics and templates use (:mod:`panneuro.ephys.curation`).
CURATION_PACKAGES = ("core", "postprocessing", "metrics")
#: ... those comparing a sorting with its ground truth use (:mod:`panneuro.ephys.ground_truth`).
COMPARISON_PACKAGES = ("core", "comparison")
#: Module name parts never imported here (tests, GUIs, optional heavy back-ends).
SKIPPED = (
    ".tests",
    ".widgets",
    ".exporters",
    "deepinterpolation",
    ".benchmark",
    "opencl",
    # a deprecated alias of core.generate (importing it warns; its kernels are generate's)
    ".testing_tools",
)

#: SpikeInterface builds some kernels lazily in zero-argument getters that keep the kernel they
#: compile (``core.sorting_tools.get_numba_*``, ``comparison.comparisontools.get_optimized_*`` and
#: ``get_compute_*``): those are fetched and cached too (a getter returning no kernel is skipped).
LAZY_PREFIXES = ("get_numba_", "get_optimized_compute_", "get_compute_")

#: The subpackages whose kernels this process already caches.
_cached: set[str] = set()


def cache_spikeinterface_kernels(packages: Sequence[str] = PACKAGES) -> int:
    """Turn on numba's on-disk cache for the SpikeInterface kernels of ``packages``.

    Imports the modules of each subpackage (``core`` 0.4 s, all of :data:`PACKAGES` 2.0 s,
    measured 2026-12-07, once per process: ``sortingcomponents`` brings hdbscan and
    scikit-learn) and calls ``enable_caching()`` on each numba dispatcher they
    define. A job caches only the subpackages whose kernels it runs (:data:`SPIKE_TRAIN_PACKAGES`,
    :data:`CURATION_PACKAGES`, :data:`COMPARISON_PACKAGES`); a kernel of another subpackage
    would be compiled in the job, as SpikeInterface does. Idempotent per subpackage; a no-op
    when the environment variable :data:`ENABLE_VARIABLE` is ``0``. A kernel numba cannot cache
    (no writable cache location) is left as it is.

    Parameters
    ----------
    packages : sequence of str
        SpikeInterface subpackages (``"core"``, ``"sortingcomponents"``, ...).

    Returns
    -------
    int
        Kernels whose caching was turned on by this call.
    """
    if os.environ.get(ENABLE_VARIABLE, "1") == "0":
        return 0
    todo = [package for package in packages if package not in _cached]
    if not todo:
        return 0
    import spikeinterface
    from numba.core.dispatcher import Dispatcher

    enabled = 0
    for package in todo:
        _cached.add(package)
        name = f"spikeinterface.{package}"
        try:
            root = importlib.import_module(name)
        except ImportError:
            continue
        modules = [root]
        for info in pkgutil.walk_packages(getattr(root, "__path__", []), f"{name}."):
            if any(part in info.name for part in SKIPPED):
                continue
            try:
                modules.append(importlib.import_module(info.name))
            except Exception as error:  # an optional dependency missing: that module's kernels stay
                logger.debug("numba cache: skipped %s (%s)", info.name, error)
        for module in modules:
            kernels = []
            for attribute, value in list(vars(module).items()):
                if attribute.startswith(LAZY_PREFIXES) and callable(value):
                    try:  # a getter that builds its kernel once and keeps it
                        value = value()
                    except Exception as error:
                        logger.debug(
                            "numba cache: %s.%s() failed (%s)", module.__name__, attribute, error
                        )
                        continue
                elif getattr(value, "__module__", None) != module.__name__:
                    continue  # imported from elsewhere: enabled in its own module
                if isinstance(value, Dispatcher):
                    kernels.append(value)
            for kernel in kernels:
                try:
                    kernel.enable_caching()
                except RuntimeError as error:  # "no locator available": nowhere writable
                    logger.debug("numba cache: %s not cached (%s)", kernel.__name__, error)
                    continue
                enabled += 1
    logger.info(
        "numba cache on for %d SpikeInterface kernels of %s (spikeinterface %s)",
        enabled,
        ", ".join(todo),
        spikeinterface.__version__,
    )
    return enabled
