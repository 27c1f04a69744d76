"""Human raw data encrypted at rest with git-annex: unreadable without a key, reproducible with it.

gpg keys are made for the test (no passphrase, batch mode) in temporary GNUPGHOMEs: the data
steward's, an analyst's (granted), a stranger's (never granted) and a collaborator's (granted
then revoked). The steward's copy of the human subject's subdataset pushes its content only to
an encrypted directory special remote; its git history goes to a bare "hub" repository with no
content, which is what users clone.
"""

import base64
import contextlib
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from compendium import BIN, ENV, ROOT, fresh_copy

from panneuro.compendium import datalad_io
from panneuro.compendium.access import (
    PLAINTEXT_MAGIC,
    EncryptedContentError,
    enable,
    encrypted_content_message,
    encrypted_remotes,
    get,
    grant,
    main,
    plaintext_files,
    protect,
    revoke,
    secret_key_ids,
)

GPG = "/usr/bin/gpg"
SUBJECT = "sub-H1"
EEG = f"{SUBJECT}/ses-01/ieeg/{SUBJECT}_ses-01_task-harlow_ieeg.eeg"
TARGET = "results/ecog/sub-H1_ses-01_high_gamma.npz"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "steward",
    "GIT_AUTHOR_EMAIL": "steward@panneuro.test",
    "GIT_COMMITTER_NAME": "steward",
    "GIT_COMMITTER_EMAIL": "steward@panneuro.test",
}


def _run(*args, cwd=None, env=None):
    result = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env or os.environ,
        check=False,
    )
    assert result.returncode == 0, f"{args}: {result.stderr[-3000:]}"
    return result.stdout


@contextlib.contextmanager
def _gnupg(home):
    """Act as the owner of the gpg home ``home`` (git-annex and gpg read GNUPGHOME)."""
    old = os.environ.get("GNUPGHOME")
    os.environ["GNUPGHOME"] = str(home)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("GNUPGHOME", None)
        else:
            os.environ["GNUPGHOME"] = old


def _new_key(name):
    """A gpg home (short path: the agent's socket must fit) holding one new key; its key id."""
    home = Path(tempfile.mkdtemp(prefix=f"gpg-{name}-", dir="/tmp"))
    home.chmod(0o700)
    with _gnupg(home):
        _run(
            GPG,
            "--batch",
            "--passphrase",
            "",
            "--quick-gen-key",
            f"panneuro {name} <{name}@panneuro.test>",
            "future-default",
            "default",
            "never",
        )
        keyid = secret_key_ids()[0]
    return home, keyid


def _publish(dataset, bare):
    """Push a dataset's branch and git-annex branch (history only, no content) to a bare repo."""
    branch = _run("git", "symbolic-ref", "--short", "HEAD", cwd=dataset).strip()
    if not bare.exists():
        _run("git", "init", "-q", "--bare", bare)
        _run("git", "symbolic-ref", "HEAD", f"refs/heads/{branch}", cwd=bare)
        _run("git", "remote", "add", "hub", bare, cwd=dataset)
    _run("git", "annex", "merge", cwd=dataset)
    _run("git", "push", "-q", "hub", branch, "git-annex", cwd=dataset)


def _subdatasets(dataset):
    """Paths of the subdatasets registered in a dataset's .gitmodules."""
    listing = _run("git", "config", "-f", ".gitmodules", "--get-regexp", r"\.path$", cwd=dataset)
    return [line.split()[1] for line in listing.splitlines()]


