"""Tests of panneuro.compendium.annex: the one way the data layer runs datalad, git and gpg."""

import os
import sys
from pathlib import Path

from panneuro.compendium.annex import RawDataError, command_env, run_command


def test_the_venv_bin_comes_first_once(monkeypatch):
    venv_bin = str(Path(sys.executable).parent)
    monkeypatch.setenv("PATH", "/usr/bin")
    assert command_env()["PATH"].split(os.pathsep) == [venv_bin, "/usr/bin"]
    monkeypatch.setenv("PATH", f"/usr/bin{os.pathsep}{venv_bin}")
    assert command_env()["PATH"] == f"/usr/bin{os.pathsep}{venv_bin}"


def test_commands_see_the_environment_of_the_call_and_do_not_raise(tmp_path, monkeypatch):
    monkeypatch.setenv("GNUPGHOME", str(tmp_path / "gnupg"))
    shown = run_command(
        [sys.executable, "-c", "import os; print(os.environ['GNUPGHOME'])"], cwd=tmp_path
    )
    assert shown.returncode == 0 and shown.stdout.strip() == str(tmp_path / "gnupg")
    failed = run_command([sys.executable, "-c", "import sys; sys.exit('no such key')"])
    assert failed.returncode == 1 and "no such key" in failed.stderr


def test_raw_data_errors_are_runtime_errors():
    assert issubclass(RawDataError, RuntimeError)
