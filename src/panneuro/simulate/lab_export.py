"""Export the simulated raw dataset as a lab would hand it over: plain folder, acquisition formats.

Issue 16 runs the workflow on "a lab's own recordings": no git, no DataLad, the probe recordings
in the files the acquisition systems write, and a sample sheet saying which is which.
:func:`export_lab_folder` makes such a folder from the embedded simulated BIDS dataset
(``resources/raw``): behaviour, ECoG and the NWB probes it keeps are copied as they are, and each
probe named in ``formats`` is rewritten, chunk by chunk, in one acquisition format with the
same int16 samples, rate, channel ids and order, gain and geometry, so that
:func:`panneuro.ephys.preprocessing.read_recording` gives back what it gives for the NWB file:

``spikeglx``
    SpikeGLX, NI-DAQ stream (https://billkarsh.github.io/SpikeGLX/help/metadata/), under
    ``sourcedata/sub-X/ses-Y/ephys/<run>_g0/``: ``<run>_g0_t0.nidq.bin`` + ``.meta``. The
    simulated probes are linear V-probe-like arrays and microwire bundles behind an Intan-like
    headstage, not Neuropixels, so they are written as SpikeGLX records such probes: through
    the NI-DAQ (``typeThis=nidq``), as multiplexed neural (MN) channels only
    (``snsMnMaXaDw=N,0,0,0``, one MN line of ``niMuxFactor`` = N channels, or N / 32 lines of 32).
    µV per count is ``niAiRangeMax / niMaxInt / niMNGain × 1e6``: ``niAiRangeMax`` = 5 V (an
    NI range), ``niMaxInt`` = 32768, and ``niMNGain`` the float that makes it the recording's
    gain (782.502… for 0.195 µV; SpikeGLX stores the MN gain as a float, so the gain is exact
    to the last bit or two, ~1e-16 relative). neo 0.14.6 reads such a stream
    (``SpikeGLXRawIO``, stream ``nidq``; no imec fallback is needed). Two departures from what
    SpikeGLX itself would write, both for the reader: the names in ``~snsChanMap`` are the
    recording's channel ids (SpikeGLX writes ``MN0C0``…; its readers take the name as free
    text), so that with ``use_names_as_ids`` in the reader sidecar ``<bin>.json`` the channel
    ids are the NWB file's; and the geometry, which a nidq ``.meta`` cannot hold, is a
    probeinterface JSON named by the sidecar's ``probe_file``. NeuroConv 0.10.2 does not
    convert MN channels (``SpikeGLXNIDQInterface`` leaves them out with a warning,
    ``SpikeGLXRecordingInterface`` refuses nidq): convert the recording ``read_recording``
    returns instead (NeuroConv's SpikeInterface tools).
``binary``
    A plain int16 file (samples × channels) at ``sub-X/ses-Y/ephys/sub-X_ses-Y_acq-P_raw.bin``,
    deliberately not under ``sourcedata/``: a lab's non-BIDS file at a BIDS-like path. Its
    reader sidecar ``<file>.json`` holds ``sampling_frequency``, ``num_channels``, ``dtype``,
    ``gain_to_uV``, ``channel_ids`` and ``channel_locations``.
``openephys``
    Open Ephys binary (GUI 0.6 layout,
    https://open-ephys.github.io/gui-docs/User-Manual/Recording-data/Binary-format.html), under
    ``sourcedata/sub-X/ses-Y/ephys/<YYYY-MM-DD_HH-MM-SS>_<probe>/Record Node 101/experiment1/
    recording1/``: ``structure.oebin`` (channel names = channel ids, ``bit_volts`` = gain),
    ``sync_messages.txt``, and ``continuous/Acquisition_Board-100.Rhythm Data/`` with
    ``continuous.dat``, ``sample_numbers.npy``, ``timestamps.npy``. The sheet names
    ``structure.oebin``; the geometry is ``channel_locations`` of its sidecar
    ``structure.oebin.json``. No ``settings.xml`` (SpikeInterface reads a probe from it only
    for Neuropixels).
``nwb``
    The NWB file copied with its BIDS sidecars (the default for probes not named).

A recording the simulated study does not make (e.g. a drifting high-density probe) is added to
such a folder as a new session's ``binary`` file by :func:`add_lab_recording`; a rest or sleep
epoch recorded around a task session (sheet columns ``task``, ``run``) as a ``binary`` file of
that session by :func:`add_lab_sleep_run`.

Recording folders are written whole into a temporary name and renamed into place, single files
through :func:`panneuro.io.atomic.atomic_path`; every output is byte-identical between runs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pandas as pd

from panneuro.io.atomic import atomic_path
from panneuro.io.tables import write_json

#: Formats a probe can be exported in (``formats`` values).
FORMATS: tuple[str, ...] = ("spikeglx", "binary", "openephys", "nwb")
#: Seconds of samples read and written at a time (bounds memory for long recordings).
CHUNK_SECONDS = 1.0
#: NI-DAQ analog input range (V) and the int16 full scale SpikeGLX divides it by.
NI_AI_RANGE_V = 5.0
NI_MAX_INT = 32768
#: Channels per MN line (SpikeGLX's default ``niMuxFactor``, a Whisper multiplexer).
NI_MUX_FACTOR = 32
#: Open Ephys names of the acquisition board stream and the record node.
OPENEPHYS_STREAM = "Acquisition_Board-100.Rhythm Data"
OPENEPHYS_NODE = "Record Node 101"
OPENEPHYS_GUI_VERSION = "0.6.7"
#: Characters a channel id cannot hold in a SpikeGLX ``~snsChanMap`` entry (``(name;i:o)``).
_CHANMAP_FORBIDDEN = re.compile(r"[()\s;:=,]")


def _entities(name: str) -> tuple[dict[str, str], str]:
    """Split a BIDS file name into its ``key-value`` entities and its suffix (+ extension)."""
    parts = name.split("_")
    entities = dict(part.split("-", 1) for part in parts[:-1] if "-" in part)
    return entities, parts[-1]


def _is_sidecar_of(name: str, recording: str) -> bool:
    """Whether ``name`` (same folder) belongs to ``recording`` by BIDS inheritance."""
    entities, _ = _entities(name)
    owner, _ = _entities(recording)
    return bool(entities) and all(owner.get(k) == v for k, v in entities.items())


def _hidden(relative: PurePosixPath) -> bool:
    return any(part.startswith(".") for part in relative.parts)


def _raw_files(raw_dir: Path) -> list[PurePosixPath]:
    """Every file of the raw dataset but git's and DataLad's (hidden), sorted."""
    files = []
    for root, dirs, names in os.walk(raw_dir):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in names:
            relative = PurePosixPath(Path(root, name).relative_to(raw_dir).as_posix())
            if not _hidden(relative):
                files.append(relative)
    return sorted(files)


def _check_formats(samples: pd.DataFrame, formats: Mapping[str, str]) -> dict[str, str]:
    probes = sorted({str(p) for p in samples["probe"]} - {"n/a", "nan"})
    checked = {}
    for probe, fmt in formats.items():
        if fmt not in FORMATS:
            raise ValueError(
                f"formats[{probe!r}] is {fmt!r}: not an export format; use one of {list(FORMATS)}."
            )
        if str(probe) not in probes:
            raise ValueError(
                f"formats names probe {probe!r}, which no row of the sample sheet "
                f"has (its probe column lists {probes}); fix the probe label in "
                "formats."
            )
        rows = samples[samples["probe"].astype(str) == str(probe)]
        other = sorted(set(rows["format"].astype(str)) - {"nwb"})
        if fmt != "nwb" and other:
            raise ValueError(
                f"formats[{probe!r}] is {fmt!r}, but rows of probe {probe!r} are "
                f"format {other} ({rows['path'].iloc[0]}); only NWB probe "
                "recordings can be converted: drop the probe from formats."
            )
        checked[str(probe)] = fmt
    return checked


def _source_file(raw_dir: Path, relative: PurePosixPath | str) -> Path:
    path = raw_dir / relative
    if not path.exists():
        what = "is a symlink whose content is not present" if path.is_symlink() else "not found"
        raise FileNotFoundError(
            f"{path}: {what}; the raw dataset must be complete before "
            "export (datalad get -r in it, or fix the sample sheet's path)."
        )
    return path


def _copy(source: Path, target: Path) -> None:
    """Copy a file's content (following an annex symlink) atomically."""
    with atomic_path(target) as tmp:
        shutil.copyfile(source, tmp)


