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

logger = logging.getLogger(__name__)

#: Set this environment variable to ``0`` to leave SpikeInterface's kernels uncached.
ENABLE_VARIABLE = "PANNEURO_NUMBA_CACHE"
#: SpikeInterface subpackages whose modules define the kernels sorting and curation use.
PACKAGES = ("core", "sortingcomponents", "postprocessing", "curation", "metrics")
#: Module name parts never imported here (tests, GUIs, optional heavy back-ends).
SKIPPED = (".tests", ".widgets", ".exporters", "deepinterpolation", ".benchmark", "opencl")

#: SpikeInterface builds some kernels lazily in ``get_numba_*()`` getters that keep the kernel
#: they compile (``core.sorting_tools``): those are fetched and cached too.
LAZY_PREFIX = "get_numba_"

_done = False


def cache_spikeinterface_kernels() -> int:
    """Turn on numba's on-disk cache for every SpikeInterface kernel not already cached.

    Imports the modules of :data:`PACKAGES` (about a second, once per process) and calls
    ``enable_caching()`` on each numba dispatcher they define. Idempotent; a no-op when the
    environment variable :data:`ENABLE_VARIABLE` is ``0``. A kernel numba cannot cache (no
    writable cache location) is left as it is.

    Returns
    -------
    int
        Kernels whose caching was turned on by this call.
    """
    global _done
    if _done or os.environ.get(ENABLE_VARIABLE, "1") == "0":
        return 0
    import spikeinterface
    from numba.core.dispatcher import Dispatcher

    enabled = 0
    for package in PACKAGES:
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
                if attribute.startswith(LAZY_PREFIX) and callable(value):
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
    _done = True
    logger.info(
        "numba cache on for %d SpikeInterface kernels (spikeinterface %s)",
        enabled,
        spikeinterface.__version__,
    )
    return enabled
