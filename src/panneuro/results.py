"""Open a run of the compendium: its config, sample sheet and result files, as figures need them.

The workflow's rules list their inputs from the sample sheet (``workflow/rules/common.smk``);
:class:`Run` derives the same lists (probes, sessions, labels) so that notebooks and the
figure scripts read a run through one set of functions. Paths follow ``docs/architecture.md``.

A run can also be read in place from an S3 prefix (``open_run("s3://bucket/prefix")``, the
layout ``snakemake --default-storage-prefix`` leaves there): tables and other small results are
read whole (:meth:`Run.result` returns a local copy), NWB files are never downloaded but read by
HTTP byte range (remfile + h5py), so a unit's spikes cost a small part of its session file
(:func:`read_unit_spike_times`; :attr:`S3Prefix.counter` counts the bytes received).

Examples
--------
>>> from panneuro.figures.fig2_sorting import plot_sorting_figure
>>> run = open_run()                       # $PANNEURO_ROOT, else this repository
>>> fig = plot_sorting_figure(read_sorting_summaries(run), **sorting_figure_options(run))
>>> show(fig, "fig2_sorting", folder=figures_dir(run))  # the workflow's bytes
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import yaml
from matplotlib.figure import Figure

from panneuro.behaviour.reference import read_reference_curves
from panneuro.ephys.curation import read_waveforms
from panneuro.figures.fig2_sorting import ProbeSortingSummary
from panneuro.figures.save import save_figure
from panneuro.io.tables import read_tsv

if TYPE_CHECKING:  # imported where used: MNE and scikit-learn take seconds to import
    from panneuro.figures.fig4_ecog import EcogFigureSession

#: Environment variable naming the compendium root a notebook opens.
ROOT_ENV = "PANNEURO_ROOT"
#: Environment variable naming the folder notebooks save their figures to.
FIGURES_ENV = "PANNEURO_NOTEBOOK_FIGURES"
#: Datatypes of the sample sheet that hold units (probes).
PROBE_DATATYPES: tuple[str, ...] = ("array", "microwire")


def compendium_root(root: str | os.PathLike | None = None) -> Path:
    """Find the compendium's root folder (the one holding ``Snakefile``).

    Parameters
    ----------
    root : path-like, optional
        Explicit root; default ``$PANNEURO_ROOT``, else the repository this package was
        installed from (editable install).

    Returns
    -------
    pathlib.Path
        The absolute root.

    Raises
    ------
    FileNotFoundError
        If the folder has no ``Snakefile``.
    """
    if root is None:
        root = os.environ.get(ROOT_ENV) or Path(__file__).resolve().parents[2]
    root = Path(root).expanduser().resolve()
    if not (root / "Snakefile").is_file():
        raise FileNotFoundError(f"{root}: no Snakefile, so not a panneuro compendium; set "
                                f"{ROOT_ENV} to the folder holding the Snakefile.")
    return root


def _merge(base: Mapping, overrides: Mapping) -> dict:
    """Merge ``overrides`` into a copy of ``base``, nested mappings key by key."""
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


@dataclass
class ByteCount:
    """Bytes and requests received from a bucket (response bodies, as the client got them)."""

    n_bytes: int = 0
    n_requests: int = 0

    def add(self, n_bytes: int) -> None:
        """Count one response of ``n_bytes``."""
        self.n_bytes += int(n_bytes)
        self.n_requests += 1


def _counting_session(counter: ByteCount) -> Any:
    """Make a ``requests.Session`` that counts every response body it receives (remfile's)."""
    import requests

    class CountingSession(requests.Session):
        def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            response = super().request(method, url, *args, **kwargs)
            counter.add(len(response.content))
            return response

    return CountingSession()


@dataclass
class S3Prefix:
    """A run's folder in an S3 bucket: objects read whole or by byte range, bytes counted.

    Attributes
    ----------
    bucket, prefix : str
        Where the run is: ``s3://<bucket>/<prefix>/results/...``.
    client : botocore client
        A boto3 S3 client (credentials and endpoint as boto3 finds them, or given).
    counter : ByteCount
        Every byte received from the bucket through this object.
    """

    bucket: str
    prefix: str
    client: Any = field(repr=False)
    counter: ByteCount = field(default_factory=ByteCount)
    _cache: Any = field(default=None, repr=False)

    @classmethod
    def from_url(cls, url: str, *, endpoint_url: str | None = None) -> S3Prefix:
        """Connect to ``s3://bucket/prefix`` (``endpoint_url``: another S3 service)."""
        import boto3

        if not url.startswith("s3://") or len(url) <= len("s3://"):
            raise ValueError(f"{url!r}: not an S3 prefix; give s3://<bucket>/<prefix>.")
        bucket, _, prefix = url[len("s3://"):].partition("/")
        endpoint = endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None
        return cls(bucket, prefix.strip("/"), boto3.client("s3", endpoint_url=endpoint))

    def key(self, path: str | os.PathLike) -> str:
        """Return the object key of a path of the run (relative to the prefix)."""
        relative = PurePosixPath(path).as_posix().lstrip("/")
        return f"{self.prefix}/{relative}" if self.prefix else relative

    def size(self, path: str | os.PathLike) -> int:
        """Size of an object in bytes (a HEAD request, no body)."""
        from botocore.exceptions import ClientError

        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self.key(path))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                raise FileNotFoundError(
                    f"s3://{self.bucket}/{self.key(path)}: not in the bucket; make it first "
                    f"(snakemake {path} --default-storage-provider s3 "
                    f"--default-storage-prefix s3://{self.bucket}/{self.prefix}).") from error
            raise
        self.counter.add(0)
        return int(head["ContentLength"])

    def read_bytes(self, path: str | os.PathLike) -> bytes:
        """Read a whole object."""
        self.size(path)  # a clear error if it is absent
        body = self.client.get_object(Bucket=self.bucket, Key=self.key(path))["Body"].read()
        self.counter.add(len(body))
        return body

    def local_copy(self, path: str | os.PathLike) -> Path:
        """Read an object whole into this object's temporary folder (once); return its path."""
        if self._cache is None:
            self._cache = tempfile.TemporaryDirectory(prefix="panneuro-s3-")
        target = Path(self._cache.name) / PurePosixPath(path).as_posix().lstrip("/")
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(self.read_bytes(path))
        return target

    def url(self, path: str | os.PathLike, expires: int = 3600) -> str:
        """Return a presigned GET URL of an object (what byte-range readers fetch)."""
        return self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": self.key(path)},
            ExpiresIn=int(expires))

    def open_ranged(self, path: str | os.PathLike, *, chunk_size: int = 2048) -> Any:
        """Open an object as a read-only file read by HTTP byte range (:class:`remfile.File`).

        ``chunk_size`` is the smallest range read (remfile grows it for sequential reads).
        HDF5 keeps its metadata in small blocks spread over the file: on the tiny preset's
        445 kB units file one unit's spikes cost 35 kB in 1 kB ranges (19 requests), 53 kB
        in 2 kB ranges (13), 78 kB in 4 kB (10), 180 kB in 16 kB (6); 2 kB is the default.
        """
        import remfile

        size = self.size(path)
        handle = remfile.File(self.url(path), _size=size, _min_chunk_size=int(chunk_size))
        handle.session = _counting_session(self.counter)
        return handle


