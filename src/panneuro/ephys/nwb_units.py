"""NWB files of the ephys stage: the session's curated units, and shared NWB writing helpers.

One NWB file per session holds the curated units of all its probes (spike times, mean
waveform on the peak electrode, quality metrics, ``probe`` and ``region``), the electrodes of
every probe (``location`` = region), the trials table from the events, and the subject. NWB
object IDs are random UUIDs by default; :func:`deterministic_object_ids` seeds them from the
file's label so the same inputs give byte-identical files.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import uuid
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import pandas as pd

from panneuro.io.atomic import atomic_path

#: NWB Subject.species must be a Latin binomial.
SPECIES_LATIN = {"macaque": "Macaca mulatta", "human": "Homo sapiens"}
#: Columns of the units table that are not metrics (read_units keeps them too).
ID_COLUMNS = ("probe", "region", "probe_unit_id", "peak_electrode")


@contextmanager
def deterministic_object_ids(label: str) -> Iterator[None]:
    """Make every NWB/HDMF object created inside the block get a reproducible UUID.

    hdmf draws ``object_id`` from ``uuid.uuid4()`` when a container is created; inside this
    context the UUIDs come from a generator seeded by ``label`` (still valid version-4 UUIDs),
    so building the same file twice gives the same IDs and the same bytes.

    Parameters
    ----------
    label : str
        Names the file (e.g. ``sub-M1_ses-04_units``); different files get different IDs.
    """
    rnd = random.Random(zlib.crc32(label.encode()))

    def _uuid4() -> uuid.UUID:
        return uuid.UUID(int=rnd.getrandbits(128), version=4)

    with mock.patch("hdmf.container.uuid4", _uuid4):
        yield


#: The NWB ``institution`` of the simulated study's files (panneuro made them).
SIMULATED_INSTITUTION = "panneuro"


def make_nwbfile(
    *,
    subject: str,
    session: str,
    species: str,
    session_start: dt.datetime,
    description: str,
    identifier: str,
    age: str | None = None,
    sex: str = "U",
    institution: str | None = SIMULATED_INSTITUTION,
):
    """Create an in-memory NWBFile with the subject (DANDI's fields only) and fixed dates.

    Parameters
    ----------
    subject, session : str
        BIDS labels.
    species : str
        ``macaque``/``human`` or a Latin binomial.
    session_start : datetime.datetime
        Timezone-aware; also used as the file creation date (keeps files byte-identical).
    description : str
        Session description.
    identifier : str
        The file's identifier (deterministic).
    age : str, optional
        ISO 8601 duration (e.g. ``P7Y``).
    sex : str
        ``M``, ``F``, ``U`` or ``O``.
    institution : str, optional
        Where the data were recorded: a lab's dataset's ``InstitutionName``; None when it
        states none. The default names panneuro, which made the simulated study.

    Returns
    -------
    pynwb.NWBFile
        The file.
    """
    from pynwb import NWBFile
    from pynwb.file import Subject

    if session_start.tzinfo is None:
        raise ValueError(
            f"session_start {session_start} has no time zone; NWB needs an "
            "aware datetime (e.g. tzinfo=datetime.UTC)."
        )
    return NWBFile(
        session_description=description,
        identifier=identifier,
        session_start_time=session_start,
        file_create_date=session_start,
        session_id=f"sub-{subject}_ses-{session}",
        institution=institution,
        experiment_description="Harlow learning-set task (object-discrimination problems).",
        keywords=["learning set", "Harlow task", "single units", "primate"],
        # Only the subject fields DANDI needs
        # (panneuro.compendium.deidentification.DANDI_SUBJECT_FIELDS): no birth date, no
        # free-text description.
        subject=Subject(
            subject_id=subject, species=SPECIES_LATIN.get(species, species), sex=sex, age=age
        ),
    )


def write_nwbfile(nwbfile: Any, path: str | os.PathLike) -> None:
    """Write an NWBFile to HDF5 atomically (data iterators are written chunk by chunk).

    Parameters
    ----------
    nwbfile : pynwb.NWBFile
        The file.
    path : path-like
        The ``.nwb`` target.
    """
    from pynwb import NWBHDF5IO

    with atomic_path(path) as tmp, NWBHDF5IO(str(tmp), mode="w") as io:
        io.write(nwbfile)


@dataclass
class ProbeUnits:
    """The curated units of one probe, ready for the session's NWB file.

    Attributes
    ----------
    probe, region : str
        Probe label (``acq``) and brain region.
    spike_times : dict
        Spike times (s) of each kept unit, keyed by the unit's id in the probe's sorting.
    metrics : pandas.DataFrame
        One row per kept unit (``unit_id`` column) with numeric quality metrics.
    waveforms : dict
        ``templates`` (units × samples × channels, µV, ordered as ``unit_ids``), ``unit_ids``,
        ``channel_ids``, ``channel_locations``, ``sampling_frequency``.
    """

    probe: str
    region: str
    spike_times: dict
    metrics: pd.DataFrame
    waveforms: dict


def write_session_units_nwb(
    path: str | os.PathLike,
    probes: Sequence[ProbeUnits],
    events: pd.DataFrame | None,
    *,
    subject: str,
    session: str,
    species: str,
    session_start: dt.datetime,
    age: str | None = None,
    sex: str = "U",
    institution: str | None = SIMULATED_INSTITUTION,
) -> None:
    """Write one session's curated units of all probes, electrodes and trials as NWB.

    Parameters
    ----------
    path : path-like
        ``results/nwb/sub-X_ses-Y_units.nwb``.
    probes : sequence of ProbeUnits
        Each probe's kept units (in probe order).
    events : pandas.DataFrame or None
        The session's trial table: becomes the trials table (None: a session without
        behaviour, e.g. a sorting-only lab's, has no trials table).
    subject, session, species : str
        Subject metadata (species ``macaque``/``human`` or binomial).
    session_start : datetime.datetime
        Timezone-aware session start (spike times are relative to it).
    age : str, optional
        ISO 8601 duration.
    sex : str
        ``M``, ``F``, ``U`` or ``O``.
    institution : str, optional
        Where the data were recorded (:func:`make_nwbfile`).
    """
    from pynwb.misc import Units

    label = f"sub-{subject}_ses-{session}_units"
    rates = {float(p.waveforms["sampling_frequency"]) for p in probes}
    if len(rates) > 1:
        raise ValueError(
            f"{path}: probes of sub-{subject} ses-{session} have different "
            f"sampling rates {sorted(rates)}; one Units table needs one rate."
        )
    fs = rates.pop() if rates else 30000.0
    with deterministic_object_ids(label):
        nwbfile = make_nwbfile(
            subject=subject,
            session=session,
            species=species,
            session_start=session_start,
            identifier=label,
            age=age,
            sex=sex,
            description="Curated single units of every probe, and trials.",
            institution=institution,
        )
        if events is not None:
            _add_trials(nwbfile, events)
        device = nwbfile.create_device(name="probes", description="microelectrode probes")
        nwbfile.add_electrode_column("rel_x", "x position on the probe (µm)")
        nwbfile.add_electrode_column("rel_y", "y position on the probe (µm)")
        nwbfile.add_electrode_column("channel_name", "channel id in the recording")
        nwbfile.add_electrode_column("probe", "probe label (BIDS acq)")
        nwbfile.units = Units(
            name="units",
            description="Curated sorted units (panneuro).",
            resolution=1.0 / fs,
            waveform_rate=fs,
            waveform_unit="volts",
        )
        metric_columns = _metric_columns(probes)
        for column in ("probe", "region", "probe_unit_id", "peak_electrode", *metric_columns):
            nwbfile.add_unit_column(column, _COLUMN_DESCRIPTIONS.get(column, column))
        unit_id = 0
        for p in probes:
            group = nwbfile.create_electrode_group(
                name=f"probe-{p.probe}",
                device=device,
                location=p.region,
                description=f"probe {p.probe} in {p.region}",
            )
            first = len(nwbfile.electrodes) if nwbfile.electrodes is not None else 0
            locations = np.asarray(p.waveforms["channel_locations"], float)
            for ch, loc in zip(p.waveforms["channel_ids"], locations, strict=True):
                nwbfile.add_electrode(
                    group=group,
                    location=p.region,
                    rel_x=float(loc[0]),
                    rel_y=float(loc[1]),
                    channel_name=str(ch),
                    probe=p.probe,
                )
            templates = np.asarray(p.waveforms["templates"], float)
            index = {str(u): i for i, u in enumerate(p.waveforms["unit_ids"])}
            for row in p.metrics.itertuples(index=False):
                i = index[str(row.unit_id)]
                peak = int(np.abs(templates[i]).max(axis=0).argmax())
                times = np.sort(np.asarray(p.spike_times[row.unit_id], float))
                nwbfile.add_unit(
                    id=unit_id,
                    spike_times=times,
                    electrodes=[first + peak],
                    electrode_group=group,
                    waveform_mean=templates[i, :, peak] * 1e-6,
                    obs_intervals=None,
                    probe=p.probe,
                    region=p.region,
                    probe_unit_id=str(row.unit_id),
                    peak_electrode=first + peak,
                    **{c: float(getattr(row, c)) for c in metric_columns},
                )
                unit_id += 1
        write_nwbfile(nwbfile, path)


_COLUMN_DESCRIPTIONS = {
    "probe": "probe label (BIDS acq)",
    "region": "brain region of the probe",
    "probe_unit_id": "unit id in the probe's sorting",
    "peak_electrode": "electrodes-table index of the unit's largest-amplitude channel",
    "snr": "peak template amplitude over noise level (SpikeInterface compute_snrs)",
    "isi_violations_ratio": "ISI violation ratio (Hill et al. 2011)",
    "isi_violations_count": "number of ISI violations",
    "presence_ratio": "fraction of time bins with spikes",
    "amplitude_cutoff": "estimated fraction of missed spikes (amplitude cutoff)",
    "firing_rate": "mean firing rate, Hz",
    "num_spikes": "number of spikes",
}


def _metric_columns(probes: Sequence[ProbeUnits]) -> list[str]:
    columns: list[str] = []
    for p in probes:
        for c in p.metrics.columns:
            if (
                c not in ("unit_id", "keep", "reject_reason", *ID_COLUMNS)
                and c not in columns
                and pd.api.types.is_numeric_dtype(p.metrics[c])
            ):
                columns.append(c)
    return columns


def _add_trials(nwbfile: Any, events: pd.DataFrame) -> None:
    descriptions = {
        "trial_type": "always 'trial'",
        "problem": "problem number over the subject's history",
        "trial": "trial within the problem (1-6)",
        "object_left": "object shown left",
        "object_right": "object shown right",
        "rewarded_object": "the problem's rewarded object",
        "chosen_object": "object chosen",
        "choice": "side chosen (left/right)",
        "correct": "1 if rewarded",
        "response_time": "choice time after onset (s)",
        "feedback_time": "feedback time after onset (s)",
    }
    columns = [c for c in events.columns if c not in ("onset", "duration")]
    for column in columns:
        nwbfile.add_trial_column(column, descriptions.get(column, column))
    onset = events["onset"].to_numpy(float)
    stop = onset + events["duration"].to_numpy(float)
    for i, row in enumerate(events[columns].itertuples(index=False)):
        values = {
            c: (v.item() if hasattr(v, "item") else v) for c, v in zip(columns, row, strict=True)
        }
        nwbfile.add_trial(start_time=float(onset[i]), stop_time=float(stop[i]), **values)


@contextmanager
def _read_nwbfile(path: str | os.PathLike, missing: str) -> Iterator[Any]:
    """Open an NWB file for reading; ``missing`` (how to make it) ends the not-found error."""
    from pynwb import NWBHDF5IO

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: {missing}")
    with NWBHDF5IO(str(path), mode="r") as io:
        yield io.read()


def read_units(path: str | os.PathLike) -> tuple[pd.DataFrame, list[np.ndarray]]:
    """Read the curated units of a session NWB written by :func:`write_session_units_nwb`.

    Parameters
    ----------
    path : path-like
        ``results/nwb/sub-X_ses-Y_units.nwb``.

    Returns
    -------
    units : pandas.DataFrame
        Indexed by unit id (``unit_id``), columns ``probe``, ``region``, ``probe_unit_id``,
        ``peak_electrode`` and the quality metrics.
    spike_times : list of numpy.ndarray
        Spike times (s) of each unit, in the order of ``units``.
    """
    with _read_nwbfile(
        path, "units NWB not found; it is made by the export_session_nwb rule."
    ) as nwbfile:
        if nwbfile.units is None or "probe" not in nwbfile.units.colnames:
            raise ValueError(
                f"{path}: no panneuro units table (with a 'probe' column); "
                "write it with panneuro.ephys.nwb_units.write_session_units_nwb."
            )
        table = nwbfile.units
        ids = np.asarray(table.id[:], dtype=int)
        spike_times = [np.asarray(table["spike_times"][i], dtype=float) for i in range(len(ids))]
        keep = [
            c
            for c in table.colnames
            if c
            not in (
                "spike_times",
                "electrodes",
                "electrode_group",
                "waveform_mean",
                "waveform_sd",
                "waveforms",
                "obs_intervals",
            )
        ]
        data = {c: np.asarray(table[c][:]) for c in keep}
    units = pd.DataFrame(data, index=pd.Index(ids, name="unit_id"))
    for c in ("probe", "region", "probe_unit_id"):
        units[c] = units[c].astype(str)
    return units, spike_times
