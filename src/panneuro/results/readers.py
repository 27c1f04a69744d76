"""Read a run's result files as the figures need them: one reader per result table.

Each reader takes a :class:`panneuro.results.run.Run` (a folder or a bucket) and returns
arrays, tables or the figure modules' dataclasses; the ``*_figure_options`` functions give a
figure's keyword arguments from the run's config. NWB files of a run in a bucket are read by
byte range (only the units table, or one unit's spikes).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from panneuro.behaviour.reference import read_reference_curves
from panneuro.ephys.curation import read_waveforms
from panneuro.figures.fig2_sorting import ProbeSortingSummary
from panneuro.io.tables import read_tsv
from panneuro.results.run import PROBE_DATATYPES, Run

if TYPE_CHECKING:  # imported where used: MNE and scikit-learn take seconds to import
    from panneuro.figures.fig4_ecog import EcogFigureSession


def read_json(path: str | os.PathLike) -> Any:
    """Read a JSON result file."""
    with open(path) as handle:
        return json.load(handle)


# Figure 1 -----------------------------------------------------------------------------------


def read_behaviour(run: Run) -> dict[str, Any]:
    """Read the inputs of figure 1, as keyword arguments of ``plot_behaviour``.

    Returns
    -------
    dict
        ``curves``, ``parameters``, ``harlow_fit``, ``reference``, ``stats`` and
        ``n_blocks`` (config ``behaviour.figure_blocks``).
    """
    return {
        "curves": read_tsv(run.result("results", "behaviour", "learning_set_curves.tsv")),
        "parameters": read_tsv(run.result("results", "model", "parameters.tsv")),
        "harlow_fit": read_json(run.result("results", "model", "harlow_fit.json")),
        "reference": read_reference_curves(
            run.result("resources", "reference", "learning_set_curves.csv")
        ),
        "stats": read_tsv(run.result("results", "behaviour", "learning_statistics.tsv")),
        "n_blocks": int(run.config["behaviour"]["figure_blocks"]),
    }


def read_latents(run: Run, subject: str, session: str) -> pd.DataFrame:
    """Per-trial model latents of a recorded session (``results/model/..._latents.tsv``)."""
    return read_tsv(run.result("results", "model", f"sub-{subject}_ses-{session}_latents.tsv"))


# Figure 2 -----------------------------------------------------------------------------------


def read_probe_sorting(
    label: str,
    region: str,
    metrics: str | os.PathLike,
    waveforms: str | os.PathLike,
    gt: str | os.PathLike | None = None,
    motion: str | os.PathLike | None = None,
    planted_motion: str | os.PathLike | None = None,
) -> ProbeSortingSummary:
    """Read what figure 2 shows of one probe from its files.

    Parameters
    ----------
    label, region : str
        The probe's label (``"M1 01 PFC"``) and brain region.
    metrics, waveforms : path-like
        The probe's ``metrics.tsv`` and ``waveforms.npz``.
    gt : path-like, optional
        Its ``gt_comparison.tsv`` (simulated data only).
    motion : path-like, optional
        Its ``motion.tsv`` (:func:`panneuro.ephys.motion.read_motion`: no rows, or not given,
        when it was not motion-corrected).
    planted_motion : path-like, optional
        The drift its simulation planted (``<gt>/…_acq-P_motion.tsv``: ``time_s,
        displacement_um``).

    Returns
    -------
    ProbeSortingSummary
        The probe (``unit_id`` as strings).
    """
    from panneuro.ephys.motion import read_motion

    return ProbeSortingSummary(
        label=label,
        region=region,
        metrics=read_tsv(metrics).astype({"unit_id": str}),
        waveforms=read_waveforms(waveforms),
        gt=read_tsv(gt) if gt else None,
        motion=read_motion(motion) if motion else None,
        planted_motion=(
            read_tsv(planted_motion).astype({"time_s": float, "displacement_um": float})
            if planted_motion
            else None
        ),
    )


def read_sorting_summaries(run: Run) -> list[ProbeSortingSummary]:
    """Figure 2's probes, in sample-sheet order, labelled as the workflow labels them."""
    from panneuro.study import Study

    study = Study.from_config(run.config, run.samples)
    drifting = study.drifting_probes()
    planted_files = dict(zip(drifting, study.ground_truth("motion.tsv", drifting), strict=True))
    summaries = []
    for subject, session, probe in run.probes():
        folder = run.ephys_dir(subject, session, probe)
        planted = planted_files.get((subject, session, probe))
        summaries.append(
            read_probe_sorting(
                f"{subject} {session} {probe}",
                run.region(subject, session, probe),
                run.result(folder / "metrics.tsv"),
                run.result(folder / "waveforms.npz"),
                run.result(folder / "gt_comparison.tsv") if run.simulated else None,
                run.result(folder / "motion.tsv"),
                run.result(planted) if planted else None,
            )
        )
    return summaries


