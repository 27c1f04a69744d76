"""De-identification check of human data: raw sidecars and every output of the pipeline.

A scan of the raw BIDS dataset (``participants.tsv``, ``*_scans.tsv``, every ``.tsv`` and
``.json`` sidecar, raw NWB files, BrainVision markers) and of everything under ``results/``
(NWB files, TSV tables, JSON) for fields that identify a person:

- **names**: columns or keys such as ``name`` (in participant-level tables), ``PatientName``,
  ``first_name``; any ``participants.tsv`` column that is not a BIDS participant column;
- **birth dates**: ``date_of_birth``, ``birthdate``, ``dob``..., NWB ``subject/date_of_birth``;
- **unshifted dates**: a date later than :data:`SHIFTED_YEAR_MAX` in any value of a raw
  sidecar or table (``acq_time``...), in a result table or JSON, in an NWB file's dates
  (``session_start_time``, ``timestamps_reference_time``, ``file_create_date``) or text fields,
  in a BrainVision ``New Segment`` marker, or in a file name. BIDS (common principles, Units):
  "Dates can be shifted by a random number of days for privacy protection reasons. To
  distinguish real dates from shifted dates, it is RECOMMENDED to set shifted dates to the year
  1925 or earlier", and "for longitudinal studies dates MUST be shifted by the same number of
  days within each subject";
- **free text** about a person: ``notes``, ``comments``, ``remarks``, clinical history, NWB
  ``general/notes``, ``surgery``, ``pharmacology`` and any NWB subject field beyond what DANDI
  needs (:data:`DANDI_SUBJECT_FIELDS`: ``subject_id``, ``species``, ``sex``, ``age``; e.g. a
  ``description``);
- **contact and record numbers**: address, e-mail, phone, medical record or social security
  numbers; and **ages over 89** (HIPAA Safe Harbor: aggregate them as 89).

The rules hold for every subject, whatever the species: one policy is simpler to audit than
one per species, and the simulated data meet it. Processing timestamps (when a tool ran, e.g.
in SpikeInterface's logs) are not about a person; keys in :data:`PROCESSING_TIME_KEYS` are
skipped. A finding names the file, the field, the problem and the fix in one line.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from panneuro.compendium.storage import logical_path

#: BIDS: shifted dates are set "to the year 1925 or earlier"; a later year is a real date.
SHIFTED_YEAR_MAX = 1925
#: The subject fields DANDI requires (``age`` or ``date_of_birth``; a birth date identifies a
#: person, so only ``age``). Nothing else belongs in an NWB subject of human data.
DANDI_SUBJECT_FIELDS = ("subject_id", "species", "sex", "age")
#: The BIDS participants.tsv columns (``participant_id`` and the RECOMMENDED/OPTIONAL ones).
PARTICIPANT_COLUMNS = (
    "participant_id",
    "species",
    "age",
    "sex",
    "handedness",
    "strain",
    "strain_rrid",
)
#: Ages above this are identifying (HIPAA Safe Harbor); report them as this value.
MAX_REPORTED_AGE = 89
#: Keys of tool timestamps (when software ran), not dates of a person; not checked.
PROCESSING_TIME_KEYS = frozenset(
    {"datetime", "runtime", "run_time", "elapsed_time", "created", "creation_date", "timestamp"}
)
#: Suffixes of the files scanned.
SCANNED_SUFFIXES = (".tsv", ".json", ".nwb", ".vmrk")

_NAME_KEYS = frozenset(
    {
        "patientname",
        "participantname",
        "subjectname",
        "firstname",
        "lastname",
        "surname",
        "givenname",
        "familyname",
        "fullname",
        "middlename",
        "maidenname",
        "nickname",
        "initials",
        "patientinitials",
    }
)
#: ``name`` is an identifier only in tables with one row per person or visit.
_PERSON_TABLES = ("participants.tsv", "_sessions.tsv", "_scans.tsv")
_BIRTH_KEYS = frozenset(
    {
        "dateofbirth",
        "birthdate",
        "birthday",
        "dob",
        "birthdatetime",
        "patientbirthdate",
        "yearofbirth",
        "birthyear",
    }
)
_CONTACT_KEYS = frozenset(
    {
        "address",
        "streetaddress",
        "email",
        "emailaddress",
        "phone",
        "phonenumber",
        "telephone",
        "mobile",
        "fax",
        "ssn",
        "socialsecuritynumber",
        "mrn",
        "medicalrecordnumber",
        "patientid",
        "insurancenumber",
        "zipcode",
        "postcode",
        "postalcode",
        "ipaddress",
    }
)
_FREE_TEXT_KEYS = frozenset(
    {
        "note",
        "notes",
        "comment",
        "comments",
        "remark",
        "remarks",
        "freetext",
        "clinicalnotes",
        "clinicalhistory",
        "medicalhistory",
        "history",
        "surgery",
        "pharmacology",
        "patientcomments",
    }
)
_DATE = re.compile(
    r"(?<![\d.])(?P<year>\d{4})-(?P<month>0[1-9]|1[0-2])-"
    r"(?P<day>0[1-9]|[12]\d|3[01])(?!\d)"
)
_DATE_DMY = re.compile(
    r"(?<![\d.])(?P<day>\d{1,2})[/.](?P<month>\d{1,2})[/.]"
    r"(?P<year>\d{4})(?![\d.])"
)
_DATE_COMPACT = re.compile(
    r"(?<!\d)(?P<year>(?:19|20)\d\d)(?P<month>0[1-9]|1[0-2])"
    r"(?P<day>0[1-9]|[12]\d|3[01])(?:\d{6,12})?(?!\d)"
)
_AGE_ISO = re.compile(r"^P(?P<years>\d+(?:\.\d+)?)Y")

_SHIFT_FIX = (
    f"shift the subject's dates back by one secret random number of days to "
    f"{SHIFTED_YEAR_MAX} or earlier, as BIDS recommends (mne-bids: anonymize="
    "dict(daysback=N); NWB: every date = the shifted session start)"
)


@dataclass(frozen=True)
class Finding:
    """One identifying field.

    Attributes
    ----------
    path : str
        The file (under the scanned root, as the root was given).
    field : str
        Where in the file: a column, a key path or an HDF5 path.
    problem : str
        What identifies a person (``name``, ``birth date``, ``unshifted date 2019-03-04``...).
    fix : str
        How to remove it.
    """

    path: str
    field: str
    problem: str
    fix: str

    def __str__(self) -> str:
        return f"{self.path}: {self.field}: {self.problem}; fix: {self.fix}"


@dataclass
class DeidentificationReport:
    """The result of a scan: the files checked and the findings.

    Attributes
    ----------
    checked : list of str
        Every file scanned, in order.
    findings : list of Finding
        Every identifying field found (empty when the data pass).
    unchecked : list of str
        Annexed files whose content is not present locally (dropped, or encrypted and not
        fetched): not readable, so not checked. Their subject and dates reach the results
        (e.g. the units NWB copies the raw NWB's), which are checked.
    """

    checked: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True when nothing identifying was found."""
        return not self.findings

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready data (``status``, ``n_checked``, ``checked``, ...)."""
        return {
            "status": "pass" if self.passed else "fail",
            "shifted_year_max": SHIFTED_YEAR_MAX,
            "n_checked": len(self.checked),
            "checked": list(self.checked),
            "findings": [asdict(f) for f in self.findings],
            "unchecked": list(self.unchecked),
        }

    def summary(self) -> str:
        """Return one line per finding, under a header naming how many there are."""
        if self.passed:
            return f"de-identification check passed: {len(self.checked)} files, no finding"
        lines = [
            f"de-identification check failed: {len(self.findings)} finding(s) in "
            f"{len(self.checked)} files (remove them, then rerun):"
        ]
        return "\n".join(lines + [f"  {f}" for f in self.findings])


def check_deidentification(
    roots: Iterable[str | os.PathLike], *, exclude: Iterable[str | os.PathLike] = ()
) -> DeidentificationReport:
    """Scan folders (the raw dataset, ``results/``) for fields that identify a person.

    Parameters
    ----------
    roots : iterable of path-like
        Folders to scan recursively (``.git``, ``.datalad`` and ``.snakemake`` are skipped);
        files with a suffix in :data:`SCANNED_SUFFIXES` are read.
    exclude : iterable of path-like
        Files not to scan (e.g. the report being written).

    Returns
    -------
    DeidentificationReport
        Files checked and findings, in path order; annexed files without local content are
        listed as unchecked.

    Raises
    ------
    FileNotFoundError
        If a root does not exist.
    """
    excluded = {Path(p).resolve() for p in exclude}
    report = DeidentificationReport()
    for root in map(Path, roots):
        if not root.is_dir():
            raise FileNotFoundError(
                f"{root}: folder to check for identifying fields not "
                "found; run the workflow first or fix the path."
            )
        for path in _scanned_files(root):
            if path.resolve() in excluded:
                continue
            # named as the workflow names it, also for local copies of remote storage
            label = logical_path(root / path.relative_to(root))
            if path.is_symlink() and not path.exists():
                report.unchecked.append(label)
                continue
            report.checked.append(label)
            report.findings.extend(scan_file(path, label))
    return report


def scan_file(path: str | os.PathLike, label: str | None = None) -> list[Finding]:
    """Scan one file (by suffix: TSV, JSON, NWB, BrainVision marker) and its name.

    Parameters
    ----------
    path : path-like
        The file.
    label : str, optional
        How findings name the file (default: the path).

    Returns
    -------
    list of Finding
        The identifying fields of the file.
    """
    path = Path(path)
    label = label or str(path)
    findings = [
        Finding(
            label,
            "file name",
            f"unshifted date {text}",
            "rename it without the date (BIDS entities carry no dates)",
        )
        for text in _unshifted_dates(path.name, compact=True)
    ]
    if path.is_symlink() and not path.exists():
        return findings + [
            Finding(
                label,
                "content",
                "not present locally, so not checked",
                "install it (datalad get) and rerun the check",
            )
        ]
    scanner = {
        ".tsv": scan_tsv,
        ".json": scan_json,
        ".nwb": scan_nwb,
        ".vmrk": scan_brainvision_markers,
    }.get(path.suffix)
    if scanner is not None:
        findings += scanner(path, label)
    return findings


def scan_tsv(path: str | os.PathLike, label: str | None = None) -> list[Finding]:
    """Scan a TSV table: identifying columns, dates, ages over 89, participant columns.

    Parameters
    ----------
    path : path-like
        The table (BIDS sidecar or result).
    label : str, optional
        How findings name the file.

    Returns
    -------
    list of Finding
        The identifying columns and values.
    """
    path = Path(path)
    label = label or str(path)
    try:
        table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, na_values=[])
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as err:
        return [
            Finding(
                label,
                "table",
                f"unreadable as TSV ({err})",
                "fix the file so that its fields can be checked",
            )
        ]
    person_table = path.name == "participants.tsv" or path.name.endswith(_PERSON_TABLES)
    findings = []
    for column in table.columns:
        problem = _identifying_key(column, person_table=person_table)
        if (
            problem is None
            and path.name == "participants.tsv"
            and (column not in PARTICIPANT_COLUMNS)
        ):
            problem = (
                "not a BIDS participant column (name, free text or another identifier?)",
                "remove the column, or, if it identifies no one, add "
                "it to panneuro.compendium.deidentification.PARTICIPANT_COLUMNS",
            )
        if problem is not None:
            findings.append(Finding(label, f"column {column!r}", *problem))
            continue
        if _normalise(column) in PROCESSING_TIME_KEYS:
            continue
        values = table[column]
        for row, text in _dated_cells(values):
            findings.append(
                Finding(
                    label, f"column {column!r}, row {row + 1}", f"unshifted date {text}", _SHIFT_FIX
                )
            )
        if _normalise(column) == "age":
            findings += _old_ages(values, label, column)
    return findings


def scan_json(path: str | os.PathLike, label: str | None = None) -> list[Finding]:
    """Scan a JSON file: identifying keys at any depth and unshifted dates in string values.

    Parameters
    ----------
    path : path-like
        The file (BIDS sidecar or result).
    label : str, optional
        How findings name the file.

    Returns
    -------
    list of Finding
        The identifying keys and values.
    """
    path = Path(path)
    label = label or str(path)
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        return [
            Finding(
                label,
                "file",
                f"unreadable as JSON ({err})",
                "fix the file so that its fields can be checked",
            )
        ]
    findings = []
    for key_path, key, value in _walk_json(data):
        problem = _identifying_key(key, person_table=False) if key is not None else None
        if problem is not None:
            findings.append(Finding(label, f"key {key_path}", *problem))
        elif key is not None and _normalise(key) in PROCESSING_TIME_KEYS:
            continue
        elif isinstance(value, str):
            findings += [
                Finding(label, f"key {key_path}", f"unshifted date {text}", _SHIFT_FIX)
                for text in _unshifted_dates(value)
            ]
    return findings


def scan_nwb(path: str | os.PathLike, label: str | None = None) -> list[Finding]:
    """Scan an NWB file: its dates, subject fields (DANDI's only) and free-text fields.

    Parameters
    ----------
    path : path-like
        The ``.nwb`` (HDF5) file.
    label : str, optional
        How findings name the file.

    Returns
    -------
    list of Finding
        The identifying fields.
    """
    import h5py

    path = Path(path)
    label = label or str(path)
    findings = []
    try:
        handle = h5py.File(path, "r")
    except OSError as err:
        return [
            Finding(
                label,
                "file",
                f"unreadable as NWB/HDF5 ({err})",
                "fix the file so that its fields can be checked",
            )
        ]
    with handle as nwb:
        for name in ("session_start_time", "timestamps_reference_time", "file_create_date"):
            for text in _h5_strings(nwb.get(name)):
                year = _year_of(text)
                if year is None or year > SHIFTED_YEAR_MAX:
                    findings.append(Finding(label, name, f"unshifted date {text}", _SHIFT_FIX))
        for name in ("identifier", "session_description", "session_id"):
            for text in _h5_strings(nwb.get(name)):
                findings += [
                    Finding(label, name, f"unshifted date {date}", _SHIFT_FIX)
                    for date in _unshifted_dates(text)
                ]
        general = nwb.get("general")
        if general is not None:
            findings += _scan_nwb_general(general, label)
    return findings


def scan_brainvision_markers(path: str | os.PathLike, label: str | None = None) -> list[Finding]:
    """Scan a BrainVision marker file (``.vmrk``): the ``New Segment`` date must be shifted.

    Parameters
    ----------
    path : path-like
        The ``.vmrk`` file.
    label : str, optional
        How findings name the file.

    Returns
    -------
    list of Finding
        Unshifted recording dates.
    """
    path = Path(path)
    label = label or str(path)
    findings = []
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith(";") or "New Segment" not in line:
            continue
        marker, _, value = line.partition("=")
        date = value.split(",")[-1].strip()
        findings += [
            Finding(label, f"{marker} (New Segment date)", f"unshifted date {text}", _SHIFT_FIX)
            for text in _unshifted_dates(date, compact=True)
        ]
    return findings


def _scan_nwb_general(general: Any, label: str) -> list[Finding]:
    import h5py

    findings = []
    subject = general.get("subject")
    if subject is not None:
        for name, item in subject.items():
            where = f"general/subject/{name}"
            if name not in DANDI_SUBJECT_FIELDS:
                problem = (
                    "birth date"
                    if _normalise(name) in _BIRTH_KEYS
                    else "a subject field DANDI does not need (free text or identifier)"
                )
                findings.append(
                    Finding(
                        label,
                        where,
                        problem,
                        "leave it out: an NWB subject of human data holds only "
                        f"{', '.join(DANDI_SUBJECT_FIELDS)}",
                    )
                )
            elif name == "age":
                findings += [
                    Finding(
                        label,
                        where,
                        f"age {text} over {MAX_REPORTED_AGE} years",
                        f"report ages over {MAX_REPORTED_AGE} as P{MAX_REPORTED_AGE}Y",
                    )
                    for text in _h5_strings(item)
                    if _iso_age_years(text) is not None and _iso_age_years(text) > MAX_REPORTED_AGE
                ]
    for name, item in general.items():
        if name == "subject" or not isinstance(item, h5py.Dataset):
            continue
        problem = _identifying_key(name, person_table=False)
        if problem is not None:
            findings.append(Finding(label, f"general/{name}", *problem))
            continue
        for text in _h5_strings(item):
            findings += [
                Finding(label, f"general/{name}", f"unshifted date {date}", _SHIFT_FIX)
                for date in _unshifted_dates(text)
            ]
    return findings


def _scanned_files(root: Path) -> Iterator[Path]:
    for directory, folders, files in os.walk(root):
        folders[:] = sorted(f for f in folders if f not in (".git", ".datalad", ".snakemake"))
        for name in sorted(files):
            if name.endswith(SCANNED_SUFFIXES) and not name.startswith("."):
                yield Path(directory) / name


def _normalise(key: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(key).lower())


def _identifying_key(key: str, *, person_table: bool) -> tuple[str, str] | None:
    """Return ``(problem, fix)`` when a column or key names an identifying field."""
    norm = _normalise(key)
    if norm in _NAME_KEYS or (person_table and norm == "name"):
        return "a person's name", "remove it: subjects are known only by their BIDS label"
    if norm in _BIRTH_KEYS:
        return "birth date", "remove it; keep the age (years, 89 at most) instead"
    if norm in _CONTACT_KEYS:
        return "contact details or a record number", "remove it"
    if norm in _FREE_TEXT_KEYS:
        return (
            "free text about a person",
            "remove it, or replace it with coded values "
            "(Levels in the sidecar) that identify no one",
        )
    return None


def _year_of(text: str) -> int | None:
    match = _DATE.search(text)
    return int(match["year"]) if match else None


def _unshifted_dates(text: str, *, compact: bool = False) -> list[str]:
    """Return dates after :data:`SHIFTED_YEAR_MAX` in ``text`` (ISO, d/m/Y; compact: YYYYMMDD)."""
    patterns = [_DATE, _DATE_DMY] + ([_DATE_COMPACT] if compact else [])
    found = []
    for pattern in patterns:
        for match in pattern.finditer(text):
            if SHIFTED_YEAR_MAX < int(match["year"]) < 2200:
                found.append(match.group(0))
    return found


def _dated_cells(values: pd.Series) -> Iterator[tuple[int, str]]:
    text = values.astype(str)
    candidates = text.str.contains(r"\d{4}-\d\d-\d\d|\d[/.]\d{1,2}[/.]\d{4}", regex=True)
    for row in np.flatnonzero(candidates.to_numpy()):
        for date in _unshifted_dates(text.iloc[row]):
            yield int(row), date


def _old_ages(values: pd.Series, label: str, column: str) -> list[Finding]:
    ages = pd.to_numeric(values, errors="coerce")
    return [
        Finding(
            label,
            f"column {column!r}, row {row + 1}",
            f"age {values.iloc[row]} over {MAX_REPORTED_AGE}",
            f"report ages over {MAX_REPORTED_AGE} as {MAX_REPORTED_AGE} (HIPAA Safe Harbor)",
        )
        for row in np.flatnonzero((ages > MAX_REPORTED_AGE).to_numpy())
    ]


def _iso_age_years(text: str) -> float | None:
    match = _AGE_ISO.match(text)
    return float(match["years"]) if match else None


def _walk_json(data: Any, prefix: str = "") -> Iterator[tuple[str, str | None, Any]]:
    """Yield ``(key path, key, value)`` for every value (key None inside lists)."""
    if isinstance(data, dict):
        for key, value in data.items():
            key_path = f"{prefix}.{key}" if prefix else str(key)
            yield key_path, str(key), value
            if isinstance(value, dict | list):
                yield from _walk_json(value, key_path)
    elif isinstance(data, list):
        for index, value in enumerate(data):
            key_path = f"{prefix}[{index}]"
            if isinstance(value, dict | list):
                yield from _walk_json(value, key_path)
            else:
                yield key_path, None, value


def _h5_strings(item: Any) -> list[str]:
    """Return the string values of a small HDF5 dataset (empty for anything else)."""
    import h5py

    if not isinstance(item, h5py.Dataset) or item.size > 10_000:
        return []
    if item.dtype.kind not in ("S", "O", "U"):
        return []
    values = np.atleast_1d(item[()]).ravel()
    return [v.decode(errors="replace") if isinstance(v, bytes) else str(v) for v in values]