def _labels(path: PurePosixPath, row: Any) -> tuple[str, str]:
    """Subject and session labels: from the BIDS file name (row values as a fallback)."""
    entities, _ = _entities(path.name)
    return entities.get("sub", str(row.subject)), entities.get("ses", str(row.session))


def _session_start(nwb: Path) -> dt.datetime:
    """Read the NWB ``session_start_time`` (names the Open Ephys folder, dates the .meta)."""
    import h5py

    with h5py.File(nwb, "r") as f:
        value = f["session_start_time"][()]
    text = value.decode() if isinstance(value, bytes) else str(value)
    return dt.datetime.fromisoformat(text)


def _chunks(n_samples: int, fs: float) -> Iterator[tuple[int, int]]:
    step = max(1, int(round(CHUNK_SECONDS * fs)))
    for start in range(0, n_samples, step):
        yield start, min(start + step, n_samples)


def _write_samples(recording, path: Path) -> str:
    """Write the int16 samples (samples × channels, little-endian) chunk by chunk; return SHA1."""
    sha1 = hashlib.sha1()
    with open(path, "wb") as f:
        for start, stop in _chunks(recording.get_num_samples(), recording.get_sampling_frequency()):
            traces = recording.get_traces(start_frame=start, end_frame=stop, return_in_uV=False)
            block = np.ascontiguousarray(traces, dtype="<i2").tobytes()
            sha1.update(block)
            f.write(block)
    return sha1.hexdigest().upper()