@dataclass(frozen=True)
class Run:
    """A compendium folder with its config and sample sheet.

    Attributes
    ----------
    root : pathlib.Path
        The folder holding ``Snakefile``, ``config/`` and ``results/``.
    config : dict
        ``config/config.yaml`` (with any overrides applied).
    samples : pandas.DataFrame
        The sample sheet, all columns strings.
    store : S3Prefix or None
        Where a run read in place from a bucket lives (``root`` is then the prefix's path
        inside it); None for a folder.
    """

    root: Path
    config: dict = field(repr=False)
    samples: pd.DataFrame = field(repr=False)
    store: S3Prefix | None = field(default=None, repr=False)

    def path(self, *parts: str) -> Path:
        """Path of a file of the run, relative to its root."""
        return self.root.joinpath(*parts)

    @property
    def simulated(self) -> bool:
        """True when the raw dataset is the simulated one (ground truth is beside it)."""
        return bool(self.config["simulate"])

    def probes(self, datatypes: Sequence[str] = PROBE_DATATYPES,
               species: str | None = None) -> list[tuple[str, str, str]]:
        """``(subject, session, probe)`` of every probe of the given datatypes, sheet order."""
        sel = self.samples[self.samples["datatype"].isin(list(datatypes))]
        if species is not None:
            sel = sel[sel["species"] == species]
        return list(sel[["subject", "session", "probe"]].itertuples(index=False, name=None))

    def probe_sessions(self, datatypes: Sequence[str] = PROBE_DATATYPES,
                       species: str | None = None) -> list[tuple[str, str]]:
        """Sorted ``(subject, session)`` pairs with at least one probe of the datatypes."""
        return sorted({(s, ses) for s, ses, _ in self.probes(datatypes, species)})

    def ecog_sessions(self) -> list[tuple[str, str]]:
        """``(subject, session)`` of every ECoG row, sheet order."""
        sel = self.samples[self.samples["datatype"] == "ecog"]
        return list(zip(sel["subject"], sel["session"], strict=True))

    def region(self, subject: str, session: str, probe: str) -> str:
        """Brain region of a probe (its sample-sheet row)."""
        sel = self.samples[(self.samples["subject"] == subject)
                           & (self.samples["session"] == session)
                           & (self.samples["probe"] == probe)
                           & self.samples["datatype"].isin(list(PROBE_DATATYPES))]
        if len(sel) != 1:
            raise ValueError(f"{self.config['samples']}: expected one array/microwire row for "
                             f"sub-{subject} ses-{session} probe {probe}, found {len(sel)}.")
        return str(sel.iloc[0]["region"])

    def species(self, subject: str, session: str) -> str:
        """Species of a session (its sample-sheet rows)."""
        sel = self.samples[(self.samples["subject"] == subject)
                           & (self.samples["session"] == session)]
        if sel.empty:
            raise ValueError(f"{self.config['samples']}: no row for sub-{subject} "
                             f"ses-{session}; pick a session of the sample sheet.")
        return str(sel.iloc[0]["species"])

    def result(self, *parts: str | os.PathLike) -> Path:
        """Path of an existing file of the run; raises if the workflow has not made it.

        ``parts`` are relative to the root, or one absolute path inside it. For a run in a
        bucket the file is read whole into a local temporary copy, whose path is returned
        (NWB files are read by byte range instead: :meth:`open_ranged`).
        """
        if self.store is not None:
            return self.store.local_copy(self._relative(*parts))
        path = self.root.joinpath(*parts)
        if not path.exists():
            target = path.relative_to(self.root) if path.is_relative_to(self.root) else path
            raise FileNotFoundError(f"{path}: not found; make it first: snakemake {target} "
                                    f"(or make reproduce) in {self.root}.")
        return path

    def _relative(self, *parts: str | os.PathLike) -> PurePosixPath:
        path = PurePosixPath(self.root).joinpath(*[PurePosixPath(p) for p in parts])
        return path.relative_to(PurePosixPath(self.root)) if path.is_relative_to(
            PurePosixPath(self.root)) else path

    def result_size(self, *parts: str | os.PathLike) -> int:
        """Size in bytes of a file of the run (for a run in a bucket: a HEAD request)."""
        if self.store is not None:
            return self.store.size(self._relative(*parts))
        return self.result(*parts).stat().st_size

    @contextmanager
    def open_ranged(self, *parts: str | os.PathLike) -> Iterator[Any]:
        """Open a file of the run for random access: the local file, or by byte range (S3)."""
        if self.store is None:
            with open(self.result(*parts), "rb") as handle:
                yield handle
            return
        handle = self.store.open_ranged(self._relative(*parts))
        try:
            yield handle
        finally:
            handle.close()

    def ephys_dir(self, subject: str, session: str, probe: str) -> Path:
        """``results/ephys/sub-X/ses-Y/acq-P`` of a probe."""
        return self.path("results", "ephys", f"sub-{subject}", f"ses-{session}",
                         f"acq-{probe}")

    def units_nwb(self, subject: str, session: str) -> Path:
        """``results/nwb/sub-X_ses-Y_units.nwb`` of a session."""
        return self.path("results", "nwb", f"sub-{subject}_ses-{session}_units.nwb")

    def session_result(self, subject: str, session: str, kind: str) -> Path:
        """``results/decoding/sub-X_ses-Y_<kind>.tsv`` (decoding, ccgp, latents_regression)."""
        return self.path("results", "decoding", f"sub-{subject}_ses-{session}_{kind}.tsv")

    def ground_truth(self, *parts: str) -> Path:
        """Return a path under the run's ground-truth folder (``groundtruth_dir``)."""
        return self.path(self.config["groundtruth_dir"], *parts)


