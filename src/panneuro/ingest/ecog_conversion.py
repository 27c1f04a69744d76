"""ECoG recordings in formats BIDS iEEG does not accept (FIF) converted to BrainVision.

BIDS iEEG accepts BrainVision, EDF, EEGLAB, NWB and MEF3, not MNE's FIF (mne-bids refuses to
write iEEG as FIF), so a lab's FIF ECoG is an acquisition file (e.g. under ``sourcedata/``). It
is read with MNE (channel types, bads and line frequency from the file itself) and written
with ``mne_bids.write_raw_bids(..., format="BrainVision")``, the field's writer,
into a temporary BIDS root; the recording's own files (header, data, markers, ``channels.tsv``,
``_ieeg.json``, ``electrodes.tsv``/``.json``, ``coordsystem.json``) are then moved beside the
target. Electrode positions in MNE's ``head`` frame have no iEEG coordinate system (mne-bids
refuses CapTrak for iEEG): they are left out and the log says so; the electrodes file then
lists the contacts without positions.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path

#: ECoG formats BIDS iEEG accepts as they are (sample-sheet ``format``).
BIDS_NATIVE_ECOG_FORMATS = ("brainvision", "edf")
#: Files of a converted ECoG recording, by suffix after ``sub-X_ses-Y[_task-T]``.
RECORDING_SUFFIXES = ("_ieeg.vhdr", "_ieeg.eeg", "_ieeg.vmrk", "_channels.tsv", "_ieeg.json")
SESSION_SUFFIXES = ("_electrodes.tsv", "_electrodes.json", "_coordsystem.json")
#: MNE coordinate frames mne-bids can write for iEEG.
IEEG_FRAMES = ("mri", "mni_tal", "fs_tal", "ras", "unknown")

log = logging.getLogger(__name__)


def needs_ecog_conversion(format: str) -> bool:  # noqa: A002  (the sheet's column)
    """Tell whether an ECoG recording's format must be converted for BIDS (FIF).

    Parameters
    ----------
    format : str
        The sample sheet's ``format``.

    Returns
    -------
    bool
    """
    return format not in BIDS_NATIVE_ECOG_FORMATS


def converted_ecog_files(vhdr: str) -> list[str]:
    """List the files :func:`convert_ecog_to_brainvision` writes for a target header.

    Parameters
    ----------
    vhdr : str
        ``.../ieeg/sub-X_ses-Y_task-T_ieeg.vhdr`` (may hold ``{wildcards}``).

    Returns
    -------
    list of str
        The recording's files, then the session-level electrodes and coordinate system
        (named without the task entity, as mne-bids names them).
    """
    stem = vhdr[: -len("_ieeg.vhdr")]
    folder, name = stem.rsplit("/", 1)
    session_stem = "_".join(p for p in name.split("_") if not p.startswith("task-"))
    return [
        *(f"{stem}{s}" for s in RECORDING_SUFFIXES),
        *(f"{folder}/{session_stem}{s}" for s in SESSION_SUFFIXES),
    ]


def convert_ecog_to_brainvision(
    source: str | os.PathLike, target: str | os.PathLike, *, line_frequency: float
) -> list[Path]:
    """Convert an ECoG recording (inside a BIDS-like folder) to BrainVision with mne-bids.

    Parameters
    ----------
    source : path-like
        The raw recording (any format MNE reads, e.g. FIF).
    target : path-like
        The BrainVision header to write (``..._ieeg.vhdr``); the other files go beside it
        (:func:`converted_ecog_files`).
    line_frequency : float
        Mains frequency (Hz) when the recording does not state it.

    Returns
    -------
    list of pathlib.Path
        The files written.

    Raises
    ------
    ValueError
        If the source cannot be read, or holds nothing mne-bids writes as iEEG (one line).
    """
    import mne
    import mne_bids

    target = Path(target)
    try:
        raw = mne.io.read_raw(source, preload=True, verbose=False)
    except Exception as error:  # MNE raises several types on a damaged or foreign file
        raise ValueError(
            f"{source}: cannot read the ECoG recording with MNE "
            f"({str(error).splitlines()[0]}); the file is damaged (get it again) or "
            "not the sheet's format."
        ) from error
    if not raw.info.get("line_freq"):
        raw.info["line_freq"] = float(line_frequency)
    montage = raw.get_montage()
    if montage is not None and montage.get_positions()["coord_frame"] not in IEEG_FRAMES:
        log.warning(
            "%s: electrode positions are in MNE's %r frame, which has no BIDS iEEG "
            "coordinate system; they are left out of the converted electrodes.tsv",
            source,
            montage.get_positions()["coord_frame"],
        )
        raw.set_montage(None)
    entities = mne_bids.get_entities_from_fname(target.name)
    wanted = converted_ecog_files(str(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".ecog-bids-", dir=target.parent) as tmp:
        bids_path = mne_bids.BIDSPath(
            root=tmp,
            datatype="ieeg",
            suffix="ieeg",
            extension=".vhdr",
            **{k: v for k, v in entities.items() if v is not None},
        )
        mne_bids.write_raw_bids(
            raw, bids_path, format="BrainVision", allow_preload=True, overwrite=True, verbose=False
        )
        written = {p.name: p for p in bids_path.directory.iterdir()}
        missing = [w for w in wanted if Path(w).name not in written]
        if missing:
            raise ValueError(
                f"{source}: mne-bids did not write {[Path(m).name for m in missing]}"
                " for the converted recording; it has no ECoG contacts to list?"
            )
        out = []
        for name in wanted:
            shutil.move(written[Path(name).name], name)  # same file system: a rename
            out.append(Path(name))
    return out