def _write_npy(path: Path, dtype: str, n: int, fill) -> None:
    """Write a 1-D ``.npy`` of ``n`` values chunk by chunk (``fill(start, stop)`` gives each)."""
    with open(path, "wb") as f:
        np.lib.format.write_array_header_1_0(
            f, {"descr": np.dtype(dtype).str, "fortran_order": False, "shape": (n,)}
        )
        for start in range(0, n, 1 << 20):
            f.write(np.asarray(fill(start, min(start + (1 << 20), n)), dtype=dtype).tobytes())


def _probe_facts(recording, path: Path, fmt: str) -> dict[str, Any]:
    """Check that the recording can be written as ``fmt``; return what every writer needs."""
    if recording.get_num_segments() != 1:
        raise ValueError(
            f"{path}: {recording.get_num_segments()} segments; the {fmt} export "
            "writes one continuous recording: export this probe as nwb."
        )
    if np.dtype(recording.get_dtype()) != np.int16:
        raise ValueError(
            f"{path}: samples are {recording.get_dtype()}, but {fmt} stores int16 "
            "counts: export this probe as nwb."
        )
    gains = np.asarray(recording.get_channel_gains(), dtype=float)
    offsets = np.asarray(recording.get_channel_offsets(), dtype=float)
    if np.unique(gains).size != 1 or not gains[0] > 0:
        raise ValueError(
            f"{path}: channel gains differ or are not positive ({np.unique(gains)}); "
            f"{fmt} has one gain per stream: export this probe as nwb."
        )
    if fmt != "binary" and np.any(offsets != 0):
        raise ValueError(
            f"{path}: non-zero channel offsets; {fmt} has none: export this probe as binary or nwb."
        )
    ids = [str(c) for c in recording.channel_ids]
    # NWB stores the gain as conversion in V (1.95e-7), read back as 0.19499999999999998 µV:
    # written with 12 significant digits (0.195), as an acquisition system records it
    gain = float(f"{gains[0]:.12g}")
    return {
        "fs": float(recording.get_sampling_frequency()),
        "n_channels": len(ids),
        "n_samples": int(recording.get_num_samples()),
        "gain": gain,
        "offset": float(offsets[0]) if offsets.size else 0.0,
        "channel_ids": ids,
        "locations": np.asarray(recording.get_channel_locations(), dtype=float),
    }


