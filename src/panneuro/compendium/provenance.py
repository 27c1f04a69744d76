"""Provenance sidecars: what every result file was made from, and the chain back to raw files.

Every output of a workflow script gets a sidecar beside it, ``<output name, dots as
underscores>.prov.json`` (:func:`sidecar_path`; a directory output gets it beside the
directory): the output's SHA-256 (of the file, or of the directory's files), the rule,
wildcards and parameters, each input with its identity (the git-annex key of an annexed
raw file, the digest recorded in the input's own sidecar, or its SHA-256), the compendium's
commit and the versions of the packages that ran it. Paths are relative to the working
directory (under remote default storage, as the workflow names them:
:mod:`panneuro.compendium.storage`) and nothing depends on the clock, the host or the
directory, so the sidecars are
byte-identical wherever the same inputs are processed. The rules declare the sidecars as
outputs (``with_provenance`` in ``workflow/rules/common.smk``). :func:`trace` follows the
sidecars from a figure back to the raw files (``panneuro provenance <file>``).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import platform
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from panneuro.compendium.datalad_io import annex_key
from panneuro.compendium.storage import logical_path
from panneuro.io.atomic import write_text_atomic

#: Suffix of a provenance sidecar.
SUFFIX = ".prov.json"
#: Packages whose versions a sidecar records.
PACKAGES = (
    "panneuro",
    "numpy",
    "scipy",
    "pandas",
    "scikit-learn",
    "statsmodels",
    "matplotlib",
    "mne",
    "mne-bids",
    "pynwb",
    "spikeinterface",
    "probeinterface",
    "neuroconv",
    "snakemake",
    "datalad",
    "git-annex",
)
#: Format version of the sidecars.
VERSION = 1


def sidecar_path(path: str | os.PathLike) -> Path:
    """Return the sidecar of a result file or directory: beside it, dots of its name as ``_``.

    ``results/nwb/sub-M1_ses-01_units.nwb`` has ``results/nwb/sub-M1_ses-01_units_nwb.prov.json``,
    a directory ``.../preprocessed`` has ``.../preprocessed.prov.json``. The sidecar's name keeps
    none of the result's extensions, so tools that collect files by extension see only their
    own: ``nwbinspector results`` globs ``*.nwb*`` and read ``units.nwb.prov.json`` as NWB.
    (Wildcard values in the rules' output patterns must then have no dots; the workflow's are
    constrained to letters and digits.)
    """
    result = Path(Path(path).as_posix().rstrip("/"))
    return result.with_name(result.name.replace(".", "_") + SUFFIX)


def with_sidecars(*paths: Any, **named: Any) -> list | dict:
    """Return a rule's outputs followed by their provenance sidecars (:func:`sidecar_path`).

    Declaring the sidecars makes them results like any other: removed with an incomplete job,
    sent to remote storage. Used in the rules as ``with_provenance``.

    Parameters
    ----------
    *paths
        Positional outputs (``*with_provenance(path)``): a list is returned.
    **named
        Named outputs (``**with_provenance(name=path)``): a dict with ``<name>_provenance``
        entries is returned.

    Returns
    -------
    list or dict
        The outputs, then their sidecars (so ``output[0]`` and the names stay).

    Raises
    ------
    ValueError
        If both positional and named outputs are given.
    """
    if paths and named:
        raise ValueError("with_provenance: give either positional or named outputs")
    if paths:
        return [*paths, *(str(sidecar_path(p)) for p in paths)]
    return {**named, **{f"{k}_provenance": str(sidecar_path(v)) for k, v in named.items()}}


def is_sidecar(path: str | os.PathLike) -> bool:
    """Tell whether ``path`` is a provenance sidecar."""
    return str(path).endswith(SUFFIX)


def digest(path: str | os.PathLike) -> str:
    """SHA-256 of a file, or of a directory's files (relative paths and contents, sorted).

    Snakemake's ``.snakemake_timestamp`` markers in directory outputs are left out.
    """
    path = Path(path)
    sha = hashlib.sha256()
    if path.is_dir():
        for item in sorted(p for p in path.rglob("*") if p.is_file()):
            if item.name == ".snakemake_timestamp":
                continue
            sha.update(item.relative_to(path).as_posix().encode() + b"\0")
            sha.update(_file_sha256(item).encode())
    else:
        sha.update(_file_bytes_digest(path))
        return "sha256:" + sha.hexdigest()
    return "sha256-tree:" + sha.hexdigest()


def _file_sha256(path: Path) -> str:
    sha = hashlib.sha256()
    sha.update(_file_bytes_digest(path))
    return sha.hexdigest()


def _file_bytes_digest(path: Path) -> bytes:
    sha = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    return sha.digest()


def input_identity(path: str | os.PathLike) -> dict[str, str]:
    """How an input is identified: annex key, the digest in its sidecar, or its SHA-256."""
    key = annex_key(path)
    if key is not None:
        return {"annex_key": key}
    side = sidecar_path(path)
    if side.exists():
        # The digest its sidecar recorded (not hashed again). The sidecar's path is not
        # recorded: a job under remote storage does not receive an input's sidecar (it is not
        # a declared input), so the record would depend on where the job ran (found
        # 2026-12-07, tests/test_slurm.py); :func:`trace` finds it by its name.
        return {"sha256": json.loads(side.read_text())["sha256"]}
    if Path(path).exists():
        return {"sha256": digest(path)}
    return {"missing": "true"}


def compendium_commit(workdir: str | os.PathLike = ".") -> str:
    """Return the compendium's git commit, or ``"unknown"`` outside its own git work tree."""
    workdir = Path(workdir).resolve()
    top = subprocess.run(
        ["git", "rev-parse", "--show-toplevel"],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=False,
    )
    if top.returncode != 0 or Path(top.stdout.strip()).resolve() != workdir:
        return "unknown"
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=workdir, capture_output=True, text=True, check=False
    )
    return head.stdout.strip() if head.returncode == 0 else "unknown"


