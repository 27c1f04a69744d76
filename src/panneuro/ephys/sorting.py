"""Spike sorting of one probe with a SpikeInterface sorter (SpyKING CIRCUS 2 by default)."""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from panneuro.io.atomic import atomic_path

#: Parameters panneuro sets for SpyKING CIRCUS 2 unless config overrides them: the recording
#: reaching the sorter is already band-passed and re-referenced (so SC2 only whitens), probes do
#: not drift in the simulation, and "no-cache" keeps memory flat with recording length
#: (SC2's default caches the whole preprocessed recording in RAM; its "folder" cache writes it
#: as float32, twice the int16 input, and was slower here). The workers are threads
#: (SpikeInterface job kwarg ``pool_engine``): numba compiles each kernel once instead of once
#: per forked worker process and pipeline; measured on the 300 s benchmark recording with 2
#: workers, 11% less CPU time (62 vs 70 s) and the same spikes, bit for bit. Template matching
#: is SpikeInterface's "wobble" (the matching step of YASS / Kilosort's peeler) rather than SC2's
#: default "circus-omp": on the default preset's three probes (2026-12-06, 2 threads, 362 s,
#: warm numba cache), sorting took 38-42 / 55 / 15 s instead of 58-69 / 65 / 38 s (hippocampus
#: and prefrontal arrays, 32 channels and 25 units; microwire bundle, 8 channels and 8 units), at
#: mean accuracy 0.984 / 0.999 / 0.998 against 0.957 / 0.998 / 0.996; circus-omp's
#: matching was 75 % of its run time ("tdc-peeler" needs noise levels SC2 does not pass it).
SORTER_DEFAULTS: dict[str, dict[str, Any]] = {
    "spykingcircus2": {
        "matching": {"method": "wobble", "matching_kwargs": {}, "pipeline_kwargs": {}},
        "apply_preprocessing": False,
        "apply_motion_correction": False,
        "cache_preprocessing": {"mode": "no-cache"},
        "deterministic_peaks_detection": True,
        "job_kwargs": {"pool_engine": "thread"},
    },
}


#: Seed of the matched-filter thresholds when neither the run nor config has a seed (SC2's default).
DEFAULT_SORTER_SEED = 42


class SortingError(RuntimeError):
    """A sorter failed on a probe (the message names the session and probe)."""


def sorter_params(
    sorter: str, params: Mapping[str, Any] | None, *, n_jobs: int, seed: int | None
) -> dict[str, Any]:
    """Merge panneuro's defaults, the config's parameters, the job size and the seed.

    Parameters
    ----------
    sorter : str
        SpikeInterface sorter name.
    params : mapping, optional
        ``config["ephys"]["sorting"][datatype]["params"]`` (wins over the defaults).
    n_jobs : int
        Worker processes.
    seed : int, optional
        Passed as ``seed`` when the sorter has one.

    Returns
    -------
    dict
        Keyword arguments for ``spikeinterface.sorters.run_sorter``.

    Raises
    ------
    ValueError
        For an unknown sorter or parameter, naming the valid ones.
    """
    import spikeinterface.sorters as ss

    if sorter not in ss.available_sorters():
        raise ValueError(
            f"unknown sorter {sorter!r} in config ephys.sorting; available: "
            f"{ss.available_sorters()}."
        )
    defaults = ss.get_default_sorter_params(sorter)
    merged = copy.deepcopy(SORTER_DEFAULTS.get(sorter, {}))
    merged.update(copy.deepcopy(dict(params or {})))
    unknown = sorted(set(merged) - set(defaults))
    if unknown:
        raise ValueError(
            f"config ephys.sorting: {sorter} has no parameter(s) {unknown}; its "
            f"parameters are {sorted(defaults)}."
        )
    if "seed" in defaults and seed is not None:
        merged.setdefault("seed", int(seed))
    if "job_kwargs" in defaults:
        job_kwargs = dict(merged.get("job_kwargs") or {})
        job_kwargs.update(n_jobs=int(n_jobs), progress_bar=False)
        merged["job_kwargs"] = job_kwargs
    return merged


