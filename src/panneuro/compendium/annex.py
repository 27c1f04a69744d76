"""Running DataLad, git, git-annex and gpg: one way for every module of the compendium layer.

:mod:`panneuro.compendium.datalad_io` (raw inputs) and :mod:`panneuro.compendium.access`
(encrypted special remotes) both call these tools; they share :func:`run_command` (the venv's
``bin`` first on ``PATH``, the caller's environment, ``GNUPGHOME`` included, read at each call)
and :class:`RawDataError`, and import them from here, so neither imports the other for them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path


class RawDataError(RuntimeError):
    """Raw data not installed or not obtainable; the message names the command that fixes it."""


def command_env() -> dict[str, str]:
    """Return the environment with the venv's ``bin`` first (datalad finds git-annex only there)."""
    venv_bin = str(Path(sys.executable).parent)
    path = os.environ.get("PATH", "")
    if venv_bin not in path.split(os.pathsep):
        path = venv_bin + os.pathsep + path
    return dict(os.environ, PATH=path)


def run_command(
    args: Sequence[str], cwd: str | os.PathLike | None = None
) -> subprocess.CompletedProcess:
    """Run a command (datalad, git, git-annex, gpg) without raising; output captured as text.

    The environment is :func:`command_env` of the moment of the call: what the caller set in
    ``os.environ`` (e.g. ``GNUPGHOME``) reaches the command.
    """
    return subprocess.run(
        list(args), cwd=cwd, env=command_env(), capture_output=True, text=True, check=False
    )
