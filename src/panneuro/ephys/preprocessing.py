"""Read raw microelectrode recordings and preprocess them for spike sorting (SpikeInterface).

Raw readers (:data:`READERS`, by the sample sheet's ``format``): NWB, plain binary with a JSON
sidecar, and SpikeGLX / Open Ephys / Intan / Blackrock / Neuralynx through neo.

The chain is the usual one: band-pass filter, bad-channel detection (with the reason of each
label) and removal, common (median) reference. Everything stays lazy; :func:`save_recording`
computes it chunk by chunk into a SpikeInterface binary folder with bounded memory.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import traceback
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from panneuro.io.atomic import atomic_path
from panneuro.io.tables import write_tsv
from panneuro.io.validation import check_ieeg_sidecars, check_recording_finite

#: Name of the bad-channel table written inside the preprocessed folder.
BAD_CHANNELS_FILE = "bad_channels.tsv"
#: Output dtype of the preprocessed recording: int16 counts (the raw gain is kept), half the
#: disk and I/O of float32; the filter's rounding error (< 1 count = 0.2 µV) is far below noise.
PREPROCESSED_DTYPE = "int16"
#: SpikeInterface job workers: threads, not forked processes. The chunk work (scipy's
#: second-order-section filter, NumPy reductions, file writes) releases the GIL; on the 300 s
#: benchmark recording with 2 workers the save took ~20% less wall time (11 vs 14 s under load).
POOL_ENGINE = "thread"
#: Fewer channels than this: a bundle or tetrode, where neighbour coherence is meaningless.
MIN_CHANNELS_FOR_COHERENCE = 16


#: Keys of a plain-binary sidecar (``<file>.json``) or of ``options`` for ``format: binary``:
#: required, and optional with their defaults.
BINARY_REQUIRED = ("sampling_frequency", "num_channels", "dtype")
BINARY_OPTIONAL = {
    "gain_to_uV": 1.0,
    "offset_to_uV": 0.0,
    "file_offset": 0,
    "time_axis": 0,
    "channel_ids": None,
    "probe_file": None,
    "channel_locations": None,
}


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text[:300]}" if text else type(error).__name__


def sidecar_path(path: str | os.PathLike) -> Path:
    """Return the JSON sidecar of a raw file or folder: ``<path>.json`` beside it.

    Parameters
    ----------
    path : path-like
        The raw file (or folder, for folder formats).

    Returns
    -------
    pathlib.Path
        ``<path>.json`` (e.g. ``probe.bin.json`` for ``probe.bin``).
    """
    path = Path(path)
    return path.with_name(path.name + ".json")


def _reader_options(path: Path, format: str, options: Mapping[str, Any] | None) -> dict:  # noqa: A002
    """Options of a reader: the sidecar's, overridden by those given in code."""
    merged: dict[str, Any] = {}
    sidecar = sidecar_path(path)
    if sidecar.exists():
        try:
            loaded = json.loads(sidecar.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise ValueError(
                f"{sidecar}: not valid JSON ({_one_line(error)}); fix the sidecar of {path.name}."
            ) from error
        if not isinstance(loaded, dict):
            raise ValueError(f"{sidecar}: must be a JSON object of reader options.")
        merged.update(loaded)
        merged["_sidecar_dir"] = str(sidecar.parent)
    merged.update(dict(options or {}))
    if format == "binary":
        missing = [k for k in BINARY_REQUIRED if k not in merged]
        if missing:
            raise ValueError(
                f"{path}: plain binary needs {list(BINARY_REQUIRED)} (optional "
                f"{sorted(BINARY_OPTIONAL)}); {missing} missing. Write them to "
                f"{sidecar} or pass them as options."
            )
    return merged


def _attach_geometry(recording, path: Path, options: Mapping[str, Any]):
    """Attach a probe from ``probe_file`` (probeinterface JSON) or ``channel_locations``."""
    probe_file, locations = options.get("probe_file"), options.get("channel_locations")
    if probe_file is not None:
        import probeinterface as pi

        probe_path = Path(probe_file)
        if not probe_path.is_absolute():
            probe_path = Path(options.get("_sidecar_dir", path.parent)) / probe_path
        if not probe_path.exists():
            raise FileNotFoundError(
                f"{path}: probe file {probe_path} not found; fix probe_file in the sidecar."
            )
        group = pi.read_probeinterface(probe_path)
        recording.set_probegroup(group)  # in place (SpikeInterface >= 0.105)
        return recording
    if locations is not None:
        locations = np.asarray(locations, dtype=float)
        if locations.shape != (recording.get_num_channels(), 2):
            raise ValueError(
                f"{path}: channel_locations must be {recording.get_num_channels()} "
                f"[x, y] pairs (µm), got shape {locations.shape}; num_channels or "
                "channel_locations in the sidecar is wrong."
            )
        recording.set_dummy_probe_from_locations(locations)  # in place, on the fresh reader
    return recording


def _read_nwb(path: Path, options: Mapping[str, Any]):
    from spikeinterface.extractors import read_nwb_recording

    try:
        return read_nwb_recording(path, electrical_series_path="acquisition/ElectricalSeriesRaw")
    except ValueError:
        # A lab's file may name its series differently: let SpikeInterface find the only one.
        return read_nwb_recording(path)


def _read_binary(path: Path, options: Mapping[str, Any]):
    from spikeinterface.core import read_binary

    try:
        fs = float(options["sampling_frequency"])
        n_channels = int(options["num_channels"])
        dtype = np.dtype(options["dtype"])
        offset = int(options.get("file_offset", 0))
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"{path}: bad plain-binary options ({_one_line(error)}); fix "
            f"sampling_frequency, num_channels, dtype in {sidecar_path(path)}."
        ) from error
    if fs <= 0 or n_channels < 1 or offset < 0:
        raise ValueError(
            f"{path}: sampling_frequency and num_channels must be > 0 and "
            f"file_offset >= 0 (got {fs}, {n_channels}, {offset})."
        )
    # SpikeInterface silently drops a trailing partial frame: check the size here instead.
    frame = n_channels * dtype.itemsize
    data_bytes = path.stat().st_size - offset
    if data_bytes <= 0 or data_bytes % frame:
        raise ValueError(
            f"{path}: {data_bytes} data bytes is not a whole number of frames of "
            f"{n_channels} channels x {dtype.itemsize} bytes ({dtype}); the file "
            "is truncated or the sidecar's num_channels/dtype/file_offset is wrong."
        )
    for key in ("channel_ids", "channel_locations"):
        if options.get(key) is not None and len(options[key]) != n_channels:
            raise ValueError(
                f"{path}: num_channels is {n_channels} but {key} lists "
                f"{len(options[key])}; one of them is wrong: fix "
                f"{sidecar_path(path)}."
            )
    unknown = set(options) - set(BINARY_REQUIRED) - set(BINARY_OPTIONAL) - {"_sidecar_dir"}
    if unknown:
        raise ValueError(
            f"{path}: unknown plain-binary option(s) {sorted(unknown)}; known: "
            f"{[*BINARY_REQUIRED, *BINARY_OPTIONAL]}."
        )
    recording = read_binary(
        path,
        sampling_frequency=fs,
        dtype=dtype,
        num_channels=n_channels,
        file_offset=offset,
        time_axis=int(options.get("time_axis", 0)),
        channel_ids=options.get("channel_ids"),
        gain_to_uV=float(options.get("gain_to_uV", 1.0)),
        offset_to_uV=float(options.get("offset_to_uV", 0.0)),
    )
    return _attach_geometry(recording, path, options)


