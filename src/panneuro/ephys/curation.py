"""Quality metrics and threshold curation of sorted units (SpikeInterface SortingAnalyzer).

The analyzer extracts waveforms of a random subset of spikes, their mean (the templates), the
noise levels and each spike's amplitude scaling (its least-squares fit to its unit's template,
what SpikeInterface's ``amplitude_cutoff`` is computed from: its fallback to the raw spike
amplitudes is less reliable and goes in SpikeInterface 0.106); ``spikeinterface.metrics.quality``
computes the metrics.
A unit is kept when every thresholded metric passes; ``reject_reason`` lists those that fail.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from panneuro.io.arrays import write_npz

#: Quality metrics computed for every unit (SpikeInterface names).
METRIC_NAMES: tuple[str, ...] = (
    "num_spikes",
    "firing_rate",
    "presence_ratio",
    "snr",
    "isi_violation",
    "amplitude_cutoff",
)
#: Spikes per unit whose waveforms are extracted.
MAX_SPIKES_PER_UNIT = 300
#: Presence-ratio bin (s), shortened to a tenth of the recording when that is shorter.
PRESENCE_BIN_S = 60.0
#: Template extent (ms).
MS_BEFORE, MS_AFTER = 1.0, 2.0


def compute_unit_metrics(
    recording,
    sorting,
    *,
    n_jobs: int,
    chunk_duration: str,
    seed: int,
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Quality metrics and mean waveforms of every sorted unit.

    Parameters
    ----------
    recording : spikeinterface.core.BaseRecording
        The preprocessed recording the sorting came from.
    sorting : spikeinterface.core.BaseSorting
        The sorter's output.
    n_jobs : int
        Worker processes.
    chunk_duration : str
        Chunk length for the analyzer's jobs (e.g. ``"1s"``).
    seed : int
        Seeds the random spike subset and the noise-level chunks.

    Returns
    -------
    metrics : pandas.DataFrame
        One row per unit: ``unit_id``, ``peak_channel`` and the metrics (``snr``,
        ``isi_violations_ratio``, ``isi_violations_count``, ``presence_ratio``,
        ``amplitude_cutoff``, ``firing_rate``, ``num_spikes``).
    waveforms : dict of numpy.ndarray
        ``unit_ids``, ``templates`` (units × samples × channels, µV, mean), ``channel_ids``,
        ``channel_locations``, ``peak_channel`` (index), ``sampling_frequency``, ``nbefore``.
    """
    import spikeinterface.core as si
    from spikeinterface.metrics.quality import compute_quality_metrics

    from panneuro.ephys.numba_cache import CURATION_PACKAGES, cache_spikeinterface_kernels

    cache_spikeinterface_kernels(CURATION_PACKAGES)
    # thread workers, as for the sorter (panneuro.ephys.sorting.SORTER_DEFAULTS)
    job_kwargs = {
        "n_jobs": int(n_jobs),
        "chunk_duration": chunk_duration,
        "progress_bar": False,
        "pool_engine": "thread",
    }
    unit_ids = sorting.unit_ids
    fs = recording.get_sampling_frequency()
    nbefore = int(round(MS_BEFORE * fs / 1000))
    channel_ids = np.asarray([str(c) for c in recording.channel_ids])
    if len(unit_ids) == 0:
        empty = pd.DataFrame(
            {"unit_id": pd.Series(dtype=str), "peak_channel": pd.Series(dtype=str)}
        )
        for name in (
            "snr",
            "isi_violations_ratio",
            "isi_violations_count",
            "presence_ratio",
            "amplitude_cutoff",
            "firing_rate",
            "num_spikes",
        ):
            empty[name] = pd.Series(dtype=float)
        return empty, {
            "unit_ids": np.array([], dtype=str),
            "templates": np.zeros(
                (0, nbefore + int(round(MS_AFTER * fs / 1000)), len(channel_ids)), dtype=np.float32
            ),
            "channel_ids": channel_ids,
            "channel_locations": recording.get_channel_locations(),
            "peak_channel": np.array([], dtype=int),
            "sampling_frequency": np.float64(fs),
            "nbefore": np.int64(nbefore),
        }
    analyzer = si.create_sorting_analyzer(
        sorting,
        recording,
        format="memory",
        sparse=True,
        seed=seed,
        return_in_uV=True,
        job_kwargs=job_kwargs,
    )
    analyzer.compute(
        {
            "random_spikes": {"max_spikes_per_unit": MAX_SPIKES_PER_UNIT, "seed": seed},
            "waveforms": {"ms_before": MS_BEFORE, "ms_after": MS_AFTER},
            "templates": {"operators": ["average"]},
            "noise_levels": {"random_slices_kwargs": {"seed": seed}},
            "amplitude_scalings": {},
        },
        **job_kwargs,
    )
    # Presence ratio: 60 s bins (SpikeInterface's default) or ten bins on shorter recordings.
    bin_s = min(PRESENCE_BIN_S, recording.get_total_duration() / 10)
    metrics = compute_quality_metrics(
        analyzer,
        metric_names=list(METRIC_NAMES),
        seed=seed,
        metric_params={"presence_ratio": {"bin_duration_s": bin_s}},
        **job_kwargs,
    )
    templates = analyzer.get_extension("templates").get_data(operator="average")
    peak = np.abs(templates).max(axis=1).argmax(axis=1)
    table = metrics.reset_index(names="unit_id")
    table["unit_id"] = [str(u) for u in table["unit_id"]]
    table.insert(1, "peak_channel", channel_ids[peak])
    columns = [
        "unit_id",
        "peak_channel",
        "snr",
        "isi_violations_ratio",
        "isi_violations_count",
        "presence_ratio",
        "amplitude_cutoff",
        "firing_rate",
        "num_spikes",
    ]
    waveforms = {
        "unit_ids": np.asarray([str(u) for u in unit_ids]),
        "templates": templates.astype(np.float32),
        "channel_ids": channel_ids,
        "channel_locations": recording.get_channel_locations(),
        "peak_channel": peak.astype(np.int64),
        "sampling_frequency": np.float64(fs),
        "nbefore": np.int64(analyzer.get_extension("templates").nbefore),
    }
    return table[columns], waveforms