def _write_binary(recording, facts: dict, folder: Path, stem: str) -> PurePosixPath:
    """Plain int16 file + reader sidecar ``<file>.json``; returns the file's name."""
    name = f"{stem}_raw.bin"
    with atomic_path(folder / name) as tmp:
        _write_samples(recording, tmp)
    sidecar = {
        "sampling_frequency": facts["fs"],
        "num_channels": facts["n_channels"],
        "dtype": "int16",
        "gain_to_uV": facts["gain"],
        "channel_ids": facts["channel_ids"],
        "channel_locations": facts["locations"].tolist(),
    }
    if facts["offset"]:
        sidecar["offset_to_uV"] = facts["offset"]
    write_json(sidecar, folder / f"{name}.json")  # after the data: a sidecar means a whole file
    return PurePosixPath(name)


def _number(value: float) -> str:
    """Write a number as SpikeGLX does (``30000``, ``5``), exactly (round-trips as a float)."""
    short = f"{value:.12g}"
    return short if float(short) == value else repr(float(value))


def _nidq_meta(
    facts: dict, bin_name: str, run_folder: str, size: int, sha1: str, start: dt.datetime
) -> str:
    """Compose the ``.meta`` of an MN-only NI-DAQ stream (SpikeGLX keys, sorted as it writes)."""
    n = facts["n_channels"]
    ids = facts["channel_ids"]
    bad = [c for c in ids if _CHANMAP_FORBIDDEN.search(c) or "SY" in c or c.startswith("XD")]
    if bad:
        raise ValueError(
            f"channel id(s) {bad[:5]} cannot be SpikeGLX channel names (no "
            "brackets, spaces, ';', ':', '=', ',', 'SY' or leading 'XD'); export "
            "this probe as binary or openephys."
        )
    mux = NI_MUX_FACTOR if n % NI_MUX_FACTOR == 0 else n
    lines = n // mux
    mn_gain = NI_AI_RANGE_V / NI_MAX_INT / (facts["gain"] * 1e-6)
    meta = {
        "acqMnMaXaDw": f"{n},0,0,0",
        "fileCreateTime": start.strftime("%Y-%m-%dT%H:%M:%S"),
        "fileName": f"D:/SGL_DATA/{run_folder}/{bin_name}",
        "fileSHA1": sha1,
        "fileSizeBytes": str(size),
        "fileTimeSecs": _number(facts["n_samples"] / facts["fs"]),
        "firstSample": "0",
        "gateMode": "Immediate",
        "nSavedChans": str(n),
        "niAiRangeMax": _number(NI_AI_RANGE_V),
        "niAiRangeMin": _number(-NI_AI_RANGE_V),
        "niAiTermination": "Default",
        "niClockLine1": "Internal",
        "niDev1": "Dev1",
        "niMAChans1": "",
        "niMAGain": "1",
        "niMNChans1": "0" if lines == 1 else f"0:{lines - 1}",
        "niMNGain": _number(mn_gain),
        "niMaxInt": str(NI_MAX_INT),
        "niMuxFactor": str(mux),
        "niSampRate": _number(facts["fs"]),
        "niStartEnable": "false",
        "niXAChans1": "",
        "niXDBytes1": "0",
        "niXDChans1": "",
        "snsMnMaXaDw": f"{n},0,0,0",
        "snsSaveChanSubset": "all",
        "syncSourceIdx": "0",
        "trigMode": "Immediate",
        "typeEnabled": "nidq",
        "typeThis": "nidq",
        # header (MN lines, MA lines, channels per line, XA, XD words), then (name;index:order)
        "~snsChanMap": f"({lines},0,{mux},0,0)"
        + "".join(f"({c};{i}:{i})" for i, c in enumerate(ids)),
    }
    return "".join(f"{k}={v}\n" for k, v in sorted(meta.items()))


def _write_probe_json(recording, target: Path) -> None:
    import probeinterface as pi

    with atomic_path(target) as tmp:
        pi.write_probeinterface(tmp, recording.get_probegroup())


