"""Byte-deterministic ``.npz`` archives.

``numpy.savez`` stamps every member with the current time, so two runs on the same data give
different bytes. This writer builds the same zip layout (readable by ``numpy.load``) with a
fixed member date.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Mapping

import numpy as np

from panneuro.io.atomic import atomic_path

_FIXED_DATE = (1980, 1, 1, 0, 0, 0)


def write_npz(arrays: Mapping[str, np.ndarray], path: str | os.PathLike) -> None:
    """Write named arrays to a compressed ``.npz`` atomically, with the same bytes every time.

    Parameters
    ----------
    arrays : mapping of str to array-like
        The members, written in the mapping's order; object arrays are refused
        (no pickles in results).
    path : path-like
        Target ``.npz`` file.
    """
    with atomic_path(path) as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, array in arrays.items():
                buffer = io.BytesIO()
                np.lib.format.write_array(buffer, np.asarray(array), allow_pickle=False)
                info = zipfile.ZipInfo(f"{name}.npy", date_time=_FIXED_DATE)
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, buffer.getvalue())