def _spikeglx_stream(path: Path) -> tuple[Path, dict]:
    """SpikeGLX: the sheet may name the ``.bin`` file; neo wants its folder and stream."""
    if path.is_file():
        name = path.name  # e.g. run_g0_t0.imec0.ap.bin -> stream "imec0.ap"
        parts = name.split(".")
        stream = ".".join(parts[-3:-1]) if len(parts) >= 4 else None
        return path.parent, ({"stream_name": stream} if stream else {})
    return path, {}


def _check_spikeglx_size(folder: Path) -> None:
    """Check that a SpikeGLX ``.bin`` holds whole frames and the size its ``.meta`` records.

    neo reads ``file size // (2 × nSavedChans)`` samples and silently drops the rest, so a
    truncated copy would pass unnoticed; the ``.meta``'s ``fileSizeBytes`` says what SpikeGLX
    wrote (https://billkarsh.github.io/SpikeGLX/help/metadata/).
    """
    for meta_file in sorted(folder.glob("*.meta")):
        bin_file = meta_file.with_suffix(".bin")
        if not bin_file.exists():
            continue
        meta = dict(
            line.split("=", 1) for line in meta_file.read_text().splitlines() if "=" in line
        )
        size = bin_file.stat().st_size
        try:
            expected = int(meta["fileSizeBytes"])
            frame = 2 * int(meta["nSavedChans"])
        except (KeyError, ValueError) as error:
            raise ValueError(
                f"{meta_file}: not a SpikeGLX .meta file (fileSizeBytes or "
                f"nSavedChans missing or not a number: {_one_line(error)}); get "
                "the file again or fix the sample sheet's format column."
            ) from error
        if size != expected or size % frame:
            raise ValueError(
                f"{bin_file}: {size} bytes but its .meta records {expected} "
                f"({frame}-byte frames); the file is truncated or not the one the "
                ".meta describes: get it again."
            )