def open_run(root: str | os.PathLike | None = None, *,
             overrides: Mapping[str, Any] | None = None,
             endpoint_url: str | None = None) -> Run:
    """Open a compendium folder, or a run in an S3 bucket: read its config and sample sheet.

    Parameters
    ----------
    root : path-like or str, optional
        The compendium's root (see :func:`compendium_root`), or ``s3://bucket/prefix``: the
        storage prefix of a run made with ``--default-storage-provider s3`` (its
        ``config/`` and ``results/`` under it; credentials as boto3 finds them).
    overrides : mapping, optional
        Config values as given to ``snakemake --config`` (nested mappings merged key by key).
    endpoint_url : str, optional
        The S3 service (default ``$AWS_ENDPOINT_URL``, else AWS).

    Returns
    -------
    Run
        The run.
    """
    if str(root or "").startswith("s3://"):
        return _open_s3_run(str(root), overrides=overrides, endpoint_url=endpoint_url)
    root = compendium_root(root)
    config_file = root / "config" / "config.yaml"
    if not config_file.is_file():
        raise FileNotFoundError(f"{config_file}: no config; a compendium keeps it in "
                                "config/config.yaml.")
    config = _merge(yaml.safe_load(config_file.read_text()), overrides or {})
    sheet = root / config["samples"]
    if not sheet.is_file():
        raise FileNotFoundError(f"{sheet}: sample sheet not found; fix 'samples' in "
                                f"{config_file}.")
    samples = pd.read_csv(sheet, sep="\t", dtype=str, keep_default_na=False, na_values=[])
    return Run(root=root, config=config, samples=samples)


