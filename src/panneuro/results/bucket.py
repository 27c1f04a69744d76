"""A run's folder in an S3 bucket: objects read whole or by HTTP byte range, bytes counted.

The layout ``snakemake --default-storage-prefix s3://bucket/prefix`` leaves there: tables and
other small results are read whole into a temporary folder (:meth:`S3Prefix.local_copy`), NWB
files by byte range (:meth:`S3Prefix.open_ranged`: remfile over a presigned URL), so a unit's
spikes cost a small part of its session file; :attr:`S3Prefix.counter` counts what came in.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any


@dataclass
class ByteCount:
    """Bytes and requests received from a bucket (response bodies, as the client got them)."""

    n_bytes: int = 0
    n_requests: int = 0

    def add(self, n_bytes: int) -> None:
        """Count one response of ``n_bytes``."""
        self.n_bytes += int(n_bytes)
        self.n_requests += 1


def _counting_session(counter: ByteCount) -> Any:
    """Make a ``requests.Session`` that counts every response body it receives (remfile's)."""
    import requests

    class CountingSession(requests.Session):
        def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            response = super().request(method, url, *args, **kwargs)
            counter.add(len(response.content))
            return response

    return CountingSession()


@dataclass
class S3Prefix:
    """A run's folder in an S3 bucket: objects read whole or by byte range, bytes counted.

    Attributes
    ----------
    bucket, prefix : str
        Where the run is: ``s3://<bucket>/<prefix>/results/...``.
    client : botocore client
        A boto3 S3 client (credentials and endpoint as boto3 finds them, or given).
    counter : ByteCount
        Every byte received from the bucket through this object.
    """

    bucket: str
    prefix: str
    client: Any = field(repr=False)
    counter: ByteCount = field(default_factory=ByteCount)
    _cache: Any = field(default=None, repr=False)

    @classmethod
    def from_url(cls, url: str, *, endpoint_url: str | None = None) -> S3Prefix:
        """Connect to ``s3://bucket/prefix`` (``endpoint_url``: another S3 service)."""
        import boto3

        if not url.startswith("s3://") or len(url) <= len("s3://"):
            raise ValueError(f"{url!r}: not an S3 prefix; give s3://<bucket>/<prefix>.")
        bucket, _, prefix = url[len("s3://") :].partition("/")
        endpoint = endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None
        return cls(bucket, prefix.strip("/"), boto3.client("s3", endpoint_url=endpoint))

    def key(self, path: str | os.PathLike) -> str:
        """Return the object key of a path of the run (relative to the prefix)."""
        relative = PurePosixPath(path).as_posix().lstrip("/")
        return f"{self.prefix}/{relative}" if self.prefix else relative

    def size(self, path: str | os.PathLike) -> int:
        """Size of an object in bytes (a HEAD request, no body)."""
        from botocore.exceptions import ClientError

        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self.key(path))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                raise FileNotFoundError(
                    f"s3://{self.bucket}/{self.key(path)}: not in the bucket; make it first "
                    f"(snakemake {path} --default-storage-provider s3 "
                    f"--default-storage-prefix s3://{self.bucket}/{self.prefix})."
                ) from error
            raise
        self.counter.add(0)
        return int(head["ContentLength"])

    def read_bytes(self, path: str | os.PathLike) -> bytes:
        """Read a whole object."""
        self.size(path)  # a clear error if it is absent
        body = self.client.get_object(Bucket=self.bucket, Key=self.key(path))["Body"].read()
        self.counter.add(len(body))
        return body

    def local_copy(self, path: str | os.PathLike) -> Path:
        """Read an object whole into this object's temporary folder (once); return its path."""
        if self._cache is None:
            self._cache = tempfile.TemporaryDirectory(prefix="panneuro-s3-")
        target = Path(self._cache.name) / PurePosixPath(path).as_posix().lstrip("/")
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(self.read_bytes(path))
        return target

    def url(self, path: str | os.PathLike, expires: int = 3600) -> str:
        """Return a presigned GET URL of an object (what byte-range readers fetch)."""
        return self.client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": self.key(path)},
            ExpiresIn=int(expires),
        )

    def open_ranged(self, path: str | os.PathLike, *, chunk_size: int = 2048) -> Any:
        """Open an object as a read-only file read by HTTP byte range (:class:`remfile.File`).

        ``chunk_size`` is the smallest range read (remfile grows it for sequential reads).
        HDF5 keeps its metadata in small blocks spread over the file: on the tiny preset's
        445 kB units file one unit's spikes cost 35 kB in 1 kB ranges (19 requests), 53 kB
        in 2 kB ranges (13), 78 kB in 4 kB (10), 180 kB in 16 kB (6); 2 kB is the default.
        """
        import remfile

        size = self.size(path)
        handle = remfile.File(self.url(path), _size=size, _min_chunk_size=int(chunk_size))
        handle.session = _counting_session(self.counter)
        return handle