@contextlib.contextmanager
def seeded_peak_detection(seed: int) -> Iterator[None]:
    """Seed the noise estimate of SpikeInterface's matched-filtering peak detector.

    SpikeInterface 0.105.3's ``MatchedFilteringPeakDetector`` (SpyKING CIRCUS 2's and Lupin's
    default detector) sets its thresholds from the MAD of 5 random 500-ms chunks drawn with
    ``get_random_data_chunks(recording, num_chunks_per_segment=5)`` without a seed
    (``sortingcomponents/peak_detection/matched_filtering.py``, ``random_chunk_kwargs``), i.e.
    from fresh OS entropy: the thresholds, hence the peaks, clusters and spikes, change on
    every run whatever the sorter's ``seed``. The detector's ``random_chunk_kwargs`` cannot be
    set through the sorter's parameters (SC2 passes the same detection kwargs to the
    locally-exclusive detector, which rejects them), so within this context the chunk draw gets
    ``seed`` unless the caller gives one. Everything else in SC2 is seeded by its ``seed``.

    Parameters
    ----------
    seed : int
        Seed of the random chunks.

    Yields
    ------
    None
        The patch is undone on exit.
    """
    from spikeinterface.sortingcomponents.peak_detection import matched_filtering

    original = getattr(matched_filtering, "get_random_data_chunks", None)
    if original is None:  # a later SpikeInterface; tests/test_sorting.py checks determinism
        yield
        return

    def get_seeded_chunks(recording, **kwargs):
        kwargs.setdefault("seed", int(seed))
        return original(recording, **kwargs)

    matched_filtering.get_random_data_chunks = get_seeded_chunks
    try:
        yield
    finally:
        matched_filtering.get_random_data_chunks = original