def _open_s3_run(url: str, *, overrides: Mapping[str, Any] | None,
                 endpoint_url: str | None) -> Run:
    store = S3Prefix.from_url(url, endpoint_url=endpoint_url)
    config = _merge(yaml.safe_load(store.read_bytes("config/config.yaml")), overrides or {})
    sheet = store.local_copy(config["samples"])
    samples = pd.read_csv(sheet, sep="\t", dtype=str, keep_default_na=False, na_values=[])
    return Run(root=Path("/", store.bucket, store.prefix), config=config, samples=samples,
               store=store)


def read_json(path: str | os.PathLike) -> Any:
    """Read a JSON result file."""
    with open(path) as handle:
        return json.load(handle)


# Figure 1 -----------------------------------------------------------------------------------

def read_behaviour(run: Run) -> dict[str, Any]:
    """Read the inputs of figure 1, as keyword arguments of ``plot_behaviour``.

    Returns
    -------
    dict
        ``curves``, ``parameters``, ``harlow_fit``, ``reference``, ``stats`` and
        ``n_blocks`` (config ``behaviour.figure_blocks``).
    """
    return {
        "curves": read_tsv(run.result("results", "behaviour", "learning_set_curves.tsv")),
        "parameters": read_tsv(run.result("results", "model", "parameters.tsv")),
        "harlow_fit": read_json(run.result("results", "model", "harlow_fit.json")),
        "reference": read_reference_curves(
            run.result("resources", "reference", "learning_set_curves.csv")),
        "stats": read_tsv(run.result("results", "behaviour", "learning_statistics.tsv")),
        "n_blocks": int(run.config["behaviour"]["figure_blocks"]),
    }


def read_latents(run: Run, subject: str, session: str) -> pd.DataFrame:
    """Per-trial model latents of a recorded session (``results/model/..._latents.tsv``)."""
    return read_tsv(run.result("results", "model", f"sub-{subject}_ses-{session}_latents.tsv"))


# Figure 2 -----------------------------------------------------------------------------------

def read_probe_sorting(label: str, region: str, metrics: str | os.PathLike,
                       waveforms: str | os.PathLike,
                       gt: str | os.PathLike | None = None) -> ProbeSortingSummary:
    """Read what figure 2 shows of one probe from its files.

    Parameters
    ----------
    label, region : str
        The probe's label (``"M1 01 PFC"``) and brain region.
    metrics, waveforms : path-like
        The probe's ``metrics.tsv`` and ``waveforms.npz``.
    gt : path-like, optional
        Its ``gt_comparison.tsv`` (simulated data only).

    Returns
    -------
    ProbeSortingSummary
        The probe (``unit_id`` as strings).
    """
    return ProbeSortingSummary(
        label=label, region=region,
        metrics=read_tsv(metrics).astype({"unit_id": str}),
        waveforms=read_waveforms(waveforms),
        gt=read_tsv(gt) if gt else None,
    )


