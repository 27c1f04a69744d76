"""Compare a probe's sorting with the simulation's ground truth (SpikeInterface comparison)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def compare_to_ground_truth(
    gt_sorting,
    sorting,
    *,
    match_score: float,
    well_detected_accuracy: float,
    gt_units: pd.DataFrame | None = None,
    curated: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per-ground-truth-unit accuracy of a sorting.

    Uses ``spikeinterface.comparison.compare_sorter_to_ground_truth`` (Hungarian matching of
    units whose agreement exceeds ``match_score``); accuracy = matches / (matches + misses +
    false positives).

    Parameters
    ----------
    gt_sorting, sorting : spikeinterface.core.BaseSorting
        Ground truth and tested sortings (same sampling rate and clock).
    match_score : float
        Minimum agreement for two units to be matched.
    well_detected_accuracy : float
        Accuracy from which a GT unit counts as well detected.
    gt_units : pandas.DataFrame, optional
        The planted tuning (``unit_id``, ``snr``, ``variable``, ...), joined on ``unit_id``.
    curated : pandas.DataFrame, optional
        The probe's ``metrics.tsv`` (``unit_id``, ``keep``): adds whether the matched unit
        survived curation.

    Returns
    -------
    pandas.DataFrame
        One row per GT unit: ``gt_unit_id``, ``matched_unit_id`` (empty if none),
        ``accuracy``, ``recall``, ``precision``, ``false_discovery_rate``, ``miss_rate``,
        ``well_detected`` and, when given, ``snr``, ``variable``, ``kept``.
    """
    from spikeinterface.comparison import compare_sorter_to_ground_truth

    from panneuro.ephys.numba_cache import COMPARISON_PACKAGES, cache_spikeinterface_kernels

    cache_spikeinterface_kernels(COMPARISON_PACKAGES)  # the matching kernel, not compiled per job
    if gt_sorting.get_sampling_frequency() != sorting.get_sampling_frequency():
        raise ValueError(
            "ground truth and sorting have different sampling rates "
            f"({gt_sorting.get_sampling_frequency()} vs "
            f"{sorting.get_sampling_frequency()}); they must share one clock."
        )
    comparison = compare_sorter_to_ground_truth(
        gt_sorting,
        sorting,
        match_score=match_score,
        well_detected_score=well_detected_accuracy,
        exhaustive_gt=False,
    )
    performance = comparison.get_performance(method="by_unit").astype(float)
    match = comparison.hungarian_match_12
    table = performance.reset_index(names="gt_unit_id")
    table["gt_unit_id"] = [str(u) for u in table["gt_unit_id"]]
    matched = [match.get(u, -1) for u in performance.index]
    table.insert(
        1,
        "matched_unit_id",
        [
            "" if (isinstance(m, (int, np.integer)) and m == -1) or m == "" else str(m)
            for m in matched
        ],
    )
    table["well_detected"] = table["accuracy"] >= well_detected_accuracy
    if gt_units is not None:
        extra = gt_units.assign(gt_unit_id=gt_units["unit_id"].astype(str))
        columns = [c for c in ("snr", "variable", "gain") if c in extra.columns]
        table = table.merge(extra[["gt_unit_id", *columns]], on="gt_unit_id", how="left")
    if curated is not None:
        keep = dict(zip(curated["unit_id"].astype(str), curated["keep"].astype(bool), strict=True))
        table["kept"] = [bool(keep.get(m, False)) if m else False for m in table["matched_unit_id"]]
    return table
