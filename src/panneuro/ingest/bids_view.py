"""The converted BIDS dataset: the raw dataset with its converted recordings in place.

A lab's raw folder may hold recordings BIDS does not accept (SpikeGLX, plain binary …). The
workflow converts each to iEEG-datatype NWB (:mod:`panneuro.ingest.nwb_conversion`, under
``results/bids/``) and never edits the raw dataset (it is read-only to the analysis). The
dataset a validator, an archive or a reader sees is then this *view*: every file of the raw
dataset linked at its own path, except the converted originals and their companions, which
are linked under ``sourcedata/`` (kept, and ignored by the validator, as BIDS says), plus the
converted NWB files and their sidecars at their BIDS paths. Links are symbolic, so a view of
terabytes costs nothing; ``copy=True`` makes a self-contained copy (e.g. for an upload).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

#: Formats stored as a folder: their whole folder is the original.
FOLDER_FORMATS = ("spikeglx", "openephys", "neuralynx")
#: Names never carried into a view (version control and DataLad's own files).
SKIPPED = (".git", ".datalad", ".gitattributes", ".gitmodules")


def original_files(raw_dir: str | os.PathLike, path: str, format: str) -> list[str]:  # noqa: A002
    """List the files (relative to ``raw_dir``) that make up one raw recording and its companions.

    Parameters
    ----------
    raw_dir : path-like
        The raw dataset.
    path : str
        The sample sheet's path of the recording (relative to ``raw_dir``).
    format : str
        Its sample-sheet format.

    Returns
    -------
    list of str
        For folder formats every file of the recording's folder (the folder named, or the
        folder of the file named); otherwise the file and its reader sidecar ``<file>.json``.
    """
    root = Path(raw_dir)
    target = root / path
    if format in FOLDER_FORMATS:
        folder = target if target.is_dir() else target.parent
        return sorted(
            str(p.relative_to(root)) for p in folder.rglob("*") if p.is_file() or p.is_symlink()
        )
    files = [path]
    if (root / f"{path}.json").exists():
        files.append(f"{path}.json")
    return files


def _walk(root: Path) -> Iterable[str]:
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED)
        for name in sorted(files):
            if name not in SKIPPED:
                yield str((Path(folder) / name).relative_to(root))


def in_scope(rel: str, scope: Mapping[str, Sequence[str]] | None) -> bool:
    """Tell whether a raw file (relative path) belongs to the sheet's part of the dataset.

    Parameters
    ----------
    rel : str
        A file of the raw dataset, relative to its root.
    scope : mapping or None
        ``sessions``: ``sub-X/ses-Y`` folders of the sheet's sessions (their session-level
        files, e.g. ``_scans.tsv``, and every file below them); ``folders``: the folders of the
        sheet's files (for files outside the session folders); ``subjects``: ``sub-X``
        folders (their subject-level files, e.g. ``_sessions.tsv``); ``tasks``: the tasks
        with a data file in the view (a dataset-level ``task-T_*`` sidecar of another task
        describes nothing there: the validator's ``SIDECAR_WITHOUT_DATAFILE``). None: every
        file.

    Returns
    -------
    bool
        True for dataset-level files (at the root; a task's sidecars only for the scope's
        tasks), and for files under the scope.
    """
    if scope is None:
        return True
    parent = str(Path(rel).parent)
    if parent == ".":  # dataset_description.json, participants.tsv, README, task sidecars
        task = re.match(r"task-([A-Za-z0-9]+)_", rel)
        return task is None or "tasks" not in scope or task.group(1) in scope["tasks"]
    if parent in scope.get("subjects", ()):
        return True
    prefixes = [*scope.get("sessions", ()), *scope.get("folders", ())]
    return any(rel.startswith(f"{prefix}/") for prefix in prefixes)


def assemble_bids_view(
    raw_dir: str | os.PathLike,
    dest: str | os.PathLike,
    *,
    originals: Iterable[str] = (),
    converted: Mapping[str, str | os.PathLike] | None = None,
    scope: Mapping[str, Sequence[str]] | None = None,
    copy: bool = False,
) -> Path:
    """Lay out the converted dataset in ``dest``: raw files, converted recordings, sourcedata.

    Parameters
    ----------
    raw_dir : path-like
        The raw dataset (a DataLad dataset or a plain folder).
    dest : path-like
        An empty or missing folder.
    originals : iterable of str
        Files of ``raw_dir`` (relative) that were converted (:func:`original_files`): linked
        under ``sourcedata/`` unless they already lie there.
    converted : mapping, optional
        BIDS path in the view (relative) -> the converted file (an NWB recording or a
        sidecar under ``results/bids/``).
    scope : mapping, optional
        The part of the dataset the sample sheet uses (:func:`in_scope`); other files (a
        lab's recordings of sessions not analysed, their own acquisition files) are left out.
    copy : bool
        Copy files instead of linking them.

    Returns
    -------
    pathlib.Path
        ``dest``.

    Raises
    ------
    FileExistsError
        If ``dest`` holds anything (a view is always laid anew).
    """
    raw, dest = Path(raw_dir).resolve(), Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise FileExistsError(f"{dest}: not empty; a BIDS view is laid out in a new folder.")
    moved = {p for p in originals if not p.startswith("sourcedata/")}
    placed: dict[str, Path] = {}
    for rel in _walk(raw):
        if rel in moved:
            placed[f"sourcedata/{rel}"] = raw / rel
        elif in_scope(rel, scope) and not rel.startswith("sourcedata/"):
            placed[rel] = raw / rel
        elif rel.startswith("sourcedata/") and rel in originals:
            placed[rel] = raw / rel
    for rel, source in (converted or {}).items():
        placed[rel] = Path(source).resolve()
    for rel, source in sorted(placed.items()):
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if copy:
            shutil.copy2(source, target)
        else:
            target.symlink_to(source)
    return dest


def converted_view(
    raw_dir: str | os.PathLike,
    dest: str | os.PathLike,
    conversions: Iterable[Mapping],
    *,
    converted_root: str = "results/bids",
    scope: Mapping[str, Sequence[str]] | None = None,
    copy: bool = False,
) -> Path:
    """Return the folder to validate: ``raw_dir`` itself, or its converted view in ``dest``.

    Parameters
    ----------
    raw_dir : path-like
        The raw dataset.
    dest : path-like
        Where to lay the view out when some recordings were converted.
    conversions : iterable of mapping
        Per converted recording: ``path`` and ``format`` (its sample-sheet row) and
        ``converted`` (the files made of it, under ``converted_root``; none for a recording
        the analysis reads as it is outside BIDS, e.g. a lab's binary sleep run: its files go
        to ``sourcedata/`` only); :meth:`panneuro.study.Study.bids_conversions`.
    converted_root : str
        The converted files' root (their paths relative to it are their BIDS paths).
    scope : mapping, optional
        The sheet's part of the dataset (:func:`in_scope`); None: all of it.
    copy : bool
        Copy instead of linking.

    Returns
    -------
    pathlib.Path
        ``raw_dir`` when nothing was converted and the scope is the whole dataset, else
        ``dest``.
    """
    conversions = list(conversions)
    if not conversions and scope is None:
        return Path(raw_dir)
    originals = [f for c in conversions for f in original_files(raw_dir, c["path"], c["format"])]
    converted = {
        str(Path(f).relative_to(converted_root)): f for c in conversions for f in c["converted"]
    }
    return assemble_bids_view(
        raw_dir, dest, originals=originals, converted=converted, scope=scope, copy=copy
    )