def read_sorting_summaries(run: Run) -> list[ProbeSortingSummary]:
    """Figure 2's probes, in sample-sheet order, labelled as the workflow labels them."""
    summaries = []
    for subject, session, probe in run.probes():
        folder = run.ephys_dir(subject, session, probe)
        summaries.append(read_probe_sorting(
            f"{subject} {session} {probe}", run.region(subject, session, probe),
            run.result(folder / "metrics.tsv"), run.result(folder / "waveforms.npz"),
            run.result(folder / "gt_comparison.tsv") if run.simulated else None))
    return summaries


def sorting_figure_options(run: Run) -> dict[str, float]:
    """Keyword arguments of ``plot_sorting_figure`` from the config."""
    return {"well_detected_accuracy":
            float(run.config["ephys"]["ground_truth"]["well_detected_accuracy"])}


def read_session_units(run: Run, subject: str,
                       session: str) -> tuple[pd.DataFrame, list[np.ndarray]]:
    """Curated units of a session from its NWB file (``panneuro.ephys.nwb_units.read_units``).

    For a run in a bucket the file is read by byte range (the units table only).
    """
    from panneuro.ephys.nwb_units import read_units

    if run.store is None:
        return read_units(run.result(run.units_nwb(subject, session)))
    with _units_group(run, subject, session) as units:
        ids = np.asarray(units["id"][:], dtype=int)
        ends = np.asarray(units["spike_times_index"][:], dtype=int)
        times = np.asarray(units["spike_times"][:], dtype=float)
        columns = [c for c in units.attrs["colnames"]
                   if c not in ("spike_times", "electrodes", "electrode_group", "waveform_mean",
                                "waveform_sd", "waveforms", "obs_intervals")]
        data = {str(c): np.asarray(units[c][:]) for c in columns}
    table = pd.DataFrame(data, index=pd.Index(ids, name="unit_id"))
    for column in ("probe", "region", "probe_unit_id"):
        table[column] = [v.decode() if isinstance(v, bytes) else str(v) for v in table[column]]
    starts = np.concatenate([[0], ends[:-1]])
    return table, [times[a:b] for a, b in zip(starts, ends, strict=True)]


@contextmanager
def _units_group(run: Run, subject: str, session: str) -> Iterator[Any]:
    import h5py

    with run.open_ranged(run.units_nwb(subject, session)) as handle:
        # no chunk cache: a slice of a dataset reads those bytes only, not its whole chunk
        with h5py.File(handle, "r", rdcc_nbytes=0) as nwb:
            if "units" not in nwb:
                raise ValueError(f"{run.units_nwb(subject, session)}: no units table; it is "
                                 "written by the export_session_nwb rule.")
            yield nwb["units"]


def read_unit_spike_times(run: Run, subject: str, session: str, unit_id: int) -> np.ndarray:
    """Spike times (s) of one unit of a session, reading only what they need of the NWB file.

    Parameters
    ----------
    run : Run
        The run (a folder, or a bucket: then by HTTP byte range).
    subject, session : str
        The session (its ``results/nwb`` units file).
    unit_id : int
        A unit id of the units table.

    Returns
    -------
    numpy.ndarray
        The unit's spike times.
    """
    with _units_group(run, subject, session) as units:
        ids = np.asarray(units["id"][:], dtype=int)
        where = np.flatnonzero(ids == int(unit_id))
        if where.size != 1:
            raise KeyError(f"{run.units_nwb(subject, session)}: no unit {unit_id}; pick one "
                           f"of {ids.tolist()}.")
        index = units["spike_times_index"]
        row = int(where[0])
        start = int(index[row - 1]) if row > 0 else 0
        return np.asarray(units["spike_times"][start:int(index[row])], dtype=float)