def package_versions(packages: tuple[str, ...] = PACKAGES) -> dict[str, str]:
    """Installed versions of ``packages`` (``"absent"`` when not installed) and Python's."""
    versions = {"python": platform.python_version()}
    for name in packages:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions


def _plain(value: Any) -> Any:
    """JSON-ready copy of a parameter value; objects without a stable form become their type."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return _plain(value.item())
    return f"<{type(value).__name__}>"


def _named(namedlist: Any) -> dict[str, Any]:
    if hasattr(namedlist, "items"):
        return {str(k): _plain(v) for k, v in namedlist.items()}
    return {}


def record(
    output: str | os.PathLike,
    *,
    rule: str,
    inputs: list[str],
    params: Mapping[str, Any],
    wildcards: Mapping[str, Any],
    commit: str,
    versions: Mapping[str, str],
) -> dict[str, Any]:
    """Return the provenance record of one output (see the module docstring)."""
    return {
        "provenance_version": VERSION,
        "output": logical_path(output),
        "sha256": digest(output),
        "rule": rule,
        "wildcards": {str(k): _plain(v) for k, v in wildcards.items()},
        "params": {str(k): _plain(v) for k, v in params.items()},
        "inputs": [{"path": logical_path(p), **input_identity(p)} for p in inputs],
        "compendium_commit": commit,
        "packages": dict(versions),
    }


def write_provenance(smk: Any) -> list[Path]:
    """Write the sidecar of every output of a job: the one call a workflow script ends with.

    Parameters
    ----------
    smk : snakemake.script.Snakemake
        The ``snakemake`` object of a script (after
        :func:`panneuro.compendium.datalad_io.fetch_raw_inputs` its raw inputs are the raw files
        themselves, identified by their annex keys).

    Returns
    -------
    list of pathlib.Path
        The sidecars written.
    """
    inputs = [str(p) for p in smk.input]
    inputs += [str(p) for p in getattr(smk, "raw_companions", []) if str(p) not in inputs]
    commit = compendium_commit()
    versions = package_versions()
    written = []
    for output in smk.output:
        if is_sidecar(output):  # declared sidecars (with_provenance in the rules)
            continue
        data = record(
            output,
            rule=str(smk.rule),
            inputs=inputs,
            params=_named(smk.params),
            wildcards=_named(smk.wildcards),
            commit=commit,
            versions=versions,
        )
        target = sidecar_path(output)
        write_text_atomic(target, json.dumps(data, indent=1, sort_keys=True) + "\n")
        written.append(target)
    return written


@dataclass
class Node:
    """One file in a provenance chain: its sidecar's record (None for a source) and inputs."""

    path: str
    identity: dict[str, str]
    rule: str | None = None
    inputs: list[Node] = field(default_factory=list)


