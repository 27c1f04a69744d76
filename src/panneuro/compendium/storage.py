"""Paths of a job under Snakemake's remote default storage, seen as the workflow names them.

With ``--default-storage-provider s3 --default-storage-prefix s3://bucket/run`` a job reads and
writes local copies of the bucket's objects under Snakemake's local storage prefix
(``.snakemake/storage/s3/bucket/run/results/…``). Whatever a result records about its files
(provenance sidecars, the de-identification report) must name them as the workflow does
(``results/…``), or the same computation would give different bytes on S3 and on a local disk.
The workflow (``workflow/rules/common.smk``) exports that local prefix to its jobs in
:data:`STORAGE_PREFIX_VARIABLE`; :func:`logical_path` strips it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

#: Environment variable holding the local prefix of the default storage's copies.
STORAGE_PREFIX_VARIABLE = "PANNEURO_STORAGE_PREFIX"


def local_storage_prefix(
    local_prefix: str | os.PathLike, provider: str, default_prefix: str | None
) -> str:
    """Return the folder under which Snakemake keeps local copies of the default storage.

    Parameters
    ----------
    local_prefix : path-like
        Snakemake's ``--local-storage-prefix`` (default ``.snakemake/storage``).
    provider : str
        The default storage provider (``s3``).
    default_prefix : str or None
        The ``--default-storage-prefix`` (``s3://bucket/run``); its scheme is dropped, as the
        storage plugins do for their local copies (``bucket/run``).

    Returns
    -------
    str
        ``<local_prefix>/<provider>/<bucket/run>/`` (POSIX, trailing slash).
    """
    rest = re.sub(r"^[A-Za-z][A-Za-z0-9+.-]*://", "", default_prefix or "").strip("/")
    parts = [Path(local_prefix).as_posix().rstrip("/"), provider, rest]
    return "/".join(p for p in parts if p) + "/"


def logical_path(path: str | os.PathLike, prefix: str | None = None) -> str:
    """Return ``path`` as the workflow names it: without the default storage's local prefix.

    Parameters
    ----------
    path : path-like
        A job's input or output path (a local copy under remote storage, or a plain path).
    prefix : str, optional
        The local prefix; default: :data:`STORAGE_PREFIX_VARIABLE` from the environment
        (unset without remote storage: paths are returned unchanged).

    Returns
    -------
    str
        The POSIX path relative to the workflow's working directory.
    """
    text = Path(path).as_posix()
    prefix = os.environ.get(STORAGE_PREFIX_VARIABLE, "") if prefix is None else prefix
    if not prefix:
        return text
    for candidate in (prefix, Path(prefix).resolve().as_posix().rstrip("/") + "/"):
        if text.startswith(candidate):
            return text[len(candidate) :]
    return text


def declared_companions(path: str, raw_format: str) -> list[str]:
    """Files a reader opens beside a raw file, known from its name (no file access).

    Under remote storage a job receives only the files it declares, so the companions that
    :func:`panneuro.compendium.datalad_io.companions` finds by reading a header locally must be
    named in advance, by convention: a BIDS BrainVision header (``.vhdr``) has its data (``.eeg``)
    and markers (``.vmrk``) under the same stem; a plain binary recording has its reader
    options in ``<file>.json``. Folder formats (SpikeGLX, Open Ephys, Neuralynx) are not
    supported under remote storage.

    Parameters
    ----------
    path : str
        The raw file, as the sample sheet names it (under the raw dataset).
    raw_format : str
        Its ``format`` in the sample sheet.

    Returns
    -------
    list of str
        The companions, in the order :func:`panneuro.compendium.datalad_io.companions` gives them.
    """
    if raw_format == "brainvision":
        stem = path[: -len(".vhdr")] if path.endswith(".vhdr") else path
        return [f"{stem}.eeg", f"{stem}.vmrk"]
    if raw_format == "binary":
        return [f"{path}.json"]
    if raw_format in ("spikeglx", "openephys", "neuralynx"):
        raise ValueError(
            f"{path}: format {raw_format!r} is a folder of files, which remote "
            "default storage cannot declare file by file; convert it to NWB or "
            "binary (with its .json sidecar), or run with a shared file system"
        )
    return []


def declared_ieeg_sidecars(
    path: str, raw_root: str, listing: Sequence[str] | None = None
) -> list[str]:
    """BIDS files ``mne_bids.read_raw_bids`` reads beside an iEEG recording, without file access.

    Under remote storage a job receives only the files it declares; mne-bids finds the
    sidecars by listing the recording's folder, which a job cannot do in a bucket. Undeclared,
    they were missing (``channels.tsv``: no ECoG channel types) whenever no earlier job on
    the same machine had left its local copies (seen 2026-12-07: the simulation through
    SLURM, the ECoG job locally).

    Parameters
    ----------
    path : str
        The recording (``…/sub-X_ses-Y_task-T_ieeg.vhdr``), under ``raw_root``.
    raw_root : str
        The raw dataset's directory (its ``dataset_description.json`` marks the BIDS root).
    listing : sequence of str, optional
        Every file of the raw dataset (the simulated study's,
        :func:`panneuro.simulate.study.raw_dataset_files`; a lab's as its planning copy lists
        them, :func:`dataset_listing`): then the recording folder's files of its subject and
        session, its session's ``scans.tsv`` and the dataset's ``participants.tsv`` are
        declared, as mne-bids would find them. Without it only what BIDS requires under the
        recording's own name: its ``_channels.tsv`` and ``_ieeg.json`` (electrode positions
        from ``electrodes.tsv``, whose name may carry a ``space`` entity, are then not read).

    Returns
    -------
    list of str
        The sidecars, sorted; the recording itself and its data companions excluded; none
        for a file not named as BIDS iEEG (``…_ieeg.<ext>``).
    """
    folder, name = path.rsplit("/", 1)
    if not re.search(r"_ieeg\.\w+$", name):
        return []  # not a BIDS iEEG name: the reader stops with its own message (read_ecog)
    stem = name.rsplit("_", 1)[0]
    description = f"{raw_root}/dataset_description.json"
    if listing is None:
        return sorted({description, f"{folder}/{stem}_channels.tsv", f"{folder}/{stem}_ieeg.json"})
    own = "_".join(part for part in name.split("_") if part.startswith(("sub-", "ses-"))) + "_"
    session_folder = "/".join([raw_root, *own.rstrip("_").split("_")])
    wanted = {
        description,
        f"{session_folder}/{own}scans.tsv",
        f"{raw_root}/participants.tsv",
        f"{raw_root}/participants.json",
    }

    def is_sidecar(file: str) -> bool:
        parent, base = file.rsplit("/", 1)
        # the recording's own data files share its "_ieeg." stem; its sidecar is the .json
        data = base.startswith(f"{stem}_ieeg.") and not base.endswith(".json")
        return parent == folder and base.startswith(own) and not data

    return sorted(file for file in set(listing) if file in wanted or is_sidecar(file))


def declared_sheet_files(samples: Any, raw_root: str) -> list[str]:
    """List the raw files a lab's sample sheet names, with companions and the description.

    The part of :func:`declared_raw_dataset` the sheet names (a recording's companions are
    named by convention, whether or not the planning copy lists them).

    Parameters
    ----------
    samples : pandas.DataFrame
        The sample sheet (``path``, ``format``).
    raw_root : str
        The raw dataset's directory.

    Returns
    -------
    list of str
        ``<raw_root>/dataset_description.json``, then each row's file and its companions.
    """
    files = [f"{raw_root}/dataset_description.json"]
    for row in samples.to_dict("records"):
        path = f"{raw_root}/{row['path']}"
        files += [path, *declared_companions(path, row["format"])]
    return files


#: Hidden files of a raw dataset that are part of its BIDS content (the rest, ``.git``,
#: ``.datalad``, ``.gitattributes``..., belong to its version control).
BIDS_HIDDEN_FILES = frozenset({".bidsignore"})


def dataset_listing(raw_root: str | os.PathLike) -> list[str]:
    """List every file of a raw dataset's copy on the planning machine, version control aside.

    Files whose content is not there count: a DataLad clone without content holds its annexed
    files as (broken) symbolic links, the files the bucket holds.

    Parameters
    ----------
    raw_root : path-like
        The raw dataset's directory, as the workflow names it (``config["raw_dir"]``).

    Returns
    -------
    list of str
        ``<raw_root>/<relative path>`` of each file, sorted; none under a hidden folder, no
        hidden file but :data:`BIDS_HIDDEN_FILES`.
    """
    root = Path(raw_root)
    found = []
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = [d for d in subfolders if not d.startswith(".")]
        relative = Path(folder).relative_to(root)
        found += [
            (relative / name).as_posix()
            for name in files
            if not name.startswith(".") or name in BIDS_HIDDEN_FILES
        ]
    return [f"{raw_root}/{name}" for name in sorted(found)]


def declared_raw_dataset(
    samples: Any, raw_root: str, listing: Sequence[str] | None = None
) -> list[str]:
    """List the files of a lab's raw dataset a job sees under remote storage.

    Under remote storage a job receives only the files it declares, and the BIDS validator and
    the de-identification check must read the whole dataset: its sidecars, ``participants.tsv``,
    ``sub-X_sessions.tsv``, ``scans.tsv``... (with the sheet's files alone the validator finds a
    valid dataset invalid: ``IEEG_ELECTRODES_REQUIRED``, ``SIDECAR_KEY_REQUIRED``). The bucket
    holds the dataset; the planning machine's copy (a DataLad clone without content is enough)
    says which files it has. The simulated study's files are known before it is written
    (:func:`panneuro.simulate.study.raw_dataset_files`).

    Parameters
    ----------
    samples : pandas.DataFrame
        The sample sheet (``path``, ``format``).
    raw_root : str
        The raw dataset's directory.
    listing : sequence of str, optional
        :func:`dataset_listing` of ``raw_root`` when already read.

    Returns
    -------
    list of str
        :func:`declared_sheet_files`, then every other file of the listing.
    """
    named = declared_sheet_files(samples, raw_root)
    seen = set(named)
    listing = dataset_listing(raw_root) if listing is None else listing
    return named + [path for path in listing if path not in seen]