def curate(metrics: pd.DataFrame, thresholds: Mapping[str, float]) -> pd.DataFrame:
    """Mark units to keep from metric thresholds.

    Parameters
    ----------
    metrics : pandas.DataFrame
        Output of :func:`compute_unit_metrics`.
    thresholds : mapping
        ``<metric>_min`` / ``<metric>_max`` keys (``config["ephys"]["curation"]``), e.g.
        ``snr_min: 3``, ``isi_violations_ratio_max: 0.5``. A missing (NaN) metric fails its
        threshold.

    Returns
    -------
    pandas.DataFrame
        ``metrics`` with ``keep`` (bool) and ``reject_reason`` (failed thresholds joined by
        ``;``, empty when kept).

    Raises
    ------
    ValueError
        For a key that is not ``<metric>_min``/``_max`` of a computed metric.
    """
    table = metrics.copy()
    reasons = [[] for _ in range(len(table))]
    for key, limit in thresholds.items():
        metric, _, bound = key.rpartition("_")
        if bound not in ("min", "max") or metric not in table.columns:
            known = [c for c in table.columns if c not in ("unit_id", "peak_channel")]
            raise ValueError(
                f"config ephys.curation: {key!r} is not <metric>_min or "
                f"<metric>_max of a computed metric ({known})."
            )
        values = table[metric].to_numpy(float)
        with np.errstate(invalid="ignore"):
            fails = ~(values >= limit) if bound == "min" else ~(values <= limit)
        for i in np.flatnonzero(fails):
            reasons[i].append(f"{metric}{'<' if bound == 'min' else '>'}{limit:g}")
    table["keep"] = [not r for r in reasons]
    table["reject_reason"] = [";".join(r) for r in reasons]
    return table


def write_waveforms(waveforms: Mapping[str, np.ndarray], target: str | os.PathLike) -> None:
    """Write the mean waveforms of a probe's units as ``.npz`` (atomically).

    Parameters
    ----------
    waveforms : mapping
        As returned by :func:`compute_unit_metrics`.
    target : path-like
        The ``waveforms.npz`` file.
    """
    write_npz({k: np.asarray(v) for k, v in waveforms.items()}, target)


def read_waveforms(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read a ``waveforms.npz`` written by :func:`write_waveforms`.

    Parameters
    ----------
    path : path-like
        The file.

    Returns
    -------
    dict of numpy.ndarray
        The arrays.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no mean waveforms; rerun the curate_units rule.")
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}
