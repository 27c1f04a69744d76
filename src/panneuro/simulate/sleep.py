"""Sleep epochs around a task session: hippocampal sharp-wave ripples and replay, planted.

A session of the study design may hold a sleep epoch before the task (``pre``, BIDS
``task-sleep_run-1``) and one after it (``post``, ``run-2``), recorded by the probes of the
sleep regions (the hippocampus). The same neurons as in the task recording (same seed, same
templates and tuning, :func:`panneuro.simulate.ephys.probe_neurons`) fire at a lower sleep
rate, and the broadband carries sharp-wave ripples:

* **Ripples in the broadband.** Events at a Poisson rate with a minimum interval; each is a
  Gaussian-enveloped oscillation (``frequency_hz`` range, 150–250 Hz by default; envelope s.d.
  a quarter of its duration) riding on a slower negative sharp wave, with a depth profile
  (a Gaussian over the shank centred on a random "pyramidal layer", a random gain per wire of
  a bundle). They are injected into the noise with SpikeInterface's template injection
  (:class:`spikeinterface.core.generate.InjectTemplatesRecording`; ``n_variants`` shapes and a
  per-event amplitude), like the spikes.
* **Replay during ripples.** Inside a ripple every unit fires at ``ripple_rate_gain`` times its
  planted task rate at one moment of the task (its snapshot). In a *replay* ripple all units
  share the moment, so their co-firing across ripples reproduces the task's co-firing pattern
  (the correlation of their task rates); in the other ripples each unit takes its own moment
  (same rates, no shared pattern). The fraction of replay ripples is ``replay_fraction.pre``
  before the task and ``replay_fraction.post`` after it (reactivation stronger after).

The truth per recording is the ripple table (peak, start, stop, frequency, amplitude, replay,
replayed task time) and the spike trains; per probe and session the task's planted co-firing
template (:func:`task_cofiring`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from panneuro.simulate.ephys import (
    REFRACTORY_MS,
    ProbeNeurons,
    broadband_recording,
    poisson_spike_samples,
    probe_neurons,
    spike_sorting_from_trains,
    tuned_rates,
)

#: Sleep epochs of a session and their BIDS run index (``task-sleep_run-<n>``).
EPOCH_RUNS: dict[str, int] = {"pre": 1, "post": 2}
#: BIDS task label of the sleep recordings.
SLEEP_TASK = "sleep"
#: Depth profile of ripples on a linear shank (µm): s.d. of the ripple and sharp-wave profiles
#: and the sharp wave's offset below the pyramidal layer (stratum radiatum).
RIPPLE_PROFILE_SD_UM = 150.0
SHARP_WAVE_PROFILE_SD_UM = 200.0
SHARP_WAVE_OFFSET_UM = 250.0
#: Rate resolution of the sleep spike trains (s), as the task's.
RATE_DT = 0.001
#: Columns of a ripple truth table.
RIPPLE_COLUMNS: tuple[str, ...] = (
    "ripple_id",
    "peak_time",
    "start_time",
    "end_time",
    "duration",
    "frequency",
    "amplitude_uv",
    "variant",
    "replay",
    "replayed_task_time",
)


@dataclass(frozen=True)
class SleepDesign:
    """Sleep epochs of the study design (``design.sleep`` of a size preset).

    Parameters
    ----------
    regions : tuple of str
        Regions whose probes are recorded during sleep (and carry ripples).
    duration_s : float
        Length of each sleep epoch.
    gap_s : float
        Time between an epoch and the task recording (``scans.tsv`` acquisition times).
    ripple_rate_hz : float
        Mean rate of ripples.
    ripple_min_interval_s : float
        Minimum time between ripple peaks.
    frequency_hz, duration_range_s, amplitude_uv : tuple of float
        Uniform ranges of the ripples' frequency, duration and amplitude (peak of the ripple
        oscillation at the profile's maximum).
    sharp_wave_factor : float
        Sharp-wave peak relative to the ripple amplitude.
    unit_rate_factor : float
        Units' rates outside ripples relative to their task baseline.
    ripple_rate_gain : float
        Units' rates inside a ripple relative to their task-rate snapshot.
    replay_fraction : mapping
        ``{"pre": f, "post": f}``: fraction of replay ripples in each epoch.
    n_variants : int
        Ripple waveform shapes (frequency, duration and phase drawn per shape).
    """

    regions: tuple[str, ...]
    duration_s: float
    gap_s: float
    ripple_rate_hz: float
    ripple_min_interval_s: float
    frequency_hz: tuple[float, float]
    duration_range_s: tuple[float, float]
    amplitude_uv: tuple[float, float]
    sharp_wave_factor: float
    unit_rate_factor: float
    ripple_rate_gain: float
    replay_fraction: Mapping[str, float]
    n_variants: int

    def __post_init__(self) -> None:
        """Check the ranges."""
        if set(self.replay_fraction) != set(EPOCH_RUNS):
            raise ValueError(
                f"sleep replay_fraction needs keys {sorted(EPOCH_RUNS)}, got "
                f"{sorted(self.replay_fraction)}"
            )
        if not all(0.0 <= f <= 1.0 for f in self.replay_fraction.values()):
            raise ValueError("sleep replay_fraction values must lie in [0, 1]")
        if self.duration_range_s[1] >= self.ripple_min_interval_s:
            raise ValueError(
                "sleep: the longest ripple must be shorter than the minimum "
                "interval between ripples (ripples must not overlap)"
            )

    @classmethod
    def from_config(cls, block: Mapping[str, Any]) -> SleepDesign:
        """Build from the ``design.sleep`` block of a size preset."""
        return cls(
            regions=tuple(block["regions"]),
            duration_s=float(block["duration_s"]),
            gap_s=float(block["gap_s"]),
            ripple_rate_hz=float(block["ripple_rate_hz"]),
            ripple_min_interval_s=float(block["ripple_min_interval_s"]),
            frequency_hz=_pair(block["frequency_hz"]),
            duration_range_s=_pair(block["duration_s_range"]),
            amplitude_uv=_pair(block["amplitude_uv"]),
            sharp_wave_factor=float(block["sharp_wave_factor"]),
            unit_rate_factor=float(block["unit_rate_factor"]),
            ripple_rate_gain=float(block["ripple_rate_gain"]),
            replay_fraction={k: float(v) for k, v in block["replay_fraction"].items()},
            n_variants=int(block["n_variants"]),
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready parameters (the truth files)."""
        return {
            "regions": list(self.regions),
            "duration_s": self.duration_s,
            "gap_s": self.gap_s,
            "ripple_rate_hz": self.ripple_rate_hz,
            "ripple_min_interval_s": self.ripple_min_interval_s,
            "frequency_hz": list(self.frequency_hz),
            "duration_s_range": list(self.duration_range_s),
            "amplitude_uv": list(self.amplitude_uv),
            "sharp_wave_factor": self.sharp_wave_factor,
            "unit_rate_factor": self.unit_rate_factor,
            "ripple_rate_gain": self.ripple_rate_gain,
            "replay_fraction": dict(self.replay_fraction),
            "n_variants": self.n_variants,
        }