def _write_spikeglx(
    recording, facts: dict, ephys: Path, run: str, start: dt.datetime
) -> PurePosixPath:
    """SpikeGLX run folder ``<run>_g0/`` with the nidq ``.bin``/``.meta``, probe and sidecar."""
    folder_name = f"{run}_g0"
    bin_name = f"{run}_g0_t0.nidq.bin"
    probe_name = f"{run}_probe.json"
    with atomic_path(ephys / folder_name, suffix="") as tmp:
        tmp.mkdir()
        sha1 = _write_samples(recording, tmp / bin_name)
        size = (tmp / bin_name).stat().st_size
        (tmp / bin_name).with_suffix(".meta").write_text(
            _nidq_meta(facts, bin_name, folder_name, size, sha1, start)
        )
        _write_probe_json(recording, tmp / probe_name)
        (tmp / f"{bin_name}.json").write_text(
            json.dumps(
                {"probe_file": probe_name, "use_names_as_ids": True}, indent=2, sort_keys=True
            )
            + "\n"
        )
    return PurePosixPath(folder_name, bin_name)


def _write_openephys(
    recording, facts: dict, ephys: Path, probe: str, start: dt.datetime
) -> PurePosixPath:
    """Open Ephys binary recording folder; returns the path of its ``structure.oebin``."""
    root_name = f"{start.strftime('%Y-%m-%d_%H-%M-%S')}_{probe}"
    inner = PurePosixPath(OPENEPHYS_NODE, "experiment1", "recording1")
    fs, n = facts["fs"], facts["n_samples"]
    with atomic_path(ephys / root_name, suffix="") as tmp:
        recording_dir = tmp / inner
        continuous = recording_dir / "continuous" / OPENEPHYS_STREAM
        continuous.mkdir(parents=True)
        _write_samples(recording, continuous / "continuous.dat")
        _write_npy(
            continuous / "sample_numbers.npy",
            "<i8",
            n,
            lambda a, b: np.arange(a, b, dtype=np.int64),
        )
        _write_npy(
            continuous / "timestamps.npy",
            "<f8",
            n,
            lambda a, b: np.arange(a, b, dtype=np.float64) / fs,
        )
        channels = [
            {
                "channel_name": c,
                "description": "headstage data channel",
                "identifier": "genericdata.continuous",
                "history": "Acquisition Board",
                "bit_volts": facts["gain"],
                "units": "uV",
                "source_processor_index": i,
                "recorded_processor_index": i,
            }
            for i, c in enumerate(facts["channel_ids"])
        ]
        oebin = {
            "GUI version": OPENEPHYS_GUI_VERSION,
            "events": [],
            "spikes": [],
            "continuous": [
                {
                    "folder_name": f"{OPENEPHYS_STREAM}/",
                    "sample_rate": fs,
                    "source_processor_id": 100,
                    "source_processor_name": "Acquisition Board",
                    "stream_name": "Rhythm Data",
                    "recorded_processor": "Record Node",
                    "recorded_processor_id": 101,
                    "num_channels": facts["n_channels"],
                    "channels": channels,
                }
            ],
        }
        (recording_dir / "structure.oebin").write_text(json.dumps(oebin, indent=2) + "\n")
        epoch_ms = int(round(start.timestamp() * 1000))
        (recording_dir / "sync_messages.txt").write_text(
            f"Software Time (milliseconds since midnight Jan 1st 1970 UTC): {epoch_ms}\r\n"
            f"Start Time for Acquisition Board (100) - Rhythm Data @ {fs:g} Hz: 0\r\n"
        )
        (recording_dir / "structure.oebin.json").write_text(
            json.dumps({"channel_locations": facts["locations"].tolist()}, indent=2) + "\n"
        )
    return PurePosixPath(root_name, inner, "structure.oebin")


def _convert(
    raw_dir: Path, dest: Path, relative: PurePosixPath, row: Any, fmt: str
) -> PurePosixPath:
    """Write one NWB probe recording in ``fmt``; return its new path relative to ``dest``."""
    from panneuro.ephys.preprocessing import read_recording

    source = _source_file(raw_dir, relative)
    recording = read_recording(source, "nwb")
    facts = _probe_facts(recording, source, fmt)
    subject, session = _labels(relative, row)
    probe = str(row.probe)
    stem = f"sub-{subject}_ses-{session}_acq-{probe}"
    if fmt == "binary":
        ephys = PurePosixPath(f"sub-{subject}", f"ses-{session}", "ephys")
        return ephys / _write_binary(recording, facts, dest / ephys, stem)
    ephys = PurePosixPath("sourcedata", f"sub-{subject}", f"ses-{session}", "ephys")
    (dest / ephys).mkdir(parents=True, exist_ok=True)
    start = _session_start(source)
    if fmt == "spikeglx":
        return ephys / _write_spikeglx(recording, facts, dest / ephys, stem, start)
    return ephys / _write_openephys(recording, facts, dest / ephys, probe, start)


