"""Checks of configuration and raw input, each failing with one line: file, problem, fix.

Two families:

- before any job starts (called from ``workflow/rules/common.smk``): :func:`validate_config`
  and :func:`validate_samples` (JSON Schema, with messages that say what to change, unlike the
  bare ``jsonschema`` text) and :func:`check_sample_files` (every sample-sheet row points at a
  file that exists);
- inside the readers, where a raw file enters: :func:`check_ieeg_sidecars` (a recording agrees
  with its BIDS ``_ieeg.json`` and ``_channels.tsv``), :func:`check_finite` and
  :func:`check_recording_finite` (no NaN or infinite sample).

The table of bad-input cases, where each is caught and its message, is ``docs/bad-input.md``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

#: Where every config key is documented (named in config errors).
CONFIG_DOCS = "config/README.md"
#: Relative tolerance when a recording's sampling rate is compared with its sidecar's.
SAMPLING_RATE_RTOL = 1e-6


class InputError(ValueError):
    """Bad configuration or raw input; the message names the file, the problem and the fix."""


def _yaml_schema(schema: str | os.PathLike | Mapping[str, Any]) -> dict:
    if isinstance(schema, Mapping):
        return dict(schema)
    import yaml

    return yaml.safe_load(Path(schema).read_text())


def _dotted(path: Iterable[Any]) -> str:
    parts = [str(p) for p in path]
    return ".".join(parts) if parts else "(top level)"


def describe_schema_error(error: Any, *, source: str, docs: str = CONFIG_DOCS) -> str:
    """Turn a ``jsonschema.ValidationError`` into one line: where, what is wrong, the fix.

    Parameters
    ----------
    error : jsonschema.ValidationError
        The error (``jsonschema.exceptions.best_match`` of a validation).
    source : str
        What was validated, named first in the message (e.g. ``"config"``, or
        ``"config/samples.tsv row 3"``).
    docs : str
        Where the valid keys and values are documented.

    Returns
    -------
    str
        The message.
    """
    where = _dotted(error.absolute_path)
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    value = error.instance
    if error.validator == "additionalProperties" and isinstance(value, Mapping):
        known = sorted(schema.get("properties", {}))
        patterns = sorted(schema.get("patternProperties", {}))
        unknown = sorted(
            k for k in value if k not in known and not any(re.search(p, k) for p in patterns)
        )
        keys = [f"{where}.{k}" if where != "(top level)" else k for k in unknown]
        allowed = f"known keys there: {known}" if known else f"keys must match {patterns}"
        return (
            f"{source}: unknown key(s) {keys}; {allowed}. Fix the spelling or remove the "
            f"key (every key is documented in {docs})."
        )
    if error.validator == "required":
        return f"{source}: {where} lacks a required key ({error.message}); add it (see {docs})."
    if error.validator == "enum":
        return (
            f"{source}: {where} = {value!r} is not allowed; use one of "
            f"{list(error.validator_value)} (see {docs})."
        )
    if error.validator == "type":
        return (
            f"{source}: {where} = {value!r} has the wrong type; it must be "
            f"{error.validator_value} (see {docs})."
        )
    if error.validator == "pattern":
        return (
            f"{source}: {where} = {value!r} does not match {error.validator_value!r}; "
            f"fix it (see {docs})."
        )
    if error.validator in (
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "minItems",
        "maxItems",
    ):
        return (
            f"{source}: {where} = {value!r} is out of range ({error.validator} "
            f"{error.validator_value}); fix it (see {docs})."
        )
    return f"{source}: {where}: {error.message}; fix it (see {docs})."


#: YAML 1.1 spellings of booleans: ``--config simulate=false`` reaches the workflow as the
#: string ``"false"`` (Snakemake's own parser takes only ``True``/``False``).
_BOOLEAN_WORDS = {"true": True, "yes": True, "on": True, "false": False, "no": False, "off": False}


def coerce_command_line_values(
    config: dict[str, Any], schema: str | os.PathLike | Mapping[str, Any]
) -> None:
    """Turn ``--config`` strings into the booleans and integers the schema asks for, in place.

    Snakemake parses ``--config key=value`` as int, float, ``True``/``False``, else a string,
    so ``simulate=false`` (the YAML spelling users type, as in ``config.yaml``) would be
    refused as "wrong type"; inside a mapping (``threads="{ephys: 4}"``) numbers stay strings.
    Only values whose schema type is ``boolean`` and that spell a YAML boolean
    (``true/false/yes/no/on/off``, any case), or whose type is ``integer`` and that are
    digits, are changed; anything else is left for :func:`validate_config` to report.

    Parameters
    ----------
    config : dict
        The merged config (changed in place: Snakemake's ``config`` object).
    schema : path-like or mapping
        ``workflow/schemas/config.schema.yaml`` or its content.
    """

    def walk(values: Any, node: Mapping[str, Any]) -> None:
        if not isinstance(values, dict):
            return
        for key, sub in node.get("properties", {}).items():
            if key not in values:
                continue
            value = values[key]
            if sub.get("type") == "boolean" and isinstance(value, str):
                values[key] = _BOOLEAN_WORDS.get(value.strip().lower(), value)
            elif sub.get("type") == "integer" and isinstance(value, str):
                # a nested mapping on the command line (threads="{ephys: 4}") keeps strings
                text = value.strip()
                values[key] = int(text) if text.lstrip("+-").isdigit() else value
            else:
                walk(value, sub)

    walk(config, _yaml_schema(schema))


def validate_config(
    config: Mapping[str, Any],
    schema: str | os.PathLike | Mapping[str, Any],
    *,
    source: str = "config",
) -> None:
    """Validate the workflow config against its JSON schema, with a message that says the fix.

    Parameters
    ----------
    config : mapping
        The merged config (``config/config.yaml`` plus ``--configfile``/``--config``).
    schema : path-like or mapping
        ``workflow/schemas/config.schema.yaml`` (JSON Schema draft 2020-12) or its content.
    source : str
        Name of the config in the message.

    Raises
    ------
    InputError
        On the first (most relevant) violation: an unknown key with the known ones, a value
        of the wrong type or outside its allowed set, a missing key.
    """
    import jsonschema

    validator = jsonschema.Draft202012Validator(_yaml_schema(schema))
    error = jsonschema.exceptions.best_match(validator.iter_errors(dict(config)))
    if error is not None:
        raise InputError(
            describe_schema_error(
                error, source=f"{source} (config/config.yaml, --configfile or --config)"
            )
        )


def validate_samples(
    samples: pd.DataFrame,
    schema: str | os.PathLike | Mapping[str, Any],
    *,
    sheet: str | os.PathLike,
) -> None:
    """Validate every row of the sample sheet against its JSON schema.

    Parameters
    ----------
    samples : pandas.DataFrame
        The sheet read as strings.
    schema : path-like or mapping
        ``workflow/schemas/samples.schema.yaml`` or its content.
    sheet : path-like
        The sheet's path (named in the message).

    Raises
    ------
    InputError
        On the first bad row: its line number in the file, the column, the value, the fix.
    """
    import jsonschema

    if samples.empty:
        raise InputError(
            f"{sheet}: the sample sheet has no row; add one row per raw file "
            "(see config/README.md)."
        )
    validator = jsonschema.Draft202012Validator(_yaml_schema(schema))
    for number, record in enumerate(samples.to_dict(orient="records")):
        error = jsonschema.exceptions.best_match(validator.iter_errors(record))
        if error is not None:
            # Line numbers as an editor shows them: the header is line 1.
            raise InputError(
                describe_schema_error(
                    error,
                    source=f"{sheet} line {number + 2}",
                    docs="config/README.md (sample sheet columns)",
                )
            )


def check_sample_files(
    samples: pd.DataFrame, raw_dir: str | os.PathLike, *, sheet: str | os.PathLike
) -> None:
    """Check that every sample-sheet row points at an existing file or folder under ``raw_dir``.

    The sheet is configuration, so a row naming a missing file is a configuration error,
    reported before any job starts (as a list, so one run shows every bad row). An annexed
    file whose content is not present (a dangling git-annex symlink) is left to
    :mod:`panneuro.compendium.datalad_io`, which gets it; a ``raw_dir`` that does not exist yet
    (to be cloned from ``raw_source``) is left to
    :func:`panneuro.compendium.datalad_io.ensure_installed`.

    Parameters
    ----------
    samples : pandas.DataFrame
        The sheet (columns ``subject``, ``session``, ``datatype``, ``path``).
    raw_dir : path-like
        ``config["raw_dir"]``.
    sheet : path-like
        The sheet's path (named in the message).

    Raises
    ------
    InputError
        Naming each missing row (line, subject, session, datatype, path) and the fix.
    """
    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        return  # installed later from raw_source, or reported by datalad_io.ensure_installed
    missing = []
    for number, row in enumerate(samples.itertuples(index=False)):
        path = raw_dir / row.path
        if not os.path.lexists(path):
            missing.append(
                f"line {number + 2} (sub-{row.subject} ses-{row.session} {row.datatype}): {path}"
            )
    if missing:
        raise InputError(
            f"{sheet}: {len(missing)} row(s) point at files that do not exist: "
            f"{'; '.join(missing)}. Fix the path column (relative to raw_dir = {raw_dir}), "
            "set raw_dir, or install the raw dataset (datalad clone/get)."
        )


def bids_stem(path: str | os.PathLike) -> str | None:
    """Return the BIDS stem of an iEEG recording (``x/sub-1_ieeg.vhdr`` → ``x/sub-1``).

    Parameters
    ----------
    path : path-like
        The recording.

    Returns
    -------
    str or None
        The path without ``_ieeg.<extension>``, or None when the name is not a BIDS iEEG
        file name (then no sidecar is expected).
    """
    path = Path(path)
    name = path.name
    if "_ieeg." not in name:
        return None
    return str(path.with_name(name[: name.rindex("_ieeg.")]))


def _in_bids_dataset(path: Path, levels: int = 6) -> bool:
    """Tell whether a ``dataset_description.json`` is in one of the parent folders."""
    return any(
        (parent / "dataset_description.json").is_file()
        for parent in list(path.absolute().parents)[:levels]
    )


def check_ieeg_sidecars(
    path: str | os.PathLike,
    *,
    sampling_frequency: float | None = None,
    channel_names: Sequence[str] | None = None,
    duration: float | None = None,
) -> None:
    """Check that a BIDS iEEG recording agrees with its ``_channels.tsv`` and ``_ieeg.json``.

    BIDS iEEG requires a ``_channels.tsv`` beside every recording; its rows must be the
    recording's channels, and ``SamplingFrequency`` of ``_ieeg.json`` the recording's rate.
    A mismatch means a wrong sidecar (of the raw reader, e.g. ``num_channels`` or
    ``sampling_frequency`` of a plain-binary ``<file>.json``, or of the BIDS dataset) or a
    file from another recording; nothing downstream would notice.

    Parameters
    ----------
    path : path-like
        The recording, named ``..._ieeg.<ext>`` inside a BIDS dataset (a
        ``dataset_description.json`` up to six folders above); others are not checked.
    sampling_frequency : float, optional
        The rate the reader found, Hz.
    channel_names : sequence of str, optional
        The channels the reader found, in order.
    duration : float, optional
        The recording's length (s); shorter than ``RecordingDuration`` by more than two
        samples means a truncated file (a cut at a frame boundary passes the size check).

    Raises
    ------
    InputError
        If ``_channels.tsv`` is missing, lists another number of channels, or
        ``SamplingFrequency`` or ``RecordingDuration`` differ.
    """
    stem = bids_stem(path)
    if stem is None or not _in_bids_dataset(Path(path)):
        return
    channels_tsv = Path(f"{stem}_channels.tsv")
    ieeg_json = Path(f"{stem}_ieeg.json")
    if not os.path.lexists(channels_tsv):
        raise InputError(
            f"{channels_tsv}: missing; BIDS iEEG needs a channels.tsv (name, type, "
            f"units, status) beside {Path(path).name}. Restore it (datalad get, "
            "or re-export the dataset) or write it."
        )
    if channel_names is not None:
        listed = pd.read_csv(channels_tsv, sep="\t", dtype=str, keep_default_na=False)
        if "name" not in listed.columns:
            raise InputError(
                f"{channels_tsv}: no 'name' column; BIDS channels.tsv starts with "
                "name, type, units. Fix the file."
            )
        names = [str(c) for c in channel_names]
        if len(listed) != len(names):
            raise InputError(
                f"{channels_tsv}: lists {len(listed)} channels but "
                f"{Path(path).name} has {len(names)}; the recording's channel "
                "count (e.g. num_channels in its reader sidecar) or channels.tsv "
                "is wrong. Fix the one that is wrong."
            )
    if not os.path.exists(ieeg_json):
        return
    try:
        sidecar = json.loads(ieeg_json.read_text())
    except json.JSONDecodeError as error:
        raise InputError(f"{ieeg_json}: not valid JSON ({error}); fix the file.") from error
    if sampling_frequency is not None:
        stated = sidecar.get("SamplingFrequency")
        if stated is not None and not np.isclose(
            float(stated), float(sampling_frequency), rtol=SAMPLING_RATE_RTOL, atol=0.0
        ):
            raise InputError(
                f"{ieeg_json}: SamplingFrequency {float(stated):g} Hz but "
                f"{Path(path).name} reads at {float(sampling_frequency):g} Hz; the "
                "raw file's header or reader sidecar (e.g. sampling_frequency in "
                "<file>.json) or _ieeg.json is wrong. Fix the one that is wrong."
            )
    stated_duration = sidecar.get("RecordingDuration")
    if duration is not None and stated_duration is not None and sampling_frequency:
        if float(duration) < float(stated_duration) - 2.0 / float(sampling_frequency):
            raise InputError(
                f"{Path(path)}: holds {float(duration):g} s but {ieeg_json.name} "
                f"states RecordingDuration {float(stated_duration):g} s; the file "
                "is truncated (an interrupted copy or download). Get it again "
                "(datalad get, or copy it from the acquisition machine)."
            )


def check_finite(
    data: np.ndarray, channel_names: Sequence[str], *, path: str | os.PathLike, fix: str
) -> None:
    """Fail if any sample of a (channels × samples) array is NaN or infinite.

    Parameters
    ----------
    data : numpy.ndarray
        ``(channels, samples)``.
    channel_names : sequence of str
        Names of the rows.
    path : path-like
        The file the data come from.
    fix : str
        What the user should do (e.g. mark the channel bad in ``channels.tsv``).

    Raises
    ------
    InputError
        Naming the channels with non-finite samples and how many.
    """
    bad = ~np.isfinite(data)
    if bad.any():
        counts = bad.sum(axis=1)
        channels = [
            f"{channel_names[i]} ({int(counts[i])} samples)" for i in np.flatnonzero(counts)
        ]
        shown = ", ".join(channels[:10]) + (" ..." if len(channels) > 10 else "")
        raise InputError(
            f"{path}: NaN or infinite samples in {len(channels)} channel(s): "
            f"{shown}; the recording is damaged. {fix}"
        )


def check_recording_finite(
    recording: Any, *, path: str | os.PathLike, chunk_seconds: float = 10.0
) -> None:
    """Scan a SpikeInterface recording chunk by chunk for NaN or infinite samples.

    Integer recordings cannot hold NaN and are skipped without reading.

    Parameters
    ----------
    recording : spikeinterface.core.BaseRecording
        The raw recording.
    path : path-like
        Its file (named in the message).
    chunk_seconds : float
        Chunk length (bounds memory).

    Raises
    ------
    InputError
        Naming the channels with non-finite samples.
    """
    if not np.issubdtype(np.dtype(recording.get_dtype()), np.floating):
        return
    names = [str(c) for c in recording.channel_ids]
    counts = np.zeros(len(names), dtype=np.int64)
    step = max(1, int(chunk_seconds * recording.get_sampling_frequency()))
    for segment in range(recording.get_num_segments()):
        n = recording.get_num_samples(segment_index=segment)
        for start in range(0, n, step):
            traces = recording.get_traces(
                segment_index=segment, start_frame=start, end_frame=min(n, start + step)
            )
            counts += (~np.isfinite(traces)).sum(axis=0)
    if counts.any():
        channels = [f"{names[i]} ({int(counts[i])} samples)" for i in np.flatnonzero(counts)]
        raise InputError(
            f"{path}: NaN or infinite samples in {len(channels)} channel(s): "
            f"{', '.join(channels[:10])}; the recording is damaged. Repair or "
            "re-export the file, or remove the channel from the recording."
        )


def read_samples(path: str | os.PathLike) -> pd.DataFrame:
    """Read the sample sheet (tab-separated, every column a string).

    Parameters
    ----------
    path : path-like
        ``config["samples"]``.

    Returns
    -------
    pandas.DataFrame
        One row per raw file; validate it with :func:`validate_samples`.

    Raises
    ------
    InputError
        If the file is missing or not a tab-separated table.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(
            f"{path}: sample sheet not found; set config samples to your sheet "
            "(see config/README.md)."
        )
    try:
        return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, na_values=[])
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        text = " ".join(str(error).split())
        raise InputError(
            f"{path}: not a tab-separated table ({text}); every row needs the "
            "same tab-separated columns (see config/README.md)."
        ) from error