def _steward_copy(tiny_raw, steward):
    """The steward's raw dataset with the human subject as a subdataset, content present.

    Builds on the simulated dataset's own subdataset when it has one; else makes one from a
    copy of the subject's files (plus the dataset-level files).
    """
    raw = steward / "raw"
    if (tiny_raw / SUBJECT / ".git").exists():
        _run(BIN / "datalad", "clone", tiny_raw, raw)
        _run(BIN / "datalad", "get", "-n", "-d", raw, raw / SUBJECT)
        _run(BIN / "datalad", "get", "-d", raw / SUBJECT, raw / SUBJECT)
        return raw, "the simulated dataset's subdataset"
    _run(BIN / "datalad", "create", "-c", "text2git", raw)
    for name in (
        "dataset_description.json",
        "participants.tsv",
        "participants.json",
        "task-harlow_events.json",
    ):
        shutil.copy(tiny_raw / name, raw / name)
    _run(BIN / "datalad", "create", "-c", "text2git", "-d", raw, raw / SUBJECT)
    shutil.copytree(
        tiny_raw / SUBJECT,
        raw / SUBJECT,
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns(".git", ".datalad", ".gitattributes"),
    )
    _run(BIN / "datalad", "save", "-r", "-d", raw, "-m", "raw data, human subject apart")
    return raw, "a subdataset made by the test"


@pytest.fixture(scope="module")
def protected(tiny_run, tmp_path_factory):
    """Steward's copy protected (content only in the encrypted store), history on a hub."""
    base = tmp_path_factory.mktemp("access")
    keys = {name: _new_key(name) for name in ("steward", "analyst", "stranger", "collaborator")}
    steward_home, steward_key = keys["steward"]
    for name in ("analyst", "collaborator"):
        home, keyid = keys[name]
        with _gnupg(home):
            public = subprocess.run(
                [GPG, "--batch", "--export", keyid], capture_output=True, check=True
            ).stdout
        with _gnupg(steward_home):
            subprocess.run(
                [GPG, "--batch", "--import"], input=public, capture_output=True, check=True
            )
    saved = {k: os.environ.get(k) for k in (*GIT_ENV, "PATH")}
    os.environ.update(GIT_ENV, PATH=ENV["PATH"])
    store, hub = base / "store", base / "hub"
    hub.mkdir()
    try:
        with _gnupg(steward_home):
            raw, origin = _steward_copy(tiny_run / "resources/raw", base / "steward")
            remote = protect(raw / SUBJECT, steward_key, store)
            # Users install each subject's subdataset from the hub (history, no content),
            # never from the steward's copy.
            for name in _subdatasets(raw):
                _run(BIN / "datalad", "get", "-n", "-d", raw, raw / name)
                _publish(raw / name, hub / f"{name}.git")
                _run(
                    BIN / "datalad",
                    "subdatasets",
                    "-d",
                    raw,
                    "--set-property",
                    "url",
                    hub / f"{name}.git",
                    raw / name,
                )
            _run(BIN / "datalad", "save", "-d", raw, "-m", "subjects published on the hub")
            _publish(raw, hub / "raw.git")
        yield {
            "base": base,
            "keys": keys,
            "store": store,
            "hub": hub,
            "raw": raw,
            "remote": remote,
            "origin": origin,
            "tiny_run": tiny_run,
        }
    finally:
        for home, _ in keys.values():
            subprocess.run(
                ["gpgconf", "--kill", "gpg-agent"],
                env=dict(os.environ, GNUPGHOME=str(home)),
                capture_output=True,
                check=False,
            )
            shutil.rmtree(home, ignore_errors=True)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _user_clone(protected, name):
    """A user's clone of the raw dataset from the hub, the subject installed, remote enabled."""
    clone = protected["base"] / name / "raw"
    _run(BIN / "datalad", "clone", protected["hub"] / "raw.git", clone)
    _run(BIN / "datalad", "get", "-n", "-d", clone, clone / SUBJECT)
    enable(clone / SUBJECT, protected["store"])
    return clone


@pytest.mark.workflow
def test_store_holds_only_ciphertext(protected):
    store = protected["store"]
    files = [p for p in store.rglob("*") if p.is_file()]
    annexed = _run(
        "git", "annex", "find", "--in", protected["remote"].name, cwd=protected["raw"] / SUBJECT
    ).split()
    assert EEG.split("/", 1)[1] in annexed and len(files) == len(annexed)
    assert plaintext_files(store) == []
    for path in files:
        head = path.read_bytes()[:64]
        assert not any(head.startswith(magic) for magic in PLAINTEXT_MAGIC.values()), path
    # the recording's bytes are nowhere in the store
    recording = (protected["raw"] / EEG).read_bytes()[:4096]
    assert all(recording not in p.read_bytes() for p in files)
    remote = protected["remote"]
    assert remote.encryption == "hybrid"
    assert remote.keyids == (protected["keys"]["steward"][1],)