def _filtered_scans(source: Path, kept: set[PurePosixPath], folder: PurePosixPath) -> str | None:
    """Drop the ``_scans.tsv`` rows of recordings no longer in the folder (None: none left)."""
    lines = source.read_text().splitlines()
    if not lines:
        return None
    header, rows = lines[0], lines[1:]
    keep = [r for r in rows if folder / r.split("\t", 1)[0] in kept]
    return "\n".join([header, *keep]) + "\n" if keep else None


def export_lab_folder(
    raw_dir: Path, samples: pd.DataFrame, dest: Path, formats: Mapping[str, str]
) -> pd.DataFrame:
    """Write the raw dataset as a lab's plain folder, with probes in acquisition formats.

    Copied as they are (git and DataLad files left out, annexed files by content): every
    non-hidden file of ``raw_dir`` (``dataset_description.json``, ``participants.tsv``/``.json``,
    the README, the root ``task-*_events.json``, ``sub-*/sub-*_sessions.tsv``, behaviour
    ``*_events.tsv``, ECoG BrainVision files and their BIDS sidecars, NWB probes with theirs,
    including the iEEG ``_events.tsv``), except the NWB files of converted probes and the
    sidecars that belong only to them (BIDS inheritance: a file whose entities are a subset of
    the recording's, in its folder); a ``_scans.tsv`` loses the rows of converted files. Each
    probe named in ``formats`` is written in that format (see the module docstring for the
    layouts and the SpikeGLX choice), chunk by chunk (:data:`CHUNK_SECONDS`).

    Parameters
    ----------
    raw_dir : pathlib.Path
        The simulated raw BIDS dataset (``resources/raw``), complete (``datalad get``).
    samples : pandas.DataFrame
        Its sample sheet (``config/samples.tsv``: subject, session, species, datatype, probe,
        region, path, format), read with ``dtype=str``.
    dest : pathlib.Path
        The folder to create; it must not exist or be empty, and not lie inside ``raw_dir``.
    formats : mapping of str to str
        Probe label (the sheet's ``probe``, e.g. ``"PFC"``) to one of :data:`FORMATS`; probes
        not named stay ``"nwb"``.

    Returns
    -------
    pandas.DataFrame
        The lab's sample sheet: ``samples``' rows in order, with ``path`` (relative to ``dest``)
        and ``format`` of converted probes updated. Not written: the caller writes it.

    Raises
    ------
    ValueError
        For an unknown format, a probe label no row has, a probe that is not an NWB
        recording, a non-empty ``dest``, or a recording the format cannot hold.
    FileNotFoundError
        If a sheet's file (or an annexed file's content) is missing in ``raw_dir``.
    """
    raw_dir, dest = Path(raw_dir), Path(dest)
    if not (raw_dir / "dataset_description.json").is_file():
        raise FileNotFoundError(
            f"{raw_dir / 'dataset_description.json'}: not found; raw_dir "
            "must be the raw BIDS dataset (resources/raw)."
        )
    if dest.resolve().is_relative_to(raw_dir.resolve()):
        raise ValueError(
            f"{dest}: inside the raw dataset {raw_dir}; export to a folder outside it."
        )
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise ValueError(
            f"{dest}: exists and is not an empty folder; remove it or choose another export folder."
        )
    missing = [c for c in ("probe", "path", "format") if c not in samples.columns]
    if missing:
        raise ValueError(
            f"sample sheet lacks column(s) {missing}; it needs the columns of config/samples.tsv."
        )
    chosen = _check_formats(samples, formats)

    sheet = samples.copy()
    converted: dict[int, str] = {}
    for index, row in enumerate(sheet.itertuples(index=False)):
        _source_file(raw_dir, str(row.path))
        fmt = chosen.get(str(row.probe), "nwb")
        if fmt != "nwb" and str(row.format) == "nwb":
            converted[index] = fmt

    # Which raw files stay: all but converted recordings and the sidecars only they own.
    recordings = [PurePosixPath(str(p)) for p in sheet["path"]]
    dropped = {recordings[i] for i in converted}
    kept_recordings = [r for r in recordings if r not in dropped]
    files = _raw_files(raw_dir)
    copies: list[PurePosixPath] = []
    for file in files:
        if file in dropped:
            continue
        owners = [
            r
            for r in recordings
            if r.parent == file.parent and (r == file or _is_sidecar_of(file.name, r.name))
        ]
        if owners and all(r in dropped for r in owners):
            continue
        copies.append(file)
    kept = set(copies)
    missing_rows = [r for r in kept_recordings if r not in kept]
    if missing_rows:
        raise FileNotFoundError(
            f"{raw_dir / missing_rows[0]}: in the sample sheet but hidden "
            "or outside the dataset; fix the sheet's path column."
        )

    dest.mkdir(parents=True, exist_ok=True)
    for file in copies:
        source = _source_file(raw_dir, file)
        if file.name.endswith("_scans.tsv"):
            text = _filtered_scans(source, kept, file.parent)
            if text is not None:
                with atomic_path(dest / file) as tmp:
                    tmp.write_text(text)
            continue
        _copy(source, dest / file)

    paths, kinds = sheet["path"].tolist(), sheet["format"].tolist()
    for index, fmt in converted.items():
        row = next(sheet.iloc[[index]].itertuples(index=False))
        paths[index] = str(_convert(raw_dir, dest, recordings[index], row, fmt))
        kinds[index] = fmt
    sheet["path"], sheet["format"] = paths, kinds
    return sheet


