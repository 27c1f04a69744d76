"""Simulate a human ECoG grid recording during the Harlow task, with planted high-gamma effects.

The background is pink (1/f) noise per electrode plus a small shared (common-mode) component
and mains interference at the line frequency and its harmonics. At ``n_planted`` electrodes
forming a spatial patch of the grid, high-gamma (70–150 Hz) activity rises after feedback, more
after rewarded than after unrewarded trials. With a :class:`StayCode` (the study design's
sessions), a second patch of electrodes carries the abstract ``stay`` variable (the same object
chosen as on the problem's previous trial): its high gamma rises from ``STAY_WINDOW[0]`` s after
stimulus onset to the response on stay trials, scaled per trial by the learning-set prior the
patient expresses (``stay_factor``), so the code grows with the patient's own learning, as the
units' stay code does (:mod:`panneuro.simulate.ephys`). The recording is written as iEEG-BIDS
(BrainVision) with mne-bids; the planted truth is written beside the dataset.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mne
import numpy as np
import pandas as pd

from panneuro.io.tables import write_json, write_tsv
from panneuro.simulate.bids import (
    COORDINATE_PROCESSING,
    DATE_SHIFT_DAYS,
    SITE_METADATA,
    TASK_METADATA,
    simulated_device,
)

#: Fixed acquisition date (the simulation has no real date; a fixed one keeps files identical).
#: :func:`write_ecog_bids` writes it shifted back by ``DATE_SHIFT_DAYS``, as BIDS recommends.
MEAS_DATE = dt.datetime(2000, 1, 1, 9, 0, 0, tzinfo=dt.UTC)
#: Grid geometry: rows × columns of contacts and their spacing (mm).
GRID_SHAPE = (8, 4)
GRID_SPACING_MM = 10.0
#: High-gamma band of the planted response (Hz).
HIGH_GAMMA_BAND = (70.0, 150.0)
#: Planted response window, seconds after feedback (a Hann bump peaking in the middle).
RESPONSE_WINDOW = (0.05, 0.45)
#: Response amplitude after unrewarded feedback, relative to rewarded feedback.
UNREWARDED_FACTOR = 0.4
#: Planted stay code: from this many seconds after stimulus onset to the response, with cosine
#: ramps over this fraction of the window (a Tukey window).
STAY_WINDOW = (0.1, "response")
STAY_TAPER = 0.25
#: Background amplitudes (volts, rms): pink noise per electrode, shared component, mains.
BACKGROUND_RMS = 40e-6
COMMON_RMS = 10e-6
LINE_AMPLITUDE = 15e-6
N_LINE_HARMONICS = 3
#: Event codes of the BIDS events file of the recording.
EVENT_ID = {"stimulus": 1, "feedback/rewarded": 2, "feedback/unrewarded": 3}


@dataclass
class SimulatedEcog:
    """A simulated ECoG session.

    Attributes
    ----------
    raw : mne.io.RawArray
        The recording (ECoG channels, volts) with a 2-D grid montage and feedback annotations.
    truth : dict
        The planted effect: ``planted_electrodes`` (channel names), ``window`` (s after
        feedback), ``band`` (Hz), ``metric`` and the expected effect sizes in it.
    """

    raw: mne.io.RawArray
    truth: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StayCode:
    """A planted high-gamma code of the abstract ``stay`` variable.

    Attributes
    ----------
    stay : numpy.ndarray
        Per trial: 1 stay, 0 switch, NaN on a problem's first trial
        (:func:`panneuro.simulate.task.task_variables`).
    stay_factor : numpy.ndarray
        Per trial: the learning-set prior the patient expresses (0-1; the code's multiplier).
    gain : float
        High-gamma amplitude of the code at ``stay_factor`` 1, relative to the electrode's
        background high gamma (as the feedback response's ``gain``).
    n_electrodes : int
        Electrodes of its patch (drawn apart from the feedback patch).
    """

    stay: np.ndarray
    stay_factor: np.ndarray
    gain: float
    n_electrodes: int


def grid_positions(n_electrodes: int) -> np.ndarray:
    """Return the (x, y) positions in mm of an 8 × 4 grid's first ``n_electrodes`` contacts.

    Parameters
    ----------
    n_electrodes : int
        Number of contacts (filled row by row; more than 32 adds rows).

    Returns
    -------
    numpy.ndarray
        ``(n_electrodes, 2)`` positions, 10 mm apart, centred on the grid's middle.
    """
    n_rows = max(GRID_SHAPE[0], -(-n_electrodes // GRID_SHAPE[1]))
    n_cols = GRID_SHAPE[1]
    index = np.arange(n_electrodes)
    # Centred on the grid's middle: no contact sits at the origin, which MNE reads as
    # "position unknown".
    grid = np.column_stack([index % n_cols - (n_cols - 1) / 2, index // n_cols - (n_rows - 1) / 2])
    return grid * GRID_SPACING_MM


def _pink_noise(rng: np.random.Generator, n_signals: int, n_samples: int) -> np.ndarray:
    # Spectral shaping of white noise (amplitude ∝ f^-1/2, power ∝ 1/f). Written here because
    # no library of the pinned stack generates coloured noise (neurodsp is not installed).
    out = np.empty((n_signals, n_samples))
    freqs = np.fft.rfftfreq(n_samples)
    scale = np.zeros_like(freqs)
    scale[1:] = freqs[1:] ** -0.5
    for i in range(n_signals):
        spectrum = np.fft.rfft(rng.standard_normal(n_samples)) * scale
        signal = np.fft.irfft(spectrum, n=n_samples)
        out[i] = signal / signal.std()
    return out


def _planted_patch(positions: np.ndarray, n_planted: int, rng: np.random.Generator) -> np.ndarray:
    """Pick a compact patch of ``n_planted`` electrodes around a random centre (indices)."""
    centre = int(rng.integers(len(positions)))
    distance = np.linalg.norm(positions - positions[centre], axis=1)
    jitter = rng.uniform(0, 1e-3, len(positions))  # breaks ties reproducibly
    return np.sort(np.argsort(distance + jitter, kind="stable")[:n_planted])


def _stay_modulation(events: pd.DataFrame, times: np.ndarray, code: StayCode) -> np.ndarray:
    """Return the planted stay-code amplitude over time (0 outside stay trials' windows)."""
    from scipy.signal.windows import tukey

    sfreq = 1.0 / (times[1] - times[0])
    modulation = np.zeros_like(times)
    onset = events["onset"].to_numpy(float)
    response = onset + events["response_time"].to_numpy(float)
    amplitude = np.where(np.nan_to_num(code.stay) == 1, code.gain * code.stay_factor, 0.0)
    for start, stop, value in zip(onset + STAY_WINDOW[0], response, amplitude, strict=True):
        first, last = int(round(start * sfreq)), min(int(round(stop * sfreq)), len(times))
        if value > 0 and last > first:
            modulation[first:last] += value * tukey(last - first, STAY_TAPER)
    return modulation


def _planted_carrier(
    data: np.ndarray, index: int, rng: np.random.Generator, sfreq: float
) -> np.ndarray:
    """Band-limited pink noise scaled to the electrode's own background high gamma."""
    l_freq, h_freq = HIGH_GAMMA_BAND
    # Scaled to the electrode's background high gamma, so that a gain is an amplitude ratio
    # whatever the 1/f level.
    background_hg = mne.filter.filter_data(data[index], sfreq, l_freq, h_freq, verbose=False)
    # Pink like the background, so the relative rise is the same in every sub-band.
    carrier = mne.filter.filter_data(
        _pink_noise(rng, 1, data.shape[1])[0], sfreq, l_freq, h_freq, verbose=False
    )
    return carrier * (background_hg.std() / carrier.std())


def _response_modulation(events: pd.DataFrame, times: np.ndarray, gain: float) -> np.ndarray:
    """Return the planted high-gamma amplitude over time (0 outside responses)."""
    sfreq = 1.0 / (times[1] - times[0])
    start, stop = RESPONSE_WINDOW
    n_window = int(round((stop - start) * sfreq))
    bump = np.hanning(n_window)
    modulation = np.zeros_like(times)
    feedback = (events["onset"] + events["feedback_time"]).to_numpy(float)
    factor = np.where(events["correct"].to_numpy(int) == 1, 1.0, UNREWARDED_FACTOR) * gain
    for t_fb, amplitude in zip(feedback, factor, strict=True):
        first = int(round((t_fb + start) * sfreq))
        stop_index = min(first + n_window, len(times))
        if first < len(times):
            modulation[first:stop_index] += amplitude * bump[: stop_index - first]
    return modulation


def simulate_ecog(
    events: pd.DataFrame,
    *,
    n_electrodes: int,
    sfreq: float,
    n_planted: int,
    gain: float,
    line_frequency: float,
    seed: int,
    stay_code: StayCode | None = None,
    planted: Sequence[int] | None = None,
    stay_planted: Sequence[int] | None = None,
) -> SimulatedEcog:
    """Simulate an ECoG grid recording of one Harlow-task session.

    Parameters
    ----------
    events : pandas.DataFrame
        The session's trial table (``onset`` in seconds from recording start,
        ``feedback_time``, ``correct``, ``duration``); the recording ends 1 s after the last
        trial.
    n_electrodes : int
        Number of grid contacts (8 × 4 grid, 10 mm spacing, filled row by row).
    sfreq : float
        Sampling frequency, Hz (must exceed twice the top of the high-gamma band).
    n_planted : int
        Number of electrodes (a compact patch) with a planted post-feedback high-gamma
        response.
    gain : float
        Amplitude of the planted high-gamma component after rewarded feedback at its peak,
        relative to the electrode's background high-gamma amplitude (unrewarded feedback:
        ``UNREWARDED_FACTOR`` times that).
    line_frequency : float
        Mains frequency, Hz; interference is added at it and its first harmonics.
    seed : int
        Seed of every random draw (same seed, same recording).
    stay_code : StayCode, optional
        A planted stay code in a second patch (drawn from its own stream of ``seed``, so the
        rest of the recording is the same with or without it).
    planted, stay_planted : sequence of int, optional
        Electrode indices of the two patches instead of drawing them (the oracle's replicates:
        the same patches, new noise).

    Returns
    -------
    SimulatedEcog
        The recording and the planted truth.

    Raises
    ------
    ValueError
        On an impossible request (no trials, too many planted electrodes, low sampling rate).
    """
    if len(events) == 0:
        raise ValueError("simulate_ecog: the trial table has no trials; nothing to simulate.")
    if not 0 <= n_planted <= n_electrodes:
        raise ValueError(
            f"simulate_ecog: n_planted={n_planted} must lie in [0, n_electrodes="
            f"{n_electrodes}]; fix simulation.ecog_planted_electrodes in config."
        )
    if sfreq <= 2 * HIGH_GAMMA_BAND[1] + 20:
        raise ValueError(
            f"simulate_ecog: sfreq={sfreq} Hz cannot carry high gamma up to "
            f"{HIGH_GAMMA_BAND[1]} Hz; use ≥ 500 Hz "
            "(simulation.sampling_frequency_ecog in config)."
        )
    rng = np.random.default_rng(seed)
    duration = float(events["onset"].iloc[-1] + events["duration"].iloc[-1] + 1.0)
    n_samples = int(round(duration * sfreq))
    times = np.arange(n_samples) / sfreq

    data = BACKGROUND_RMS * _pink_noise(rng, n_electrodes, n_samples)
    data += COMMON_RMS * _pink_noise(rng, 1, n_samples)
    positions = grid_positions(n_electrodes)
    drawn = _planted_patch(positions, n_planted, rng)
    planted = drawn if planted is None else np.asarray(planted, dtype=int)
    modulation = _response_modulation(events, times, gain)
    carriers = {int(index): _planted_carrier(data, index, rng, sfreq) for index in planted}
    stay_truth = None
    if stay_code is not None:
        stay_truth, stay_data = _plant_stay_code(
            data, events, times, stay_code, positions, planted, stay_planted, seed
        )
    for index, carrier in carriers.items():
        data[index] += modulation * carrier
    if stay_code is not None:
        data += stay_data

    # Mains interference last, so it does not enter the background high-gamma level above.
    for harmonic in range(1, N_LINE_HARMONICS + 1):
        freq = harmonic * line_frequency
        if freq >= sfreq / 2:
            break
        phases = rng.uniform(0, 2 * np.pi, (n_electrodes, 1))
        amplitudes = LINE_AMPLITUDE / harmonic * rng.uniform(0.5, 1.5, (n_electrodes, 1))
        data += amplitudes * np.sin(2 * np.pi * freq * times + phases)

    names = [f"G{i + 1:02d}" for i in range(n_electrodes)]
    info = mne.create_info(names, sfreq, ch_types="ecog")
    raw = mne.io.RawArray(data, info, verbose=False)
    raw.set_meas_date(MEAS_DATE)
    with raw.info._unlock():
        raw.info["line_freq"] = float(line_frequency)
    ch_pos = {
        name: np.array([x, y, 0.0]) / 1000.0 for name, (x, y) in zip(names, positions, strict=True)
    }
    raw.set_montage(mne.channels.make_dig_montage(ch_pos=ch_pos, coord_frame="head"), verbose=False)
    raw.set_annotations(_annotations(events))

    rewarded_peak = float(np.sqrt(1.0 + gain**2) - 1.0)
    unrewarded_peak = float(np.sqrt(1.0 + (UNREWARDED_FACTOR * gain) ** 2) - 1.0)
    truth = {
        "planted_electrodes": [names[i] for i in planted],
        "n_electrodes": int(n_electrodes),
        "band": list(HIGH_GAMMA_BAND),
        "window": list(RESPONSE_WINDOW),
        "gain": float(gain),
        "unrewarded_factor": UNREWARDED_FACTOR,
        "metric": "relative change of the high-gamma amplitude envelope from baseline, at the "
        "response peak (window centre)",
        "effect_rewarded": round(rewarded_peak, 6),
        "effect_unrewarded": round(unrewarded_peak, 6),
        "effect_difference": round(rewarded_peak - unrewarded_peak, 6),
        "line_frequency": float(line_frequency),
        "seed": int(seed),
    }
    if stay_truth is not None:
        stay_truth["electrodes"] = [names[i] for i in stay_truth.pop("indices")]
        truth["stay_code"] = stay_truth
    return SimulatedEcog(raw=raw, truth=truth)


def _plant_stay_code(
    data: np.ndarray,
    events: pd.DataFrame,
    times: np.ndarray,
    code: StayCode,
    positions: np.ndarray,
    planted: np.ndarray,
    stay_planted: Sequence[int] | None,
    seed: int,
) -> tuple[dict[str, Any], np.ndarray]:
    """Return the stay code's truth and its signal (added to ``data`` by the caller)."""
    if not 0 <= code.n_electrodes <= len(positions) - len(planted):
        raise ValueError(
            f"simulate_ecog: {code.n_electrodes} stay-code electrodes do not fit beside the "
            f"{len(planted)} feedback electrodes of a {len(positions)}-electrode grid; fix "
            "simulation.ecog_stay_electrodes in config."
        )
    rng = np.random.default_rng([seed, 1])  # its own stream: the rest is unchanged
    if stay_planted is None:
        free = np.setdiff1d(np.arange(len(positions)), planted)
        indices = free[_planted_patch(positions[free], code.n_electrodes, rng)]
    else:
        indices = np.asarray(stay_planted, dtype=int)
    modulation = _stay_modulation(events, times, code)
    signal = np.zeros_like(data)
    sfreq = 1.0 / (times[1] - times[0])
    for index in indices:
        signal[index] = modulation * _planted_carrier(data, index, rng, sfreq)
    stay = np.asarray(code.stay, dtype=float)
    factor = np.asarray(code.stay_factor, dtype=float)
    truth = {
        "indices": [int(i) for i in indices],
        "variable": "stay",
        "gain": float(code.gain),
        "window": [STAY_WINDOW[0], "response"],
        "metric": "high-gamma amplitude on stay trials, relative to the background, is "
        "sqrt(1 + (gain x stay_factor)^2) inside the window (0 rise on switch trials)",
        "mean_stay_factor": round(float(factor[np.isfinite(stay)].mean()), 9),
        "stay_factor": [round(float(f), 9) for f in factor],
    }
    return truth, signal


def _annotations(events: pd.DataFrame) -> mne.Annotations:
    onset = events["onset"].to_numpy(float)
    feedback = onset + events["feedback_time"].to_numpy(float)
    outcome = np.where(
        events["correct"].to_numpy(int) == 1, "feedback/rewarded", "feedback/unrewarded"
    )
    onsets = np.concatenate([onset, feedback])
    descriptions = np.concatenate([np.full(len(onset), "stimulus"), outcome])
    order = np.argsort(onsets, kind="stable")
    return mne.Annotations(
        onset=np.round(onsets[order], 6), duration=0.0, description=descriptions[order]
    )


def write_ecog_bids(
    sim: SimulatedEcog,
    bids_root: str | os.PathLike,
    *,
    subject: str,
    session: str,
    task: str = "harlow",
    line_frequency: float,
    daysback: int = DATE_SHIFT_DAYS,
) -> Path:
    """Write a simulated ECoG session as iEEG-BIDS (BrainVision) with mne-bids.

    Writes ``sub-X/ses-Y/ieeg/sub-X_ses-Y_task-<task>_ieeg.vhdr`` (+ ``.vmrk``, ``.eeg``) and
    its ``_ieeg.json``, ``_channels.tsv``, ``_electrodes.tsv``, ``_coordsystem.json`` and
    ``_events.tsv`` sidecars. No README is written (the study writes its own).

    Parameters
    ----------
    sim : SimulatedEcog
        The simulation.
    bids_root : path-like
        The BIDS root.
    subject, session, task : str
        BIDS entities.
    line_frequency : float
        Mains frequency, Hz (``PowerLineFrequency``).
    daysback : int
        Days the recording's date is shifted back (mne-bids ``anonymize``): to 1925 or
        earlier, as BIDS recommends (``scans.tsv`` ``acq_time``, the BrainVision header).

    Returns
    -------
    pathlib.Path
        The ``.vhdr`` file.
    """
    import mne_bids

    raw = sim.raw.copy()
    positions = raw.get_montage().get_positions()["ch_pos"]
    # mne-bids 0.20 writes iEEG positions only in spaces that map to an MNE frame (ACPC,
    # fsaverage...) or else puts ``space-Other`` into every file name, which the validator
    # rejects (ENTITY_NOT_IN_RULE). The grid has no brain (no template MRI offline), so the
    # recording goes through mne-bids without positions (it then writes n/a positions in an
    # "Other" coordinate system) and the positions and the coordinate-system description are
    # filled in below, in the files mne-bids wrote.
    raw.set_montage(None)
    with raw.info._unlock():
        raw.info["line_freq"] = float(line_frequency)
    bids_path = mne_bids.BIDSPath(
        subject=subject,
        session=session,
        task=task,
        datatype="ieeg",
        suffix="ieeg",
        extension=".vhdr",
        root=Path(bids_root),
    )
    mne_bids.write_raw_bids(
        raw,
        bids_path,
        event_id=EVENT_ID,
        format="BrainVision",
        allow_preload=True,
        overwrite=True,
        readme=False,
        verbose=False,
        anonymize={"daysback": int(daysback)},
    )
    sidecar = bids_path.copy().update(extension=".json")
    grid = f"{GRID_SHAPE[0]} x {GRID_SHAPE[1]} subdural grid, {GRID_SPACING_MM:g} mm spacing"
    mne_bids.update_sidecar_json(
        sidecar,
        {
            **TASK_METADATA,
            **SITE_METADATA,
            **simulated_device("mne"),
            "iEEGReference": "distant reference (simulated)",
            "iEEGGround": "distant ground (simulated)",
            "iEEGPlacementScheme": grid,
            "iEEGElectrodeGroups": f"grid: {grid}",
            "ElectrodeManufacturer": "simulated",
        },
        verbose=False,
    )
    # onset, duration and trial_type are described once at the dataset root
    # (task-harlow_events.json, panneuro.simulate.bids.EVENTS_SIDECAR), for these events too
    events_sidecar = bids_path.copy().update(suffix="events", extension=".json").fpath
    described = json.loads(Path(events_sidecar).read_text())
    write_json(
        {k: v for k, v in described.items() if k not in ("onset", "duration", "trial_type")},
        Path(events_sidecar),
    )
    names = list(positions)
    xyz_mm = np.round(np.array([positions[n] for n in names]) * 1000.0, 3)
    stem = bids_path.directory / f"sub-{subject}_ses-{session}"
    write_tsv(
        pd.DataFrame(
            {
                "name": names,
                "x": xyz_mm[:, 0],
                "y": xyz_mm[:, 1],
                "z": xyz_mm[:, 2],
                "size": 4.0,
                "group": "grid",
            }
        ),
        Path(f"{stem}_electrodes.tsv"),
    )
    write_json(
        {
            "iEEGCoordinateSystem": "Other",
            "iEEGCoordinateSystemDescription": "Grid frame: x across the grid's 4 columns, y along "
            "its 8 rows, z normal to the grid; origin at the "
            "grid centre (no anatomical registration)",
            "iEEGCoordinateUnits": "mm",
            **COORDINATE_PROCESSING,
        },
        Path(f"{stem}_coordsystem.json"),
    )
    return bids_path.fpath


def write_ecog_truth(sim: SimulatedEcog, path: str | os.PathLike) -> None:
    """Write the planted truth of a simulated ECoG session as JSON.

    Parameters
    ----------
    sim : SimulatedEcog
        The simulation.
    path : path-like
        Target, ``resources/groundtruth/sub-X/ses-Y/sub-X_ses-Y_ecog-truth.json``.
    """
    write_json(sim.truth, Path(path))
