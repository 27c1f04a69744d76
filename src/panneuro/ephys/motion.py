"""Motion (drift) estimation and correction of high-density probe recordings (SpikeInterface).

A probe that moves in the brain by tens of micrometres moves every unit's waveform across the
contacts; sorters then split or lose units. SpikeInterface's ``correct_motion`` detects peaks,
localises them, estimates the displacement over time and depth (by default the preset
``nonrigid_fast_and_accurate``: decentralized registration; DREDge needs torch) and
interpolates the traces back to a still probe (kriging; with the kernel's contact inverse
computed once, :mod:`panneuro.ephys.motion_interpolation`). It pays off only where contacts are
dense enough to follow a unit: :func:`is_high_density` (>= 64 channels whose median
nearest-neighbour distance is <= 40 µm, e.g. Neuropixels); the study's 32-contact V-probe-like
arrays (50 µm pitch) and 8-wire bundles are never corrected under ``auto``. Every
preprocessed recording's estimate is a small table beside its folder (:func:`write_motion`:
``results/ephys/sub-X/ses-Y/acq-P/motion.tsv``, no rows when not corrected), which figure 2
draws (panel g).
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

#: Name of the estimated-motion table, beside the preprocessed folder (``results/ephys/sub-X/
#: ses-Y/acq-P/motion.tsv``, a declared output of ``preprocess_probe``): :func:`write_motion`.
MOTION_FILE = "motion.tsv"
#: Its columns: one row per temporal bin and spatial window of the estimate.
MOTION_COLUMNS = ("time_s", "depth_um", "displacement_um")
#: A probe is high-density from this many channels ...
HIGH_DENSITY_MIN_CHANNELS = 64
#: ... whose median nearest-neighbour contact distance is at most this (µm).
HIGH_DENSITY_MAX_PITCH_UM = 40.0
#: SpikeInterface's motion presets (``spikeinterface.preprocessing.correct_motion``).
PRESETS = (
    "dredge",
    "dredge_fast",
    "medicine",
    "nonrigid_accurate",
    "nonrigid_fast_and_accurate",
    "rigid_fast",
    "kilosort_like",
)
#: ``ephys.preprocessing.motion_correction`` when config does not give it.
#: ``nonrigid_fast_and_accurate`` (grid-convolution localisation, decentralized estimation in
#: NumPy): the DREDge presets (``dredge``, ``dredge_fast``, ``rigid_fast``) need torch, which the
#: stack does not install (SpikeInterface 0.105.3 fails inside the estimation, after the peak
#: detection and localisation, with "The DREDGE method requires torch").
MOTION_DEFAULTS: dict[str, Any] = {"enabled": "auto", "preset": "nonrigid_fast_and_accurate"}
#: Presets whose estimation (``dredge_ap``) imports torch.
TORCH_PRESETS = ("dredge", "dredge_fast", "rigid_fast")


def contact_pitch_um(locations: np.ndarray) -> float:
    """Median distance from each contact to its nearest neighbour (µm).

    Parameters
    ----------
    locations : numpy.ndarray
        Contact positions, ``(n_channels, 2)`` µm.

    Returns
    -------
    float
        ``inf`` for fewer than two contacts.
    """
    locations = np.asarray(locations, dtype=float)
    if len(locations) < 2:
        return float("inf")
    distance = np.linalg.norm(locations[:, None, :] - locations[None, :, :], axis=2)
    np.fill_diagonal(distance, np.inf)
    return float(np.median(distance.min(axis=1)))


def is_high_density(recording) -> bool:
    """Whether a recording's probe is high-density (motion correction under ``auto``).

    Parameters
    ----------
    recording : spikeinterface.core.BaseRecording
        With channel locations.

    Returns
    -------
    bool
        ``>= HIGH_DENSITY_MIN_CHANNELS`` channels and a contact pitch
        ``<= HIGH_DENSITY_MAX_PITCH_UM``.
    """
    if recording.get_num_channels() < HIGH_DENSITY_MIN_CHANNELS:
        return False
    return contact_pitch_um(recording.get_channel_locations()) <= HIGH_DENSITY_MAX_PITCH_UM


def motion_settings(settings: Mapping[str, Any] | None) -> dict[str, Any]:
    """Check ``ephys.preprocessing.motion_correction`` and fill in its defaults.

    Parameters
    ----------
    settings : mapping, optional
        ``enabled`` (``auto``, true or false) and ``preset``.

    Returns
    -------
    dict
        ``enabled`` and ``preset``.
    """
    merged = {**MOTION_DEFAULTS, **dict(settings or {})}
    unknown = sorted(set(merged) - set(MOTION_DEFAULTS))
    if unknown:
        raise ValueError(
            f"ephys.preprocessing.motion_correction: unknown key(s) {unknown}; use "
            f"{sorted(MOTION_DEFAULTS)} in config/config.yaml."
        )
    if merged["enabled"] not in ("auto", True, False):
        raise ValueError(
            f"ephys.preprocessing.motion_correction.enabled is "
            f"{merged['enabled']!r}; use auto, true or false in config/config.yaml."
        )
    if merged["preset"] not in PRESETS:
        raise ValueError(
            f"ephys.preprocessing.motion_correction.preset is {merged['preset']!r};"
            f" use one of {list(PRESETS)} in config/config.yaml."
        )
    if merged["preset"] in TORCH_PRESETS and merged["enabled"] is not False:
        import importlib.util

        if importlib.util.find_spec("torch") is None:
            raise ValueError(
                f"ephys.preprocessing.motion_correction.preset {merged['preset']!r}"
                " (DREDge) needs torch, which is not installed: pip install "
                "torch==2.13.0 (the CPU wheel), or use nonrigid_fast_and_accurate "
                "in config/config.yaml."
            )
    return merged


def motion_correction_applies(enabled: str | bool, recording) -> bool:
    """Whether to correct a recording's motion: ``auto`` means for high-density probes.

    Parameters
    ----------
    enabled : {"auto", True, False}
        The config's setting.
    recording : spikeinterface.core.BaseRecording
        The probe's recording.

    Returns
    -------
    bool
    """
    return is_high_density(recording) if enabled == "auto" else bool(enabled)


def motion_table(motion) -> pd.DataFrame:
    """Return a SpikeInterface ``Motion`` (one segment) as a long table.

    Parameters
    ----------
    motion : spikeinterface.core.motion.Motion
        Estimated motion.

    Returns
    -------
    pandas.DataFrame
        ``time_s, depth_um, displacement_um``: one row per temporal bin and spatial window.
    """
    displacement = np.asarray(motion.displacement[0], dtype=float)  # (times, depths)
    times = np.asarray(motion.temporal_bins_s[0], dtype=float)
    depths = np.asarray(motion.spatial_bins_um, dtype=float)
    return pd.DataFrame(
        {
            "time_s": np.repeat(np.round(times, 6), len(depths)),
            "depth_um": np.tile(np.round(depths, 3), len(times)),
            "displacement_um": np.round(displacement.ravel(), 4),
        }
    )


@contextlib.contextmanager
def gc_frozen() -> Iterator[None]:
    """Keep the objects that exist now out of Python's garbage collections for a while.

    SpikeInterface 0.105.3's decentralized motion estimation calls ``gc.collect()`` after every
    robust least-squares iteration (``sortingcomponents/motion/decentralized.py``, against a
    scipy ``lsmr`` leak): 40 full collections per estimate, each walking every object of the
    process (~190,000 once SpikeInterface and its kernels are loaded, ~0.2 s each). Frozen
    (:func:`gc.freeze`), those objects are skipped and each collection only sees what the
    estimation itself made: on a 64-channel x 10 s probe the estimate took 0.7-1.8 s instead of
    8.3-9.4 s, with the same displacement. Unfrozen on exit. (The same remedy as
    :func:`panneuro.ephys.preprocessing.frozen_heap` for the save, not imported from there:
    preprocessing imports this module.)

    Yields
    ------
    None
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def correct_motion(recording, *, preset: str, n_jobs: int, seed: int | None = None):
    """Estimate a recording's motion and interpolate it away (lazily).

    The estimation (peak detection, localisation, DREDge) runs now; the interpolation is
    lazy. SpikeInterface draws the detection threshold's noise estimate from unseeded random
    chunks; it is computed here first with ``seed`` (and cached on the recording), so the
    estimate is reproducible. SpikeInterface's numba kernels (peak detection, localisation)
    are kept compiled on disk across jobs (:mod:`panneuro.ephys.numba_cache`), as for sorting,
    and the estimation runs with the process's objects frozen (:func:`gc_frozen`); the steps'
    run times are logged and kept in the table's ``attrs["run_times"]``.

    Parameters
    ----------
    recording : spikeinterface.core.BaseRecording
        Band-passed and re-referenced, float (not whitened).
    preset : str
        One of :data:`PRESETS`.
    n_jobs : int
        Worker threads.
    seed : int, optional
        Seeds the noise estimate's random chunks.

    Returns
    -------
    recording : spikeinterface.core.BaseRecording
        The motion-corrected recording (float32, lazy).
    motion : pandas.DataFrame
        The estimate, :func:`motion_table`.
    """
    import spikeinterface.preprocessing as spre
    from spikeinterface.core import get_noise_levels

    from panneuro.ephys.motion_interpolation import kernel_cached
    from panneuro.ephys.numba_cache import cache_spikeinterface_kernels

    cache_spikeinterface_kernels()  # compiled once per machine, not once per job
    # on the job's workers, silently (the chunks and so the levels are the same as serially)
    get_noise_levels(
        recording,
        return_in_uV=False,
        random_slices_kwargs={"seed": 0 if seed is None else int(seed)},
        n_jobs=int(n_jobs),
        pool_engine="thread",
        progress_bar=False,
    )
    with gc_frozen():
        corrected, motion, info = spre.correct_motion(
            recording,
            preset=preset,
            output_motion=True,
            output_motion_info=True,
            n_jobs=int(n_jobs),
            pool_engine="thread",
            progress_bar=False,
        )
    # SpikeInterface's interpolation, its kriging inverse computed once, not per time bin
    corrected = kernel_cached(corrected)
    table = motion_table(motion)
    table.attrs["run_times"] = {k: round(float(v), 3) for k, v in info["run_times"].items()}
    logger.info("motion (%s): %s s", preset, table.attrs["run_times"])
    return corrected, table


