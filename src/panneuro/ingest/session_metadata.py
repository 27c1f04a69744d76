"""Session and subject metadata from a BIDS dataset's own files, whatever the recording format.

NWB files need a session start time and the subject's species, sex and age. A lab's raw
recording may be SpikeGLX or plain binary, which carry none of these (or not in a form NWB
takes), so they are read where BIDS keeps them: ``participants.tsv`` (``species``, ``sex``,
``age``) and the subject's ``sub-<label>_sessions.tsv`` (``acq_time`` of each session), else
the session's ``sub-<label>_ses-<label>_scans.tsv`` (the earliest ``acq_time``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import pandas as pd

from panneuro.io.validation import InputError

#: NWB's sex codes from the spellings BIDS examples use in participants.tsv.
SEX_CODES = {
    "m": "M",
    "male": "M",
    "f": "F",
    "female": "F",
    "o": "O",
    "other": "O",
    "u": "U",
    "unknown": "U",
    "n/a": "U",
    "": "U",
}
#: Latin binomials of the species the sheet names in plain words.
SPECIES_LATIN = {"macaque": "Macaca mulatta", "human": "Homo sapiens"}


def metadata_files(
    raw_dir: str | os.PathLike, subject: str, session: str, task: str | None = None
) -> list[str]:
    """List the BIDS files :func:`session_metadata` reads for a session, those that exist.

    Parameters
    ----------
    raw_dir : path-like
        The raw BIDS dataset.
    subject, session : str
        BIDS labels (without ``sub-``/``ses-``).
    task : str, optional
        The recording's task: its dataset-level ``task-<task>_ieeg.json`` is listed too
        (:func:`recording_metadata`).

    Returns
    -------
    list of str
        ``participants.tsv``, ``sub-X/sub-X_sessions.tsv``,
        ``sub-X/ses-Y/sub-X_ses-Y_scans.tsv`` and ``task-T_ieeg.json``, in that order, where
        present.
    """
    root = Path(raw_dir)
    candidates = [
        root / "participants.tsv",
        root / f"sub-{subject}" / f"sub-{subject}_sessions.tsv",
        root / f"sub-{subject}" / f"ses-{session}" / f"sub-{subject}_ses-{session}_scans.tsv",
        *([root / recording_metadata_name(task)] if task else []),
    ]
    return [str(p) for p in candidates if p.is_file()]


def recording_metadata_name(task: str) -> str:
    """Name of the dataset-level iEEG sidecar of a task (BIDS inheritance: ``task-T_ieeg.json``)."""
    return f"task-{task}_ieeg.json"


def recording_metadata(raw_dir: str | os.PathLike, task: str) -> dict[str, Any]:
    """Read what a lab's raw dataset states of its recordings: its ``task-<task>_ieeg.json``.

    A recording in an acquisition format (SpikeGLX, plain binary...) carries no BIDS metadata
    of the site, the amplifier or the reference; BIDS puts them in the ``_ieeg.json``, which a
    dataset may state once at its root for every recording of a task (the inheritance
    principle). The converted recordings' sidecars take these keys
    (:func:`panneuro.ingest.nwb_conversion.convert_recording_to_nwb`); a dataset without the
    file states nothing, and nothing is made up for it.

    Parameters
    ----------
    raw_dir : path-like
        The raw BIDS dataset.
    task : str
        The task label.

    Returns
    -------
    dict
        The file's keys (``InstitutionName``, ``Manufacturer``, ``iEEGReference``...), empty
        when there is no such file.

    Raises
    ------
    InputError
        If the file is not a JSON object, naming it and the fix.
    """
    path = Path(raw_dir) / recording_metadata_name(task)
    if not path.is_file():
        return {}
    try:
        stated = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InputError(
            f"{path}: not valid JSON ({error}); fix it (it states the {task} recordings' "
            "site, device and reference as BIDS iEEG keys) or remove it."
        ) from error
    if not isinstance(stated, dict):
        raise InputError(
            f"{path}: a JSON {type(stated).__name__}, not an object; write it as "
            '{"InstitutionName": ..., "iEEGReference": ...} (BIDS iEEG keys).'
        )
    return stated


def recording_institution(raw_dir: str | os.PathLike, task: str, *, simulated: bool) -> str | None:
    """Return the NWB ``institution`` of a dataset's files: where it says it recorded them.

    Parameters
    ----------
    raw_dir : path-like
        The raw BIDS dataset.
    task : str
        The task label (its ``task-<task>_ieeg.json``: :func:`recording_metadata`).
    simulated : bool
        The simulated study: panneuro made it
        (:data:`panneuro.ephys.nwb_units.SIMULATED_INSTITUTION`) unless its files say otherwise.

    Returns
    -------
    str or None
        The stated ``InstitutionName``; else panneuro for the simulated study, None for a lab's.
    """
    from panneuro.ephys.nwb_units import SIMULATED_INSTITUTION

    default = SIMULATED_INSTITUTION if simulated else None
    return recording_metadata(raw_dir, task).get("InstitutionName", default)


def _read_table(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)


def _acq_time(value: str, *, path: Path) -> dt.datetime:
    try:
        time = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as error:
        raise InputError(
            f"{path}: acq_time {value!r} is not a date-time; write it as BIDS "
            "does, YYYY-MM-DDThh:mm:ss (dates shifted to 1925 or earlier for "
            "privacy)."
        ) from error
    # BIDS acq_time carries no time zone: read it as UTC (machine-independent).
    return time if time.tzinfo else time.replace(tzinfo=dt.UTC)


def _session_start(root: Path, subject: str, session: str) -> dt.datetime:
    sessions = root / f"sub-{subject}" / f"sub-{subject}_sessions.tsv"
    if sessions.is_file():
        table = _read_table(sessions)
        if {"session_id", "acq_time"} <= set(table.columns):
            row = table[table["session_id"] == f"ses-{session}"]
            if len(row) and row["acq_time"].iloc[0] not in ("", "n/a"):
                return _acq_time(row["acq_time"].iloc[0], path=sessions)
    scans = root / f"sub-{subject}" / f"ses-{session}" / f"sub-{subject}_ses-{session}_scans.tsv"
    if scans.is_file():
        table = _read_table(scans)
        times = [t for t in table.get("acq_time", pd.Series(dtype=str)) if t not in ("", "n/a")]
        if times:
            return min(_acq_time(t, path=scans) for t in times)
    raise InputError(
        f"{sessions}: no acquisition time for sub-{subject} ses-{session} (nor in {scans.name}); "
        f"add a row 'ses-{session}<TAB><YYYY-MM-DDThh:mm:ss>' under the columns "
        "session_id, acq_time (BIDS sessions file; shift real dates to 1925 or earlier)."
    )


def _subject(root: Path, subject: str) -> dict[str, Any]:
    path = root / "participants.tsv"
    if not path.is_file():
        raise InputError(
            f"{path}: missing; add participants.tsv (participant_id, species, "
            "sex, age) at the dataset's root, as BIDS recommends."
        )
    table = _read_table(path)
    if "participant_id" not in table.columns:
        raise InputError(f"{path}: no participant_id column; BIDS requires it (sub-<label>).")
    rows = table[table["participant_id"] == f"sub-{subject}"]
    if rows.empty:
        raise InputError(
            f"{path}: no row for sub-{subject}; add one (participant_id, species, sex, age)."
        )
    row = rows.iloc[0]
    sex = str(row.get("sex", "")).strip()
    if sex.lower() not in SEX_CODES:
        raise InputError(
            f"{path}: sex {sex!r} of sub-{subject} is not one of M, F, O, U "
            "(or male, female, other, n/a); fix the sex column."
        )
    age = str(row.get("age", "")).strip()
    if age in ("", "n/a"):
        age_iso = None
    elif age.upper().startswith("P"):
        age_iso = age.upper()  # already an ISO 8601 duration, as NWB wants it
    else:
        try:
            years = float(age)
        except ValueError as error:
            raise InputError(
                f"{path}: age {age!r} of sub-{subject} is not a number of years "
                "(or an ISO 8601 duration like P7Y); fix the age column."
            ) from error
        age_iso = f"P{years:g}Y"
    species = str(row.get("species", "")).strip() or None
    return {
        "age": age_iso,
        "sex": SEX_CODES[sex.lower()],
        "species": SPECIES_LATIN.get(species, species) if species else None,
    }


def session_metadata(raw_dir: str | os.PathLike, subject: str, session: str) -> dict[str, Any]:
    """Read a session's start and its subject's age, sex and species from the BIDS files.

    Parameters
    ----------
    raw_dir : path-like
        The raw BIDS dataset.
    subject, session : str
        BIDS labels (without ``sub-``/``ses-``).

    Returns
    -------
    dict
        ``session_start`` (aware datetime, UTC when the file gives no zone), ``age`` (ISO 8601
        duration or None), ``sex`` (``M``/``F``/``O``/``U``), ``species`` (Latin binomial, or
        None when participants.tsv has no species column).

    Raises
    ------
    InputError
        Naming the file, what is missing or malformed, and the fix.
    """
    root = Path(raw_dir)
    return {"session_start": _session_start(root, subject, session), **_subject(root, subject)}


def metadata_root(files: list[str], default: str | os.PathLike) -> Path:
    """Return the dataset root a job reads session metadata under: where its inputs are.

    Under remote storage a job's inputs are local copies under Snakemake's storage prefix,
    not under ``raw_dir``: the root is the folder of the ``participants.tsv`` it was given.

    Parameters
    ----------
    files : list of str
        The job's metadata inputs (:func:`metadata_files`).
    default : path-like
        ``raw_dir``, when ``participants.tsv`` is not among them (the error then names it).

    Returns
    -------
    pathlib.Path
    """
    for name in files:
        if Path(name).name == "participants.tsv":
            return Path(name).parent
    return Path(default)
