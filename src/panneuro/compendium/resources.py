"""Memory and runtime requests of the heavy jobs, sized from the recording they process.

A job's cost grows with its recording's *channel-seconds* (channels × duration). The size comes
from the data when the raw file is already there (its size on disk, or the JSON sidecar of a
raw binary file), otherwise from the size preset of the simulated study (the raw file does not
exist yet when Snakemake plans the jobs of a simulated study). Each retry multiplies the
request by the attempt number, so a job killed for memory or time gets more on its next try.

The per-stage costs (:data:`STAGE_COSTS`) are measured throughputs on this project's machines
(2 cores) with a safety margin; ``docs/scaling.md`` derives the cluster size from the same
numbers.
"""

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Trials per Harlow problem (the size preset counts problems).
TRIALS_PER_PROBLEM = 6

#: Bytes per sample of a raw recording whose sidecar does not say (int16).
DEFAULT_BYTES_PER_SAMPLE = 2


@dataclass(frozen=True)
class StageCost:
    """Request of one stage: ``base + per_channel_second × channel-seconds``.

    Attributes
    ----------
    mem_base_mb, mem_mb_per_channel_second : float
        Memory, MB.
    runtime_base_min, runtime_min_per_channel_second : float
        Wall time on the rule's threads, minutes.
    """

    mem_base_mb: float
    mem_mb_per_channel_second: float
    runtime_base_min: float
    runtime_min_per_channel_second: float


#: Measured on 2 cores (STACK-NOTES / README timings), ×3 on time and ×2 on memory as margin:
#: preprocessing 47 MB/s of int16 at 30 kHz = 780 channel-s/s, memory flat (~0.5 GB);
#: SpykingCircus2 (no cache) 6× real time on 32 channels = 190 channel-s/s, 0.6 → 0.8 GB from
#: 300 → 600 s; curation (analyzer, waveforms, metrics) 13 s for 32 ch × 300 s = 740
#: channel-s/s, ~1 GB; the session NWB export reads sortings and waveforms (small, ~0.5 GB);
#: ECoG high gamma holds the session in float64 at 1 kHz with 8 sub-band envelopes
#: (~8 kB per channel-second × a few copies).
STAGE_COSTS: dict[str, StageCost] = {
    "preprocess": StageCost(1000.0, 0.002, 2.0, 3.0 / 780.0 / 60.0),
    "sort": StageCost(1500.0, 0.05, 3.0, 3.0 / 190.0 / 60.0),
    "curate": StageCost(1500.0, 0.01, 2.0, 3.0 / 740.0 / 60.0),
    "export": StageCost(1000.0, 0.005, 2.0, 3.0 / 5000.0 / 60.0),
    "high_gamma": StageCost(1500.0, 0.05, 2.0, 3.0 / 500.0 / 60.0),
}


@dataclass(frozen=True)
class Request:
    """What one job asks the scheduler for: ``mem_mb`` (MB) and ``runtime`` (minutes)."""

    mem_mb: int
    runtime: int


def estimate(stage: str, channel_seconds: float, attempt: int = 1) -> Request:
    """Memory and runtime to request for a job of ``stage`` on a recording of that size.

    Parameters
    ----------
    stage : str
        A key of :data:`STAGE_COSTS` (preprocess, sort, curate, export, high_gamma).
    channel_seconds : float
        Channels × duration (s) of the recording(s) the job processes.
    attempt : int
        Snakemake's attempt (1 on the first try); the request is multiplied by it.

    Returns
    -------
    Request
        ``mem_mb`` and ``runtime`` (minutes), rounded up.
    """
    if stage not in STAGE_COSTS:
        raise ValueError(
            f"unknown stage {stage!r} for a resource request; use one of {sorted(STAGE_COSTS)}."
        )
    if channel_seconds < 0 or attempt < 1:
        raise ValueError(
            f"{stage}: channel_seconds must be >= 0 and attempt >= 1, got "
            f"{channel_seconds} and {attempt}."
        )
    cost = STAGE_COSTS[stage]
    mem = (cost.mem_base_mb + cost.mem_mb_per_channel_second * channel_seconds) * attempt
    runtime = (
        cost.runtime_base_min + cost.runtime_min_per_channel_second * channel_seconds
    ) * attempt
    return Request(mem_mb=math.ceil(mem), runtime=math.ceil(runtime))