def write_motion(motion: pd.DataFrame | None, path: str | os.PathLike) -> None:
    """Write a recording's estimated motion (``motion.tsv`` beside its preprocessed folder).

    Every preprocessed recording has one, so that the workflow can declare it: the estimate
    (:func:`motion_table`) when :func:`panneuro.ephys.preprocessing.preprocess` corrected the
    motion, else the same columns and no rows. Written atomically (write to a temporary name,
    then rename: :func:`panneuro.io.tables.write_tsv`).

    Parameters
    ----------
    motion : pandas.DataFrame or None
        The estimate (``time_s, depth_um, displacement_um``); None for an uncorrected recording.
    path : path-like
        The table (``results/ephys/sub-X/ses-Y/acq-P/motion.tsv``).
    """
    from panneuro.io.tables import write_tsv

    if motion is None:
        motion = pd.DataFrame({column: pd.Series(dtype=float) for column in MOTION_COLUMNS})
    write_tsv(motion[list(MOTION_COLUMNS)], path)


def read_motion(path: str | os.PathLike) -> pd.DataFrame | None:
    """Read a recording's estimated motion; None if it was not corrected (a table of no rows).

    Parameters
    ----------
    path : path-like
        A ``motion.tsv`` written by :func:`write_motion`.

    Returns
    -------
    pandas.DataFrame or None
        ``time_s, depth_um, displacement_um`` (floats).

    Raises
    ------
    FileNotFoundError
        If the table is missing (naming the rule that makes it).
    """
    from panneuro.io.tables import read_tsv

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: no motion table; rerun the rule that preprocessed "
            "the recording (preprocess_probe or preprocess_sleep)."
        )
    table = read_tsv(path)
    if table.empty:
        return None
    return table.astype({column: float for column in MOTION_COLUMNS})