def trace(
    path: str | os.PathLike, *, root: str | os.PathLike = ".", _seen: dict[str, Node] | None = None
) -> Node:
    """Follow sidecars from ``path`` back to files without one (raw files, config, references).

    Parameters
    ----------
    path : path-like
        A result file, relative to ``root``.
    root : path-like
        The compendium's working directory (sidecar paths are relative to it).

    Returns
    -------
    Node
        The chain as a tree (shared inputs are the same Node object).

    Raises
    ------
    FileNotFoundError
        If ``path`` has no sidecar.
    """
    seen = {} if _seen is None else _seen
    key = Path(path).as_posix()
    if key in seen:
        return seen[key]
    side = Path(root) / sidecar_path(path)
    if not side.exists():
        raise FileNotFoundError(
            f"{side}: no provenance sidecar for {path}; results are made by "
            "`snakemake`, which writes one beside every result file."
        )
    data = json.loads(side.read_text())
    node = Node(key, {"sha256": data["sha256"]}, data["rule"])
    seen[key] = node
    for item in data["inputs"]:
        identity = {k: v for k, v in item.items() if k not in ("path", "sidecar")}
        # records before 2026-12-07 named the input's sidecar; since then it is found by name
        if "sidecar" in item or (Path(root) / sidecar_path(item["path"])).exists():
            node.inputs.append(trace(item["path"], root=root, _seen=seen))
        else:
            node.inputs.append(seen.setdefault(item["path"], Node(item["path"], identity)))
    return node


def leaves(node: Node) -> dict[str, dict[str, str]]:
    """Return the source files of a chain (no sidecar), with their identities, sorted by path."""
    found: dict[str, dict[str, str]] = {}

    def walk(item: Node, visited: set[int]) -> None:
        if id(item) in visited:
            return
        visited.add(id(item))
        if item.rule is None:
            found[item.path] = item.identity
        for child in item.inputs:
            walk(child, visited)

    walk(node, set())
    return dict(sorted(found.items()))


def raw_files(node: Node, raw_dir: str = "resources/raw") -> dict[str, dict[str, str]]:
    """Return the raw files (under ``raw_dir``) a result came from, with their identities."""
    prefix = raw_dir.rstrip("/") + "/"
    return {p: i for p, i in leaves(node).items() if p.startswith(prefix)}


def format_identity(identity: Mapping[str, str]) -> str:
    """Format an identity for reading: the digest itself, or ``annex_key <key>``."""
    return ", ".join(v if k == "sha256" else f"{k} {v}" for k, v in identity.items())


def format_chain(node: Node) -> Iterator[str]:
    """Lines of an indented chain: each file with its rule (or identity), inputs below it."""
    printed: set[str] = set()

    def walk(item: Node, depth: int) -> Iterator[str]:
        pad = "  " * depth + ("<- " if depth else "")
        if item.rule is None:
            ident = format_identity(item.identity)
            yield f"{pad}{item.path}  [{ident}]"
            return
        if item.path in printed:
            yield f"{pad}{item.path}  (rule {item.rule}, shown above)"
            return
        printed.add(item.path)
        yield f"{pad}{item.path}  (rule {item.rule}, {item.identity['sha256'][:19]}…)"
        for child in item.inputs:
            yield from walk(child, depth + 1)

    yield from walk(node, 0)
