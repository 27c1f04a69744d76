"""`make lab` starts JupyterLab on loopback serving the notebooks, and stops by its PID."""

import json
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from compendium import ENV, ROOT

STARTUP_S = 120


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, dict | None]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, None
    except OSError:
        return 0, None


def _listening_addresses(port: int) -> set[str]:
    """Local IPv4/IPv6 addresses with a socket listening on ``port`` (/proc/net/tcp*)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not Path(table).exists():
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:
                found.add(address)
    return found


def test_make_lab_serves_the_notebooks_on_loopback_and_stops(tmp_path):
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(
        ENV,
        JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
        JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"),
    )
    log = (tmp_path / "lab.log").open("w")
    lab = subprocess.Popen(
        ["make", "--no-print-directory", "lab", f"LAB_PORT={port}", f"LAB_TOKEN={token}"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_S
        status, listing = 0, None
        while time.monotonic() < deadline and lab.poll() is None:
            status, listing = _get(f"{base}/api/contents/notebooks?token={token}")
            if status == 200:
                break
            time.sleep(0.5)
        assert status == 200, f"no answer in {STARTUP_S} s: {(tmp_path / 'lab.log').read_text()}"
        served = {item["name"] for item in listing["content"]}
        expected = {p.name for p in (ROOT / "notebooks").glob("*.py")}
        assert expected and expected <= served

        # jupytext serves the .py files as notebooks, with the compendium's kernel
        name = sorted(expected)[0]
        status, notebook = _get(f"{base}/api/contents/notebooks/{name}?type=notebook&token={token}")
        assert status == 200 and notebook["type"] == "notebook"
        assert notebook["content"]["cells"]
        kernel = notebook["content"]["metadata"]["kernelspec"]["name"]
        status, specs = _get(f"{base}/api/kernelspecs?token={token}")
        assert (
            Path(specs["kernelspecs"][kernel]["spec"]["argv"][0]).parent == ROOT / ".venv" / "bin"
        )

        assert _get(f"{base}/api/contents/notebooks")[0] == 403  # the token is needed
        assert _listening_addresses(port) == {"0100007F"}  # 127.0.0.1 only
    finally:
        os.killpg(lab.pid, signal.SIGTERM)
        try:
            lab.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(lab.pid, signal.SIGKILL)
            lab.wait(timeout=10)
        log.close()
    assert lab.returncode is not None
    deadline = time.monotonic() + 30
    while _listening_addresses(port) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _listening_addresses(port), "JupyterLab still listens after SIGTERM"
    try:
        os.killpg(lab.pid, 0)
    except ProcessLookupError:
        pass
    else:
        raise AssertionError(f"processes of make lab's group {lab.pid} are still alive")