def run_sorter_for_probe(
    recording,
    sorter: str,
    params: Mapping[str, Any] | None,
    folder: str | os.PathLike,
    *,
    n_jobs: int,
    label: str,
    seed: int | None = None,
):
    """Sort one probe's preprocessed recording and save the result as a NumpyFolder sorting.

    The sorter works in a scratch folder beside ``folder`` that is removed afterwards; only the
    sorting is kept. The run is deterministic (same recording, parameters and seed give the same
    spike trains, whatever ``n_jobs``): see :func:`seeded_peak_detection`.

    Parameters
    ----------
    recording : spikeinterface.core.BaseRecording
        Preprocessed, saved (serialisable) recording with one probe.
    sorter : str
        SpikeInterface sorter name (``spykingcircus2``, ``tridesclous2``, ...).
    params : mapping, optional
        Sorter parameters from config.
    folder : path-like
        The output NumpyFolder (replaced atomically).
    n_jobs : int
        Worker processes (the rule's threads).
    label : str
        Names the session and probe in error messages (``sub-M1 ses-04 acq-PFC``).
    seed : int, optional
        The sorter's seed where it has one; also seeds the matched-filter thresholds
        (``DEFAULT_SORTER_SEED`` if neither this nor the config gives a seed).

    Returns
    -------
    spikeinterface.core.BaseSorting
        The saved sorting.

    Raises
    ------
    SortingError
        If the sorter fails, naming the probe and the sorter.
    """
    import spikeinterface.core as si
    import spikeinterface.sorters as ss

    from panneuro.ephys.numba_cache import cache_spikeinterface_kernels

    cache_spikeinterface_kernels()  # compiled once per machine, not once per job
    folder = Path(folder)
    kwargs = sorter_params(sorter, params, n_jobs=n_jobs, seed=seed)
    folder.parent.mkdir(parents=True, exist_ok=True)
    for stale in folder.parent.glob(f".{folder.name}.{sorter}.*"):  # a killed run's scratch
        shutil.rmtree(stale, ignore_errors=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{folder.name}.{sorter}.", dir=folder.parent))
    previous = si.get_global_job_kwargs()
    # steps of the sorter that take no job kwargs use the global ones: the same workers
    si.set_global_job_kwargs(
        **{"n_jobs": int(n_jobs), "progress_bar": False, **kwargs.get("job_kwargs", {})}
    )
    chunk_seed = kwargs.get("seed", seed)
    chunk_seed = DEFAULT_SORTER_SEED if chunk_seed is None else int(chunk_seed)
    try:
        with seeded_peak_detection(chunk_seed):
            sorting = ss.run_sorter(
                sorter,
                recording,
                folder=scratch / "sorter",
                remove_existing_folder=True,
                verbose=False,
                raise_error=True,
                **kwargs,
            )
        _log_sorter_run(label, sorting)
        # Saved as a plain NumpySorting: the sorter's run record (dates, run time, n_jobs,
        # absolute and temporary paths) would make the folder differ on every run; it goes to
        # the rule's log instead, and the spikes are the same.
        with atomic_path(folder, suffix="") as tmp:
            si.NumpySorting.from_sorting(sorting).save(format="numpy_folder", folder=tmp)
    except Exception as error:  # the sorter's own error types vary; keep its message
        raise SortingError(
            f"{label}: sorter {sorter} failed ({type(error).__name__}: {error}). "
            "Check the preprocessed recording and the sorter's parameters in "
            "config ephys.sorting, or try another sorter."
        ) from error
    finally:
        si.set_global_job_kwargs(**previous)
        shutil.rmtree(scratch, ignore_errors=True)
    return si.load(folder)


def _log_sorter_run(label: str, sorting: Any) -> None:
    info = sorting.get_annotation("__sorting_info__") or {}
    logging.getLogger(__name__).info(
        "%s: sorter run record %s", label, json.dumps(info, default=str, sort_keys=True)
    )


def load_sorting(folder: str | os.PathLike):
    """Load a sorting saved by :func:`run_sorter_for_probe`.

    Parameters
    ----------
    folder : path-like
        The NumpyFolder.

    Returns
    -------
    spikeinterface.core.BaseSorting
        The sorting.
    """
    import spikeinterface.core as si

    from panneuro.ephys.numba_cache import SPIKE_TRAIN_PACKAGES, cache_spikeinterface_kernels

    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no saved sorting; rerun the sort_probe rule.")
    cache_spikeinterface_kernels(SPIKE_TRAIN_PACKAGES)  # its spike trains' kernels, not compiled
    return si.load(folder)


#: Per-stage memory (MB) = base + per channel-second, runtime (min) = base + per channel-second,
#: measured on 2 cores (32 ch × 362 s: preprocessing ~0.5 GB, SC2 "no-cache" < 1 GB) with margin.
_RESOURCE_MODEL: dict[str, tuple[float, float, float, float]] = {
    "preprocess": (1500.0, 0.05, 3.0, 2.0e-4),
    "sort": (2000.0, 0.15, 5.0, 6.0e-4),
    "curate": (2000.0, 0.1, 3.0, 2.0e-4),
}


def estimate_resources(
    stage: str, n_channels: int, duration_s: float, attempt: int = 1
) -> dict[str, int]:
    """Memory and runtime to request for one probe's job, raised on each retry.

    Parameters
    ----------
    stage : {"preprocess", "sort", "curate"}
        The ephys rule.
    n_channels : int
        Channels of the probe.
    duration_s : float
        Recording length, s.
    attempt : int
        Snakemake's attempt number (1 on the first try): the request is multiplied by it.

    Returns
    -------
    dict
        ``mem_mb`` and ``runtime`` (minutes).
    """
    if stage not in _RESOURCE_MODEL:
        raise ValueError(f"unknown ephys stage {stage!r}; use one of {sorted(_RESOURCE_MODEL)}.")
    mem_base, mem_per, time_base, time_per = _RESOURCE_MODEL[stage]
    size = float(n_channels) * float(duration_s)
    return {
        "mem_mb": int(round((mem_base + mem_per * size) * attempt)),
        "runtime": int(np.ceil((time_base + time_per * size) * attempt)),
    }


def preset_probe_size(datatype: str, size: Mapping[str, Any]) -> tuple[int, float]:
    """Channels and seconds of a probe as the size preset makes them (for resource requests).

    The raw file may not exist when Snakemake plans the jobs, so the request comes from the
    preset: ``n_channels_<datatype>`` and ``recorded_problems × 6 trials × trial_duration_s``.

    Parameters
    ----------
    datatype : {"array", "microwire"}
        The sample sheet's datatype of the probe.
    size : mapping
        ``config["sizes"][config["size"]]``.

    Returns
    -------
    tuple
        ``(n_channels, duration_s)``.
    """
    from panneuro.simulate.task import TRIALS_PER_PROBLEM

    trials = float(size["recorded_problems"]) * TRIALS_PER_PROBLEM
    duration = trials * float(size["trial_duration_s"])
    return int(size[f"n_channels_{datatype}"]), duration