def _pair(values: Any) -> tuple[float, float]:
    low, high = (float(v) for v in values)
    if not high >= low:
        raise ValueError(f"range {values} must be [low, high]")
    return low, high


@dataclass
class SimulatedSleep:
    """A simulated sleep recording of one probe and its truth.

    Attributes
    ----------
    recording : spikeinterface.core.BaseRecording
        Lazy int16 broadband recording (the task recording's probe and gain).
    sorting : spikeinterface.core.NumpySorting
        Ground-truth spike trains (the task's unit ids: the same neurons).
    units : pandas.DataFrame
        The planted tuning (the task's).
    ripples : pandas.DataFrame
        :data:`RIPPLE_COLUMNS`, one row per ripple, times on this recording's clock.
    profile : numpy.ndarray
        The ripple's amplitude profile over channels (1 at its maximum).
    epoch : str
        ``pre`` or ``post``.
    """

    recording: object
    sorting: object
    units: pd.DataFrame
    ripples: pd.DataFrame
    profile: np.ndarray
    epoch: str


def draw_ripples(
    duration: float,
    design: SleepDesign,
    epoch: str,
    *,
    task_start: float,
    task_stop: float,
    margin: float,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Draw an epoch's ripple events: times, shapes, amplitudes, and which ones replay.

    Parameters
    ----------
    duration : float
        Epoch length, s.
    design : SleepDesign
        The sleep design.
    epoch : {"pre", "post"}
        Which epoch (sets the replay fraction).
    task_start, task_stop : float
        Span of the task recording's trials (s on the task's clock): replayed moments are
        drawn from it.
    margin : float
        No ripple peak within this many seconds of either end.
    rng : numpy.random.Generator
        The draws.

    Returns
    -------
    pandas.DataFrame
        :data:`RIPPLE_COLUMNS` without the shapes' frequency/duration filled in by variant
        (see :func:`simulate_sleep_probe`); ``replayed_task_time`` NaN for non-replay ripples.
    """
    if epoch not in EPOCH_RUNS:
        raise ValueError(f"sleep epoch {epoch!r} unknown; use {sorted(EPOCH_RUNS)}")
    # A Poisson process thinned to the minimum interval (sequentially, like a refractory
    # period): the rate of kept events is a little below ripple_rate_hz.
    n_max = int(np.ceil(duration * design.ripple_rate_hz * 3 + 10))
    candidates = margin + np.cumsum(rng.exponential(1.0 / design.ripple_rate_hz, n_max))
    peaks: list[float] = []
    for t in candidates:
        if t > duration - margin:
            break
        if not peaks or t - peaks[-1] >= design.ripple_min_interval_s:
            peaks.append(float(t))
    n = len(peaks)
    variant = rng.integers(0, design.n_variants, n)
    amplitude = rng.uniform(*design.amplitude_uv, n)
    replay = rng.random(n) < design.replay_fraction[epoch]
    replayed = np.where(replay, rng.uniform(task_start, task_stop, n), np.nan)
    return pd.DataFrame(
        {
            "ripple_id": np.arange(n),
            "peak_time": np.round(peaks, 6),
            "variant": variant,
            "amplitude_uv": np.round(amplitude, 6),
            "replay": replay.astype(int),
            "replayed_task_time": np.round(replayed, 6),
        }
    )


def ripple_templates(
    design: SleepDesign,
    channel_locations: np.ndarray,
    geometry: str,
    sampling_frequency: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, int, pd.DataFrame, np.ndarray]:
    """Waveforms of the ripple variants on every channel (ripple peak 1 µV at the profile max).

    Parameters
    ----------
    design : SleepDesign
        The sleep design.
    channel_locations : numpy.ndarray
        Contact positions (channels × 2), µm.
    geometry : {"linear", "bundle"}
        The probe's geometry.
    sampling_frequency : float
        Hz.
    rng : numpy.random.Generator
        Draws the variants' frequency, duration and phase and the depth profile.

    Returns
    -------
    templates : numpy.ndarray
        (variants, samples, channels), float32.
    nbefore : int
        Samples before the ripple peak (half the window).
    variants : pandas.DataFrame
        ``variant``, ``frequency``, ``duration``, ``phase``.
    profile : numpy.ndarray
        The ripple amplitude per channel (max 1).
    """
    n = design.n_variants
    frequency = rng.uniform(*design.frequency_hz, n)
    duration = rng.uniform(*design.duration_range_s, n)
    phase = rng.uniform(0.0, 2 * np.pi, n)
    n_channels = len(channel_locations)
    if geometry == "linear":
        depth = channel_locations[:, 1]
        centre = rng.uniform(np.quantile(depth, 0.3), np.quantile(depth, 0.7))
        profile = np.exp(-0.5 * ((depth - centre) / RIPPLE_PROFILE_SD_UM) ** 2)
        sharp_profile = np.exp(
            -0.5 * ((depth - (centre - SHARP_WAVE_OFFSET_UM)) / SHARP_WAVE_PROFILE_SD_UM) ** 2
        )
    else:
        profile = rng.uniform(0.6, 1.0, n_channels)
        sharp_profile = profile.copy()
    profile = profile / profile.max()
    half = int(round(design.duration_range_s[1] * sampling_frequency))
    t = (np.arange(2 * half + 1) - half) / sampling_frequency
    templates = np.empty((n, t.size, n_channels), dtype="float32")
    for k in range(n):
        envelope = np.exp(-0.5 * (t / (duration[k] / 4.0)) ** 2)
        ripple = envelope * np.cos(2 * np.pi * frequency[k] * t + phase[k])
        sharp = -design.sharp_wave_factor * np.exp(-0.5 * (t / (duration[k] / 3.0)) ** 2)
        templates[k] = (
            ripple[:, None] * profile[None, :] + sharp[:, None] * sharp_profile[None, :]
        ).astype("float32")
    variants = pd.DataFrame(
        {
            "variant": np.arange(n),
            "frequency": np.round(frequency, 6),
            "duration": np.round(duration, 6),
            "phase": np.round(phase, 6),
        }
    )
    return templates, half, variants, profile


def sleep_rates(
    task_rates: np.ndarray,
    units: pd.DataFrame,
    ripples: pd.DataFrame,
    *,
    duration: float,
    design: SleepDesign,
    rng: np.random.Generator,
    dt: float = RATE_DT,
) -> np.ndarray:
    """Compute the units' firing rates during a sleep epoch, ripple-locked replay included.

    Parameters
    ----------
    task_rates : numpy.ndarray
        The units' planted task rates (units × bins of ``dt``), Hz
        (:func:`panneuro.simulate.ephys.tuned_rates`).
    units : pandas.DataFrame
        ``base_rate`` per unit.
    ripples : pandas.DataFrame
        The epoch's ripples with ``start_time``, ``end_time``, ``replay`` and
        ``replayed_task_time``.
    duration : float
        Epoch length, s.
    design : SleepDesign
        The sleep design.
    rng : numpy.random.Generator
        Draws each unit's own moment in the non-replay ripples.
    dt : float
        Bin width, s.

    Returns
    -------
    numpy.ndarray
        Hz, shape (units, bins).
    """
    n_bins = int(np.ceil(duration / dt))
    base = units["base_rate"].to_numpy(float) * design.unit_rate_factor
    rates = np.tile(base[:, None], (1, n_bins))
    n_units, n_task = task_rates.shape
    for ripple in ripples.itertuples(index=False):
        first = int(round(ripple.start_time / dt))
        last = int(round(ripple.end_time / dt))
        if ripple.replay:
            moment = np.full(n_units, int(round(ripple.replayed_task_time / dt)))
        else:
            moment = rng.integers(0, n_task, n_units)
        snapshot = task_rates[np.arange(n_units), np.clip(moment, 0, n_task - 1)]
        rates[:, first:last] = design.ripple_rate_gain * snapshot[:, None]
    return rates


def simulate_sleep_probe(
    events: pd.DataFrame,
    *,
    coding: pd.DataFrame | None,
    n_channels: int,
    n_units: int,
    sampling_frequency: float,
    region: str,
    seed: int,
    sleep_seed: int,
    epoch: str,
    design: SleepDesign,
    geometry: str | None = None,
) -> SimulatedSleep:
    """Simulate one probe's sleep epoch: the task's neurons, sharp-wave ripples and replay.

    Parameters
    ----------
    events : pandas.DataFrame
        The session's trial table (the task whose moments are replayed).
    coding : pandas.DataFrame or None
        The task recording's per-trial coding (:func:`panneuro.simulate.ephys.tuned_rates`).
    n_channels, n_units, sampling_frequency, region, geometry
        As the task recording's (:func:`panneuro.simulate.ephys.simulate_probe`).
    seed : int
        The task recording's seed (same neurons).
    sleep_seed : int
        Seeds the epoch's ripples, replay, spikes and noise.
    epoch : {"pre", "post"}
        Before or after the task.
    design : SleepDesign
        The sleep design.

    Returns
    -------
    SimulatedSleep
        The recording and its truth.
    """
    neurons: ProbeNeurons = probe_neurons(
        n_channels=n_channels,
        n_units=n_units,
        sampling_frequency=sampling_frequency,
        region=region,
        seed=seed,
        geometry=geometry,
    )
    rng = np.random.default_rng(sleep_seed)
    seeds = rng.integers(0, 2**31 - 1, size=5)
    task_duration = float(events["onset"].iloc[-1] + events["duration"].iloc[-1] + 1.0)
    n_task = int(round(task_duration * sampling_frequency))
    task_rates = tuned_rates(
        events, neurons.units, duration=n_task / sampling_frequency, dt=RATE_DT, coding=coding
    )
    templates, nbefore, variants, profile = ripple_templates(
        design,
        neurons.probe.contact_positions,
        neurons.geometry,
        sampling_frequency,
        np.random.default_rng(seeds[0]),
    )
    margin = (nbefore + 1) / sampling_frequency + 0.05
    task_start = float(events["onset"].iloc[0])
    task_stop = float(events["onset"].iloc[-1] + events["duration"].iloc[-1])
    ripples = draw_ripples(
        design.duration_s,
        design,
        epoch,
        task_start=task_start,
        task_stop=task_stop,
        margin=margin,
        rng=np.random.default_rng(seeds[1]),
    )
    shape = variants.set_index("variant").loc[ripples["variant"].to_numpy()]
    ripples["frequency"] = shape["frequency"].to_numpy()
    ripples["duration"] = shape["duration"].to_numpy()
    ripples["start_time"] = np.round(ripples["peak_time"] - ripples["duration"] / 2, 6)
    ripples["end_time"] = np.round(ripples["peak_time"] + ripples["duration"] / 2, 6)
    ripples = ripples[list(RIPPLE_COLUMNS)]

    n_samples = int(round(design.duration_s * sampling_frequency))
    rates = sleep_rates(
        task_rates,
        neurons.units,
        ripples,
        duration=design.duration_s,
        design=design,
        rng=np.random.default_rng(seeds[2]),
    )
    trains = poisson_spike_samples(
        rates,
        dt=RATE_DT,
        sampling_frequency=sampling_frequency,
        refractory_ms=REFRACTORY_MS,
        margin_samples=neurons.templates.shape[1],
        n_samples=n_samples,
        rng=np.random.default_rng(seeds[3]),
    )
    sorting = spike_sorting_from_trains(trains, sampling_frequency)
    peak_samples = np.round(ripples["peak_time"].to_numpy(float) * sampling_frequency).astype(
        np.int64
    )
    ripple_sorting = _ripple_sorting(
        peak_samples, ripples["variant"].to_numpy(int), design.n_variants, sampling_frequency
    )
    recording = broadband_recording(
        neurons,
        sorting,
        sampling_frequency=sampling_frequency,
        n_samples=n_samples,
        noise_seed=int(seeds[4]),
        region=region,
        extra=(
            ripple_sorting,
            templates,
            nbefore,
            ripples["amplitude_uv"].to_numpy(float).astype("float32"),
        ),
    )
    return SimulatedSleep(
        recording=recording,
        sorting=sorting,
        units=neurons.units,
        ripples=ripples,
        profile=profile,
        epoch=epoch,
    )


def _ripple_sorting(
    peaks: np.ndarray, variants: np.ndarray, n_variants: int, sampling_frequency: float
):
    from spikeinterface.core import NumpySorting

    order = np.argsort(peaks, kind="stable")
    return NumpySorting.from_samples_and_labels(
        [peaks[order]], [variants[order]], sampling_frequency, unit_ids=np.arange(n_variants)
    )


def ripple_counts(spike_times: list[np.ndarray], ripples: pd.DataFrame) -> np.ndarray:
    """Count each unit's spikes inside each ripple (the co-firing during ripples).

    Parameters
    ----------
    spike_times : list of numpy.ndarray
        Spike times (s) of each unit on the sleep recording's clock.
    ripples : pandas.DataFrame
        ``start_time`` and ``end_time`` of each ripple.

    Returns
    -------
    numpy.ndarray
        (ripples, units) counts.
    """
    starts = ripples["start_time"].to_numpy(float)
    stops = ripples["end_time"].to_numpy(float)
    return (
        np.column_stack(
            [np.searchsorted(t, stops) - np.searchsorted(t, starts) for t in spike_times]
        )
        if spike_times
        else np.zeros((len(starts), 0))
    )


def task_cofiring(
    task_rates: np.ndarray, *, dt: float = RATE_DT, bin_s: float = 0.05
) -> np.ndarray:
    """Return the task's planted co-firing pattern: the correlation of the units' rates.

    Parameters
    ----------
    task_rates : numpy.ndarray
        Planted task rates (units × bins of ``dt``), Hz.
    dt : float
        Their bin width, s.
    bin_s : float
        Bin of the pattern, s.

    Returns
    -------
    numpy.ndarray
        (units, units) Pearson correlation; 0 where a unit's rate is constant.
    """
    step = max(1, int(round(bin_s / dt)))
    n = task_rates.shape[1] // step * step
    binned = task_rates[:, :n].reshape(task_rates.shape[0], -1, step).mean(axis=2)
    return correlation(binned.T)


def correlation(samples: np.ndarray) -> np.ndarray:
    """Pearson correlation of the columns of ``samples`` (observations × variables), 0 if flat."""
    centred = samples - samples.mean(axis=0)
    sd = np.sqrt((centred**2).sum(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = (centred.T @ centred) / np.outer(sd, sd)
    corr = np.where(np.outer(sd, sd) > 0, corr, 0.0)
    np.fill_diagonal(corr, 1.0)
    return corr


def pattern_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of the off-diagonal entries of two co-firing matrices."""
    upper = np.triu_indices_from(a, k=1)
    return float(np.corrcoef(a[upper], b[upper])[0, 1])


def write_sleep_truth(sim: SimulatedSleep, prefix: str | os.PathLike) -> None:
    """Write a sleep recording's truth: ``<prefix>_spikes.npz`` and ``<prefix>_ripples.tsv``.

    Parameters
    ----------
    sim : SimulatedSleep
        The recording.
    prefix : path-like
        ``<gt>/sub-X/ses-Y/sub-X_ses-Y_task-sleep_acq-P_run-N``.
    """
    from panneuro.io.tables import write_tsv
    from panneuro.simulate.ephys import write_spike_trains

    # the units are the task recording's (<gt>/..._acq-P_units.tsv): not written again
    write_spike_trains(sim.sorting, Path(f"{prefix}_spikes.npz"))
    write_tsv(sim.ripples, Path(f"{prefix}_ripples.tsv"))