def _add_session_binary(
    recording, dest: Path, subject: str, session: str, entities: str
) -> PurePosixPath:
    """Write a recording as ``sub-X/ses-Y/ephys/sub-X_ses-Y_<entities>_raw.bin`` (+ sidecar).

    Returns the file's path relative to ``dest`` (the sheet's ``path``).
    """
    ephys = PurePosixPath(f"sub-{subject}", f"ses-{session}", "ephys")
    stem = f"sub-{subject}_ses-{session}_{entities}"
    facts = _probe_facts(recording, dest / ephys / stem, "binary")
    (dest / ephys).mkdir(parents=True, exist_ok=True)
    return ephys / _write_binary(recording, facts, dest / ephys, stem)


def add_lab_recording(
    recording,
    dest: Path,
    sheet: pd.DataFrame,
    *,
    subject: str,
    session: str,
    probe: str,
    region: str,
    acq_time: str,
    datatype: str = "array",
) -> pd.DataFrame:
    """Add a recording to a lab folder as a new session's plain binary file.

    For recordings the simulated study does not make (e.g. a drifting high-density probe,
    :func:`panneuro.simulate.drift.simulate_drifting_probe`), handed over as a lab would: the
    int16 samples and reader sidecar of the ``binary`` layout (module docstring) at
    ``sub-X/ses-Y/ephys/sub-X_ses-Y_acq-P_raw.bin``, and the session's start as a row of the
    subject's ``sub-X_sessions.tsv`` (where :mod:`panneuro.ingest.session_metadata` reads it).
    The session has no behaviour: the workflow sorts it and writes its units NWB only.

    Parameters
    ----------
    recording : spikeinterface.core.BaseRecording
        One segment, int16, one gain, with channel locations.
    dest : pathlib.Path
        A lab folder written by :func:`export_lab_folder`.
    sheet : pandas.DataFrame
        Its sample sheet; ``subject`` must have rows in it (so ``participants.tsv`` has it).
    subject, session, probe, region : str
        Labels of the new row (``session`` new for the subject).
    acq_time : str
        The session's start, BIDS ``YYYY-MM-DDThh:mm:ss``.
    datatype : str
        ``array`` or ``microwire``.

    Returns
    -------
    pandas.DataFrame
        ``sheet`` with the new row appended. Not written: the caller writes it.

    Raises
    ------
    ValueError
        For a subject the sheet does not have, a session it already has, or a recording the
        binary layout cannot hold.
    """
    dest = Path(dest)
    rows = sheet[sheet["subject"].astype(str) == str(subject)]
    if rows.empty:
        raise ValueError(
            f"sub-{subject} has no row in the sample sheet; add the recording to a "
            "subject of the lab folder (participants.tsv lists it)."
        )
    if (rows["session"].astype(str) == str(session)).any():
        raise ValueError(
            f"sub-{subject} ses-{session} is already in the sample sheet; add the "
            "recording as a new session."
        )
    path = _add_session_binary(recording, dest, subject, session, f"acq-{probe}")
    sessions = dest / f"sub-{subject}" / f"sub-{subject}_sessions.tsv"
    table = (
        pd.read_csv(sessions, sep="\t", dtype=str, keep_default_na=False)
        if sessions.is_file()
        else pd.DataFrame(columns=["session_id", "acq_time"])
    )
    new = {column: "n/a" for column in table.columns}
    new.update({"session_id": f"ses-{session}", "acq_time": acq_time})
    with atomic_path(sessions) as tmp:
        pd.concat([table, pd.DataFrame([new])], ignore_index=True).to_csv(
            tmp, sep="\t", index=False, lineterminator="\n"
        )
    row = {
        **rows.iloc[0].to_dict(),
        "session": str(session),
        "datatype": datatype,
        "probe": str(probe),
        "region": region,
        "path": str(path),
        "format": "binary",
    }
    return pd.concat([sheet, pd.DataFrame([row])[sheet.columns]], ignore_index=True)


