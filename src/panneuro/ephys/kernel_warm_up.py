"""Compile SpikeInterface's numba kernels at install time, by sorting a small synthetic probe.

:mod:`panneuro.ephys.numba_cache` keeps the kernels numba compiles on disk, so only the first
sorting job on a machine pays for compiling them: 20-30 s of the default preset's first sort
(2026-12-06, 2 cores: the microwire bundle sorted in 53 s with a cold cache and 32 s with a
warm one). :func:`compile_sorting_kernels` pays that once when the environment is installed
(``make install``), like Python's byte-compilation of the installed packages, so that the first
``make reproduce`` and a reader's first sort do not.

It runs the stage's own code on a 5 s ground-truth recording made by SpikeInterface's generator
and saved as a binary folder, the form the sorter reads in a run (memory-mapped float32 traces:
numba compiles one kernel per argument type and layout): sorting with the stage's default
sorter and parameters, then the curation's quality metrics and the comparison with the
generator's ground truth. No result is kept but numba's cache.
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

#: The synthetic probe: long and dense enough that every step of the sorter finds spikes and
#: clusters, small enough to sort in seconds once compiled.
DURATION_S = 5.0
N_CHANNELS = 16
N_UNITS = 6
SEED = 0


def compile_sorting_kernels(*, n_jobs: int = 2, sorter: str = "spykingcircus2") -> int:
    """Sort and curate a small synthetic probe so numba compiles and caches its kernels.

    Parameters
    ----------
    n_jobs : int
        Worker threads, as a sorting job would use (threaded kernels compile per layout).
    sorter : str
        The sorter whose kernels to compile (the stage's default).

    Returns
    -------
    int
        Units the sorter found (a check that the run went through every step; 0 is allowed).
    """
    import spikeinterface.core as si

    from panneuro.ephys.curation import compute_unit_metrics
    from panneuro.ephys.ground_truth import compare_to_ground_truth
    from panneuro.ephys.numba_cache import cache_spikeinterface_kernels
    from panneuro.ephys.sorting import run_sorter_for_probe

    with (
        tempfile.TemporaryDirectory(prefix="panneuro-kernels-") as scratch,
        warnings.catch_warnings(),
    ):
        # importing every SpikeInterface module warns of deprecated ones, and a 5 s probe has
        # too few spikes for some metrics: those warnings say nothing here
        warnings.simplefilter("ignore")
        cache_spikeinterface_kernels()
        recording, gt_sorting = si.generate_ground_truth_recording(
            durations=[DURATION_S], num_channels=N_CHANNELS, num_units=N_UNITS, seed=SEED
        )
        saved = recording.save(
            format="binary", folder=Path(scratch) / "recording", progress_bar=False, verbose=False
        )
        sorting = run_sorter_for_probe(
            saved,
            sorter,
            None,
            Path(scratch) / "sorting",
            n_jobs=n_jobs,
            label="kernel warm-up",
            seed=SEED,
        )
        compute_unit_metrics(saved, sorting, n_jobs=n_jobs, chunk_duration="1s", seed=SEED)
        compare_to_ground_truth(gt_sorting, sorting, match_score=0.5, well_detected_accuracy=0.8)
        return len(sorting.unit_ids)
