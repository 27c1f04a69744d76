"""BIDS metadata of the simulated study: dataset files and the sidecars of NWB recordings.

BIDS 1.11 has no ``ecephys`` datatype, so microelectrode recordings (monkey arrays, human
microwires) are written as iEEG-datatype ``.nwb`` files, with the sidecars iEEG requires
(``_ieeg.json``, ``_channels.tsv``, ``_electrodes.tsv``, ``_coordsystem.json``), in a layout
close to BEP032. The ECoG sidecars are written by mne-bids (:mod:`panneuro.simulate.ecog`).
mne-bids cannot write NWB recordings, hence the small writers here.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from panneuro.compendium.deidentification import SHIFTED_YEAR_MAX
from panneuro.io.tables import write_json, write_tsv

BIDS_VERSION = "1.10.1"
TASK = "harlow"
#: Days every date of the simulated study is shifted back before it is written. BIDS: "Dates
#: can be shifted by a random number of days for privacy protection reasons. To distinguish
#: real dates from shifted dates, it is RECOMMENDED to set shifted dates to the year 1925 or
#: earlier", and the shift MUST be the same within a subject. A lab draws a secret random shift
#: per subject and keeps it out of the dataset; the simulation has no real date to hide, so one
#: fixed shift keeps its files byte-identical (2000-01-01 becomes 1923-05-05).
DATE_SHIFT_DAYS = 28_000


def shift_date(date: dt.datetime, days_back: int = DATE_SHIFT_DAYS) -> dt.datetime:
    """Shift an acquisition date back as BIDS recommends (to the year 1925 or earlier).

    Parameters
    ----------
    date : datetime.datetime
        The acquisition date.
    days_back : int
        Days to shift back: the same for every date of a subject.

    Returns
    -------
    datetime.datetime
        The shifted date.

    Raises
    ------
    ValueError
        If the shifted date is still later than 1925 (the shift is too small).
    """
    shifted = date - dt.timedelta(days=int(days_back))
    if shifted.year > SHIFTED_YEAR_MAX:
        first_unshifted = dt.datetime(SHIFTED_YEAR_MAX + 1, 1, 1, tzinfo=date.tzinfo)
        raise ValueError(
            f"date {date.isoformat()} shifted back {days_back} days is "
            f"{shifted.isoformat()}, later than {SHIFTED_YEAR_MAX}; shift it by "
            f"at least {(date - first_unshifted).days + 1} days."
        )
    return shifted


#: Column descriptions of the Harlow-task events files (one JSON at the dataset root, inherited).
#: The ECoG recordings' own events files (written by mne-bids) have other rows (stimulus and
#: feedback events), so ``onset``, ``duration`` and ``trial_type`` are described here for both
#: and not again in those files (BIDS: a sidecar lower down must not override these values).
EVENTS_SIDECAR: dict[str, dict[str, object]] = {
    "onset": {
        "Description": "Event onset from the start of the session's recordings: in "
        "trial tables the stimulus onset (two novel objects appear); in "
        "ECoG events files the stimulus or the feedback",
        "Units": "s",
    },
    "duration": {
        "Description": "Trial tables: trial duration, onset to next onset; ECoG "
        "events files: 0 (instantaneous events)",
        "Units": "s",
    },
    "trial_type": {
        "Description": "Trial tables: always 'trial' (one row per trial); ECoG "
        "events files: 'stimulus', 'feedback/rewarded' or "
        "'feedback/unrewarded'"
    },
    "problem": {
        "Description": "Object-discrimination problem, counted over the subject's "
        "history (continues across sessions), 1-based"
    },
    "trial": {"Description": "Trial within the problem, 1-6"},
    "object_left": {"Description": "Object shown on the left (objects 2p-1 and 2p in problem p)"},
    "object_right": {"Description": "Object shown on the right"},
    "rewarded_object": {"Description": "The problem's rewarded object"},
    "chosen_object": {"Description": "The object the subject chose"},
    "choice": {"Description": "Side chosen", "Levels": {"left": "left", "right": "right"}},
    "correct": {"Description": "Reward delivered", "Levels": {"0": "unrewarded", "1": "rewarded"}},
    "response_time": {"Description": "Choice time after onset", "Units": "s"},
    "feedback_time": {"Description": "Feedback (reward or not) time after onset", "Units": "s"},
}


#: BIDS task keys of the Harlow task (events sidecar and every recording's ``_ieeg.json``).
#: CogAtlasID: the Cognitive Atlas "object-discrimination task" (pairs of objects, one
#: associated with reward, accuracy measured); CogPOID: the CogPO paradigm class "Reward"
#: (BrainMap taxonomy), the CogPO wiki's page for it.
TASK_METADATA: dict[str, object] = {
    "TaskName": TASK,
    "TaskDescription": "Harlow's (1949) learning-set task: a series of object-discrimination "
    "problems, each with two novel objects of which one is always rewarded, "
    "six trials per problem; the subject chooses one object per trial and "
    "sees whether it was rewarded. Trial-2 accuracy rises from chance over "
    "problems as the subject learns to learn.",
    "Instructions": "Simulated study: no participant was instructed. Human version: 'Two "
    "objects appear; one of them is always correct. Choose one; you will see "
    "whether it was correct. After a few trials two new objects appear.' "
    "Macaques: no verbal instructions (trained with fluid reward).",
    "CogAtlasID": "https://www.cognitiveatlas.org/task/id/tsk_4a57abb949be9/",
    "CogPOID": "http://wiki.cogpo.org/index.php?title=Reward_Paradigm",
}
#: BIDS task keys of the sleep epochs of the study design (``task-sleep`` runs).
SLEEP_TASK_METADATA: dict[str, object] = {
    "TaskName": "sleep",
    "TaskDescription": "Natural sleep (rest) in the recording chair or home cage before (run 1) "
    "and after (run 2) the session's Harlow task; the order is in the "
    "session's scans.tsv acquisition times.",
    "Instructions": "Simulated study: no participant was instructed. Human version: 'Rest with "
    "your eyes closed; you may fall asleep.' Macaques: lights dimmed, no task.",
}
#: Column descriptions of the sleep runs' events files (one epoch per run).
SLEEP_EVENTS_SIDECAR: dict[str, dict[str, object]] = {
    "onset": {"Description": "Start of the epoch from the start of the recording", "Units": "s"},
    "duration": {"Description": "Length of the epoch", "Units": "s"},
    "trial_type": {
        "Description": "The epoch",
        "Levels": {"sleep": "sleep epoch (natural sleep, not staged)"},
    },
}
#: Descriptions of the study design's columns of ``sessions.tsv``.
SESSIONS_SIDECAR: dict[str, dict[str, object]] = {
    "acq_time": {"Description": "Start of the session's first recording (shifted date)"},
    "condition": {
        "Description": "Experimental condition of the session",
        "Levels": {
            "control": "no manipulation",
            "inactivation": "reversible inactivation (muscimol-style) of inactivated_region",
        },
    },
    "inactivated_region": {"Description": "Brain region inactivated in the session (n/a: none)"},
    "learning_stage": {
        "Description": "Stage of learning-set formation of a recorded session "
        "in the subject's history of problems (n/a: behaviour "
        "only, or a human session spanning all stages)",
        "Levels": {
            "early": "first problems",
            "middle": "learning set forming",
            "late": "learning set formed",
        },
    },
    "first_problem": {
        "Description": "First problem of the session, counted over the subject's history"
    },
    "last_problem": {"Description": "Last problem of the session"},
}

#: Where the simulated study was "recorded": nowhere (BIDS institution keys, stated as such).
SITE_METADATA: dict[str, str] = {
    "InstitutionName": "none: simulated by the panneuro compendium",
    "InstitutionAddress": "n/a (simulated study)",
    "InstitutionalDepartmentName": "n/a (simulated study)",
}


def stimulus_presentation() -> dict[str, str]:
    """BIDS ``StimulusPresentation`` of the simulated study: the simulator, no screen."""
    from panneuro import __version__

    return {
        "OperatingSystem": "n/a (no stimuli were shown: simulated study)",
        "SoftwareName": "panneuro.simulate.task (trial sequence simulated, not presented)",
        "SoftwareVersion": __version__,
    }


def simulated_device(software: str) -> dict[str, object]:
    """BIDS device keys of a simulated recording (``_ieeg.json``), stated as simulated.

    Parameters
    ----------
    software : str
        The package that generated the signal, e.g. ``"spikeinterface"`` or ``"mne"``; its
        installed version and panneuro's go into ``SoftwareVersions``.

    Returns
    -------
    dict
        ``Manufacturer``, ``ManufacturersModelName``, ``SoftwareVersions``,
        ``DeviceSerialNumber``, ``HardwareFilters``, ``ElectrodeManufacturersModelName``,
        ``SubjectArtefactDescription``.
    """
    import importlib.metadata

    from panneuro import __version__

    return {
        "Manufacturer": "panneuro simulator",
        "ManufacturersModelName": "n/a (simulated recording, no amplifier)",
        "SoftwareVersions": f"panneuro {__version__}, {software} "
        f"{importlib.metadata.version(software)}",
        "DeviceSerialNumber": "n/a (simulated)",
        "HardwareFilters": "n/a",
        "ElectrodeManufacturersModelName": "n/a (simulated electrodes)",
        "SubjectArtefactDescription": "n/a",
    }


#: Coordinate processing of simulated contacts: none (BIDS coordsystem keys).
COORDINATE_PROCESSING: dict[str, str] = {
    "iEEGCoordinateProcessingDescription": "none: contact positions are the design geometry "
    "of the simulated electrodes, not localised from "
    "images",
    "iEEGCoordinateProcessingReference": "n/a (no localisation method)",
}


#: ... and of a lab's converted recording: the probe geometry its files or reader sidecar give.
CONVERTED_COORDINATE_PROCESSING: dict[str, str] = {
    "iEEGCoordinateProcessingDescription": "none: contact positions are the probe geometry "
    "of the raw recording (its file or reader sidecar), not localised from images",
    "iEEGCoordinateProcessingReference": "n/a (no localisation method)",
}


def write_dataset_files(root: Path, participants: pd.DataFrame) -> None:
    """Write the dataset-level BIDS files of the simulated study.

    Parameters
    ----------
    root : pathlib.Path
        The BIDS root.
    participants : pandas.DataFrame
        One row per subject: ``participant_id`` (``sub-X``), ``species``, ``sex``, ``age``.
    """
    write_json(
        {
            "Name": "panneuro simulated learning-set study",
            "BIDSVersion": BIDS_VERSION,
            "DatasetType": "raw",
            "License": "CC0",
            "Authors": ["panneuro simulator"],
            "GeneratedBy": [
                {
                    "Name": "panneuro",
                    "Description": "Simulated from a seed in config by panneuro.simulate",
                }
            ],
        },
        root / "dataset_description.json",
    )
    (root / "README.md").write_text(
        "# Simulated learning-set study\n\n"
        "Monkeys and humans solving Harlow's object-discrimination problems, simulated by the\n"
        "panneuro learning-to-learn agent: behaviour (`beh/*_events.tsv`), monkey arrays and\n"
        "human microwires (iEEG-datatype NWB), human ECoG (iEEG BrainVision). The ground truth\n"
        "lies outside this dataset (`resources/groundtruth`).\n"
    )
    write_tsv(participants, root / "participants.tsv")
    write_json(
        {
            "species": {"Description": "Binomial species name"},
            "sex": {"Description": "Sex", "Levels": {"M": "male", "F": "female"}},
            "age": {"Description": "Age at the first session", "Units": "year"},
        },
        root / "participants.json",
    )
    write_json(
        {
            **TASK_METADATA,
            **SITE_METADATA,
            "StimulusPresentation": stimulus_presentation(),
            **EVENTS_SIDECAR,
        },
        root / f"task-{TASK}_events.json",
    )


def _probe_stem(stem: str) -> str:
    """Drop the task and run entities of a recording's stem (the probe's sidecars' stem)."""
    name = Path(stem).name.replace(f"_task-{TASK}_", "_")
    name = re.sub(r"_task-[A-Za-z0-9]+_", "_", name)
    name = re.sub(r"_run-[0-9]+$", "", name)
    return str(Path(stem).with_name(name))


