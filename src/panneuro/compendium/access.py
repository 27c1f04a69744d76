"""Access control of human raw data: git-annex encryption of a subdataset's content at rest.

Each human subject's folder of the raw dataset (``sub-H1``...) is its own DataLad subdataset.
Its history (file names, sidecars kept in git) is published as usual, but its annexed content
(the recordings) is pushed only to an *encrypted special remote*: a git-annex ``directory``
remote with ``encryption=hybrid``. git-annex makes one random symmetric cipher for the remote,
encrypts every file with it (and HMACs the file names) and stores the cipher in the git-annex
branch encrypted to the gpg keys listed with ``keyid``. So:

- a clone *without* a listed key sees every file name and the sidecars, but ``datalad get`` of
  a recording fails (gpg cannot decrypt the cipher); :func:`get` turns that failure into one
  line naming the file and the command the data steward runs to grant access;
- the steward grants access with ``git annex enableremote NAME keyid+=KEY`` (:func:`grant`):
  hybrid encryption re-encrypts the cipher to the new key, which then reads everything
  already stored (``encryption=pubkey`` encrypts each file to the keys of the moment, so a key
  added later cannot read older files: measured in tests/test_access.py);
- ``keyid-=`` (:func:`revoke`) stops *future* clones from decrypting the cipher, but not the
  revoked key's owner: the old cipher stays in the git-annex branch's history and the content
  they already fetched stays on their disks. See ``docs/access.md``.

The remote's files are ciphertext (OpenPGP packets, :func:`plaintext_files` finds any that are
not). This git-annex (10.20261026) wants ``directory=`` again at every ``enableremote`` and a
special remote verified in each clone (``git annex verifyremote NAME --safe ID``): :func:`enable`
does both.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from panneuro.compendium.annex import RawDataError, run_command

#: Name of the encrypted special remote of a human subject's subdataset.
DEFAULT_REMOTE = "human-encrypted"
#: Leading bytes of plaintext recordings and sidecars: none may start a file of the store.
PLAINTEXT_MAGIC = {
    "HDF5/NWB": b"\x89HDF\r\n\x1a\n",
    "BrainVision header": b"Brain Vision",
    "BrainVision markers": b"Brain Vision Data Exchange Marker",
    "EDF": b"0       ",
    "JSON": b"{",
    "NumPy": b"\x93NUMPY",
}


#: git-annex's UUID of the web (content downloadable from a URL).
_WEB_UUID = "00000000-0000-0000-0000-000000000001"


class EncryptedContentError(RawDataError):
    """Annexed content is only in an encrypted special remote this user cannot decrypt.

    A :class:`panneuro.compendium.annex.RawDataError`: the pipeline's input fetching
    (:func:`panneuro.compendium.datalad_io.get_content`) raises it with
    :func:`encrypted_content_message`.
    """


class AccessError(RuntimeError):
    """A git-annex step of access control failed; the message names the command and output."""


@dataclass(frozen=True)
class EncryptedRemote:
    """An encrypted special remote as recorded in a dataset's git-annex branch.

    Attributes
    ----------
    name, uuid : str
        The remote's name and git-annex UUID.
    encryption : str
        ``hybrid``, ``pubkey``, ``shared`` or ``none``.
    keyids : tuple of str
        The gpg keys the cipher (hybrid) or the content (pubkey) is encrypted to.
    directory : str or None
        The store of a ``directory`` remote (as set up; may differ per clone).
    """

    name: str
    uuid: str
    encryption: str
    keyids: tuple[str, ...]
    directory: str | None


def protect(
    dataset: str | os.PathLike,
    keyid: str,
    remote_dir: str | os.PathLike,
    *,
    name: str = DEFAULT_REMOTE,
) -> EncryptedRemote:
    """Create an encrypted (hybrid) directory special remote and copy all content to it.

    Parameters
    ----------
    dataset : path-like
        The subdataset holding a human subject's recordings (with their content).
    keyid : str
        The data steward's gpg key (id or fingerprint); more keys are added with :func:`grant`.
    remote_dir : path-like
        The store (an existing or new empty folder, e.g. on the lab's server).
    name : str
        The remote's name.

    Returns
    -------
    EncryptedRemote
        The remote as recorded in the git-annex branch.

    Raises
    ------
    AccessError
        If ``initremote`` or the copy fails (e.g. the key is not in the keyring).
    """
    store = Path(remote_dir).resolve()
    store.mkdir(parents=True, exist_ok=True)
    _log_remote(
        dataset,
        "initremote",
        name,
        "type=directory",
        f"directory={store}",
        "encryption=hybrid",
        f"keyid={keyid}",
    )
    _annex(dataset, "copy", "--to", name, "--all")
    return encrypted_remotes(dataset)[name]


def _log_remote(dataset: str | os.PathLike, *arguments: str) -> None:
    """``git annex initremote/enableremote``, returning once the second of its log has passed.

    git-annex stamps ``remote.log`` entries to the whole second and, on merge, keeps the newest
    entry of a remote; two entries of the same second tie and either may win. Seen in the
    test suite: a user's ``enable`` and the steward's ``grant`` in the same second, and after
    the merge the user's older key list shadowed the grant. Waiting out the second makes any
    later entry (a grant, a revocation, a user enabling) strictly newer.
    """
    _annex(dataset, *arguments)
    time.sleep(max(0.0, 1.0 - time.time() % 1.0) + 0.01)


def grant(
    dataset: str | os.PathLike,
    keyid: str,
    remote_dir: str | os.PathLike,
    *,
    name: str = DEFAULT_REMOTE,
) -> EncryptedRemote:
    """Give a gpg key access to everything in the encrypted remote (``keyid+=``).

    Run by the data steward (whose key decrypts the cipher), with the new key's public part
    imported (``gpg --import``); then publish the git-annex branch (``datalad push``).

    Parameters
    ----------
    dataset : path-like
        The steward's copy of the subdataset.
    keyid : str
        The key to add.
    remote_dir : path-like
        The store (this git-annex wants ``directory=`` at every ``enableremote``).
    name : str
        The remote's name.

    Returns
    -------
    EncryptedRemote
        The remote with its new key list.
    """
    _log_remote(
        dataset, "enableremote", name, f"directory={Path(remote_dir).resolve()}", f"keyid+={keyid}"
    )
    return encrypted_remotes(dataset)[name]


def revoke(
    dataset: str | os.PathLike,
    keyid: str,
    remote_dir: str | os.PathLike,
    *,
    name: str = DEFAULT_REMOTE,
) -> EncryptedRemote:
    """Remove a gpg key from the remote's list (``keyid-=``): see the module's caveats.

    The cipher is re-encrypted without the key, so clones made after the branch is
    published cannot decrypt it with that key alone; the cipher itself does not change, so its
    old encrypted copies in the git-annex branch's history still open every file for the
    revoked key's owner. Real revocation is a new remote (new cipher): see ``docs/access.md``.

    Parameters
    ----------
    dataset : path-like
        The steward's copy of the subdataset.
    keyid : str
        The key to remove.
    remote_dir : path-like
        The store.
    name : str
        The remote's name.

    Returns
    -------
    EncryptedRemote
        The remote with its new key list.
    """
    _log_remote(
        dataset, "enableremote", name, f"directory={Path(remote_dir).resolve()}", f"keyid-={keyid}"
    )
    return encrypted_remotes(dataset)[name]


def enable(
    clone: str | os.PathLike, remote_dir: str | os.PathLike, *, name: str = DEFAULT_REMOTE
) -> None:
    """Enable and verify the encrypted remote in a clone (needs no key: reading does).

    Parameters
    ----------
    clone : path-like
        A clone of the subdataset.
    remote_dir : path-like
        Where the store is reachable from this machine.
    name : str
        The remote's name.
    """
    _log_remote(clone, "enableremote", name, f"directory={Path(remote_dir).resolve()}")
    shown = run_command(["git", "annex", "verifyremote", name], cwd=clone)
    match = re.search(rf"verifyremote {re.escape(name)} --safe (\S+)", shown.stdout + shown.stderr)
    if match:
        _annex(clone, "verifyremote", name, "--safe", match.group(1))


def get(paths: Sequence[str | os.PathLike], *, jobs: int = 1) -> list[str]:
    """``datalad get`` files; say clearly when their content is encrypted for someone else.

    Parameters
    ----------
    paths : sequence of path-like
        Files in (installed) datasets.
    jobs : int
        Parallel transfers.

    Returns
    -------
    list of str
        The files whose content is now present.

    Raises
    ------
    EncryptedContentError
        If a file's content is only in an encrypted remote this user's gpg keys cannot open;
        the message names the file and the steward's command to add the user's key.
    AccessError
        If ``datalad get`` fails for another reason (its last line of output).
    """
    folders: dict[Path, list[str]] = {}
    for path in map(Path, paths):
        folders.setdefault(path.parent, []).append(path.name)
    errors = []
    for folder, names in sorted(folders.items()):
        # Merge fetched git-annex branches first: a key granted since the last merge (a newer
        # cipher entry in remote.log) is otherwise not seen.
        run_command(["git", "annex", "merge"], cwd=folder)
        result = run_command(["datalad", "get", "-J", str(max(1, int(jobs))), *names], cwd=folder)
        if result.returncode != 0:
            errors += (result.stderr or result.stdout).strip().splitlines()[-1:]
    absent = [str(p) for p in paths if not Path(p).exists()]
    for path in absent:
        message = encrypted_content_message(path)
        if message is not None:
            raise EncryptedContentError(message)
    if absent or errors:
        raise AccessError(
            f"datalad get {' '.join(absent) or '...'} failed "
            f"({errors[0] if errors else 'no output'}); see git annex whereis "
            "for where the content is."
        )
    return [str(p) for p in paths]


def encrypted_content_message(path: str | os.PathLike) -> str | None:
    """Explain an annexed file whose content is only in encrypted remotes one cannot open.

    For use wherever a ``get`` failed (e.g. a pipeline's input fetching).

    Parameters
    ----------
    path : path-like
        An annexed file (a symlink into ``.git/annex``) whose content is absent.

    Returns
    -------
    str or None
        One line (``content of X is encrypted; ask the data steward to add your gpg key:
        <command>``), or None if the file is not in that situation (e.g. it is present, not
        annexed, or also available unencrypted).
    """
    path = Path(path)
    if path.exists() or not path.is_symlink():
        return None
    repo = run_command(["git", "rev-parse", "--show-toplevel"], cwd=path.parent).stdout.strip()
    if not repo:
        return None
    whereis = run_command(["git", "annex", "whereis", "--json", path.name], cwd=path.parent)
    try:
        holders = {w["uuid"] for w in json.loads(whereis.stdout.splitlines()[0])["whereis"]}
    except (IndexError, KeyError, json.JSONDecodeError):
        return None
    remotes = {r.uuid: r for r in encrypted_remotes(repo).values()}
    encrypted = [remotes[u] for u in sorted(holders) if u in remotes]
    if (
        not encrypted
        or _WEB_UUID in holders
        or any(u not in remotes and _reachable(repo, u) for u in holders)
    ):
        return None  # not encrypted, or an unencrypted copy is reachable: not about access
    mine = secret_key_ids()
    remote = encrypted[0]
    if any(_same_key(k, m) for k in remote.keyids for m in mine):
        return None
    yours = mine[0] if mine else "<your gpg key id: gpg --list-secret-keys>"
    return (
        f"content of {path} is encrypted; ask the data steward to add your gpg key: "
        f"git annex enableremote {remote.name} directory=<store> keyid+={yours} (remote "
        f"{remote.name!r} opens for gpg keys {', '.join(remote.keyids)}; after the "
        "steward's datalad push, run here: datalad update --how merge; datalad get again)"
    )


def encrypted_remotes(dataset: str | os.PathLike) -> dict[str, EncryptedRemote]:
    """Return the encrypted special remotes recorded in a dataset's git-annex branch, by name.

    Parameters
    ----------
    dataset : path-like
        A git-annex repository.

    Returns
    -------
    dict
        Name → :class:`EncryptedRemote` (remotes with ``encryption=none`` left out).
    """
    # The journal holds changes not yet committed to the branch; merge it first.
    run_command(["git", "annex", "merge"], cwd=dataset)
    log = run_command(["git", "show", "git-annex:remote.log"], cwd=dataset).stdout
    # One line per change; merged clones may hold several per remote: the newest counts.
    newest: dict[str, tuple[float, dict[str, str]]] = {}
    for line in log.splitlines():
        uuid, *fields = line.split()
        config = dict(f.split("=", 1) for f in fields if "=" in f)
        stamp = float(config.get("timestamp", "0").rstrip("s") or 0)
        if uuid not in newest or stamp >= newest[uuid][0]:
            newest[uuid] = (stamp, config)
    remotes: dict[str, EncryptedRemote] = {}
    for uuid, (_, config) in sorted(newest.items()):
        if config.get("encryption", "none") == "none":
            continue
        keys = tuple(k for k in config.get("cipherkeys", "").split(",") if k)
        remotes[config.get("name", uuid)] = EncryptedRemote(
            name=config.get("name", uuid),
            uuid=uuid,
            encryption=config["encryption"],
            keyids=keys,
            directory=config.get("directory"),
        )
    return remotes


def secret_key_ids() -> list[str]:
    """Return the long ids of this user's gpg secret keys and subkeys (``GNUPGHOME``).

    Returns
    -------
    list of str
        Key ids, primary keys first.
    """
    listing = run_command(["gpg", "--batch", "--with-colons", "--list-secret-keys"]).stdout
    return [
        line.split(":")[4] for line in listing.splitlines() if line.startswith(("sec:", "ssb:"))
    ]


def plaintext_files(remote_dir: str | os.PathLike) -> list[Path]:
    """Return the files of an encrypted store that are not OpenPGP ciphertext.

    Every file git-annex writes to an encrypted remote is an OpenPGP message, whose first
    byte is a packet tag (high bit set). A file that starts with a recording's or sidecar's
    magic bytes (:data:`PLAINTEXT_MAGIC`) or without a packet tag is listed.

    Parameters
    ----------
    remote_dir : path-like
        The directory special remote's folder.

    Returns
    -------
    list of pathlib.Path
        The files that are not ciphertext (empty for a sound store).
    """
    found = []
    for path in sorted(Path(remote_dir).rglob("*")):
        if not path.is_file():
            continue
        with open(path, "rb") as handle:
            head = handle.read(64)
        if (
            not head
            or not head[0] & 0x80
            or any(head.startswith(m) for m in PLAINTEXT_MAGIC.values())
        ):
            found.append(path)
    return found


def _same_key(a: str, b: str) -> bool:
    a, b = a.upper(), b.upper()
    return a.endswith(b) or b.endswith(a)


def _reachable(repo: str, uuid: str) -> bool:
    """Return whether a location holding content is a remote of ``repo`` with a URL."""
    config = run_command(["git", "config", "--get-regexp", r"^remote\..*\.annex-uuid$"], cwd=repo)
    for line in config.stdout.splitlines():
        key, _, value = line.partition(" ")
        if value.strip() == uuid:
            name = key[len("remote.") : -len(".annex-uuid")]
            url = run_command(["git", "config", f"remote.{name}.url"], cwd=repo).stdout.strip()
            return bool(url)
    return False


def _annex(dataset: str | os.PathLike, *args: str) -> subprocess.CompletedProcess:
    result = run_command(["git", "annex", *args], cwd=dataset)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
        raise AccessError(
            f"{dataset}: git annex {' '.join(args)} failed ({detail[0]}); "
            "check the gpg key (gpg --list-keys) and the store path."
        )
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m panneuro.compendium.access get FILE...``: get files, or say who can grant access.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 1 with the one-line explanation on stderr otherwise.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) < 2 or args[0] != "get":
        print("usage: python -m panneuro.compendium.access get FILE...", file=sys.stderr)
        return 2
    try:
        get(args[1:])
    except (EncryptedContentError, AccessError) as err:
        print(err, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
