r"""DataLad-aware raw inputs: install the raw dataset, get each job's content, drop it after.

Snakemake decides staleness from files it can ``stat``; a git-annex file whose content was
dropped is a broken symlink, which Snakemake 9.27 reports as a missing input (or, as an output,
re-runs its rule; snakemake#4229, #616). So the workflow never names an annexed raw file as a
Snakemake input or output. Each raw file of the sample sheet is stood in for by a small *key
record* (``resources/raw-keys/<path in the raw dataset>.json``, always present) holding the
file's path and content identity: its git-annex key, read from the symlink without the content,
or the SHA-256 of a file kept in git. The record's rule carries that identity as a parameter, so
a new version of a raw file (a new key) re-runs exactly the jobs that read it, and dropping or
getting content changes nothing Snakemake sees.

A job's script calls :func:`fetch_raw_inputs` first: it swaps the key records in
``snakemake.input`` for the raw paths, ``datalad get``\\ s the content that is not present (in
parallel, with the job's threads) and, when the config's ``raw_drop`` is true, drops it again when
the script ends, unless another running job still uses it; ``datalad drop`` refuses by itself when
no other copy is known.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import functools
import hashlib
import json
import logging
import os
import re
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from panneuro.compendium.access import EncryptedContentError, encrypted_content_message
from panneuro.compendium.annex import RawDataError, run_command

LOG = logging.getLogger(__name__)

#: Where the key records of the raw files live (git-ignored, remade by the workflow).
KEY_DIR = "resources/raw-keys"
#: Suffix of a key record.
KEY_SUFFIX = ".json"
#: Longest wait for another job's transfer of the same file, s.
TRANSFER_WAIT_S = 600.0
_LOCKED = re.compile(r"transfer already in progress|unable to take transfer lock")
#: File beside which running jobs register the raw files they use (see :func:`in_use`).
_IN_USE = ".in-use"


def is_installed(dataset: str | os.PathLike) -> bool:
    """Tell whether ``dataset`` is an installed git/DataLad dataset (not an empty mount point)."""
    return (Path(dataset) / ".git").exists()


def annex_key(path: str | os.PathLike) -> str | None:
    """Return the git-annex key of an annexed file, read from its symlink (content not needed).

    Returns
    -------
    str or None
        The key (e.g. ``MD5E-s2560--9aec….nwb``), or None if ``path`` is not an annexed
        symlink (a file kept in git, or no file at all).
    """
    path = Path(path)
    if not path.is_symlink():
        return None
    target = os.readlink(path)
    if "annex/objects/" not in target:
        return None
    return Path(target).name


def content_id(path: str | os.PathLike) -> str:
    """Content identity of a raw file: its annex key, ``sha256:<hex>`` of a file in git.

    A file of a plain folder (a lab's BIDS folder that is not a DataLad dataset) is identified
    by ``stat:<size>:<mtime_ns>``.

    Raises
    ------
    RawDataError
        If the file is absent (its dataset or subdataset is not installed).
    """
    key = annex_key(path)
    if key is not None:
        return key
    path = Path(path)
    if not path.is_file():
        raise RawDataError(_absent_message(path))
    if not _tracked_in_git(path):
        # A plain folder (not a dataset): identified as Snakemake does, by size and time,
        # not hashed at every planning (recordings are large).
        stat = path.stat()
        return f"stat:{stat.st_size}:{stat.st_mtime_ns}"
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


@functools.cache
def _git_tracked(repo: str) -> frozenset[str]:
    """Paths git tracks in ``repo`` (one ``git ls-files`` per repository and process)."""
    return frozenset(run_command(["git", "ls-files", "-z"], cwd=repo).stdout.split("\0"))


def _tracked_in_git(path: Path) -> bool:
    absolute = Path(os.path.abspath(path))
    repo = next((p for p in absolute.parents if (p / ".git").exists()), None)
    return repo is not None and absolute.relative_to(repo).as_posix() in _git_tracked(str(repo))


def has_content(path: str | os.PathLike) -> bool:
    """Tell whether the file's content is in the working tree (git file or annexed and present)."""
    return Path(path).exists()


def companions(path: str | os.PathLike) -> list[Path]:
    """Files a reader opens beside a raw file: BrainVision data and markers, reader sidecars.

    Parameters
    ----------
    path : path-like
        A raw file of the sample sheet.

    Returns
    -------
    list of pathlib.Path
        Existing or annexed companions (``.eeg``/``.vmrk`` named in a ``.vhdr`` header, the
        ``<file>.json`` reader options of :func:`panneuro.ephys.preprocessing.read_recording`).
    """
    path = Path(path)
    found: list[Path] = []
    if path.suffix == ".vhdr" and path.is_file():
        for line in path.read_text(errors="replace").splitlines():
            match = re.match(r"\s*(DataFile|MarkerFile)\s*=\s*(.+?)\s*$", line)
            if match:
                found.append(path.parent / match.group(2))
    sidecar = Path(f"{path}.json")
    if sidecar.exists() or sidecar.is_symlink():
        found.append(sidecar)
    return found


def key_record(raw_file: str | os.PathLike, *, identify: bool = True) -> str:
    """Return the key record of a raw file: one JSON line, the content of its stand-in file.

    Parameters
    ----------
    raw_file : path-like
        The raw file, relative to the compendium (``resources/raw/sub-M1/…``).
    identify : bool
        Record the content identity of the file and its companions (annex keys or SHA-256).
        False while the dataset is still to be simulated: the simulation's own parameters
        then identify the content.

    Returns
    -------
    str
        ``{"path": …, "key": …, "companions": {path: key}}`` (sorted keys, one line).
    """
    raw_file = Path(raw_file)
    record: dict[str, Any] = {"path": raw_file.as_posix(), "key": None, "companions": {}}
    if identify:
        record["key"] = content_id(raw_file)
        record["companions"] = {c.as_posix(): content_id(c) for c in companions(raw_file)}
    return json.dumps(record, sort_keys=True)


def key_record_path(raw_file: str | os.PathLike, raw_root: str | os.PathLike) -> str:
    """Path of the key record standing in for ``raw_file`` (under :data:`KEY_DIR`)."""
    relative = Path(raw_file).relative_to(raw_root).as_posix()
    return f"{KEY_DIR}/{relative}{KEY_SUFFIX}"


def read_key_record(path: str | os.PathLike) -> dict[str, Any]:
    """Read a key record written by the workflow's ``raw_key`` rule."""
    return json.loads(Path(path).read_text())


def _absent_message(path: Path) -> str:
    # the topmost absent or empty folder on the way: an uninstalled (sub)dataset
    dataset = path.parent
    for parent in path.parents:
        if parent.is_dir() and any(parent.iterdir()):
            break
        dataset = parent
    return (
        f"{path}: raw file absent ({dataset} is not installed); fix: datalad get -n -r "
        f"{dataset}  (or datalad clone <source URL> {dataset})"
    )


def ensure_installed(
    dataset: str | os.PathLike, source: str | None = None, *, superdataset: str | os.PathLike = "."
) -> bool:
    """Install a subdataset (no content) if it is not installed yet: its first use.

    If ``superdataset`` is a DataLad dataset that registers ``dataset`` (``.gitmodules``),
    it is installed from the registered URL (``datalad get -n -r``); otherwise it is cloned
    from ``source`` (and registered when ``superdataset`` is a dataset). Nested subdatasets
    (e.g. the human subjects' folders) are installed too, without content. Special remotes
    of the configured source are verified (``git annex verifyremote``, needed for a special
    remote in a clone by git-annex 10.20261026).

    Parameters
    ----------
    dataset : path-like
        The subdataset's path, relative to ``superdataset`` (e.g. ``resources/raw``).
    source : str, optional
        Where to clone it from (any ``datalad clone`` source, e.g. ``ria+file:///store#~raw``).
    superdataset : path-like
        The compendium's root.

    Returns
    -------
    bool
        True if something was installed.

    Raises
    ------
    RawDataError
        If the dataset is neither installed, registered nor given a source, or the install
        fails; the message gives the command that fixes it.
    """
    root = Path(superdataset)
    target = root / dataset
    registered = _is_registered(root, Path(dataset))
    if not source and not registered and _is_plain_dataset(target):
        return False  # a plain BIDS folder (no git): used as it is, nothing to install
    if is_installed(target):
        installed = not _nested_installed(target)
        if installed:
            _check(
                run_command(["datalad", "get", "-n", "-r", "-d", str(target), str(target)]),
                f"datalad get -n -r {dataset}",
            )
        if source:
            verify_special_remotes(target, source)
        return installed
    if registered:
        _check(
            run_command(["datalad", "get", "-n", "-r", str(dataset)], cwd=root),
            f"datalad get -n -r {dataset}",
        )
    elif source:
        args = ["datalad", "clone"]
        if is_installed(root) and (root / ".datalad").exists():
            args += ["-d", "."]
        _check(
            run_command([*args, source, str(dataset)], cwd=root),
            f"datalad clone {source} {dataset}",
        )
        _check(
            run_command(["datalad", "get", "-n", "-r", "-d", str(dataset), str(dataset)], cwd=root),
            f"datalad get -n -r {dataset}",
        )
    elif target.is_dir() and any(target.iterdir()) and not (target / ".git").exists():
        raise RawDataError(
            f"{target}: not a BIDS dataset: dataset_description.json missing; add one at its "
            'root (BIDS: at least Name and BIDSVersion, e.g. {"Name": "my study", '
            '"BIDSVersion": "1.10.1"}), or point raw_dir at the dataset\'s root folder'
        )
    else:
        raise RawDataError(
            f"{dataset}: raw dataset not installed and no source configured; fix: datalad "
            f"clone <source URL> {dataset}  (or set raw_source in config/config.yaml, or "
            "simulate: true)"
        )
    if source:
        verify_special_remotes(target, source)
    return True


def install_study_datasets(config: Mapping[str, Any], *, raw_simulated: bool) -> None:
    """Install the raw dataset and the simulated study's ground truth on first use.

    Both without content (each job gets its own files): the raw dataset (``raw_dir``) from
    ``raw_source`` unless the workflow simulates it, the ground truth (``groundtruth_dir``)
    from ``groundtruth_source`` when one is configured. A simulated study whose raw dataset
    comes from elsewhere needs its ground truth too.

    Parameters
    ----------
    config : mapping
        The workflow's config (``raw_dir``, ``raw_source``, ``groundtruth_dir``,
        ``groundtruth_source``, ``simulate``).
    raw_simulated : bool
        Whether the workflow simulates the raw dataset itself (nothing to install then).

    Raises
    ------
    RawDataError
        If a dataset cannot be installed, or the simulated study's ground truth is neither
        installed nor given a source; the message gives the fix.
    """
    raw, truth = config["raw_dir"], config["groundtruth_dir"]
    if not raw_simulated:
        ensure_installed(raw, config.get("raw_source") or None)
    if config.get("groundtruth_source"):
        ensure_installed(truth, config["groundtruth_source"])
    elif config["simulate"] and not raw_simulated and not is_installed(truth):
        raise RawDataError(
            f"{truth}: the simulated study's ground truth is not installed; fix: set "
            f"groundtruth_source (where it was published) or datalad clone <source URL> {truth}"
        )


def _is_plain_dataset(folder: Path) -> bool:
    """Tell whether ``folder`` is a BIDS folder outside git (a description, no ``.git``)."""
    return (folder / "dataset_description.json").is_file() and not (folder / ".git").exists()


def _check(result: subprocess.CompletedProcess, fix: str) -> None:
    if result.returncode != 0:
        raise RawDataError(
            f"{fix!r} failed ({_detail(result.stderr + result.stdout)}); fix "
            f"the source or run: {fix}"
        )


def _detail(output: str) -> str:
    """Pick the telling line of a datalad/git-annex output: the last error, else the last."""
    lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
    errors = [
        line
        for line in lines
        if re.search(r"error|impossible|fail|unverified", line, flags=re.IGNORECASE)
    ]
    return (errors or lines or ["no output"])[-1][:300]


def _is_registered(root: Path, dataset: Path) -> bool:
    gitmodules = root / ".gitmodules"
    if not gitmodules.exists():
        return False
    return (
        re.search(
            rf"^\s*path\s*=\s*{re.escape(dataset.as_posix())}\s*$",
            gitmodules.read_text(),
            flags=re.MULTILINE,
        )
        is not None
    )


def _nested_installed(dataset: Path) -> bool:
    gitmodules = dataset / ".gitmodules"
    if not gitmodules.exists():
        return True
    paths = re.findall(r"^\s*path\s*=\s*(.+?)\s*$", gitmodules.read_text(), flags=re.MULTILINE)
    return all(is_installed(dataset / p) for p in paths)


def verify_special_remotes(dataset: str | os.PathLike, source: str) -> list[str]:
    """Mark the special remotes that point at the configured source as verified.

    git-annex 10.20261026 refuses an unverified special remote in a clone ("unverified special
    remote"); ``git annex verifyremote NAME`` prints the remote's configuration and the exact
    ``--safe ID`` to accept it. Only remotes whose configuration names the configured
    ``source`` (its store URL) are accepted: the user chose that source.

    Returns
    -------
    list of str
        The remotes verified here (in ``dataset`` and its installed subdatasets).
    """
    store = source.split("#", 1)[0]
    verified = []
    for repo in [Path(dataset), *_installed_subdatasets(Path(dataset))]:
        config = run_command(
            ["git", "config", "--get-regexp", r"^remote\..*\.annex-uuid$"], cwd=repo
        )
        for line in config.stdout.splitlines():
            name = line.split()[0][len("remote.") : -len(".annex-uuid")]
            state = run_command(["git", "config", f"remote.{name}.annex-verified"], cwd=repo)
            if state.stdout.strip():
                continue
            shown = run_command(["git", "annex", "verifyremote", name], cwd=repo)
            match = re.search(r"verifyremote \S+ --safe (\S+)", shown.stdout + shown.stderr)
            if match and store in shown.stdout + shown.stderr:
                run_command(
                    ["git", "annex", "verifyremote", name, "--safe", match.group(1)], cwd=repo
                )
                verified.append(f"{repo}:{name}")
    return verified


def _installed_subdatasets(dataset: Path) -> list[Path]:
    gitmodules = dataset / ".gitmodules"
    if not gitmodules.exists():
        return []
    paths = re.findall(r"^\s*path\s*=\s*(.+?)\s*$", gitmodules.read_text(), flags=re.MULTILINE)
    return [dataset / p for p in paths if is_installed(dataset / p)]


def get_content(paths: Sequence[str | os.PathLike], *, jobs: int = 1) -> list[str]:
    """``datalad get`` the annexed files among ``paths`` whose content is absent.

    Subdatasets on the way are installed by ``datalad get`` itself.

    Returns
    -------
    list of str
        The paths that were fetched.

    Raises
    ------
    panneuro.compendium.access.EncryptedContentError
        If a file's content is only in an encrypted special remote this user's gpg keys cannot
        open (a :class:`RawDataError`); the message is
        :func:`panneuro.compendium.access.encrypted_content_message`: the data steward's command.
    RawDataError
        If ``datalad get`` fails otherwise (no reachable copy); the message names the files
        and the command to run once a copy is reachable.
    """
    missing = [str(p) for p in paths if not has_content(p)]
    if not missing:
        return []
    outputs: list[str] = []
    still = missing
    # Another job may be getting the same file (git-annex: "transfer already in progress, or
    # unable to take transfer lock"): wait for it and ask again, up to TRANSFER_WAIT_S.
    deadline = time.monotonic() + TRANSFER_WAIT_S
    while True:
        round_outputs = []
        for root, members in _by_dataset(still).items():
            result = run_command(["datalad", "get", "-J", str(max(1, jobs)), "-d", root, *members])
            round_outputs.append(result.stderr + result.stdout)
        outputs += round_outputs
        still = [p for p in still if not has_content(p)]
        locked = _LOCKED.search("\n".join(round_outputs))
        if not still or not locked or time.monotonic() > deadline:
            break
        time.sleep(1.0)
    if still:
        # Content only in an encrypted remote this user's gpg keys cannot open: name the
        # steward's command that grants access.
        for path in still:
            message = encrypted_content_message(path)
            if message is not None:
                raise EncryptedContentError(message)
        raise RawDataError(
            f"{still[0]}: annexed content not available ({_detail(chr(10).join(outputs))}); "
            "fix: make a copy "
            f"reachable (datalad siblings; git annex whereis {still[0]}) and run: datalad get "
            + " ".join(still)
        )
    return missing


def drop_content(paths: Sequence[str | os.PathLike]) -> list[str]:
    """``datalad drop`` annexed content, only where another copy is known (DataLad's check).

    Returns
    -------
    list of str
        The paths whose content was dropped; the others are kept (no other copy, or not
        annexed) and logged.
    """
    present = [str(p) for p in paths if annex_key(p) is not None and has_content(p)]
    if not present:
        return []
    for root, members in _by_dataset(present).items():
        run_command(["datalad", "drop", "-d", root, *members])
    dropped = [p for p in present if not has_content(p)]
    kept = sorted(set(present) - set(dropped))
    if kept:
        LOG.info("kept %d raw file(s) (no other copy known): %s", len(kept), kept)
    return dropped


def forget_absent_annexed(folder: str | os.PathLike) -> list[str]:
    """Remove the annexed files under ``folder`` whose content is absent (dangling symlinks).

    Parameters
    ----------
    folder : path-like
        A folder of saved results (``results``); absent: nothing to do.

    Returns
    -------
    list of str
        The paths removed, sorted.
    """
    removed = []
    for path in sorted(Path(folder).rglob("*")) if Path(folder).is_dir() else []:
        if annex_key(path) is not None and not path.exists():
            path.unlink()
            removed.append(path.as_posix())
    return removed


def _by_dataset(paths: Sequence[str]) -> dict[str, list[str]]:
    """Absolute paths grouped by the nearest installed dataset above each (for ``-d``)."""
    groups: dict[str, list[str]] = {}
    for path in paths:
        absolute = Path(os.path.abspath(path))
        root = next((p for p in absolute.parents if (p / ".git").exists()), absolute.parent)
        groups.setdefault(str(root), []).append(str(absolute))
    return groups


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def in_use(registry: str | os.PathLike, *, exclude_pid: int | None = None) -> set[str]:
    """Raw files registered by running jobs (``<registry>/<pid>.json``; dead pids ignored)."""
    used: set[str] = set()
    for entry in Path(registry).glob("*.json"):
        pid = int(entry.stem)
        if pid == exclude_pid:
            continue
        if not _pid_alive(pid):
            entry.unlink(missing_ok=True)
            continue
        used.update(json.loads(entry.read_text()))
    return used


def acquire(
    paths: Sequence[str | os.PathLike], *, registry: str | os.PathLike, jobs: int = 1
) -> list[str]:
    """Register ``paths`` as used by this process, then get their absent content.

    Registration happens under the registry's lock, so a job that is dropping content waits
    or leaves these files alone.

    Returns
    -------
    list of str
        The paths that were fetched.
    """
    registry = Path(registry)
    with _locked(registry):
        entry = registry / f"{os.getpid()}.json"
        previous = json.loads(entry.read_text()) if entry.exists() else []
        entry.write_text(json.dumps(sorted({*previous, *map(str, paths)})))
    return get_content(paths, jobs=jobs)


def release(
    paths: Sequence[str | os.PathLike], *, registry: str | os.PathLike, drop: bool
) -> list[str]:
    """Unregister ``paths``; with ``drop``, drop those no other running job uses.

    Returns
    -------
    list of str
        The paths whose content was dropped.
    """
    registry = Path(registry)
    with _locked(registry):
        (registry / f"{os.getpid()}.json").unlink(missing_ok=True)
        if not drop:
            return []
        busy = in_use(registry)
        return drop_content([p for p in map(str, paths) if p not in busy])


def fetch_raw_inputs(smk: Any) -> list[str]:
    """Resolve a job's raw inputs: the one call a workflow script makes before reading them.

    Every input that is a key record (under :data:`KEY_DIR`) is replaced in ``smk.input`` by
    the raw file it stands for; the content of those files and their companions is fetched
    (``datalad get``, ``smk.threads`` in parallel) if absent. With ``raw_drop: true`` in the
    config, the content fetched is dropped again when the script exits, unless another running
    job uses it (and only where DataLad knows another copy).

    Parameters
    ----------
    smk : snakemake.script.Snakemake
        The ``snakemake`` object of a script.

    Returns
    -------
    list of str
        The raw files (and companions) the job reads.
    """
    inputs = smk.input
    raw: list[str] = []
    for index, value in enumerate(list(inputs)):
        if _is_key_record(value):
            inputs[index] = read_key_record(value)["path"]
            raw.append(inputs[index])
    if not raw:
        return []
    for name, (start, end) in list(getattr(inputs, "_names", {}).items()):
        inputs._set_name(name, start, end)
    registry = Path(KEY_DIR) / _IN_USE
    jobs = int(getattr(smk, "threads", 1) or 1)
    acquire(raw, registry=registry, jobs=jobs)
    # companions are named by the files just fetched (a BrainVision header names its data)
    extra = sorted({str(c) for path in raw for c in companions(path)} - set(raw))
    if extra:
        acquire(extra, registry=registry, jobs=jobs)
    raw += extra
    # the companions are inputs too: provenance records them (panneuro.compendium.provenance)
    smk.raw_companions = extra
    drop = bool(smk.config.get("raw_drop", False))
    atexit.register(release, raw, registry=registry, drop=drop)
    return raw


def _is_key_record(value: Any) -> bool:
    text = str(value)
    return text.startswith(f"{KEY_DIR}/") and text.endswith(KEY_SUFFIX)
