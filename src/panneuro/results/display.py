"""Show a figure in a notebook exactly as the workflow saves it, and browse one unit.

:func:`show` renders through :func:`panneuro.figures.save.save_figure` (the workflow's fixed
metadata, so the bytes are the workflow's when the figure is the same); :func:`figures_dir`
is where notebooks keep theirs; :func:`plot_session_unit` draws one curated unit of a run.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from matplotlib.figure import Figure

from panneuro.ephys.curation import read_waveforms
from panneuro.figures.save import save_figure
from panneuro.results.readers import read_session_trials, read_session_units
from panneuro.results.run import Run

#: Environment variable naming the folder notebooks save their figures to.
FIGURES_ENV = "PANNEURO_NOTEBOOK_FIGURES"


def plot_session_unit(
    run: Run, subject: str, session: str, unit_id: int, *, align: str = "feedback"
) -> Figure:
    """Draw one curated unit of a session (:func:`panneuro.figures.browse.plot_unit`).

    Parameters
    ----------
    run : Run
        The run.
    subject, session : str
        The session (its units NWB).
    unit_id : int
        A unit id of the NWB units table (:func:`read_session_units`' index).
    align : str
        Trial event the spikes are aligned to (``onset``, ``response``, ``feedback``).

    Returns
    -------
    matplotlib.figure.Figure
        Mean waveform, raster and firing rate by outcome.
    """
    from panneuro.figures.browse import plot_unit

    units, spike_times = read_session_units(run, subject, session)
    if unit_id not in units.index:
        raise KeyError(
            f"{run.units_nwb(subject, session)}: no unit {unit_id}; pick one of "
            f"{list(units.index)}."
        )
    row = units.loc[unit_id]
    probe_unit = str(row["probe_unit_id"])
    waveforms = read_waveforms(
        run.result(run.ephys_dir(subject, session, row["probe"]), "waveforms.npz")
    )
    ids = [str(u) for u in waveforms.get("unit_ids", [])]
    waveform = waveforms["templates"][ids.index(probe_unit)] if probe_unit in ids else None
    return plot_unit(
        spike_times[units.index.get_loc(unit_id)],
        read_session_trials(run, subject, session),
        waveform=waveform,
        sampling_frequency=float(waveforms.get("sampling_frequency", 30000.0)),
        align=align,
        title=f"sub-{subject} ses-{session} unit {unit_id}: {row['probe']} "
        f"({row['region']}), sorter unit {probe_unit}",
    )


@dataclass(frozen=True)
class PngFigure:
    """A rendered figure: Jupyter displays it (``_repr_png_``); ``path`` if it was saved."""

    data: bytes = field(repr=False)
    path: Path | None = None

    def _repr_png_(self) -> bytes:
        return self.data


def figures_dir(run: Run) -> Path:
    """Return (and create) the folder notebooks save figures to.

    ``$PANNEURO_NOTEBOOK_FIGURES``, else ``results/notebooks`` of the run.
    """
    folder = Path(os.environ.get(FIGURES_ENV) or run.path("results", "notebooks"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def show(
    fig: Figure, name: str | None = None, *, folder: str | os.PathLike | None = None
) -> PngFigure:
    """Render a figure exactly as the workflow saves it; optionally keep the files.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure; it is closed afterwards.
    name : str, optional
        Save as ``<folder>/<name>.pdf`` and ``.png`` (with
        :func:`panneuro.figures.save.save_figure`, byte-identical to the workflow's when the
        figure is the same); default: render only.
    folder : path-like, optional
        Where to save; required with ``name``.

    Returns
    -------
    PngFigure
        The PNG, displayed by Jupyter.
    """
    if name is None:
        with tempfile.TemporaryDirectory() as tmp:
            save_figure(fig, Path(tmp) / "figure.pdf", Path(tmp) / "figure.png")
            return PngFigure((Path(tmp) / "figure.png").read_bytes())
    if folder is None:
        raise ValueError(f"show(fig, {name!r}): pass folder= (e.g. figures_dir(run)) to save.")
    png = Path(folder) / f"{name}.png"
    save_figure(fig, Path(folder) / f"{name}.pdf", png)
    return PngFigure(png.read_bytes(), png)
