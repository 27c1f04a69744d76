"""Write files so that a crash never leaves a half-written result.

Every writer in panneuro writes to a temporary name beside the target and renames it into
place once complete (``os.replace`` is atomic on POSIX within one file system).
"""

from __future__ import annotations

import glob
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(target: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path that is renamed to ``target`` on success.

    Parameters
    ----------
    target : path-like
        The final file or directory.
    suffix : str, optional
        Suffix of the temporary name (defaults to the target's, so writers that pick a
        format from the extension still work).

    Yields
    ------
    pathlib.Path
        A path in the target's directory that does not exist yet. Write the file (or
        directory) there; on normal exit it replaces ``target``, on error it is removed.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(target)
    suffix = "".join(target.suffixes) if suffix is None else suffix
    handle, tmp_name = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=f".tmp{suffix}", dir=target.parent
    )
    os.close(handle)
    tmp = Path(tmp_name)
    tmp.unlink()
    try:
        yield tmp
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp.exists():
            tmp.unlink()


def remove_stale_temporaries(target: str | os.PathLike) -> list[Path]:
    """Remove the temporaries of ``target`` that a killed writer left (``.<name>.*.tmp*``).

    One job writes one target, so a temporary of the same target found when writing starts is
    a crash's leftover (it never got its final name); without this, every crash would leave
    one behind, possibly a large folder.

    Parameters
    ----------
    target : path-like
        The final file or directory.

    Returns
    -------
    list of pathlib.Path
        The temporaries removed.
    """
    target = Path(target)
    stale = sorted(target.parent.glob(f".{glob.escape(target.name)}.*.tmp*"))
    for path in stale:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return stale


def write_text_atomic(target: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``target`` through a temporary file.

    Parameters
    ----------
    target : path-like
        The file to write.
    text : str
        Its whole content.
    """
    with atomic_path(target) as tmp:
        tmp.write_text(text)