def _check_openephys_size(folder: Path) -> None:
    """Check that each Open Ephys ``continuous.dat`` holds whole int16 frames of its channels.

    The channel count comes from ``structure.oebin``
    (https://open-ephys.github.io/gui-docs/User-Manual/Recording-data/Binary-format.html);
    neo floors a partial frame away without a word.
    """
    for oebin in sorted(folder.rglob("structure.oebin")):
        try:
            streams = json.loads(oebin.read_text()).get("continuous", [])
        except (json.JSONDecodeError, UnicodeDecodeError, AttributeError) as error:
            raise ValueError(
                f"{oebin}: not valid JSON ({_one_line(error)}); get the file again."
            ) from error
        for stream in streams:
            dat = (
                oebin.parent / "continuous" / str(stream.get("folder_name", "")) / "continuous.dat"
            )
            frame = 2 * int(stream.get("num_channels", len(stream.get("channels", [])) or 1))
            if dat.exists() and dat.stat().st_size % frame:
                raise ValueError(
                    f"{dat}: {dat.stat().st_size} bytes is not a whole number of "
                    f"{frame}-byte frames ({frame // 2} int16 channels in "
                    f"{oebin.name}); the file is truncated: get it again."
                )


#: Neuralynx files: a 16 kB text header, then (``.ncs``) fixed 1044-byte CSC records
#: (https://neuralynx.fh-co.com/article/neuralynx-data-file-formats).
NLX_HEADER_BYTES, NCS_RECORD_BYTES = 16384, 1044


def _check_neuralynx_size(folder: Path) -> None:
    """Check that each Neuralynx ``.ncs`` is a whole header plus whole 1044-byte records.

    neo skips an ``.ncs`` shorter than its 16 kB header as an empty channel (the channel
    silently disappears) and fails on a partial record with numpy's message, which names
    no file.
    """
    for ncs in sorted(p for p in folder.iterdir() if p.suffix.lower() == ".ncs"):
        size = ncs.stat().st_size
        if size < NLX_HEADER_BYTES or (size - NLX_HEADER_BYTES) % NCS_RECORD_BYTES:
            raise ValueError(
                f"{ncs}: {size} bytes is not a {NLX_HEADER_BYTES}-byte header plus "
                f"whole {NCS_RECORD_BYTES}-byte CSC records; the file is truncated: "
                "get it again (or move it out of the folder)."
            )


#: Size checks run before neo opens a folder format (neo drops a partial last frame silently).
_SIZE_CHECKS: dict[str, Callable[[Path], None]] = {
    "read_spikeglx": _check_spikeglx_size,
    "read_openephys": _check_openephys_size,
    "read_neuralynx": _check_neuralynx_size,
}


def _neo_reader(function: str, *, folder: bool = False) -> Callable[[Path, Mapping], Any]:
    """Make a reader through ``spikeinterface.extractors.<function>`` (neo)."""

    def read(path: Path, options: Mapping[str, Any]):
        import spikeinterface.extractors as se

        kwargs = {
            k: v
            for k, v in options.items()
            if k not in ("probe_file", "channel_locations", "_sidecar_dir")
        }
        target = path
        if function == "read_spikeglx":
            target, stream = _spikeglx_stream(path)
            kwargs = {**stream, **kwargs}
        elif folder and path.is_file():
            target = path.parent
        if function in _SIZE_CHECKS and target.is_dir():
            _SIZE_CHECKS[function](target)
        recording = getattr(se, function)(target, **kwargs)
        return _attach_geometry(recording, path, options)

    read.__name__ = read.__qualname__ = f"spikeinterface.extractors.{function}"
    return read


