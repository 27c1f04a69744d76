"""Lay out a run for the archives: a dandiset (DANDI), BIDS with derivatives (OpenNeuro).

``panneuro publish dandi`` puts the session units NWB files (``results/nwb/``) into a dandiset
folder with DANDI's own naming (:func:`dandi.organize.create_unique_filenames_from_metadata`:
``sub-<id>/sub-<id>_ses-<id>_ecephys.nwb``) and a ``dandiset.yaml`` from the config
(``publish.dandi``), then runs ``dandi validate`` on it. ``panneuro publish openneuro`` copies the
raw BIDS dataset and adds ``derivatives/panneuro/`` (``DatasetType: derivative``) holding the
same units files in BIDS iEEG naming (``desc-units``) with their sidecars, then runs the BIDS
validator on both. Neither uploads: the upload is one command the user runs with their own
credentials (printed, and in README.md).

Files are hard-linked where the file system allows (the layouts then cost no space), else
copied; each is put in place atomically. Provenance sidecars of the results are not part of
either layout (each archive's tools would read them as data): the derivative sidecars name
their raw sources (BIDS ``Sources``) instead.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from panneuro.io.atomic import atomic_path, write_text_atomic
from panneuro.io.tables import write_json, write_tsv
from panneuro.results import Run

#: Name of the dandiset metadata file (DANDI's).
DANDISET_YAML = "dandiset.yaml"
#: Name of the derivative dataset inside the OpenNeuro layout.
DERIVATIVE_NAME = "panneuro"
#: BIDS version the derivative's description declares (the raw dataset's).
BIDS_VERSION = "1.10.1"


def _place(source: Path, target: Path) -> None:
    """Hard-link ``source`` (symlinks resolved) to ``target``, else copy it; atomically."""
    source = source.resolve()
    if not source.is_file():
        raise FileNotFoundError(
            f"{source}: missing; make it first (snakemake {source.name} or "
            "make reproduce), or `datalad get` it in a DataLad clone."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as tmp:
        try:
            os.link(source, tmp)
        except OSError:
            shutil.copyfile(source, tmp)


def _session_nwb_files(run: Run) -> list[tuple[str, str, Path]]:
    """``(subject, session, units NWB)`` of every session with units, sorted."""
    found = []
    for subject, session in run.probe_sessions():
        found.append((subject, session, run.result(run.units_nwb(subject, session))))
    if not found:
        raise ValueError(
            f"{run.root / run.config['samples']}: no array or microwire rows, so "
            "no units NWB to publish."
        )
    return found


# DANDI ------------------------------------------------------------------------------------


def dandi_asset_paths(files: list[tuple[str, str, Path]]) -> dict[Path, str]:
    """Name session NWB files as ``dandi organize`` does, with the sample sheet's session label.

    Parameters
    ----------
    files : list of (subject, session, path)
        The session units NWB files.

    Returns
    -------
    dict
        Source path -> path inside the dandiset (``sub-<id>/sub-<id>_ses-<id>_ecephys.nwb``).

    Raises
    ------
    ValueError
        If a file's NWB subject id is not the sample sheet's subject.
    """
    from dandi.metadata.nwb import get_metadata
    from dandi.organize import create_unique_filenames_from_metadata

    records = []
    for subject, session, path in files:
        meta = get_metadata(path)
        if str(meta.get("subject_id")) != subject:
            raise ValueError(
                f"{path}: NWB subject_id {meta.get('subject_id')!r}, but the "
                f"sample sheet says sub-{subject}; re-export the session "
                "(snakemake --forcerun export_session_nwb)."
            )
        # the NWB session_id is "sub-X_ses-Y"; DANDI wants the session label alone
        records.append(dict(meta, session_id=session, path=str(path)))
    named = create_unique_filenames_from_metadata(records, required_fields=["session_id"])
    return {Path(r["path"]): r["dandi_path"] for r in named}


def dandiset_metadata(options: Mapping[str, Any]) -> dict[str, Any]:
    """Return the ``dandiset.yaml`` of a new dandiset from the config's ``publish.dandi``.

    Parameters
    ----------
    options : mapping
        ``identifier`` (six digits, from the archive's "New Dandiset" page), ``name``,
        ``description``, ``license`` (SPDX id), ``keywords``, ``contributors`` (``name`` as
        "Last, First" and ``roles``, DANDI role names without ``dcite:``).

    Returns
    -------
    dict
        DANDI metadata fields (``identifier`` as ``DANDI:<digits>``).
    """
    identifier = str(options["identifier"])
    if not (identifier.isdigit() and len(identifier) == 6):
        raise ValueError(
            f"publish.dandi.identifier {identifier!r}: give the dandiset's six "
            "digits (from the archive's New Dandiset page), e.g. '000123'."
        )
    return {
        "identifier": f"DANDI:{identifier}",
        "name": str(options["name"]),
        "description": str(options["description"]).strip(),
        "license": [f"spdx:{options['license']}"],
        "keywords": [str(k) for k in options.get("keywords", [])],
        "contributor": [
            {
                "schemaKey": "Person",
                "name": str(c["name"]),
                "roleName": [f"dcite:{r}" for r in c["roles"]],
            }
            for c in options["contributors"]
        ],
    }


def publish_dandi(run: Run, out: str | os.PathLike) -> dict[str, Any]:
    """Write the dandiset layout of a run and validate it with ``dandi validate``.

    Parameters
    ----------
    run : Run
        The run (its ``results/nwb`` session files must exist).
    out : path-like
        The dandiset folder (created; files already there are replaced).

    Returns
    -------
    dict
        ``dandiset`` (the folder), ``assets`` (dandiset path -> source file), ``errors`` and
        ``warnings`` of ``dandi validate`` (``{"id", "path", "message"}``).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    options = run.config["publish"]["dandi"]
    write_text_atomic(
        out / DANDISET_YAML,
        yaml.safe_dump(dandiset_metadata(options), sort_keys=False, allow_unicode=True),
    )
    assets = dandi_asset_paths(_session_nwb_files(run))
    for source, asset in sorted(assets.items(), key=lambda item: item[1]):
        _place(source, out / asset)
    report = validate_dandiset(out)
    report["assets"] = {
        asset: str(source) for source, asset in sorted(assets.items(), key=lambda item: item[1])
    }
    return report


def validate_dandiset(folder: str | os.PathLike) -> dict[str, Any]:
    """Run DANDI's validation (``dandi validate``, offline) on a dandiset folder.

    Returns
    -------
    dict
        ``dandiset``, ``errors`` and ``warnings`` (``{"id", "path", "message"}``, sorted).
    """
    from dandi.validate import Severity
    from dandi.validate._core import validate  # what `dandi validate` calls (0.81: not re-exported)

    found: dict[str, list[dict[str, str]]] = {"errors": [], "warnings": []}
    for result in validate(str(folder)):
        if result.severity is None or result.severity < Severity.WARNING:
            continue
        kind = "errors" if result.severity >= Severity.ERROR else "warnings"
        path = Path(result.path).relative_to(Path(folder).resolve()) if result.path else ""
        found[kind].append(
            {"id": str(result.id), "path": str(path), "message": str(result.message)}
        )
    return {
        "dandiset": str(folder),
        **{k: sorted(v, key=lambda i: (i["path"], i["id"])) for k, v in found.items()},
    }


def dandi_upload_command(folder: str | os.PathLike) -> str:
    """Return the one command that uploads the dandiset (with ``DANDI_API_KEY`` set)."""
    return f"cd {folder} && dandi upload"


# OpenNeuro (BIDS) -----------------------------------------------------------------------


def _raw_files(raw: Path) -> list[Path]:
    """Files of the raw BIDS dataset, relative, without DataLad's and git's own."""
    files = []
    for path in sorted(raw.rglob("*")):
        relative = path.relative_to(raw)
        if any(part.startswith(".") for part in relative.parts):
            continue
        if path.is_file() or path.is_symlink():
            files.append(relative)
    return files


def derivative_description(run: Run) -> dict[str, Any]:
    """``dataset_description.json`` of the derivative (``DatasetType: derivative``)."""
    from panneuro import __version__
    from panneuro.compendium.provenance import compendium_commit

    commit = compendium_commit(run.root)
    return {
        "Name": "panneuro: curated single units of the learning-set study",
        "BIDSVersion": BIDS_VERSION,
        "DatasetType": "derivative",
        "License": "CC0",
        "Authors": ["panneuro compendium"],
        "GeneratedBy": [
            {
                "Name": "panneuro",
                "Version": __version__,
                "Description": "Preprocessing, spike sorting (SpikeInterface), "
                "curation and NWB export of the compendium's "
                f"workflow (commit {commit})",
            }
        ],
        "SourceDatasets": [{"URL": "bids:raw:"}],
        "DatasetLinks": {"raw": "../../"},
    }


def _units_electrodes(nwb: Path) -> pd.DataFrame:
    """BIDS ``electrodes.tsv`` rows of a units NWB's electrodes (mm, each probe's frame)."""
    from pynwb import NWBHDF5IO

    with NWBHDF5IO(str(nwb), mode="r") as io:
        table = io.read().electrodes.to_dataframe()
    name = table["probe"].astype(str) + "-" + table["channel_name"].astype(str)
    return pd.DataFrame(
        {
            "name": name.to_numpy(),
            "x": (table["rel_x"].to_numpy(float) / 1000.0).round(4),
            "y": (table["rel_y"].to_numpy(float) / 1000.0).round(4),
            "z": 0.0,
            "size": 0.0007,
            "group": (table["probe"].astype(str) + " " + table["location"].astype(str)).to_numpy(),
        }
    )


def _raw_recording_sidecars(run: Run, subject: str, session: str) -> tuple[list[str], dict]:
    """Return the raw recordings of a session (BIDS URIs) and their ``_ieeg.json`` merged."""
    raw = run.path(run.config["raw_dir"])
    sel = run.samples[
        (run.samples["subject"] == subject)
        & (run.samples["session"] == session)
        & run.samples["datatype"].isin(["array", "microwire"])
    ]
    sources, merged = [], {}
    for path in sel["path"]:
        sources.append(f"bids:raw:{path}")
        sidecar = raw / (path.rsplit("_ieeg.", 1)[0] + "_ieeg.json")
        if sidecar.is_file():
            merged.update(json.loads(sidecar.read_text()))
    return sources, merged


def publish_openneuro(run: Run, out: str | os.PathLike) -> dict[str, Any]:
    """Write the OpenNeuro layout of a run (raw BIDS + derivatives) and validate both.

    Parameters
    ----------
    run : Run
        The run (raw dataset and ``results/nwb`` present).
    out : path-like
        The dataset folder (created; files already there are replaced).

    Returns
    -------
    dict
        ``raw`` and ``derivative``: the BIDS validator's summaries
        (:func:`panneuro.compendium.bids_validation.run_bids_validator`).
    """
    from panneuro.compendium.bids_validation import run_bids_validator
    from panneuro.simulate.bids import TASK

    out = Path(out)
    raw = run.path(run.config["raw_dir"])
    if not (raw / "dataset_description.json").is_file():
        raise FileNotFoundError(
            f"{raw}: no raw BIDS dataset (dataset_description.json); "
            "make it first (make reproduce), or datalad get it."
        )
    for relative in _raw_files(raw):
        _place(raw / relative, out / relative)
    deriv = out / "derivatives" / DERIVATIVE_NAME
    write_json(derivative_description(run), deriv / "dataset_description.json")
    write_text_atomic(
        deriv / "README.md",
        (
            "# panneuro derivatives\n\n"
            "Curated single units of every session with microelectrode recordings, one NWB file\n"
            "per session (`*_desc-units_ieeg.nwb`: units with spike times, waveforms and quality\n"
            "metrics, the electrodes, the trials), made by the panneuro compendium's workflow\n"
            "(preprocessing, spike sorting with SpikeInterface, curation) from the raw dataset\n"
            "(`Sources` in each sidecar).\n"
        ),
    )
    for subject, session, nwb in _session_nwb_files(run):
        folder = deriv / f"sub-{subject}" / f"ses-{session}" / "ieeg"
        stem = f"sub-{subject}_ses-{session}"
        _place(nwb, folder / f"{stem}_task-{TASK}_desc-units_ieeg.nwb")
        sources, recorded = _raw_recording_sidecars(run, subject, session)
        keep = (
            "TaskName",
            "TaskDescription",
            "Instructions",
            "CogAtlasID",
            "CogPOID",
            "InstitutionName",
            "InstitutionAddress",
            "InstitutionalDepartmentName",
            "PowerLineFrequency",
            "SamplingFrequency",
            "RecordingType",
        )
        preprocessing = run.config["ephys"]["preprocessing"]
        write_json(
            {
                **{k: recorded[k] for k in keep if k in recorded},
                "TaskName": TASK,
                "Description": "Curated single units of the session's probes (spike times, "
                "mean waveforms, quality metrics), after band-pass filtering and "
                "a global median reference, sorted with SpikeInterface.",
                "SoftwareFilters": {
                    "band-pass": {
                        "low cutoff (Hz)": preprocessing.get("freq_min"),
                        "high cutoff (Hz)": preprocessing.get("freq_max"),
                    }
                },
                "iEEGReference": "global median reference",
                "Sources": sources,
            },
            folder / f"{stem}_task-{TASK}_desc-units_ieeg.json",
        )
        write_tsv(_units_electrodes(nwb), folder / f"{stem}_electrodes.tsv")
        write_json(
            {
                "Description": "The electrodes of the units file: every contact of the "
                "session's probes, named <probe>-<channel>, positions from "
                "the NWB electrodes table (rel_x, rel_y) in mm"
            },
            folder / f"{stem}_electrodes.json",
        )
        write_json(
            {
                "iEEGCoordinateSystem": "Other",
                "iEEGCoordinateSystemDescription": "Each probe in its own frame (the raw "
                "dataset's acq-<probe>_coordsystem.json): x across, y along the shank "
                "from the tip; the group column names the probe and its region",
                "iEEGCoordinateUnits": "mm",
            },
            folder / f"{stem}_coordsystem.json",
        )
    return {
        "dataset": str(out),
        "raw": run_bids_validator(out),
        "derivative": run_bids_validator(deriv),
    }


def openneuro_upload_command(folder: str | os.PathLike) -> str:
    """Return the command that uploads the dataset (``@openneuro/cli``, npm; logged in)."""
    return f"openneuro upload {folder}"