def sorting_figure_options(run: Run) -> dict[str, float]:
    """Keyword arguments of ``plot_sorting_figure`` from the config."""
    return {
        "well_detected_accuracy": float(
            run.config["ephys"]["ground_truth"]["well_detected_accuracy"]
        )
    }


def read_session_units(
    run: Run, subject: str, session: str
) -> tuple[pd.DataFrame, list[np.ndarray]]:
    """Curated units of a session from its NWB file (``panneuro.ephys.nwb_units.read_units``).

    For a run in a bucket the file is read by byte range (the units table only).
    """
    from panneuro.ephys.nwb_units import read_units

    if run.store is None:
        return read_units(run.result(run.units_nwb(subject, session)))
    with _units_group(run, subject, session) as units:
        ids = np.asarray(units["id"][:], dtype=int)
        ends = np.asarray(units["spike_times_index"][:], dtype=int)
        times = np.asarray(units["spike_times"][:], dtype=float)
        columns = [
            c
            for c in units.attrs["colnames"]
            if c
            not in (
                "spike_times",
                "electrodes",
                "electrode_group",
                "waveform_mean",
                "waveform_sd",
                "waveforms",
                "obs_intervals",
            )
        ]
        data = {str(c): np.asarray(units[c][:]) for c in columns}
    table = pd.DataFrame(data, index=pd.Index(ids, name="unit_id"))
    for column in ("probe", "region", "probe_unit_id"):
        table[column] = [v.decode() if isinstance(v, bytes) else str(v) for v in table[column]]
    starts = np.concatenate([[0], ends[:-1]])
    return table, [times[a:b] for a, b in zip(starts, ends, strict=True)]


@contextmanager
def _units_group(run: Run, subject: str, session: str) -> Iterator[Any]:
    import h5py

    with run.open_ranged(run.units_nwb(subject, session)) as handle:
        # no chunk cache: a slice of a dataset reads those bytes only, not its whole chunk
        with h5py.File(handle, "r", rdcc_nbytes=0) as nwb:
            if "units" not in nwb:
                raise ValueError(
                    f"{run.units_nwb(subject, session)}: no units table; it is "
                    "written by the export_session_nwb rule."
                )
            yield nwb["units"]


def read_unit_spike_times(run: Run, subject: str, session: str, unit_id: int) -> np.ndarray:
    """Spike times (s) of one unit of a session, reading only what they need of the NWB file.

    Parameters
    ----------
    run : Run
        The run (a folder, or a bucket: then by HTTP byte range).
    subject, session : str
        The session (its ``results/nwb`` units file).
    unit_id : int
        A unit id of the units table.

    Returns
    -------
    numpy.ndarray
        The unit's spike times.
    """
    with _units_group(run, subject, session) as units:
        ids = np.asarray(units["id"][:], dtype=int)
        where = np.flatnonzero(ids == int(unit_id))
        if where.size != 1:
            raise KeyError(
                f"{run.units_nwb(subject, session)}: no unit {unit_id}; pick one of {ids.tolist()}."
            )
        index = units["spike_times_index"]
        row = int(where[0])
        start = int(index[row - 1]) if row > 0 else 0
        return np.asarray(units["spike_times"][start : int(index[row])], dtype=float)


def read_session_trials(
    path: str | os.PathLike | Run, subject: str | None = None, session: str | None = None
) -> pd.DataFrame:
    """Read the trials table of a units NWB file.

    Parameters
    ----------
    path : path-like or Run
        ``results/nwb/sub-X_ses-Y_units.nwb``, or a run (with ``subject`` and ``session``:
        for a run in a bucket, read by byte range).
    subject, session : str, optional
        The session, when ``path`` is a run.

    Returns
    -------
    pandas.DataFrame
        One row per trial: ``start_time``, ``stop_time`` and the events columns.
    """
    from pynwb import NWBHDF5IO

    if isinstance(path, Run):
        run = path
        if run.store is None:
            return read_session_trials(run.result(run.units_nwb(subject, session)))
        import h5py

        with (
            run.open_ranged(run.units_nwb(subject, session)) as handle,
            h5py.File(handle, "r", rdcc_nbytes=0) as h5,
            NWBHDF5IO(file=h5, mode="r") as io,
        ):
            return io.read().trials.to_dataframe().reset_index(drop=True)
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"{path}: units NWB not found; it is made by the export_session_nwb rule."
        )
    with NWBHDF5IO(str(path), mode="r") as io:
        trials = io.read().trials
        if trials is None:
            raise ValueError(
                f"{path}: no trials table; rewrite it with "
                "panneuro.ephys.nwb_units.write_session_units_nwb."
            )
        return trials.to_dataframe().reset_index(drop=True)