#: Raw readers by the sample sheet's ``format`` column; each is called as
#: ``reader(path, options)`` where ``options`` come from the sidecar ``<path>.json`` (if present)
#: updated by those given in code. ``binary`` needs ``sampling_frequency``, ``num_channels``,
#: ``dtype`` (see :data:`BINARY_REQUIRED`, :data:`BINARY_OPTIONAL`); the neo formats take the
#: SpikeInterface extractor's keyword arguments (e.g. ``stream_name``). Every format accepts
#: ``probe_file`` (a probeinterface JSON, relative to the sidecar) or ``channel_locations``
#: for recordings that carry no geometry (Intan, Blackrock, Neuralynx, plain binary).
READERS: dict[str, Callable[[Path, Mapping[str, Any]], Any]] = {
    "nwb": _read_nwb,
    "binary": _read_binary,
    "spikeglx": _neo_reader("read_spikeglx", folder=True),
    "openephys": _neo_reader("read_openephys", folder=True),
    "intan": _neo_reader("read_intan"),
    "blackrock": _neo_reader("read_blackrock"),
    "neuralynx": _neo_reader("read_neuralynx", folder=True),
}
#: The library function behind each format (named in errors).
READER_NAMES: dict[str, str] = {
    "nwb": "spikeinterface.extractors.read_nwb_recording",
    "binary": "spikeinterface.core.read_binary",
    **{k: v.__name__ for k, v in READERS.items() if k not in ("nwb", "binary")},
}


def read_recording(
    path: str | os.PathLike,
    format: str,  # noqa: A002  (the sheet's column)
    options: Mapping[str, Any] | None = None,
):
    """Read a raw recording by its sample-sheet format.

    Parameters
    ----------
    path : path-like
        The raw file (or folder for ``spikeglx``, ``openephys``, ``neuralynx``; a file inside
        it also works).
    format : str
        The sample sheet's ``format`` (a key of :data:`READERS`): ``nwb``, ``binary``,
        ``spikeglx``, ``openephys``, ``intan``, ``blackrock``, ``neuralynx``.
    options : mapping, optional
        Reader options; they update those of the JSON sidecar ``<path>.json`` (read for every
        format but ``nwb``). Plain binary needs ``sampling_frequency`` (Hz), ``num_channels``,
        ``dtype`` (e.g. ``"int16"``), and takes ``gain_to_uV``, ``offset_to_uV``,
        ``file_offset`` (bytes), ``time_axis`` (0 = samples × channels), ``channel_ids``, and
        the geometry as ``probe_file`` or ``channel_locations`` (see :data:`READERS`).

    Returns
    -------
    spikeinterface.core.BaseRecording
        Lazy recording with its probe (channel locations) attached.

    Raises
    ------
    ValueError
        For a format without a reader, or a file the reader cannot read (one line naming the
        file, the format and the reader), e.g. a truncated plain-binary file; inside a BIDS
        dataset, a recording that disagrees with its ``_channels.tsv`` or ``_ieeg.json``;
        a float recording holding NaN (:mod:`panneuro.io.validation`).
    FileNotFoundError
        If the file does not exist.
    """
    path = Path(path)
    if format not in READERS:
        raise ValueError(
            f"{path}: no reader for format {format!r}; supported: "
            f"{sorted(READERS)}. Convert the file to one of them or add a reader "
            "to panneuro.ephys.preprocessing.READERS."
        )
    reader = READER_NAMES[format]
    if not path.exists():
        raise FileNotFoundError(
            f"{path}: raw recording not found (format {format}, reader "
            f"{reader}); check the sample sheet's path column and that the "
            "raw dataset is installed (datalad get)."
        )
    opts = {} if format == "nwb" else _reader_options(path, format, options)
    try:
        recording = READERS[format](path, opts)
        # Readers map the data lazily: a file cut short (e.g. an NSx whose header counts more
        # samples than it holds) would only fail mid-job. Reading each segment's last frame
        # here turns that into this one-line error.
        for segment in range(recording.get_num_segments()):
            n_samples = recording.get_num_samples(segment)
            recording.get_traces(
                segment_index=segment, start_frame=max(n_samples - 1, 0), end_frame=n_samples
            )
    except Exception as error:  # neo/h5py raise OSError, IndexError, KeyError, ... on bad files
        if traceback.extract_tb(error.__traceback__)[-1].filename == __file__:
            raise  # panneuro's own check: already one line naming the file
        raise ValueError(
            f"{path}: cannot read as {format} with {reader} ({_one_line(error)}); "
            "the file is damaged or truncated (get it again), or not "
            f"{format} (fix the sample sheet's format column)."
        ) from error
    check_ieeg_sidecars(
        path,
        sampling_frequency=recording.get_sampling_frequency(),
        channel_names=[str(c) for c in recording.channel_ids],
        duration=recording.get_total_duration(),
    )
    check_recording_finite(recording, path=path)
    if not recording.has_probe():
        raise ValueError(
            f"{path}: the recording has no channel locations; give the geometry "
            f"(probe_file or channel_locations in {sidecar_path(path).name}, or the "
            "NWB electrodes table's rel_x/rel_y) so sorters know the probe."
        )
    return recording


