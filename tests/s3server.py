"""A moto S3 server on 127.0.0.1 for the storage tests, started and stopped by its PID."""

import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from compendium import BIN, ENV

#: Dummy credentials: moto accepts any; the S3 plugin and boto3 need some.
S3_KEYS = {
    "AWS_ACCESS_KEY_ID": "panneuro-test",
    "AWS_SECRET_ACCESS_KEY": "panneuro-test",
    "AWS_DEFAULT_REGION": "us-east-1",
}
S3_ENV = dict(ENV, **S3_KEYS)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def moto_s3(log: Path, timeout: float = 30.0) -> Iterator[str]:
    """Run ``moto_server`` on a free loopback port; yield its endpoint URL; stop it by PID.

    Parameters
    ----------
    log : Path
        File receiving the server's output.
    timeout : float
        Seconds to wait for the server to answer.
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=S3_ENV,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"moto_server did not start on {url}; see {log}") from error
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(server.pid, 9)
            server.wait()


def upload_inputs(client, workdir: Path, bucket: str, prefix: str) -> list[str]:
    """Upload the workflow's own input files (sample sheet, reference numbers) to the bucket.

    With S3 as the default storage every input lives in the bucket, these included.

    Returns
    -------
    list of str
        The keys written.
    """
    keys = []
    for folder in ("config", "resources/reference"):
        for path in sorted((workdir / folder).rglob("*")):
            if path.is_file():
                key = f"{prefix}/{path.relative_to(workdir)}"
                client.upload_file(str(path), bucket, key)
                keys.append(key)
    return keys


def s3_client(url: str):
    """A boto3 S3 client of the server at ``url`` with the dummy credentials."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=url,
        aws_access_key_id=S3_KEYS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=S3_KEYS["AWS_SECRET_ACCESS_KEY"],
        region_name=S3_KEYS["AWS_DEFAULT_REGION"],
    )


def upload_files(
    client, workdir: Path, bucket: str, prefix: str, patterns: tuple[str, ...]
) -> list[str]:
    """Upload the files of ``workdir`` matching glob ``patterns`` (relative) under ``prefix``.

    Returns
    -------
    list of str
        The keys written.
    """
    keys = []
    for pattern in patterns:
        for path in sorted(workdir.glob(pattern)):
            if path.is_file():
                key = f"{prefix}/{path.relative_to(workdir).as_posix()}"
                client.upload_file(str(path), bucket, key)
                keys.append(key)
    return keys
