"""Tests of panneuro.ephys.kernel_warm_up (the sorter's kernels compiled at install)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from panneuro.ephys import numba_cache

# A sorting job as the workflow runs one, on a probe unlike the warm-up's (8 channels, other
# units and seed), then its curation metrics and its ground-truth comparison, each in a process of
# its own as the workflow's jobs are: numba writes to its cache only what it compiles.
SORT_ANOTHER_PROBE = """
import sys, tempfile, warnings
from pathlib import Path
import spikeinterface.core as si
from panneuro.ephys.curation import compute_unit_metrics
from panneuro.ephys.ground_truth import compare_to_ground_truth
from panneuro.ephys.sorting import run_sorter_for_probe

warnings.simplefilter("ignore")
recording, gt = si.generate_ground_truth_recording(durations=[6.0], num_channels=8, num_units=4,
                                                   seed=11)
with tempfile.TemporaryDirectory() as scratch:
    saved = recording.save(format="binary", folder=Path(scratch) / "r", progress_bar=False)
    sorting = run_sorter_for_probe(saved, "spykingcircus2", None, Path(scratch) / "s", n_jobs=2,
                                   label="test", seed=5)
    compute_unit_metrics(saved, sorting, n_jobs=2, chunk_duration="1s", seed=5)
    compare_to_ground_truth(gt, sorting, match_score=0.5, well_detected_accuracy=0.8)
print(len(sorting.unit_ids))
"""


def _environment(cache: Path) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if k != numba_cache.ENABLE_VARIABLE}
    environment["NUMBA_CACHE_DIR"] = str(cache)
    return environment


def _index(cache: Path) -> dict[str, bytes]:
    # numba's index files: one per cached kernel, rewritten when a new signature is compiled
    return {str(p.relative_to(cache)): p.read_bytes() for p in cache.rglob("*.nbi")}


def test_a_sorting_job_after_the_warm_up_compiles_nothing(tmp_path):
    cache = tmp_path / "numba"
    done = subprocess.run(
        [sys.executable, "-m", "panneuro.cli", "compile-kernels"],
        env=_environment(cache),
        check=True,
        capture_output=True,
        text=True,
    )
    assert "sorter kernels compiled and cached" in done.stdout
    warmed = _index(cache)
    folders = {Path(name).parts[0] for name in warmed}
    # peak detection (the sorter) and the quality metrics (curation) among them
    assert any(f.startswith("peak_detection") for f in folders), folders
    assert any(f.startswith("quality") for f in folders), folders
    assert any(f.startswith("comparison") for f in folders), folders  # the matching kernel
    subprocess.run(
        [sys.executable, "-c", SORT_ANOTHER_PROBE],
        env=_environment(cache),
        check=True,
        capture_output=True,
        text=True,
    )
    assert _index(cache) == warmed  # no kernel compiled again, none new