#: Band-pass settings when config does not give them: SpikeInterface's own design
#: (``bandpass_filter``: Butterworth order 5, zero phase), applied by FFT
#: (:mod:`panneuro.ephys.fft_bandpass`, the same response as ``sosfiltfilt`` at half the cost).
FILTER_DEFAULTS: dict[str, Any] = {
    "filter_order": 5,
    "ftype": "butter",
    "direction": "forward-backward",
    "filter_method": "fft",
}
#: Filter directions SpikeInterface offers (``spikeinterface.preprocessing.bandpass_filter``).
DIRECTIONS = ("forward-backward", "forward")
#: How the band-pass is applied: ``fft`` (zero phase only) or ``sos`` (SpikeInterface's
#: ``sosfiltfilt`` / ``sosfilt``).
FILTER_METHODS = ("fft", "sos")
#: Random chunks (0.3 s each) SpikeInterface's ``detect_bad_channels`` reads when config does
#: not say: 9 s of data (IBL's ``detect_bad_channels_cbin`` reads 10 × 0.3 s or 20 × 0.4 s by
#: version). SpikeInterface's own default, 100 chunks, cost 1.8 s of a 4.5 s preprocessing of
#: the 300 s benchmark recording.
BAD_CHANNEL_CHUNKS = 30


