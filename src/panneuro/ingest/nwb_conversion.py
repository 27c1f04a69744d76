"""Microelectrode recordings in acquisition formats converted to iEEG-datatype NWB (NeuroConv).

BIDS iEEG accepts ``.nwb`` but not SpikeGLX, Open Ephys, Intan, Blackrock, Neuralynx or
plain binary recordings, so a lab's files in those formats are converted, one recording per
NWB file, beside the iEEG sidecars BIDS requires (``_ieeg.json``, ``_channels.tsv``,
``_electrodes.tsv``, ``_coordsystem.json``); the originals stay where they are and appear under
``sourcedata/`` of the converted dataset (:mod:`panneuro.ingest.bids_view`).

The samples are written through NeuroConv's SpikeInterface chunk iterator; the electrodes table
is written here (:func:`write_recording_nwb` says why NeuroConv's ``add_recording_to_nwbfile``
is not used: its column order is not reproducible). The reading is panneuro's
:func:`panneuro.ephys.preprocessing.read_recording`, not NeuroConv's per-format interfaces
(``SpikeGLXRecordingInterface`` and the like): those wrap the same SpikeInterface/neo
extractors but skip the checks the readers add (a file cut short, a geometry given in the
reader sidecar, a recording that disagrees with its BIDS sidecars), and NeuroConv has no
interface for plain binary or for SpikeGLX NI-DAQ electrode streams.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from panneuro.ephys.nwb_units import (
    SIMULATED_INSTITUTION,
    deterministic_object_ids,
    make_nwbfile,
    write_nwbfile,
)

#: Sample-sheet formats of microelectrode recordings that BIDS iEEG accepts as they are.
BIDS_NATIVE_FORMATS = ("nwb",)
#: Name of the converted broadband series (the name the simulated recordings use too).
SERIES_NAME = "ElectricalSeriesRaw"


def needs_conversion(format: str) -> bool:  # noqa: A002  (the sheet's column)
    """Tell whether a microelectrode recording's format must be converted for BIDS.

    Parameters
    ----------
    format : str
        The sample sheet's ``format``.

    Returns
    -------
    bool
        True for every format but NWB.
    """
    return format not in BIDS_NATIVE_FORMATS


#: Memory the writer's read buffer may take (float32 samples), bytes.
WRITE_BUFFER_BYTES = 64 * 2**20
#: At most this many HDF5 chunks are read at once.
MAX_BUFFER_CHUNKS = 10


def buffer_chunks(chunk_samples: int, n_channels: int, n_samples: int | None = None) -> int:
    """HDF5 chunks the NWB writer reads from the recording at once (≥ 1).

    The file's chunks stay ``chunk_duration`` long (the same bytes whatever the buffer); reading
    several at once matters for SpikeInterface's on-the-fly noise generator (the simulated
    study), which draws a whole noise block for the block an interval merely ends at: one 1 s
    chunk per read drew two 1 s blocks, ten chunks per read draw eleven (measured on the
    default preset's two 32-channel arrays: noise 22.6 s of the 33 s their simulation took).

    Parameters
    ----------
    chunk_samples, n_channels : int
        Shape of one HDF5 chunk.
    n_samples : int, optional
        Length of the recording: a read is never longer (hdmf refuses a buffer longer than the
        data).

    Returns
    -------
    int
        Chunks per read, within :data:`WRITE_BUFFER_BYTES` and :data:`MAX_BUFFER_CHUNKS`.
    """
    per_chunk = max(1, chunk_samples * n_channels * 4)
    chunks = min(MAX_BUFFER_CHUNKS, WRITE_BUFFER_BYTES // per_chunk)
    if n_samples is not None:
        chunks = min(chunks, n_samples // chunk_samples)
    return int(max(1, chunks))


def write_recording_nwb(
    recording: Any,
    target: str | os.PathLike,
    *,
    subject: str,
    session: str,
    group: str,
    region: str,
    species: str,
    session_start: dt.datetime,
    age: str | None,
    sex: str,
    device_description: str,
    group_description: str,
    series_description: str,
    session_description: str,
    chunk_duration: float = 1.0,
    institution: str | None = SIMULATED_INSTITUTION,
) -> None:
    """Write a broadband recording as iEEG-datatype NWB, chunk by chunk, with the same bytes.

    The one NWB writer of raw recordings: converted acquisition files
    (:func:`convert_recording_to_nwb`) and the simulated study's probes
    (:func:`panneuro.simulate.ephys.write_probe_nwb`). The samples go through NeuroConv's
    SpikeInterface chunk iterator (int16 counts, bounded memory) into an ElectricalSeries
    :data:`SERIES_NAME` with their conversion. The device, group and electrodes table
    (``location`` = region, ``rel_x``/``rel_y``, ``channel_name``) are written here, not by
    NeuroConv's ``add_recording_to_nwbfile``: NeuroConv 0.10.2 adds the electrode columns in
    the order of a Python ``set`` (``properties_to_add_by_columns``), which changes with string
    hashing from one process to the next, so the same recording gave different bytes in two
    runs (found by the kill/resume and S3 byte-identity tests); it also drops the positions,
    which SpikeInterface 0.105 no longer keeps in a ``location`` property.

    Parameters
    ----------
    recording : spikeinterface.core.BaseRecording
        With its probe attached (channel locations); one gain for every channel.
    target : path-like
        The ``.nwb`` file (written atomically).
    subject, session : str
        BIDS labels.
    group : str
        Electrode group name.
    region : str
        Brain region (electrodes' ``location``).
    species : str
        Latin binomial (or ``macaque``/``human``).
    session_start : datetime.datetime
        Timezone-aware session start.
    age : str or None
        ISO 8601 duration.
    sex : str
        ``M``, ``F``, ``O`` or ``U``.
    device_description, group_description, series_description, session_description : str
        Free text of the device, the group, the series and the file.
    chunk_duration : float
        Seconds per written chunk (bounded memory).
    institution : str, optional
        The NWB file's institution (where the data were recorded; None: not stated).

    Raises
    ------
    ValueError
        If the channels have different gains (one ElectricalSeries conversion factor).
    """
    from neuroconv.tools.spikeinterface.spikeinterfacerecordingdatachunkiterator import (
        SpikeInterfaceRecordingDataChunkIterator,
    )
    from pynwb.ecephys import ElectricalSeries

    target = Path(target)
    n_channels = recording.get_num_channels()
    fs = recording.get_sampling_frequency()
    gains = np.unique(recording.get_channel_gains())
    if gains.size != 1:
        raise ValueError(
            f"{target}: channels with different gains ({gains[:4]} µV) cannot "
            "share one ElectricalSeries conversion factor."
        )
    label = f"sub-{subject}_ses-{session}_{target.name}"
    with deterministic_object_ids(label):
        nwbfile = make_nwbfile(
            subject=subject,
            session=session,
            species=species,
            session_start=session_start,
            age=age,
            sex=sex,
            description=session_description,
            identifier=label,
            institution=institution,
        )
        device = nwbfile.create_device(name="probe", description=device_description)
        electrode_group = nwbfile.create_electrode_group(
            name=group, device=device, location=region, description=group_description
        )
        nwbfile.add_electrode_column("rel_x", "x position on the probe (µm)")
        nwbfile.add_electrode_column("rel_y", "y position on the probe (µm)")
        nwbfile.add_electrode_column("channel_name", "channel id in the recording")
        for ch, loc in zip(recording.channel_ids, recording.get_channel_locations(), strict=True):
            nwbfile.add_electrode(
                group=electrode_group,
                location=region,
                rel_x=float(loc[0]),
                rel_y=float(loc[1]),
                channel_name=str(ch),
            )
        chunk_samples = int(fs * chunk_duration)
        data = SpikeInterfaceRecordingDataChunkIterator(
            recording,
            return_in_uV=False,
            buffer_shape=(
                chunk_samples
                * buffer_chunks(chunk_samples, n_channels, recording.get_num_samples()),
                n_channels,
            ),
            chunk_shape=(chunk_samples, n_channels),
        )
        nwbfile.add_acquisition(
            ElectricalSeries(
                name=SERIES_NAME,
                data=data,
                electrodes=nwbfile.create_electrode_table_region(
                    list(range(n_channels)), "all electrodes"
                ),
                rate=float(fs),
                starting_time=0.0,
                conversion=float(gains[0]) * 1e-6,
                description=series_description,
            )
        )
        write_nwbfile(nwbfile, target)


def convert_recording_to_nwb(
    source: str | os.PathLike,
    format: str,  # noqa: A002
    target: str | os.PathLike,
    *,
    subject: str,
    session: str,
    probe: str,
    region: str,
    species: str,
    session_start: dt.datetime,
    age: str | None,
    sex: str,
    line_frequency: float,
    chunk_duration: float = 1.0,
    task: str | None = None,
    stated: Mapping[str, Any] | None = None,
    probe_sidecars: bool = True,
) -> float:
    """Convert one raw recording to an iEEG-datatype NWB file and write its BIDS sidecars.

    The sidecars say what the recording's files give (rate, duration, channels, geometry) and
    what the lab's raw dataset states in its ``task-<task>_ieeg.json``
    (:func:`panneuro.ingest.session_metadata.recording_metadata`: site, device, reference),
    never the simulated study's keys; the NWB file's institution is the stated
    ``InstitutionName`` (none when not stated).

    Parameters
    ----------
    source : path-like
        The raw recording (file or folder, as the sample sheet names it).
    format : str
        Its sample-sheet format (a key of :data:`panneuro.ephys.preprocessing.READERS`).
    target : path-like
        ``.../ieeg/sub-X_ses-Y_task-T_acq-P_ieeg.nwb`` (written atomically).
    subject, session, probe : str
        BIDS labels and the probe label.
    region : str
        Brain region (electrodes' ``location``).
    species : str
        Latin binomial (or ``macaque``/``human``).
    session_start : datetime.datetime
        Timezone-aware session start (from the BIDS sessions/scans file).
    age : str or None
        ISO 8601 duration.
    sex : str
        ``M``, ``F``, ``O`` or ``U``.
    line_frequency : float
        Mains frequency (Hz) for the ``_ieeg.json``.
    chunk_duration : float
        Seconds per written chunk (bounded memory).
    task : str, optional
        The recording's task label (its ``_ieeg.json`` task keys); the Harlow task's by
        default.
    stated : mapping, optional
        The lab's dataset-level ``_ieeg.json`` keys (none stated: empty).
    probe_sidecars : bool
        Write the probe's electrodes and coordinate system (False for a sleep run: its
        task recording's conversion writes them; :func:`write_nwb_ieeg_sidecars`).

    Returns
    -------
    float
        The recording's duration, seconds.

    Raises
    ------
    ValueError
        If the recording cannot be read (one line naming the file, from ``read_recording``).
    """
    from panneuro.ephys.preprocessing import read_recording
    from panneuro.simulate.bids import write_nwb_ieeg_sidecars

    target = Path(target)
    stated = dict(stated or {})
    recording = read_recording(source, format)
    n_channels = recording.get_num_channels()
    fs = recording.get_sampling_frequency()
    write_recording_nwb(
        recording,
        target,
        subject=subject,
        session=session,
        group=probe,
        region=region,
        species=species,
        session_start=session_start,
        age=age,
        sex=sex,
        device_description=f"{format} recording of probe {probe} ({n_channels} channels)",
        group_description=f"probe {probe} in {region}",
        series_description=f"Broadband voltage of probe {probe}, int16 counts, converted from "
        f"{format} ({Path(source).name}) by panneuro.",
        session_description=f"Broadband recording of probe {probe} in {region}.",
        chunk_duration=chunk_duration,
        institution=stated.get("InstitutionName"),
    )
    write_nwb_ieeg_sidecars(
        target,
        channel_ids=np.asarray(recording.channel_ids),
        locations_um=recording.get_channel_locations(),
        sampling_frequency=fs,
        duration=recording.get_total_duration(),
        region=region,
        probe_description=f"{n_channels}-channel probe {probe} (converted from {format})",
        line_frequency=line_frequency,
        task_metadata=converted_task_metadata(task),
        stated=stated,
        probe_sidecars=probe_sidecars,
    )
    return float(recording.get_total_duration())


def converted_task_metadata(task: str | None = None) -> dict[str, object]:
    """Return the task keys of a lab's converted recording's ``_ieeg.json``.

    The consortium's description of the Harlow task (the simulated study's ``TaskName``,
    ``TaskDescription`` and ontology ids, without its ``Instructions``, which describe the
    simulation), or another task's name alone.

    Parameters
    ----------
    task : str, optional
        The task label (the Harlow task's by default).

    Returns
    -------
    dict
        ``_ieeg.json`` task keys (the lab's ``task-<task>_ieeg.json`` overrides them).
    """
    from panneuro.simulate.bids import TASK, TASK_METADATA

    if task not in (None, TASK):
        return {"TaskName": task}
    return {k: v for k, v in TASK_METADATA.items() if k != "Instructions"}


#: Columns of an events file of a recording without a task (BIDS: onset and duration first).
EMPTY_EVENTS_HEADER = "onset\tduration\ttrial_type\n"


def write_epoch_events(target: str | os.PathLike, duration: float, trial_type: str) -> None:
    """Write the ``_events.tsv`` of a run that is one epoch (a sleep or rest run).

    BIDS recommends events beside each recording; a sleep run has no trials, its whole length
    is the epoch (as the simulated study's sleep runs: one row, onset 0).

    Parameters
    ----------
    target : path-like
        ``..._events.tsv`` beside the converted run (written atomically).
    duration : float
        The run's duration, seconds.
    trial_type : str
        The epoch's label (the run's task, ``sleep``).
    """
    from panneuro.io.atomic import atomic_path

    with atomic_path(target) as tmp:
        row = f"0.0\t{round(float(duration), 6)}\t{trial_type}\n"
        Path(tmp).write_text(EMPTY_EVENTS_HEADER + row)


def write_recording_events(events: str | os.PathLike | None, target: str | os.PathLike) -> None:
    """Write a converted recording's ``_events.tsv``: the session's trials, or none.

    BIDS iEEG recommends the task events beside each recording; the session's trial table is
    copied as it is (its columns are described by the dataset's ``task-<label>_events.json``).
    A session without behaviour gets a header-only file: a recording without task events.

    Parameters
    ----------
    events : path-like or None
        The session's ``beh`` events file, or None.
    target : path-like
        ``..._events.tsv`` beside the converted recording (written atomically).
    """
    from panneuro.io.atomic import atomic_path

    with atomic_path(target) as tmp:
        if events is None:
            Path(tmp).write_text(EMPTY_EVENTS_HEADER)
        else:
            Path(tmp).write_bytes(Path(events).read_bytes())