def write_nwb_ieeg_sidecars(
    nwb_path: Path,
    *,
    channel_ids: np.ndarray,
    locations_um: np.ndarray,
    sampling_frequency: float,
    duration: float,
    region: str,
    probe_description: str,
    line_frequency: float,
    task_metadata: dict[str, object] | None = None,
    stated: Mapping[str, object] | None = None,
    probe_sidecars: bool = True,
) -> None:
    """Write the iEEG sidecars of a microelectrode recording stored as NWB.

    Parameters
    ----------
    nwb_path : pathlib.Path
        The recording, ``sub-X_ses-Y_task-harlow_acq-<probe>_ieeg.nwb``; the sidecars are
        named after it (``_electrodes.tsv`` and ``_coordsystem.json`` without the task entity:
        ``sub-X_ses-Y_acq-<probe>_electrodes.tsv``).
    channel_ids : numpy.ndarray
        Channel names, in file order.
    locations_um : numpy.ndarray
        Contact positions (channels × 2 or 3) in micrometres, in the probe's frame.
    sampling_frequency, duration : float
        Hz and seconds.
    region : str
        Brain region of the probe.
    probe_description : str
        What the probe is (model, geometry).
    line_frequency : float
        Mains frequency, Hz.
    task_metadata : dict, optional
        The task keys (``TaskName``...): :data:`TASK_METADATA` by default, the sleep runs'
        :data:`SLEEP_TASK_METADATA`.
    stated : mapping, optional
        A lab's recording converted to NWB: the ``_ieeg.json`` keys its raw dataset states
        (site, device, reference...; :func:`panneuro.ingest.session_metadata.recording_metadata`),
        over the facts read from the recording. Then nothing is said to be simulated: what
        the raw dataset does not state is left out, or ``n/a`` where BIDS requires it
        (``iEEGReference``, the channels' cut-offs, the contacts' size). None (the default):
        the simulated study's recording, stated as simulated.
    probe_sidecars : bool
        Write the probe's ``_electrodes.tsv`` and ``_coordsystem.json`` too (False for a
        lab's converted sleep run: its task recording's conversion writes them).
    """
    simulated = stated is None
    if simulated:
        stated = {
            **SITE_METADATA,
            **simulated_device("spikeinterface"),
            "iEEGReference": "distant reference (simulated)",
            "iEEGGround": "distant ground (simulated)",
            "ElectrodeManufacturer": "simulated",
        }
    stem = str(nwb_path)[: -len("_ieeg.nwb")]
    # electrodes and coordinate system belong to the probe, not the task or run: no such entity
    probe_stem = _probe_stem(stem)
    names = [str(c) for c in channel_ids]
    acq = stem.rsplit("_acq-", 1)[-1].split("_")[0] if "_acq-" in stem else "probe"
    required = {  # BIDS requires these: n/a unless stated
        "SoftwareFilters": "n/a",
        "iEEGReference": "n/a",
        "iEEGPlacementScheme": f"{probe_description}, in {region}",
        "iEEGElectrodeGroups": f"{acq}: {probe_description} in {region}",
    }
    measured = {  # read from the recording: what the raw dataset states cannot change them
        "SamplingFrequency": sampling_frequency,
        "PowerLineFrequency": line_frequency,
        "RecordingDuration": round(duration, 6),
        "RecordingType": "continuous",
        "ECOGChannelCount": 0,
        "SEEGChannelCount": len(names),
        "EEGChannelCount": 0,
        "EOGChannelCount": 0,
        "ECGChannelCount": 0,
        "EMGChannelCount": 0,
        "MiscChannelCount": 0,
        "TriggerChannelCount": 0,
    }
    task = TASK_METADATA if task_metadata is None else task_metadata
    # write_json sorts the keys: the merge order only decides which value wins
    write_json({**task, **required, **stated, **measured}, Path(f"{stem}_ieeg.json"))
    write_tsv(
        pd.DataFrame(
            {
                "name": names,
                "type": "SEEG",
                "units": "uV",
                # the simulator's band; a lab's hardware filters are not in its files
                "low_cutoff": 0.1 if simulated else "n/a",
                "high_cutoff": sampling_frequency / 2,
                "sampling_frequency": sampling_frequency,
                "status": "good",
            }
        ),
        Path(f"{stem}_channels.tsv"),
    )
    if not probe_sidecars:
        return
    locations = np.zeros((len(names), 3))
    locations[:, : locations_um.shape[1]] = locations_um
    mm = np.round(locations / 1000.0, 4)
    write_tsv(
        pd.DataFrame(
            {
                "name": names,
                "x": mm[:, 0],
                "y": mm[:, 1],
                "z": mm[:, 2],
                "size": 0.0007 if simulated else "n/a",
                "group": region,
            }
        ),
        Path(f"{probe_stem}_electrodes.tsv"),
    )
    write_json(
        {
            "iEEGCoordinateSystem": "Other",
            "iEEGCoordinateSystemDescription": f"Probe frame of the {probe_description}: "
            "x across, y along the shank from the tip",
            "iEEGCoordinateUnits": "mm",
            **(COORDINATE_PROCESSING if simulated else CONVERTED_COORDINATE_PROCESSING),
        },
        Path(f"{probe_stem}_coordsystem.json"),
    )


