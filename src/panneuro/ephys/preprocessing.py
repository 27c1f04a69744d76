"""Read raw microelectrode recordings and preprocess them for spike sorting (SpikeInterface).

The chain is the usual one: band-pass filter, bad-channel detection (with the reason of each
label) and removal, common (median) reference. Everything stays lazy; :func:`save_recording`
computes it chunk by chunk into a SpikeInterface binary folder with bounded memory.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from panneuro.io.atomic import atomic_path
from panneuro.io.tables import write_tsv

#: Name of the bad-channel table written inside the preprocessed folder.
BAD_CHANNELS_FILE = "bad_channels.tsv"
#: Output dtype of the preprocessed recording: int16 counts (the raw gain is kept), half the
#: disk and I/O of float32; the filter's rounding error (< 1 count = 0.2 µV) is far below noise.
PREPROCESSED_DTYPE = "int16"
#: Fewer channels than this: a bundle or tetrode, where neighbour coherence is meaningless.
MIN_CHANNELS_FOR_COHERENCE = 16


def _read_nwb(path: Path):
    from spikeinterface.extractors import read_nwb_recording

    try:
        return read_nwb_recording(path, electrical_series_path="acquisition/ElectricalSeriesRaw")
    except ValueError:
        # A lab's file may name its series differently: let SpikeInterface find the only one.
        return read_nwb_recording(path)


#: Raw readers by the sample sheet's ``format`` column. Add a format here (e.g. ``spikeglx``,
#: ``openephys``, ``blackrock`` via ``spikeinterface.extractors``).
READERS: dict[str, Callable[[Path], object]] = {"nwb": _read_nwb}


def read_recording(path: str | os.PathLike, format: str):  # noqa: A002  (the sheet's column)
    """Read a raw recording by its sample-sheet format.

    Parameters
    ----------
    path : path-like
        The raw file.
    format : str
        The sample sheet's ``format`` (a key of :data:`READERS`).

    Returns
    -------
    spikeinterface.core.BaseRecording
        Lazy recording with its probe (channel locations) attached.

    Raises
    ------
    ValueError
        For a format without a reader, naming the file and the supported formats.
    FileNotFoundError
        If the file does not exist.
    """
    path = Path(path)
    if format not in READERS:
        raise ValueError(f"{path}: no reader for format {format!r}; supported: "
                         f"{sorted(READERS)}. Convert the file to NWB or add a reader to "
                         "panneuro.ephys.preprocessing.READERS.")
    if not path.exists():
        raise FileNotFoundError(f"{path}: raw recording not found; check the sample sheet's "
                                "path column and that the raw dataset is installed (datalad get).")
    recording = READERS[format](path)
    if not recording.has_probe():
        raise ValueError(f"{path}: the recording has no channel locations; the electrodes "
                         "table needs rel_x/rel_y so sorters know the probe geometry.")
    return recording


def preprocess(
    recording,
    *,
    freq_min: float,
    freq_max: float,
    reference: str,
    detect_bad_channels: bool,
    seed: int | None = None,
):
    """Band-pass, remove bad channels and re-reference a recording (lazily).

    Parameters
    ----------
    recording : spikeinterface.core.BaseRecording
        Raw broadband recording with a probe.
    freq_min, freq_max : float
        Band-pass edges, Hz.
    reference : {"median", "average", "none"}
        Global common reference operator.
    detect_bad_channels : bool
        Detect dead/noisy/outside channels and remove them. On shanks of 16 channels or more
        SpikeInterface's ``coherence+psd`` method (neighbour coherence and high-frequency
        power), on smaller bundles the ``mad`` method (noise level against the median).
    seed : int, optional
        Seeds the random chunks the detector reads.

    Returns
    -------
    recording : spikeinterface.core.BaseRecording
        The lazy preprocessed recording (int16 counts, same gain).
    bad_channels : pandas.DataFrame
        One row per input channel: ``channel_id``, ``label`` (good/dead/noise/out), ``bad``,
        ``method``.
    """
    import spikeinterface.preprocessing as spre

    if reference not in ("median", "average", "none"):
        raise ValueError(f"ephys.preprocessing.reference is {reference!r}; use median, average "
                         "or none in config/config.yaml.")
    if not 0 < freq_min < freq_max < recording.get_sampling_frequency() / 2:
        raise ValueError(f"band {freq_min}-{freq_max} Hz does not fit below Nyquist "
                         f"({recording.get_sampling_frequency() / 2} Hz); fix "
                         "ephys.preprocessing in config/config.yaml.")
    filtered = spre.bandpass_filter(recording, freq_min=freq_min, freq_max=freq_max,
                                    dtype="float32")
    channel_ids = recording.channel_ids
    labels = np.array(["good"] * len(channel_ids), dtype=object)
    method = "none"
    if detect_bad_channels:
        method = ("coherence+psd" if len(channel_ids) >= MIN_CHANNELS_FOR_COHERENCE else "mad")
        kwargs: dict = {"seed": seed, "job_kwargs": {"progress_bar": False}}
        if method == "coherence+psd":
            kwargs["n_neighbors"] = min(11, len(channel_ids) - 1 - (len(channel_ids) % 2 == 0))
        _, labels = spre.detect_bad_channels(filtered, method=method, **kwargs)
        labels = np.asarray(labels, dtype=object)
    bad = labels != "good"
    table = pd.DataFrame({"channel_id": [str(c) for c in channel_ids], "label": labels,
                          "bad": bad, "method": method})
    if bad.all():
        raise ValueError(f"every channel was labelled bad ({method}); check the recording or "
                         "set ephys.preprocessing.bad_channel_detection: false.")
    if bad.any():
        filtered = filtered.remove_channels(channel_ids[bad])
    if reference != "none":
        filtered = spre.common_reference(filtered, reference="global", operator=reference)
    return spre.scale(filtered, gain=1.0, offset=0.0, dtype=PREPROCESSED_DTYPE), table


def save_recording(
    recording,
    folder: str | os.PathLike,
    *,
    n_jobs: int,
    chunk_duration: str,
    bad_channels: pd.DataFrame | None = None,
):
    """Compute a lazy recording chunk by chunk into a binary folder, atomically.

    Parameters
    ----------
    recording : spikeinterface.core.BaseRecording
        The (preprocessed) recording.
    folder : path-like
        The target folder (replaced if it exists).
    n_jobs : int
        Worker processes (the rule's threads).
    chunk_duration : str
        Chunk length, e.g. ``"1s"`` (bounds memory per worker).
    bad_channels : pandas.DataFrame, optional
        Written as ``bad_channels.tsv`` inside the folder.

    Returns
    -------
    spikeinterface.core.BaseRecording
        The saved recording, loaded from ``folder``.
    """
    import spikeinterface.core as si

    folder = Path(folder)
    with atomic_path(folder, suffix="") as tmp:
        recording.save(format="binary", folder=tmp, n_jobs=n_jobs, chunk_duration=chunk_duration,
                       progress_bar=False, verbose=False)
        if bad_channels is not None:
            write_tsv(bad_channels, tmp / BAD_CHANNELS_FILE)
    return si.load(folder)


def read_bad_channels(folder: str | os.PathLike) -> pd.DataFrame:
    """Read the bad-channel table of a preprocessed folder.

    Parameters
    ----------
    folder : path-like
        A folder written by :func:`save_recording`.

    Returns
    -------
    pandas.DataFrame
        ``channel_id, label, bad, method``.
    """
    from panneuro.io.tables import read_tsv

    path = Path(folder) / BAD_CHANNELS_FILE
    if not path.exists():
        raise FileNotFoundError(f"{path}: no bad-channel table; rerun the preprocess_probe rule.")
    table = read_tsv(path)
    table["channel_id"] = table["channel_id"].astype(str)
    return table


def load_preprocessed(folder: str | os.PathLike):
    """Load a preprocessed binary folder.

    Parameters
    ----------
    folder : path-like
        A folder written by :func:`save_recording`.

    Returns
    -------
    spikeinterface.core.BaseRecording
        The recording (memory-mapped).
    """
    import spikeinterface.core as si

    folder = Path(folder)
    if not (folder / "binary.json").exists():
        raise FileNotFoundError(f"{folder}: not a SpikeInterface binary folder; rerun the "
                                "preprocess_probe rule.")
    return si.load(folder)
