"""Open a run of the compendium: its config and sample sheet, and the paths of its results.

The workflow's rules list their inputs from the sample sheet (:class:`panneuro.study.Study`);
:class:`Run` derives the same lists (probes, sessions, labels) so that notebooks and the figure
scripts read a run through one set of functions. Paths follow ``docs/architecture.md``. A run
is a compendium folder, or a run read in place from an S3 prefix
(:class:`panneuro.results.bucket.S3Prefix`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import pandas as pd
import yaml

from panneuro.results.bucket import S3Prefix

#: Environment variable naming the compendium root a notebook opens.
ROOT_ENV = "PANNEURO_ROOT"
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
        root = os.environ.get(ROOT_ENV) or Path(__file__).resolve().parents[3]
    root = Path(root).expanduser().resolve()
    if not (root / "Snakefile").is_file():
        raise FileNotFoundError(
            f"{root}: no Snakefile, so not a panneuro compendium; set "
            f"{ROOT_ENV} to the folder holding the Snakefile."
        )
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
    def task_samples(self) -> pd.DataFrame:
        """The sheet's rows of the task (a sheet's sleep or rest runs left out).

        A probe's sleep runs are rows of its session with the same probe (columns ``task``,
        ``run``); the probes, their regions and the ECoG sessions are the task's
        (:func:`panneuro.study.task_rows`). Found on a lab's sheet with sleep runs, where
        reading figure 2's sorting summaries met three rows for one probe.
        """
        from panneuro.study import task_rows

        return task_rows(self.samples)

    @property
    def simulated(self) -> bool:
        """True when the raw dataset is the simulated one (ground truth is beside it)."""
        return bool(self.config["simulate"])

    def probes(
        self, datatypes: Sequence[str] = PROBE_DATATYPES, species: str | None = None
    ) -> list[tuple[str, str, str]]:
        """``(subject, session, probe)`` of every probe of the given datatypes, sheet order."""
        rows = self.task_samples
        sel = rows[rows["datatype"].isin(list(datatypes))]
        if species is not None:
            sel = sel[sel["species"] == species]
        return list(sel[["subject", "session", "probe"]].itertuples(index=False, name=None))

    def probe_sessions(
        self, datatypes: Sequence[str] = PROBE_DATATYPES, species: str | None = None
    ) -> list[tuple[str, str]]:
        """Sorted ``(subject, session)`` pairs with at least one probe of the datatypes."""
        return sorted({(s, ses) for s, ses, _ in self.probes(datatypes, species)})

    def ecog_sessions(self) -> list[tuple[str, str]]:
        """``(subject, session)`` of every ECoG row, sheet order."""
        rows = self.task_samples
        sel = rows[rows["datatype"] == "ecog"]
        return list(zip(sel["subject"], sel["session"], strict=True))

    def region(self, subject: str, session: str, probe: str) -> str:
        """Brain region of a probe (its sample-sheet row)."""
        rows = self.task_samples
        sel = rows[
            (rows["subject"] == subject)
            & (rows["session"] == session)
            & (rows["probe"] == probe)
            & rows["datatype"].isin(list(PROBE_DATATYPES))
        ]
        if len(sel) != 1:
            raise ValueError(
                f"{self.config['samples']}: expected one array/microwire row for "
                f"sub-{subject} ses-{session} probe {probe}, found {len(sel)}."
            )
        return str(sel.iloc[0]["region"])

    def species(self, subject: str, session: str) -> str:
        """Species of a session (its sample-sheet rows)."""
        sel = self.samples[
            (self.samples["subject"] == subject) & (self.samples["session"] == session)
        ]
        if sel.empty:
            raise ValueError(
                f"{self.config['samples']}: no row for sub-{subject} "
                f"ses-{session}; pick a session of the sample sheet."
            )
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
            raise FileNotFoundError(
                f"{path}: not found; make it first: snakemake {target} "
                f"(or make reproduce) in {self.root}."
            )
        return path

    def _relative(self, *parts: str | os.PathLike) -> PurePosixPath:
        path = PurePosixPath(self.root).joinpath(*[PurePosixPath(p) for p in parts])
        return (
            path.relative_to(PurePosixPath(self.root))
            if path.is_relative_to(PurePosixPath(self.root))
            else path
        )

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
        return self.path("results", "ephys", f"sub-{subject}", f"ses-{session}", f"acq-{probe}")

    def units_nwb(self, subject: str, session: str) -> Path:
        """``results/nwb/sub-X_ses-Y_units.nwb`` of a session."""
        return self.path("results", "nwb", f"sub-{subject}_ses-{session}_units.nwb")

    def session_result(self, subject: str, session: str, kind: str) -> Path:
        """``results/decoding/sub-X_ses-Y_<kind>.tsv`` (decoding, ccgp, latents_regression)."""
        return self.path("results", "decoding", f"sub-{subject}_ses-{session}_{kind}.tsv")

    def ground_truth(self, *parts: str) -> Path:
        """Return a path under the run's ground-truth folder (``groundtruth_dir``)."""
        return self.path(self.config["groundtruth_dir"], *parts)


def open_run(
    root: str | os.PathLike | None = None,
    *,
    overrides: Mapping[str, Any] | None = None,
    endpoint_url: str | None = None,
) -> Run:
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
        raise FileNotFoundError(
            f"{config_file}: no config; a compendium keeps it in config/config.yaml."
        )
    config = _merge(yaml.safe_load(config_file.read_text()), overrides or {})
    sheet = root / config["samples"]
    if not sheet.is_file():
        raise FileNotFoundError(f"{sheet}: sample sheet not found; fix 'samples' in {config_file}.")
    samples = pd.read_csv(sheet, sep="\t", dtype=str, keep_default_na=False, na_values=[])
    return Run(root=root, config=config, samples=samples)


def _open_s3_run(url: str, *, overrides: Mapping[str, Any] | None, endpoint_url: str | None) -> Run:
    store = S3Prefix.from_url(url, endpoint_url=endpoint_url)
    config = _merge(yaml.safe_load(store.read_bytes("config/config.yaml")), overrides or {})
    sheet = store.local_copy(config["samples"])
    samples = pd.read_csv(sheet, sep="\t", dtype=str, keep_default_na=False, na_values=[])
    return Run(
        root=Path("/", store.bucket, store.prefix), config=config, samples=samples, store=store
    )