def read_session_trials(path: str | os.PathLike | Run, subject: str | None = None,
                        session: str | None = None) -> pd.DataFrame:
    """Read the trials table of a units NWB file.

    Parameters
    ----------
    path : path-like or Run
        ``results/nwb/sub-X_ses-Y_units.nwb``, or a run (with ``subject`` and ``session``:
        for a run in a bucket, read by byte range).
    subject, session : str, optional
        The session, when ``path`` is a run.

    Returns
    -------
    pandas.DataFrame
        One row per trial: ``start_time``, ``stop_time`` and the events columns.
    """
    from pynwb import NWBHDF5IO

    if isinstance(path, Run):
        run = path
        if run.store is None:
            return read_session_trials(run.result(run.units_nwb(subject, session)))
        import h5py

        with run.open_ranged(run.units_nwb(subject, session)) as handle, \
                h5py.File(handle, "r", rdcc_nbytes=0) as h5, \
                NWBHDF5IO(file=h5, mode="r") as io:
            return io.read().trials.to_dataframe().reset_index(drop=True)
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: units NWB not found; it is made by the "
                                "export_session_nwb rule.")
    with NWBHDF5IO(str(path), mode="r") as io:
        trials = io.read().trials
        if trials is None:
            raise ValueError(f"{path}: no trials table; rewrite it with "
                             "panneuro.ephys.nwb_units.write_session_units_nwb.")
        return trials.to_dataframe().reset_index(drop=True)


def plot_session_unit(run: Run, subject: str, session: str, unit_id: int, *,
                      align: str = "feedback") -> Figure:
    """Draw one curated unit of a session (:func:`panneuro.figures.browse.plot_unit`).

    Parameters
    ----------
    run : Run
        The run.
    subject, session : str
        The session (its units NWB).
    unit_id : int
        A unit id of the NWB units table (:func:`read_session_units`' index).
    align : str
        Trial event the spikes are aligned to (``onset``, ``response``, ``feedback``).

    Returns
    -------
    matplotlib.figure.Figure
        Mean waveform, raster and firing rate by outcome.
    """
    from panneuro.figures.browse import plot_unit

    units, spike_times = read_session_units(run, subject, session)
    if unit_id not in units.index:
        raise KeyError(f"{run.units_nwb(subject, session)}: no unit {unit_id}; pick one of "
                       f"{list(units.index)}.")
    row = units.loc[unit_id]
    probe_unit = str(row["probe_unit_id"])
    waveforms = read_waveforms(run.result(run.ephys_dir(subject, session, row["probe"]),
                                          "waveforms.npz"))
    ids = [str(u) for u in waveforms.get("unit_ids", [])]
    waveform = waveforms["templates"][ids.index(probe_unit)] if probe_unit in ids else None
    return plot_unit(spike_times[units.index.get_loc(unit_id)],
                     read_session_trials(run, subject, session),
                     waveform=waveform,
                     sampling_frequency=float(waveforms.get("sampling_frequency", 30000.0)),
                     align=align,
                     title=f"sub-{subject} ses-{session} unit {unit_id}: {row['probe']} "
                           f"({row['region']}), sorter unit {probe_unit}")


# Figures 3, 5, 6 ----------------------------------------------------------------------------

def read_decoding(run: Run, species: str, *,
                  datatypes: Sequence[str] = PROBE_DATATYPES) -> tuple[pd.DataFrame,
                                                                       pd.DataFrame]:
    """Stacked decoding and cross-condition tables of a species' unit sessions.

    Parameters
    ----------
    run : Run
        The run.
    species : str
        ``macaque`` or ``human``.
    datatypes : sequence of str
        Probe datatypes whose sessions count (figure 5's humans: ``("microwire",)``).

    Returns
    -------
    decoding, ccgp : pandas.DataFrame
        As :func:`panneuro.decoding.time_resolved.read_session_tables` stacks them.
    """
    from panneuro.decoding.cross_condition import CCGP_COLUMNS
    from panneuro.decoding.time_resolved import DECODING_COLUMNS, read_session_tables

    sessions = run.probe_sessions(datatypes, species)
    decoding = read_session_tables(
        [str(run.result(run.session_result(*s, "decoding"))) for s in sessions], sessions,
        columns=DECODING_COLUMNS)
    ccgp = read_session_tables(
        [str(run.result(run.session_result(*s, "ccgp"))) for s in sessions], sessions,
        columns=CCGP_COLUMNS)
    return decoding, ccgp