@pytest.mark.workflow
def test_clone_without_key_sees_names_but_not_recordings(protected, capsys):
    home, keyid = protected["keys"]["stranger"]
    with _gnupg(home):
        clone = _user_clone(protected, "stranger")
        eeg = clone / EEG
        assert eeg.is_symlink() and not eeg.exists()  # the name, not the content
        assert (clone / EEG).with_suffix(".vhdr").read_text().startswith("Brain Vision")
        with pytest.raises(EncryptedContentError) as err:
            get([eeg])
        message = str(err.value)
        assert message.startswith(f"content of {eeg} is encrypted")
        assert (
            f"ask the data steward to add your gpg key: git annex enableremote "
            f"{protected['remote'].name} directory=<store> keyid+={keyid}"
        ) in message
        assert main(["get", str(eeg)]) == 1
        assert "is encrypted; ask the data steward" in capsys.readouterr().err
        assert not eeg.exists()
        with pytest.raises(FileNotFoundError):
            eeg.read_bytes()


def _h1_pipeline(protected, name, raw):
    """Run the ECoG part of the pipeline (H1's sample-sheet rows) on ``raw``, simulate=False."""
    work = fresh_copy(protected["base"] / name)
    sheet = pd.read_csv(ROOT / "config/samples.tsv", sep="\t", dtype=str, keep_default_na=False)
    sheet[sheet["subject"] == "H1"].to_csv(work / "config/samples_h1.tsv", sep="\t", index=False)
    result = subprocess.run(
        [
            str(BIN / "snakemake"),
            TARGET,
            "--cores",
            "2",
            "--config",
            "size=tiny",
            "simulate=False",
            f"raw_dir={raw}",
            "samples=config/samples_h1.tsv",
        ],
        cwd=work,
        capture_output=True,
        text=True,
        env=dict(os.environ),
        check=False,
    )
    return work, result


@pytest.mark.workflow
def test_pipeline_without_key_stops_with_the_stewards_command(protected):
    home, keyid = protected["keys"]["stranger"]
    with _gnupg(home):
        clone = _user_clone(protected, "stranger-pipeline")
        eeg = clone / EEG
        expected = encrypted_content_message(eeg)
        assert expected is not None and f"keyid+={keyid}" in expected
        # the pipeline's input fetching raises the same message (not a generic get failure)
        with pytest.raises(EncryptedContentError) as err:
            datalad_io.get_content([eeg])
        assert str(err.value) == expected
        assert isinstance(err.value, datalad_io.RawDataError)
        _, result = _h1_pipeline(protected, "work-stranger", clone)
    assert result.returncode != 0
    assert f"EncryptedContentError: {expected}" in result.stderr, result.stderr[-4000:]
    assert not eeg.exists()


@pytest.mark.workflow
def test_granted_key_gets_content_and_the_pipeline_runs(protected):
    home, keyid = protected["keys"]["analyst"]
    with _gnupg(home):
        clone = _user_clone(protected, "analyst")
        with pytest.raises(EncryptedContentError):
            get([clone / EEG])
    with _gnupg(protected["keys"]["steward"][0]):
        remote = grant(protected["raw"] / SUBJECT, keyid, protected["store"])
        assert keyid in remote.keyids
        _publish(protected["raw"] / SUBJECT, protected["hub"] / f"{SUBJECT}.git")
    with _gnupg(home):
        _run(BIN / "datalad", "update", "-d", clone / SUBJECT, "--how", "merge")
        assert get([clone / EEG]) == [str(clone / EEG)]
        original = protected["tiny_run"] / "resources/raw" / EEG
        assert (
            hashlib.sha256((clone / EEG).read_bytes()).digest()
            == hashlib.sha256(original.read_bytes()).digest()
        )
        # The ECoG part of the pipeline on the clone, simulate=False: H1's sample-sheet rows.
        work, result = _h1_pipeline(protected, "work", clone)
        assert result.returncode == 0, result.stderr[-4000:]
    ours = np.load(work / TARGET)
    reference = np.load(protected["tiny_run"] / TARGET)
    assert sorted(ours.files) == sorted(reference.files)
    for name in reference.files:
        np.testing.assert_array_equal(ours[name], reference[name])