def motion_error(estimated: pd.DataFrame, planted: pd.DataFrame) -> dict[str, float]:
    """Error of an estimated motion against the planted (rigid) drift.

    A motion estimate is defined up to a constant (which position counts as "still"), and
    SpikeInterface's sign is the probe's displacement relative to the tissue: the comparison
    takes, per spatial window, the estimate at the planted trace's times (linear interpolation),
    fits the better sign and removes the mean difference.

    Parameters
    ----------
    estimated : pandas.DataFrame
        :func:`motion_table` output.
    planted : pandas.DataFrame
        ``time_s, displacement_um``.

    Returns
    -------
    dict
        ``rms_um`` and ``max_um`` (over windows and times), ``planted_range_um``
        (peak to peak), ``sign`` (+1 or -1) and ``correlation``.
    """
    truth_t = planted["time_s"].to_numpy(float)
    truth = planted["displacement_um"].to_numpy(float)
    errors, correlations, signs = [], [], []
    for _, window in estimated.groupby("depth_um", sort=True):
        window = window.sort_values("time_s")
        inside = (truth_t >= window["time_s"].min()) & (truth_t <= window["time_s"].max())
        est = np.interp(truth_t[inside], window["time_s"], window["displacement_um"])
        ref = truth[inside]
        sign = 1.0 if np.dot(est - est.mean(), ref - ref.mean()) >= 0 else -1.0
        diff = sign * est - ref
        errors.append(diff - diff.mean())
        correlations.append(
            float(np.corrcoef(sign * est, ref)[0, 1]) if ref.std() > 0 else float("nan")
        )
        signs.append(sign)
    error = np.concatenate(errors)
    return {
        "rms_um": float(np.sqrt(np.mean(error**2))),
        "max_um": float(np.abs(error).max()),
        "planted_range_um": float(np.ptp(truth)),
        "sign": float(np.median(signs)),
        "correlation": float(np.nanmean(correlations)),
    }