def check_raw_finite(
    raw: Any, *, path: str | os.PathLike, fix: str, chunk_seconds: float = 60.0
) -> None:
    """Scan the good channels of an MNE recording chunk by chunk for NaN or infinite samples.

    Works on loaded and on-disk recordings alike (memory bounded by ``chunk_seconds``);
    channels already bad in ``raw.info["bads"]`` (e.g. ``status = bad`` in ``channels.tsv``)
    are not read.

    Parameters
    ----------
    raw : mne.io.BaseRaw
        The recording.
    path : path-like
        Its file (named in the message).
    fix : str
        What the user should do.
    chunk_seconds : float
        Chunk length.

    Raises
    ------
    InputError
        Naming the channels with non-finite samples.
    """
    picks = [i for i, name in enumerate(raw.ch_names) if name not in raw.info["bads"]]
    if not picks:
        return
    counts = np.zeros(len(picks), dtype=np.int64)
    step = max(1, int(chunk_seconds * raw.info["sfreq"]))
    for start in range(0, raw.n_times, step):
        chunk = raw.get_data(picks=picks, start=start, stop=min(raw.n_times, start + step))
        counts += (~np.isfinite(chunk)).sum(axis=1)
    names = [raw.ch_names[i] for i in picks]
    if counts.any():
        channels = [f"{names[i]} ({int(counts[i])} samples)" for i in np.flatnonzero(counts)]
        raise InputError(
            f"{path}: NaN or infinite samples in {len(channels)} channel(s): "
            f"{', '.join(channels[:10])}; the recording is damaged. {fix}"
        )