def decoding_figure_options(run: Run) -> dict[str, Any]:
    """Keyword arguments of ``plot_monkey_decoding`` / ``plot_human_units`` from the config."""
    return {"variables": list(run.config["decoding"]["variables"]),
            "alpha": float(run.config["decoding"]["alpha"])}


def read_latent_regressions(run: Run) -> pd.DataFrame:
    """Stacked latent-regression tables of every unit session, with ``species`` (figure 6)."""
    from panneuro.decoding.latent_regression import REGRESSION_COLUMNS
    from panneuro.decoding.time_resolved import read_session_tables

    sessions = run.probe_sessions()
    return read_session_tables(
        [str(run.result(run.session_result(*s, "latents_regression"))) for s in sessions],
        sessions,
        columns=REGRESSION_COLUMNS, species=[run.species(*s) for s in sessions])


def model_figure_options(run: Run) -> dict[str, Any]:
    """Keyword arguments of ``plot_model_neural`` from the config."""
    return {"latents": list(run.config["decoding"]["latents"]["variables"])}


# Figure 4 -----------------------------------------------------------------------------------

def read_ecog_session(label: str, epochs: str | os.PathLike, stats: str | os.PathLike,
                      truth: str | os.PathLike | None = None) -> EcogFigureSession:
    """Read what figure 4 shows of one ECoG session from its files.

    Parameters
    ----------
    label : str
        The session's label (``"sub-H1 ses-01"``).
    epochs, stats : path-like
        Its ``_high_gamma.npz`` and ``_ecog_stats.json``.
    truth : path-like, optional
        Its ``_ecog-truth.json`` (simulated data only).

    Returns
    -------
    EcogFigureSession
        The session.
    """
    from panneuro.ecog.high_gamma import read_high_gamma
    from panneuro.figures.fig4_ecog import EcogFigureSession

    return EcogFigureSession(label, read_high_gamma(epochs), read_json(stats),
                             read_json(truth) if truth is not None else None)


def read_ecog_sessions(run: Run) -> list[EcogFigureSession]:
    """Figure 4's sessions, in sample-sheet order, labelled as the workflow labels them."""
    sessions = []
    for subject, session in run.ecog_sessions():
        stem = f"sub-{subject}_ses-{session}"
        truth = (run.result(run.ground_truth(f"sub-{subject}", f"ses-{session}",
                                             f"{stem}_ecog-truth.json"))
                 if run.simulated else None)
        sessions.append(read_ecog_session(
            f"sub-{subject} ses-{session}",
            run.result("results", "ecog", f"{stem}_high_gamma.npz"),
            run.result("results", "ecog", f"{stem}_ecog_stats.json"), truth))
    return sessions


# Showing and saving figures -----------------------------------------------------------------

@dataclass(frozen=True)
class PngFigure:
    """A rendered figure: Jupyter displays it (``_repr_png_``); ``path`` if it was saved."""

    data: bytes = field(repr=False)
    path: Path | None = None

    def _repr_png_(self) -> bytes:
        return self.data


