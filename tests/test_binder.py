"""Binder / repo2docker: the build plan picks .binder/ and the lock; its postBuild works.

No container daemon here: ``jupyter-repo2docker --no-build`` prints the Dockerfile it would
build (``--debug``), which shows the build pack, the Python version, the requirements and the
postBuild it runs. The postBuild itself runs in a clean venv (``python -m venv``) that sees the
lock's packages through a ``.pth`` file naming this venv's site-packages (what ``pip install -r
.binder/requirements.txt`` would install, without reinstalling ~190 packages), in a copy of the
tiny run (hard links): its tiny-preset snakemake run must then find nothing to do, which shows
it asks for exactly the results the session's ``tiny_run`` made.
"""

import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from compendium import BIN, ENV, ROOT

BINDER = ROOT / ".binder"


def _plan() -> str:
    done = subprocess.run(
        [str(BIN / "jupyter-repo2docker"), "--no-build", "--no-run", "--debug", str(ROOT)],
        capture_output=True,
        text=True,
        env=ENV,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout + done.stderr


def test_repo2docker_plan_uses_the_binder_folder_and_the_lock():
    plan = _plan()
    assert "Building conda environment for python=3.11" in plan  # .binder/runtime.txt
    # repo2docker reads .binder/ only, so neither environment.yaml nor the Containerfile counts
    assert 'pip install --no-cache-dir -r ".binder/requirements.txt"' in plan
    assert "RUN ./.binder/postBuild" in plan
    assert "environment.yaml" not in plan and "Containerfile" not in plan
    # the whole repository is copied before pip runs, so -r ../requirements.lock resolves
    copy, install = (
        plan.index("COPY --chown=0:0 src/ ${REPO_DIR}/"),
        plan.index("pip install --no-cache-dir -r"),
    )
    assert copy < install
    lines = [
        line
        for line in (BINDER / "requirements.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert lines == ["-r ../requirements.lock"]
    assert os.access(BINDER / "postBuild", os.X_OK)


def _clean_venv(folder: Path) -> Path:
    """A fresh venv whose imports fall back on this venv's packages (the lock's pins)."""
    subprocess.run([_base_python(), "-m", "venv", str(folder)], check=True)
    python = folder / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
    )
    lock = sysconfig.get_path("purelib")
    Path(purelib.stdout.strip(), "zz_panneuro_lock.pth").write_text(
        f"import site; site.addsitedir({lock!r})\n"
    )
    return python


def _base_python() -> str:
    """The interpreter this venv was made from (a venv of a venv is not clean)."""
    return str(Path(sys.base_prefix) / "bin" / f"python{sys.version_info[0]}.{sys.version_info[1]}")


@pytest.mark.workflow
def test_postbuild_runs_in_a_clean_venv_on_the_tiny_run(tiny_run, tmp_path):
    work = tmp_path / "repo"
    # the tiny run as the image would hold it after its own postBuild (hard links: cheap)
    shutil.copytree(
        tiny_run,
        work,
        symlinks=True,
        copy_function=os.link,
        ignore=shutil.ignore_patterns(".snakemake"),
    )
    shutil.copytree(
        tiny_run / ".snakemake",
        work / ".snakemake",
        symlinks=True,
        ignore=shutil.ignore_patterns("locks", "log", "incomplete"),
    )
    for name in ("src", "notebooks", ".binder"):
        shutil.copytree(
            ROOT / name,
            work / name,
            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "*.ipynb"),
        )
    for name in ("pyproject.toml", "README.md", "LICENSE", "jupytext.toml"):
        shutil.copy(ROOT / name, work / name)
    python = _clean_venv(tmp_path / "venv")
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = os.pathsep.join([str(python.parent), "/usr/local/bin", "/usr/bin", "/bin"])
    done = subprocess.run(
        ["bash", str(work / ".binder" / "postBuild")],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert done.returncode == 0, (done.stdout[-3000:], done.stderr[-3000:])
    assert "Nothing to be done" in done.stdout + done.stderr, done.stderr[-3000:]
    kernel = tmp_path / "venv" / "share" / "jupyter" / "kernels" / "panneuro" / "kernel.json"
    assert re.search(r'"display_name": "Python \(panneuro\)"', kernel.read_text())
    located = subprocess.run(
        [str(python), "-c", "import panneuro; print(panneuro.__file__)"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert located.stdout.strip() == str(work / "src" / "panneuro" / "__init__.py")
