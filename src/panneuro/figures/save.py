"""Save figures as PDF and PNG with fixed metadata, so reruns are byte-identical."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from panneuro.io.atomic import atomic_path  # noqa: E402

#: Metadata that would otherwise carry the date or the software version into the file.
_PDF_METADATA = {"Creator": None, "Producer": None, "CreationDate": None}
_PNG_METADATA = {"Software": None}
_DPI = 150


def save_figure(fig: Figure, pdf_path: str | os.PathLike, png_path: str | os.PathLike) -> None:
    """Write ``fig`` to a PDF and a PNG atomically, with deterministic metadata.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure; it is closed afterwards.
    pdf_path, png_path : path-like
        The two outputs.
    """
    with plt.rc_context({"pdf.compression": 6, "svg.hashsalt": "panneuro"}):
        with atomic_path(Path(pdf_path)) as tmp:
            fig.savefig(tmp, format="pdf", metadata=_PDF_METADATA)
        with atomic_path(Path(png_path)) as tmp:
            fig.savefig(tmp, format="png", dpi=_DPI, metadata=_PNG_METADATA)
    plt.close(fig)