def figures_dir(run: Run) -> Path:
    """Return (and create) the folder notebooks save figures to.

    ``$PANNEURO_NOTEBOOK_FIGURES``, else ``results/notebooks`` of the run.
    """
    folder = Path(os.environ.get(FIGURES_ENV) or run.path("results", "notebooks"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def show(fig: Figure, name: str | None = None, *, folder: str | os.PathLike | None = None
         ) -> PngFigure:
    """Render a figure exactly as the workflow saves it; optionally keep the files.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure; it is closed afterwards.
    name : str, optional
        Save as ``<folder>/<name>.pdf`` and ``.png`` (with
        :func:`panneuro.figures.save.save_figure`, byte-identical to the workflow's when the
        figure is the same); default: render only.
    folder : path-like, optional
        Where to save; required with ``name``.

    Returns
    -------
    PngFigure
        The PNG, displayed by Jupyter.
    """
    if name is None:
        with tempfile.TemporaryDirectory() as tmp:
            save_figure(fig, Path(tmp) / "figure.pdf", Path(tmp) / "figure.png")
            return PngFigure((Path(tmp) / "figure.png").read_bytes())
    if folder is None:
        raise ValueError(f"show(fig, {name!r}): pass folder= (e.g. figures_dir(run)) to save.")
    png = Path(folder) / f"{name}.png"
    save_figure(fig, Path(folder) / f"{name}.pdf", png)
    return PngFigure(png.read_bytes(), png)


# The workflow itself ----------------------------------------------------------------------

_RULE = re.compile(r"^rule (\w+):", re.MULTILINE)
_FIGURE_OUTPUT = re.compile(r'"results/figures/(fig\d+_\w+)\.png"')
_SCRIPT = re.compile(r'script:\s*\n\s*"([^"]+)"')
_PLOT_IMPORT = re.compile(r"^from (panneuro\.figures\.\w+) import ([^\n]+)$", re.MULTILINE)


def figure_sources(run: Run) -> pd.DataFrame:
    """Trace each figure to its rule, the rule's script and the plotting function it calls.

    Read from the workflow's text (``workflow/rules/*.smk`` and ``workflow/scripts/``).

    Returns
    -------
    pandas.DataFrame
        ``figure``, ``rule``, ``rule_file``, ``script``, ``function`` (``module.name``), one
        row per figure, sorted by figure.
    """
    rows = []
    for rule_file in sorted(run.path("workflow", "rules").glob("*.smk")):
        text = rule_file.read_text()
        starts = [m.start() for m in _RULE.finditer(text)] + [len(text)]
        for start, stop in zip(starts[:-1], starts[1:], strict=True):
            block = text[start:stop]
            figure = _FIGURE_OUTPUT.search(block)
            script = _SCRIPT.search(block)
            if not figure or not script:
                continue
            script_path = (rule_file.parent / script.group(1)).resolve()
            functions = [f"{module}.{name.strip()}"
                         for module, names in _PLOT_IMPORT.findall(script_path.read_text())
                         for name in names.split(",") if name.strip().startswith("plot_")]
            rows.append({"figure": figure.group(1), "rule": _RULE.match(block).group(1),
                         "rule_file": str(rule_file.relative_to(run.root)),
                         "script": str(script_path.relative_to(run.root)),
                         "function": ", ".join(functions)})
    columns = ["figure", "rule", "rule_file", "script", "function"]
    return pd.DataFrame(rows, columns=columns).sort_values("figure", ignore_index=True)


def plan_workflow(run: Run, *args: str, samples: pd.DataFrame | None = None,
                  config: Mapping[str, Any] | None = None) -> str:
    """Run snakemake on the run's workflow in a scratch folder, to plan only; return stdout.

    For ``--rulegraph``, ``--dag`` or ``--dry-run``: the Snakefile and rules are the run's,
    the working folder is a temporary one holding a copy of ``config/`` and
    ``resources/reference/`` (so nothing is written into the run, and the plan is the one of
    a fresh clone).

    Parameters
    ----------
    run : Run
        The run.
    *args : str
        Snakemake arguments, e.g. ``"--rulegraph"``.
    samples : pandas.DataFrame, optional
        A sample sheet used instead of the run's (e.g. with a new session's rows).
    config : mapping, optional
        ``--config`` values (``key=value``).

    Returns
    -------
    str
        Snakemake's standard output.

    Raises
    ------
    RuntimeError
        If snakemake fails (its stderr's tail is in the message).
    """
    executable = Path(sys.executable).with_name("snakemake")
    if not executable.exists():
        executable = Path(shutil.which("snakemake") or "snakemake")
    env = dict(os.environ, PATH=f"{executable.parent}{os.pathsep}{os.environ.get('PATH', '')}")
    with tempfile.TemporaryDirectory(prefix="panneuro-plan-") as tmp:
        work = Path(tmp)
        shutil.copytree(run.path("config"), work / "config")
        shutil.copytree(run.path("resources", "reference"), work / "resources" / "reference")
        if samples is not None:
            samples.to_csv(work / run.config["samples"], sep="\t", index=False,
                           lineterminator="\n")
        command = [str(executable), "--snakefile", str(run.path("Snakefile")), "--directory",
                   str(work), "--cores", "1", *args]
        if config:
            command += ["--config", *(f"{k}={v}" for k, v in config.items())]
        done = subprocess.run(command, cwd=work, capture_output=True, text=True, env=env,
                              check=False)
    if done.returncode != 0:
        raise RuntimeError(f"snakemake {' '.join(args)} failed on {run.root}/Snakefile "
                           f"(exit {done.returncode}): {done.stderr[-2000:]}")
    return done.stdout
