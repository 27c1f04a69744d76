"""BIDS metadata of the simulated study: dataset files and the sidecars of NWB recordings.

BIDS 1.11 has no ``ecephys`` datatype, so microelectrode recordings (monkey arrays, human
microwires) are written as iEEG-datatype ``.nwb`` files, with the sidecars iEEG requires
(``_ieeg.json``, ``_channels.tsv``, ``_electrodes.tsv``, ``_coordsystem.json``), in a layout
close to BEP032. The ECoG sidecars are written by mne-bids (:mod:`panneuro.simulate.ecog`).
mne-bids cannot write NWB recordings, hence the small writers here.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from panneuro.deidentification import SHIFTED_YEAR_MAX
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
        raise ValueError(f"date {date.isoformat()} shifted back {days_back} days is "
                         f"{shifted.isoformat()}, later than {SHIFTED_YEAR_MAX}; shift it by "
                         f"at least {(date - first_unshifted).days + 1} days.")
    return shifted

#: Column descriptions of the Harlow-task events files (one JSON at the dataset root, inherited).
EVENTS_SIDECAR: dict[str, dict[str, object]] = {
    "onset": {"Description": "Stimulus onset: two novel objects appear", "Units": "s"},
    "duration": {"Description": "Trial duration, onset to next onset", "Units": "s"},
    "trial_type": {"Description": "Always 'trial': one row per trial"},
    "problem": {"Description": "Object-discrimination problem, counted over the subject's "
                               "history (continues across sessions), 1-based"},
    "trial": {"Description": "Trial within the problem, 1-6"},
    "object_left": {"Description": "Object shown on the left (objects 2p-1 and 2p in problem p)"},
    "object_right": {"Description": "Object shown on the right"},
    "rewarded_object": {"Description": "The problem's rewarded object"},
    "chosen_object": {"Description": "The object the subject chose"},
    "choice": {"Description": "Side chosen", "Levels": {"left": "left", "right": "right"}},
    "correct": {"Description": "Reward delivered", "Levels": {"0": "unrewarded",
                                                                 "1": "rewarded"}},
    "response_time": {"Description": "Choice time after onset", "Units": "s"},
    "feedback_time": {"Description": "Feedback (reward or not) time after onset", "Units": "s"},
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
            "GeneratedBy": [{"Name": "panneuro", "Description": "Simulated from a seed in "
                                                                "config by panneuro.simulate"}],
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
    write_json(EVENTS_SIDECAR, root / f"task-{TASK}_events.json")


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
) -> None:
    """Write the iEEG sidecars of a microelectrode recording stored as NWB.

    Parameters
    ----------
    nwb_path : pathlib.Path
        The recording, ``..._acq-<probe>_ieeg.nwb``; the sidecars are named after it.
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
    """
    stem = str(nwb_path)[: -len("_ieeg.nwb")]
    names = [str(c) for c in channel_ids]
    write_json(
        {
            "TaskName": TASK,
            "SamplingFrequency": sampling_frequency,
            "PowerLineFrequency": line_frequency,
            "SoftwareFilters": "n/a",
            "iEEGReference": "distant reference (simulated)",
            "RecordingDuration": round(duration, 6),
            "RecordingType": "continuous",
            "ElectrodeManufacturer": "simulated",
            "iEEGPlacementScheme": f"{probe_description}, in {region}",
            "ECOGChannelCount": 0,
            "SEEGChannelCount": len(names),
        },
        Path(f"{stem}_ieeg.json"),
    )
    write_tsv(
        pd.DataFrame(
            {
                "name": names,
                "type": "SEEG",
                "units": "uV",
                "low_cutoff": 0.1,
                "high_cutoff": sampling_frequency / 2,
                "sampling_frequency": sampling_frequency,
                "status": "good",
            }
        ),
        Path(f"{stem}_channels.tsv"),
    )
    locations = np.zeros((len(names), 3))
    locations[:, : locations_um.shape[1]] = locations_um
    mm = np.round(locations / 1000.0, 4)
    write_tsv(
        pd.DataFrame({"name": names, "x": mm[:, 0], "y": mm[:, 1], "z": mm[:, 2],
                      "size": 0.0007, "group": region}),
        Path(f"{stem}_electrodes.tsv"),
    )
    write_json(
        {
            "iEEGCoordinateSystem": "Other",
            "iEEGCoordinateSystemDescription": f"Probe frame of the {probe_description}: "
                                               "x across, y along the shank from the tip",
            "iEEGCoordinateUnits": "mm",
        },
        Path(f"{stem}_coordsystem.json"),
    )