# Figures 3, 5, 6 ----------------------------------------------------------------------------


def read_decoding(
    run: Run, species: str, *, datatypes: Sequence[str] = PROBE_DATATYPES
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stacked decoding and cross-condition tables of a species' unit sessions.

    Parameters
    ----------
    run : Run
        The run.
    species : str
        ``macaque`` or ``human``.
    datatypes : sequence of str
        Probe datatypes whose sessions count (figure 5's humans: ``("microwire",)``).

    Returns
    -------
    decoding, ccgp : pandas.DataFrame
        As :func:`panneuro.decoding.time_resolved.read_session_tables` stacks them.
    """
    from panneuro.decoding.cross_condition import CCGP_COLUMNS
    from panneuro.decoding.time_resolved import DECODING_COLUMNS, read_session_tables

    sessions = run.probe_sessions(datatypes, species)
    decoding = read_session_tables(
        [str(run.result(run.session_result(*s, "decoding"))) for s in sessions],
        sessions,
        columns=DECODING_COLUMNS,
    )
    ccgp = read_session_tables(
        [str(run.result(run.session_result(*s, "ccgp"))) for s in sessions],
        sessions,
        columns=CCGP_COLUMNS,
    )
    return decoding, ccgp


def decoding_figure_options(run: Run) -> dict[str, Any]:
    """Keyword arguments of ``plot_monkey_decoding`` / ``plot_human_units`` from the config."""
    return {
        "variables": list(run.config["decoding"]["variables"]),
        "alpha": float(run.config["decoding"]["alpha"]),
    }


def read_latent_regressions(run: Run) -> pd.DataFrame:
    """Stacked latent-regression tables of every unit session, with ``species`` (figure 6)."""
    from panneuro.decoding.latent_regression import REGRESSION_COLUMNS
    from panneuro.decoding.time_resolved import read_session_tables

    sessions = run.probe_sessions()
    return read_session_tables(
        [str(run.result(run.session_result(*s, "latents_regression"))) for s in sessions],
        sessions,
        columns=REGRESSION_COLUMNS,
        species=[run.species(*s) for s in sessions],
    )


def model_figure_options(run: Run) -> dict[str, Any]:
    """Keyword arguments of ``plot_model_neural`` from the config."""
    return {"latents": list(run.config["decoding"]["latents"]["variables"])}


# Figure 4 -----------------------------------------------------------------------------------


def read_ecog_session(
    label: str,
    epochs: str | os.PathLike,
    stats: str | os.PathLike,
    truth: str | os.PathLike | None = None,
) -> EcogFigureSession:
    """Read what figure 4 shows of one ECoG session from its files.

    Parameters
    ----------
    label : str
        The session's label (``"sub-H1 ses-01"``).
    epochs, stats : path-like
        Its ``_high_gamma.npz`` and ``_ecog_stats.json``.
    truth : path-like, optional
        Its ``_ecog-truth.json`` (simulated data only).

    Returns
    -------
    EcogFigureSession
        The session.
    """
    from panneuro.ecog.high_gamma import read_high_gamma
    from panneuro.figures.fig4_ecog import EcogFigureSession

    return EcogFigureSession(
        label,
        read_high_gamma(epochs),
        read_json(stats),
        read_json(truth) if truth is not None else None,
    )


def read_ecog_sessions(run: Run) -> list[EcogFigureSession]:
    """Figure 4's sessions, in sample-sheet order, labelled as the workflow labels them."""
    sessions = []
    for subject, session in run.ecog_sessions():
        stem = f"sub-{subject}_ses-{session}"
        truth = (
            run.result(
                run.ground_truth(f"sub-{subject}", f"ses-{session}", f"{stem}_ecog-truth.json")
            )
            if run.simulated
            else None
        )
        sessions.append(
            read_ecog_session(
                f"sub-{subject} ses-{session}",
                run.result("results", "ecog", f"{stem}_high_gamma.npz"),
                run.result("results", "ecog", f"{stem}_ecog_stats.json"),
                truth,
            )
        )
    return sessions