def add_lab_sleep_run(
    recording,
    dest: Path,
    sheet: pd.DataFrame,
    *,
    subject: str,
    session: str,
    probe: str,
    run: str,
    task: str = "sleep",
) -> pd.DataFrame:
    """Add a sleep (or rest) run of a task session's probe to a lab folder as a binary file.

    The run is recorded by a probe the session's task recording used (the sleep stage finds
    the task's units in it), so the sheet must have that probe's task row; the new row copies
    its labels with ``task`` and ``run`` set. The file is the ``binary`` layout (module
    docstring) at ``sub-X/ses-Y/ephys/sub-X_ses-Y_task-<task>_acq-P_run-N_raw.bin``. A sheet
    without the optional ``task`` and ``run`` columns gets them (``harlow`` and ``n/a`` on
    its other rows, what the workflow assumes when they are absent).

    Parameters
    ----------
    recording : spikeinterface.core.BaseRecording
        One segment, int16, one gain, with channel locations (the task recording's channels).
    dest : pathlib.Path
        A lab folder written by :func:`export_lab_folder`.
    sheet : pandas.DataFrame
        Its sample sheet.
    subject, session, probe : str
        The task recording the run goes with.
    run : str
        BIDS run index (the study design: 1 before the task, 2 after it).
    task : str
        BIDS task of the epoch.

    Returns
    -------
    pandas.DataFrame
        ``sheet`` with the new row appended. Not written: the caller writes it.

    Raises
    ------
    ValueError
        When the session has no task recording of ``probe``, the run is already in the sheet,
        or the recording cannot be held by the binary layout.
    """
    from panneuro.study import task_rows

    dest = Path(dest)
    sheet = sheet.copy()
    for column, default in (("task", "harlow"), ("run", "n/a")):
        if column not in sheet.columns:
            sheet[column] = default
    same = (sheet["subject"].astype(str) == str(subject)) & (
        sheet["session"].astype(str) == str(session)
    )
    tasks = task_rows(sheet)
    task_row = tasks[
        (tasks["subject"].astype(str) == str(subject))
        & (tasks["session"].astype(str) == str(session))
        & (tasks["probe"].astype(str) == str(probe))
    ]
    if task_row.empty:
        raise ValueError(
            f"sub-{subject} ses-{session} has no task recording of probe {probe} in the sample "
            f"sheet; a {task} run is matched to the task's units: add the task recording first."
        )
    if (same & (sheet["task"] == task) & (sheet["run"].astype(str) == str(run))).any():
        raise ValueError(
            f"sub-{subject} ses-{session} already has a {task} run {run} in the sample sheet."
        )
    path = _add_session_binary(
        recording, dest, subject, session, f"task-{task}_acq-{probe}_run-{run}"
    )
    row = {
        **task_row.iloc[0].to_dict(),
        "path": str(path),
        "format": "binary",
        "task": task,
        "run": str(run),
    }
    return pd.concat([sheet, pd.DataFrame([row])[sheet.columns]], ignore_index=True)