def write_sessions_files(root: Path, sessions: dict[str, list[str]], acq_time: dt.datetime) -> None:
    """Write each subject's ``sub-<label>_sessions.tsv``: its sessions and their start times.

    The workflow reads session starts from here for every recording format
    (:mod:`panneuro.ingest.session_metadata`), as it would from a lab's dataset.

    Parameters
    ----------
    root : pathlib.Path
        The BIDS root.
    sessions : dict
        Subject label -> its session labels (without ``sub-``/``ses-``).
    acq_time : datetime.datetime
        The (already shifted) start of every session.
    """
    for subject, labels in sessions.items():
        write_tsv(
            pd.DataFrame(
                {
                    "session_id": [f"ses-{s}" for s in sorted(labels)],
                    "acq_time": acq_time.strftime("%Y-%m-%dT%H:%M:%S"),
                }
            ),
            root / f"sub-{subject}" / f"sub-{subject}_sessions.tsv",
        )


def nwb_ieeg_sidecar_paths(nwb_path: str | Path, *, probe_sidecars: bool = True) -> list[str]:
    """List the sidecars :func:`write_nwb_ieeg_sidecars` writes for a recording (planning).

    Parameters
    ----------
    nwb_path : path-like
        ``..._acq-<probe>_ieeg.nwb`` (may hold ``{wildcards}``).
    probe_sidecars : bool
        Whether the probe's electrodes and coordinate system are written with it (not for a
        sleep run, whose probe's are its task recording's).

    Returns
    -------
    list of str
        ``_ieeg.json``, ``_channels.tsv`` (named like the recording), ``_electrodes.tsv``
        and ``_coordsystem.json`` (named without the task entity).
    """
    stem = str(nwb_path)[: -len("_ieeg.nwb")]
    probe_stem = _probe_stem(stem)
    return [
        f"{stem}_ieeg.json",
        f"{stem}_channels.tsv",
        *(
            [f"{probe_stem}_electrodes.tsv", f"{probe_stem}_coordsystem.json"]
            if probe_sidecars
            else []
        ),
    ]


