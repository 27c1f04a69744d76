"""The task session's units in its sleep runs: template matching against the curated templates.

The sleep runs before and after a task session are recorded by the same probe, so their units
are the task's. Rather than sorting each run again (new unit ids, no correspondence) or sorting
the concatenated pre + task + post recording (a sort three times as long, whose clusters would
mix the task's units with whatever the sleep runs add), each preprocessed sleep run is
*matched* against the templates of the task sorting's curated units with SpikeInterface's
template matching (:func:`spikeinterface.sortingcomponents.matching.find_spikes_from_templates`,
the ``circus-omp`` peeler SpykingCircus2 itself runs as its last step). A unit in sleep is then
the same unit (same id) as in the task, which is what reactivation compares. The templates are
the task analyzer's average waveforms (:func:`task_templates`: SpikeInterface
``SortingAnalyzer``, ``random_spikes`` + ``templates``) in the recording's raw units, matched on
the sleep run's same-preprocessed traces (``panneuro.ephys.preprocessing``, same settings).

Bad-channel detection runs per recording, so the task and a sleep run may keep different
channels: matching uses the channels both kept (:func:`match_units`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from spikeinterface.core import BaseRecording, BaseSorting, Templates

#: SpikeInterface's template-matching engine used (SpykingCircus2's).
MATCHING_METHOD = "circus-omp"


def task_templates(
    recording: BaseRecording,
    sorting: BaseSorting,
    unit_ids: Sequence,
    *,
    seed: int,
    ms_before: float = 1.0,
    ms_after: float = 2.0,
    max_spikes_per_unit: int = 500,
    n_jobs: int = 1,
) -> Templates:
    """Average waveforms of the task's curated units, as SpikeInterface ``Templates``.

    Parameters
    ----------
    recording : spikeinterface.core.BaseRecording
        The task's preprocessed recording.
    sorting : spikeinterface.core.BaseSorting
        The task's sorting.
    unit_ids : sequence
        The curated units kept (``metrics.tsv`` ``keep``).
    seed : int
        Seeds the spikes drawn per unit.
    ms_before, ms_after : float
        Template window around the peak, ms.
    max_spikes_per_unit : int
        Spikes averaged per unit.
    n_jobs : int
        Parallel jobs.

    Returns
    -------
    spikeinterface.core.Templates
        Dense templates (units × samples × channels) in the recording's raw units.
    """
    from spikeinterface.core import create_sorting_analyzer

    kept = sorting.select_units(list(unit_ids))
    analyzer = create_sorting_analyzer(
        kept,
        recording,
        format="memory",
        sparse=False,
        return_in_uV=False,
        job_kwargs={"n_jobs": n_jobs},
    )
    analyzer.compute("random_spikes", max_spikes_per_unit=max_spikes_per_unit, seed=seed)
    analyzer.compute("templates", ms_before=ms_before, ms_after=ms_after, n_jobs=n_jobs)
    return analyzer.get_extension("templates").get_data(outputs="Templates")


def match_units(
    recording: BaseRecording,
    templates: Templates,
    *,
    method: str = MATCHING_METHOD,
    n_jobs: int = 1,
    chunk_duration: str = "1s",
) -> BaseSorting:
    """Find the templates' units in a recording (SpikeInterface template matching).

    Parameters
    ----------
    recording : spikeinterface.core.BaseRecording
        A sleep run's preprocessed recording (same preprocessing as the templates').
    templates : spikeinterface.core.Templates
        :func:`task_templates`.
    method : str
        A SpikeInterface matching method (``circus-omp``, ``tdc-peeler``, ``wobble``...).
    n_jobs : int
        Parallel jobs.
    chunk_duration : str
        Chunk of the matching.

    Returns
    -------
    spikeinterface.core.NumpySorting
        The units' spikes in the recording, the templates' unit ids (units with no match
        have empty trains).
    """
    import spikeinterface.preprocessing as spre
    from spikeinterface.core import NumpySorting, Templates
    from spikeinterface.sortingcomponents.matching import find_spikes_from_templates

    channels = [c for c in templates.channel_ids if c in set(recording.channel_ids)]
    if not channels:
        raise ValueError(
            "the sleep run shares no channel with the task's templates; check that both "
            "recordings come from the same probe (channel ids)."
        )
    index = [list(templates.channel_ids).index(c) for c in channels]
    templates = Templates(
        templates_array=np.ascontiguousarray(templates.templates_array[:, :, index]),
        sampling_frequency=templates.sampling_frequency,
        nbefore=templates.nbefore,
        channel_ids=np.asarray(channels),
        unit_ids=templates.unit_ids,
        probe=recording.get_probe(),
        is_in_uV=templates.is_in_uV,
    )
    traces = spre.astype(recording.select_channels(channels), "float32")
    unit_ids = np.asarray(templates.unit_ids)
    if len(unit_ids) == 0:
        return NumpySorting.from_samples_and_labels(
            [np.zeros(0, dtype=np.int64)],
            [np.zeros(0, dtype=unit_ids.dtype)],
            recording.get_sampling_frequency(),
            unit_ids=unit_ids,
        )
    spikes = find_spikes_from_templates(
        traces,
        templates,
        method=method,
        job_kwargs={"n_jobs": n_jobs, "chunk_duration": chunk_duration, "progress_bar": False},
    )
    spikes = spikes[spikes["cluster_index"] >= 0]
    order = np.lexsort((spikes["cluster_index"], spikes["sample_index"]))
    spikes = spikes[order]
    return NumpySorting.from_samples_and_labels(
        [spikes["sample_index"].astype(np.int64)],
        [unit_ids[spikes["cluster_index"]]],
        recording.get_sampling_frequency(),
        unit_ids=unit_ids,
    )


def spike_times(sorting: BaseSorting) -> dict:
    """Return each unit's spike times (s) of a one-segment sorting, in unit order.

    Parameters
    ----------
    sorting : spikeinterface.core.BaseSorting
        One segment.

    Returns
    -------
    dict
        Unit id -> spike times (s).
    """
    fs = sorting.get_sampling_frequency()
    return {
        u: np.asarray(sorting.get_unit_spike_train(u, segment_index=0), dtype=float) / fs
        for u in sorting.unit_ids
    }