def preprocess_kwargs(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Keyword arguments of :func:`preprocess` from ``config["ephys"]["preprocessing"]``.

    Parameters
    ----------
    settings : mapping
        ``freq_min``, ``freq_max``, ``reference``, ``bad_channel_detection`` and optionally
        ``filter_order``, ``ftype``, ``direction`` (defaults :data:`FILTER_DEFAULTS`).

    Returns
    -------
    dict
        Everything :func:`preprocess` takes but the recording and the seed.
    """
    return {
        "freq_min": float(settings["freq_min"]),
        "freq_max": float(settings["freq_max"]),
        "reference": str(settings["reference"]),
        "detect_bad_channels": bool(settings["bad_channel_detection"]),
        "filter_order": int(settings.get("filter_order", FILTER_DEFAULTS["filter_order"])),
        "ftype": str(settings.get("ftype", FILTER_DEFAULTS["ftype"])),
        "direction": str(settings.get("direction", FILTER_DEFAULTS["direction"])),
        "filter_method": str(settings.get("filter_method", FILTER_DEFAULTS["filter_method"])),
        "bad_channel_chunks": int(settings.get("bad_channel_chunks", BAD_CHANNEL_CHUNKS)),
        **_motion_kwargs(settings.get("motion_correction")),
    }


def _motion_kwargs(settings: Mapping[str, Any] | None) -> dict[str, Any]:
    from panneuro.ephys.motion import motion_settings

    checked = motion_settings(settings)
    return {"motion_correction": checked["enabled"], "motion_preset": checked["preset"]}


def preprocess(
    recording,
    *,
    freq_min: float,
    freq_max: float,
    reference: str,
    detect_bad_channels: bool,
    seed: int | None = None,
    filter_order: int = FILTER_DEFAULTS["filter_order"],
    ftype: str = FILTER_DEFAULTS["ftype"],
    direction: str = FILTER_DEFAULTS["direction"],
    filter_method: str = FILTER_DEFAULTS["filter_method"],
    bad_channel_chunks: int = BAD_CHANNEL_CHUNKS,
    motion_correction: str | bool = False,
    motion_preset: str = "nonrigid_fast_and_accurate",
    n_jobs: int = 1,
):
    """Band-pass, remove bad channels, re-reference and (optionally) correct motion.

    The whole chain is one lazy SpikeInterface recording, computed in one pass when saved
    (:func:`save_recording`): read, band-pass, drop bad channels, reference, round to int16.

    Parameters
    ----------
    recording : spikeinterface.core.BaseRecording
        Raw broadband recording with a probe.
    freq_min, freq_max : float
        Band-pass edges, Hz.
    reference : {"median", "average", "none"}
        Global common reference operator. ``average`` costs a mean per sample; ``median``
        (robust to a large spike on one channel) costs a sort of the channels per sample
        (:mod:`panneuro.ephys.median_reference`: SpikeInterface's reference with the median
        taken by NumPy's sort, 6x faster than ``numpy.median`` and bit-identical).
    filter_order : int
        Order of the IIR band-pass (SpikeInterface's default 5).
    ftype : str
        ``scipy.signal.iirfilter`` design: ``butter`` (default) or ``bessel``.
    direction : {"forward-backward", "forward"}
        ``forward-backward`` (``sosfiltfilt``) is zero-phase: waveform shapes and peak times
        as recorded, twice the filtering work and the squared magnitude response.
        ``forward`` (``sosfilt``) is causal, half the work, but the phase is not linear:
        spikes come out delayed by the filter's group delay (a fraction of a millisecond for
        Butterworth 300-6000 Hz, order 5) and their shape is skewed (a longer after-swing),
        the same for every spike of a unit; spike times are then late by that delay against
        the raw trace (within SpikeInterface's 0.4 ms ground-truth match window). The skew
        makes similar units more alike: on the 300 s benchmark recording (25 units), forward
        Butterworth order 5 and Bessel order 2 with the average reference each merged one pair
        (23/25 well detected); forward Butterworth order 5 with the median reference and order
        3 with the average did not (25/25); zero-phase with either reference did not.
    filter_method : {"fft", "sos"}
        ``fft`` applies the zero-phase response ``|H|²`` by FFT
        (:class:`panneuro.ephys.fft_bandpass.FFTBandpassFilterRecording`): the output of
        ``sos`` forward-backward to 0.02 counts except in the first and last 8 ms of a
        recording, at half the cost. ``sos`` is SpikeInterface's ``bandpass_filter``; it is the
        only method for ``direction: forward``.
    bad_channel_chunks : int
        Random 0.3 s chunks the ``coherence+psd`` detector reads (SpikeInterface's
        ``num_random_chunks``).
    n_jobs : int
        Worker processes of the bad-channel detection (the rule's threads).
    detect_bad_channels : bool
        Detect dead/noisy/outside channels and remove them. On shanks of 16 channels or more
        SpikeInterface's ``coherence+psd`` method (neighbour coherence and high-frequency
        power), on smaller bundles the ``mad`` method (noise level against the median).
    motion_correction : {"auto", True, False}
        Estimate the probe's drift after the reference and interpolate it away
        (:func:`panneuro.ephys.motion.correct_motion`, SpikeInterface's ``correct_motion``);
        ``auto``: for high-density probes only (:func:`panneuro.ephys.motion.is_high_density`).
        The estimation runs here (not lazily); without correction the chain is unchanged.
    motion_preset : str
        SpikeInterface's motion preset (:data:`panneuro.ephys.motion.MOTION_DEFAULTS`).
    seed : int, optional
        Seeds the random chunks the detector reads (and the motion's noise estimate).

    Returns
    -------
    recording : spikeinterface.core.BaseRecording
        The lazy preprocessed recording (int16 counts, same gain).
    bad_channels : pandas.DataFrame
        One row per input channel: ``channel_id``, ``label`` (good/dead/noise/out), ``bad``,
        ``method``. When motion was corrected, ``bad_channels.attrs["motion"]`` holds the
        estimate (:func:`panneuro.ephys.motion.motion_table`), which the preprocessing rules
        write beside the saved folder (:func:`panneuro.ephys.motion.write_motion`).
    """
    import spikeinterface.preprocessing as spre

    from panneuro.ephys.fft_bandpass import fft_bandpass_filter
    from panneuro.ephys.median_reference import sorted_median_reference
    from panneuro.ephys.motion import correct_motion, motion_correction_applies

    if reference not in ("median", "average", "none"):
        raise ValueError(
            f"ephys.preprocessing.reference is {reference!r}; use median, average "
            "or none in config/config.yaml."
        )
    if not 0 < freq_min < freq_max < recording.get_sampling_frequency() / 2:
        raise ValueError(
            f"band {freq_min}-{freq_max} Hz does not fit below Nyquist "
            f"({recording.get_sampling_frequency() / 2} Hz); fix "
            "ephys.preprocessing in config/config.yaml."
        )
    if direction not in DIRECTIONS:
        raise ValueError(
            f"ephys.preprocessing.direction is {direction!r}; use one of "
            f"{list(DIRECTIONS)} in config/config.yaml."
        )
    if filter_method not in FILTER_METHODS:
        raise ValueError(
            f"ephys.preprocessing.filter_method is {filter_method!r}; use one of "
            f"{list(FILTER_METHODS)} in config/config.yaml."
        )
    if filter_method == "fft" and direction != "forward-backward":
        raise ValueError(
            "ephys.preprocessing: filter_method fft is zero-phase only; with "
            "direction forward set filter_method: sos in config/config.yaml."
        )
    if filter_method == "fft":
        filtered = fft_bandpass_filter(
            recording,
            freq_min=freq_min,
            freq_max=freq_max,
            filter_order=int(filter_order),
            ftype=str(ftype),
            dtype="float32",
        )
    else:
        filtered = spre.bandpass_filter(
            recording,
            freq_min=freq_min,
            freq_max=freq_max,
            filter_order=int(filter_order),
            ftype=str(ftype),
            direction=direction,
            dtype="float32",
        )
    channel_ids = recording.channel_ids
    labels = np.array(["good"] * len(channel_ids), dtype=object)
    method = "none"
    if detect_bad_channels:
        method = "coherence+psd" if len(channel_ids) >= MIN_CHANNELS_FOR_COHERENCE else "mad"
        kwargs: dict = {
            "seed": seed,
            "num_random_chunks": int(bad_channel_chunks),
            "job_kwargs": {
                "n_jobs": int(n_jobs),
                "pool_engine": POOL_ENGINE,
                "progress_bar": False,
            },
        }
        if method == "coherence+psd":
            kwargs["n_neighbors"] = min(11, len(channel_ids) - 1 - (len(channel_ids) % 2 == 0))
        with threads_limited_once():
            _, labels = spre.detect_bad_channels(filtered, method=method, **kwargs)
        labels = np.asarray(labels, dtype=object)
    bad = labels != "good"
    table = pd.DataFrame(
        {"channel_id": [str(c) for c in channel_ids], "label": labels, "bad": bad, "method": method}
    )
    if bad.all():
        raise ValueError(
            f"every channel was labelled bad ({method}); check the recording or "
            "set ephys.preprocessing.bad_channel_detection: false."
        )
    if bad.any():
        filtered = filtered.remove_channels(channel_ids[bad])
    if motion_correction_applies(motion_correction, recording):
        referenced = (
            sorted_median_reference(
                filtered, reference="global", operator="median", dtype="float32"
            )
            if reference == "median"
            else spre.common_reference(
                filtered, reference="global", operator="average", dtype="float32"
            )
            if reference == "average"
            else filtered
        )
        corrected, motion = correct_motion(
            referenced, preset=str(motion_preset), n_jobs=int(n_jobs), seed=seed
        )
        table.attrs["motion"] = motion
        # rounded in place to int16: the values of scale(gain=1, offset=0), one copy fewer
        # (~20 ms of a 384-channel 1 s chunk's ~300 ms)
        return spre.astype(corrected, dtype=PREPROCESSED_DTYPE, round=True), table
    # the reference rounds to the output dtype itself (no extra pass)
    if reference == "median":
        return sorted_median_reference(
            filtered, reference="global", operator="median", dtype=PREPROCESSED_DTYPE
        ), table
    if reference == "average":
        return spre.common_reference(
            filtered, reference="global", operator="average", dtype=PREPROCESSED_DTYPE
        ), table
    return spre.astype(filtered, dtype=PREPROCESSED_DTYPE, round=True), table


@contextlib.contextmanager
def frozen_heap() -> Iterator[None]:
    """Exempt the objects alive now from garbage collection (:func:`gc.freeze`) until exit.

    SpikeInterface 0.105's binary writer calls ``gc.collect()`` after every chunk to free
    reference cycles the chunk left (``core/time_series_tools.py``). A full collection walks
    every object of the process (~10^5 here, with SciPy, pandas and SpikeInterface loaded),
    under the GIL, stalling the other worker threads: 1.7 s of a 5.9 s save of the 300 s
    benchmark recording (30 chunks). Frozen objects are skipped, while the cycles each chunk
    creates are still collected; the 2-thread save took 2.4 s instead of 4.2 s.

    Yields
    ------
    None
        The heap is unfrozen on exit.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@contextlib.contextmanager
def threads_limited_once(limit: int = 1) -> Iterator[None]:
    """Limit BLAS/OpenMP threads once for a block, instead of around every chunk.

    SpikeInterface's job workers wrap every chunk in ``threadpoolctl.threadpool_limits``
    (``max_threads_per_worker``, default 1), which lists the process's libraries by reading
    ``/proc/self/maps`` each time: ~1 ms per chunk under the GIL and the kernel's mmap lock;
    ``perf`` put 5% of the 2-thread save of the benchmark recording there (150 chunks).
    Inside this block the limit is set once for the process and the workers' per-chunk call
    is off (``max_threads_per_worker=None`` in SpikeInterface's global job kwargs; a ``None``
    given to one call is dropped by ``fix_job_kwargs``); both are restored on exit.

    Parameters
    ----------
    limit : int
        Threads per BLAS/OpenMP pool inside the block (the workers are the parallelism).

    Yields
    ------
    None
    """
    import spikeinterface.core as si
    from threadpoolctl import threadpool_limits

    previous = si.get_global_job_kwargs().get("max_threads_per_worker", 1)
    si.set_global_job_kwargs(max_threads_per_worker=None)
    try:
        with threadpool_limits(limits=limit):
            yield
    finally:
        si.set_global_job_kwargs(max_threads_per_worker=previous)


def save_recording(
    recording,
    folder: str | os.PathLike,
    *,
    n_jobs: int,
    chunk_duration: str,
    bad_channels: pd.DataFrame | None = None,
):
    """Compute a lazy recording chunk by chunk into a binary folder, atomically.

    Parameters
    ----------
    recording : spikeinterface.core.BaseRecording
        The (preprocessed) recording.
    folder : path-like
        The target folder (replaced if it exists).
    n_jobs : int
        Worker processes (the rule's threads).
    chunk_duration : str
        Chunk length, e.g. ``"1s"`` (bounds memory per worker).
    bad_channels : pandas.DataFrame, optional
        Written as ``bad_channels.tsv`` inside the folder. (Its ``attrs["motion"]``, the
        estimated motion, is not: it is a declared output of its own beside the folder,
        :func:`panneuro.ephys.motion.write_motion`.)

    Returns
    -------
    spikeinterface.core.BaseRecording
        The saved recording, loaded from ``folder``.
    """
    import spikeinterface.core as si

    from panneuro.ephys.heap import chunk_buffers_kept_in_heap

    folder = Path(folder)
    # chunk_buffers_kept_in_heap: each chunk's arrays reuse the last one's memory rather than
    # arriving as fresh pages (panneuro.ephys.heap)
    with (
        atomic_path(folder, suffix="") as tmp,
        frozen_heap(),
        threads_limited_once(),
        chunk_buffers_kept_in_heap(),
    ):
        recording.save(
            format="binary",
            folder=tmp,
            n_jobs=n_jobs,
            chunk_duration=chunk_duration,
            pool_engine=POOL_ENGINE,
            progress_bar=False,
            verbose=False,
        )
        _unresolve_source_paths(recording, tmp)
        if bad_channels is not None:
            write_tsv(bad_channels, tmp / BAD_CHANNELS_FILE)
    return si.load(folder)


def _unresolve_source_paths(recording, folder: Path) -> None:
    """Name the raw files in ``folder/provenance.json`` as the job was given them.

    SpikeInterface records a saved recording's sources relative to the folder after resolving
    symlinks (``core_tools._relative_to``), so a raw file of a DataLad dataset is recorded as
    its git-annex object (``.git/annex/objects/…``) and the same recording fetched from a
    bucket as the file itself: the bytes of a result depended on the storage (found
    2026-12-07, tests/test_slurm.py). No SpikeInterface option keeps the given path; this
    rewrites each source back to the path the reader was given, relative to the folder. The
    saved traces are not affected (the folder is loaded from its own binary files).
    """
    from spikeinterface.core.core_tools import (
        _relative_to,
        element_is_path,
        extractor_dict_iterator,
    )

    record = folder / "provenance.json"
    if not record.is_file():
        return
    renamed = {
        _relative_to(e.value, folder): Path(
            os.path.relpath(os.path.abspath(e.value), os.path.abspath(folder))
        ).as_posix()
        for e in extractor_dict_iterator(recording.to_dict(recursive=True))
        if element_is_path(e) and Path(e.value).exists()
    }

    def rename(node):
        if isinstance(node, dict):
            return {k: rename(v) for k, v in node.items()}
        if isinstance(node, list):
            return [rename(v) for v in node]
        return renamed.get(node, node) if isinstance(node, str) else node

    # rewritten whether or not a path changed, so both storages give the same formatting
    record.write_text(json.dumps(rename(json.loads(record.read_text())), indent=4))


def read_bad_channels(folder: str | os.PathLike) -> pd.DataFrame:
    """Read the bad-channel table of a preprocessed folder.

    Parameters
    ----------
    folder : path-like
        A folder written by :func:`save_recording`.

    Returns
    -------
    pandas.DataFrame
        ``channel_id, label, bad, method``.
    """
    from panneuro.io.tables import read_tsv

    path = Path(folder) / BAD_CHANNELS_FILE
    if not path.exists():
        raise FileNotFoundError(f"{path}: no bad-channel table; rerun the preprocess_probe rule.")
    table = read_tsv(path)
    table["channel_id"] = table["channel_id"].astype(str)
    return table


def load_preprocessed(folder: str | os.PathLike):
    """Load a preprocessed binary folder.

    Parameters
    ----------
    folder : path-like
        A folder written by :func:`save_recording`.

    Returns
    -------
    spikeinterface.core.BaseRecording
        The recording (memory-mapped).
    """
    import spikeinterface.core as si

    folder = Path(folder)
    if not (folder / "binary.json").exists():
        raise FileNotFoundError(
            f"{folder}: not a SpikeInterface binary folder; rerun the preprocess_probe rule."
        )
    return si.load(folder)