@pytest.mark.workflow
def test_revoking_a_key_stops_new_clones_but_not_its_old_cipher(protected):
    home, keyid = protected["keys"]["collaborator"]
    subject = protected["raw"] / SUBJECT
    with _gnupg(protected["keys"]["steward"][0]):
        grant(subject, keyid, protected["store"])
        _annex_log = _run("git", "show", "git-annex:remote.log", cwd=subject)
        old_cipher = _cipher(_annex_log)
        remote = revoke(subject, keyid, protected["store"])
        assert keyid not in remote.keyids
        _publish(subject, protected["hub"] / f"{SUBJECT}.git")
        assert _cipher(_run("git", "show", "git-annex:remote.log", cwd=subject)) != old_cipher
    with _gnupg(home):
        clone = _user_clone(protected, "collaborator")
        with pytest.raises(EncryptedContentError, match="is encrypted"):
            get([clone / EEG])
        # ...but the cipher encrypted to the revoked key is still in the branch's history,
        # and it opens every file of the store: revoking cannot take back access.
        history = _run("git", "log", "-p", "git-annex", "--", "remote.log", cwd=clone / SUBJECT)
        assert old_cipher in history
        decrypted = subprocess.run(
            [GPG, "--batch", "--quiet", "--decrypt"],
            input=base64.b64decode(old_cipher),
            capture_output=True,
            check=False,
        )
        assert decrypted.returncode == 0 and len(decrypted.stdout) > 256


def _cipher(remote_log):
    [line] = [entry for entry in remote_log.splitlines() if "cipher=" in entry]
    return next(f for f in line.split() if f.startswith("cipher="))[len("cipher=") :]


@pytest.mark.workflow
def test_encrypted_remotes_reads_the_branch(protected):
    remotes = encrypted_remotes(protected["raw"] / SUBJECT)
    assert list(remotes) == [protected["remote"].name]
    assert remotes[protected["remote"].name].uuid == protected["remote"].uuid


def test_plaintext_files_finds_unencrypted_content(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "cipher").write_bytes(bytes([0x85, 0x02]) + os.urandom(200))
    (tmp_path / "a" / "recording.nwb").write_bytes(PLAINTEXT_MAGIC["HDF5/NWB"] + b"\0" * 100)
    (tmp_path / "header").write_bytes(b"Brain Vision Data Exchange Header File Version 1.0\n")
    (tmp_path / "empty").write_bytes(b"")
    assert plaintext_files(tmp_path) == [
        tmp_path / "a" / "recording.nwb",
        tmp_path / "empty",
        tmp_path / "header",
    ]


def test_no_message_for_files_that_are_not_missing_annexed_content(tmp_path):
    (tmp_path / "plain.tsv").write_text("a\n")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    assert encrypted_content_message(tmp_path / "plain.tsv") is None
    assert encrypted_content_message(tmp_path / "dangling") is None  # not in a git repository


def test_remote_log_writes_return_after_their_second(monkeypatch):
    """git-annex stamps remote.log to the second: a later grant must not share it."""
    import time

    from panneuro.compendium import access

    stamps = []
    monkeypatch.setattr(access, "_annex", lambda *args: stamps.append((args, time.time())))
    for _ in range(3):
        access._log_remote("dataset", "enableremote", "human-encrypted", "keyid+=ABC")
        assert int(time.time()) > int(stamps[-1][1])
    assert [args for args, _ in stamps] == [
        ("dataset", "enableremote", "human-encrypted", "keyid+=ABC")
    ] * 3