def write_design_sessions_files(root: Path, subject: str, table: pd.DataFrame) -> None:
    """Write a subject's ``sessions.tsv`` with the study design's columns and its sidecar.

    Parameters
    ----------
    root : pathlib.Path
        The BIDS root.
    subject : str
        The subject label (without ``sub-``).
    table : pandas.DataFrame
        ``session_id``, ``acq_time`` and the columns of :data:`SESSIONS_SIDECAR`
        (:func:`panneuro.simulate.design.sessions_table`).
    """
    folder = root / f"sub-{subject}"
    write_tsv(table, folder / f"sub-{subject}_sessions.tsv")
    write_json(
        {k: v for k, v in SESSIONS_SIDECAR.items() if k in table.columns},
        folder / f"sub-{subject}_sessions.json",
    )


def write_scans_file(path: Path, files: list[tuple[str, dt.datetime]]) -> None:
    """Write a session's ``scans.tsv``: each recording (path from the session folder) and start.

    Parameters
    ----------
    path : pathlib.Path
        ``sub-X/ses-Y/sub-X_ses-Y_scans.tsv``.
    files : list of (str, datetime.datetime)
        The recordings (``ieeg/...``) and their (shifted) acquisition times.
    """
    write_tsv(
        pd.DataFrame(
            {
                "filename": [f for f, _ in files],
                "acq_time": [t.strftime("%Y-%m-%dT%H:%M:%S") for _, t in files],
            }
        ),
        path,
    )


def write_sleep_dataset_files(root: Path) -> None:
    """Write the dataset-level events sidecar of the sleep runs (``task-sleep_events.json``)."""
    write_json(
        {
            **SLEEP_TASK_METADATA,
            **SITE_METADATA,
            "StimulusPresentation": stimulus_presentation(),
            **SLEEP_EVENTS_SIDECAR,
        },
        root / "task-sleep_events.json",
    )