def preset_channel_seconds(datatype: str, size: Mapping[str, Any]) -> float:
    """Channel-seconds of a recording as the simulated study's size preset makes it.

    Parameters
    ----------
    datatype : {"array", "microwire", "ecog"}
        The sample sheet's datatype.
    size : mapping
        ``config["sizes"][config["size"]]``: ``n_channels_<datatype>`` (``n_electrodes_ecog``),
        ``recorded_problems`` and ``trial_duration_s``.

    Returns
    -------
    float
        Channels × seconds.
    """
    key = "n_electrodes_ecog" if datatype == "ecog" else f"n_channels_{datatype}"
    if key not in size:
        raise ValueError(
            f"size preset has no {key!r} for datatype {datatype!r}; add it to "
            "config/config.yaml (sizes)."
        )
    duration = (
        float(size["recorded_problems"]) * TRIALS_PER_PROBLEM * float(size["trial_duration_s"])
    )
    return float(size[key]) * duration


def file_channel_seconds(path: str | os.PathLike, sampling_frequency: float) -> float | None:
    """Channel-seconds of a raw recording file from its size on disk, or None if it is absent.

    A JSON sidecar ``<file>.json`` with ``sampling_frequency`` (and ``dtype``) overrides the
    defaults (the project's binary reader options); otherwise samples are taken as int16 at
    ``sampling_frequency``. Container formats (NWB, BrainVision) add little to the samples.

    Parameters
    ----------
    path : path-like
        The raw file (for BrainVision the ``.vhdr`` header: its data file, format and rate).
    sampling_frequency : float
        Sampling rate (Hz) to assume when no sidecar says.

    Returns
    -------
    float or None
        ``bytes / (bytes per sample × sampling frequency)``; None when the file is not there yet.
    """
    path = Path(path)
    if path.suffix == ".vhdr":
        return _brainvision_channel_seconds(path)
    if not path.is_file():
        return None
    bytes_per_sample = DEFAULT_BYTES_PER_SAMPLE
    sidecar = path.with_name(path.name + ".json")
    if sidecar.is_file():
        try:
            options = json.loads(sidecar.read_text())
        except json.JSONDecodeError as error:
            raise ValueError(
                f"{sidecar}: not valid JSON ({error}); fix the reader sidecar."
            ) from error
        sampling_frequency = float(options.get("sampling_frequency", sampling_frequency))
        if "dtype" in options:
            import numpy as np

            bytes_per_sample = np.dtype(options["dtype"]).itemsize
    return path.stat().st_size / (bytes_per_sample * float(sampling_frequency))


#: BrainVision ``BinaryFormat`` → bytes per sample.
_BRAINVISION_BYTES = {"INT_16": 2, "INT_32": 4, "IEEE_FLOAT_32": 4}


def _brainvision_channel_seconds(header: Path) -> float | None:
    """Channel-seconds of a BrainVision recording from its header and the data file's size."""
    if not header.is_file():
        return None
    keys = {}
    for line in header.read_text(errors="replace").splitlines():
        name, sep, value = line.partition("=")
        if sep and name.strip() in ("DataFile", "BinaryFormat", "SamplingInterval"):
            keys.setdefault(name.strip(), value.strip())
    data = header.with_name(keys.get("DataFile", header.with_suffix(".eeg").name))
    if not data.is_file():
        return None
    fmt = keys.get("BinaryFormat", "INT_16")
    if fmt not in _BRAINVISION_BYTES or "SamplingInterval" not in keys:
        raise ValueError(
            f"{header}: BinaryFormat {fmt!r} or SamplingInterval missing or "
            f"unknown (expected one of {sorted(_BRAINVISION_BYTES)}); fix the header."
        )
    sampling_frequency = 1e6 / float(keys["SamplingInterval"])
    return data.stat().st_size / (_BRAINVISION_BYTES[fmt] * sampling_frequency)


def recording_channel_seconds(
    path: str | os.PathLike, datatype: str, size: Mapping[str, Any], sampling_frequency: float
) -> float:
    """Channel-seconds of a recording: from its file when present, else from the size preset.

    Parameters
    ----------
    path : path-like
        The raw recording.
    datatype : str
        The sample sheet's datatype (array, microwire, ecog).
    size : mapping
        The size preset (used while the file does not exist, e.g. before the simulation).
    sampling_frequency : float
        Sampling rate to assume for the file (Hz).

    Returns
    -------
    float
        Channels × seconds.
    """
    from_file = file_channel_seconds(path, sampling_frequency)
    return from_file if from_file is not None else preset_channel_seconds(datatype, size)
