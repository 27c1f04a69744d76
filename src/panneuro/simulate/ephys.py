"""Simulated microelectrode recordings whose units encode the Harlow task.

One probe per call: a monkey laminar array (a 32-contact linear shank, V-probe-like) or a human
Behnke-Fried microwire bundle (8 wires). Templates, noise and the injection of spikes into
the noise are SpikeInterface's generators (:func:`spikeinterface.core.generate.generate_templates`,
:class:`spikeinterface.generation.NoiseGeneratorRecording`,
:class:`spikeinterface.core.generate.InjectTemplatesRecording`); the recording stays lazy
(chunks are computed when read or written). The spike trains are inhomogeneous Poisson
processes with a refractory period whose rate encodes one task variable per unit
(:func:`panneuro.simulate.task.task_variables`) at a planted gain:

* ``choice`` (1 = right) around the response (``onset + response_time``, -0.2 to +0.3 s),
* ``correct`` and ``rewarded_object`` after feedback (``onset + feedback_time``, 0 to 0.5 s),
* ``stay`` (the abstract, problem-independent code) from 0.1 s after onset to the response,
  with a gain that grows with learning: ``gain * (1 - exp(-problem / LEARNING_TAU))``,
* ``none``: untuned units.

Inside its window a unit fires at ``base * exp(+gain)`` when the variable is 1 and at
``base * exp(-gain)`` when it is 0; elsewhere at ``base``.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from panneuro.simulate.task import task_variables

#: Task variables a unit may encode; ``none`` = untuned.
VARIABLES: tuple[str, ...] = ("choice", "correct", "rewarded_object", "stay", "none")
#: Window (s) of each variable's coding: (anchor event, start, stop); stop None = the response.
WINDOWS: dict[str, tuple[str, float, float | None]] = {
    "choice": ("response", -0.2, 0.3),
    "correct": ("feedback", 0.0, 0.5),
    "rewarded_object": ("feedback", 0.0, 0.5),
    "stay": ("onset", 0.1, None),
}
#: Problems for the abstract (stay) code to reach 63% of its full gain.
LEARNING_TAU = 20.0
#: Planted log-rate gains of tuned units (uniform range).
GAIN_RANGE = (0.5, 1.0)
#: Baseline firing rates (Hz): log-uniform range.
BASE_RATE_RANGE = (2.0, 12.0)
#: Refractory period of the simulated neurons (ms).
REFRACTORY_MS = 2.0
#: Band-limited (300-6000 Hz) noise s.d., µV, and the planted SNR range (peak / band noise).
NOISE_BAND = (300.0, 6000.0)
NOISE_UV = 10.0
SNR_RANGE = (4.0, 14.0)
#: ADC gain of the int16 recording, µV per bit (an Intan-like headstage).
GAIN_TO_UV = 0.195
#: Template extent around the trough (ms).
MS_BEFORE, MS_AFTER = 1.0, 2.5
#: Probe geometries: a linear shank (V-probe-like, 50 µm pitch, 15 µm contacts) for arrays and
#: a splayed 8-wire bundle (Behnke-Fried-like, wires ~150 µm apart, 38 µm wires) for microwires.
LINEAR_PITCH_UM = 50.0
BUNDLE_RADIUS_UM = 200.0


@dataclass
class SimulatedProbe:
    """A simulated probe recording and its ground truth.

    Attributes
    ----------
    recording : spikeinterface.core.BaseRecording
        Lazy int16 broadband recording (gain ``GAIN_TO_UV`` µV/bit) with its probe attached.
    sorting : spikeinterface.core.NumpySorting
        The ground-truth spike trains.
    units : pandas.DataFrame
        Planted tuning: ``unit_id, region, variable, gain, snr, peak_channel, base_rate``.
    geometry : str
        ``"linear"`` or ``"bundle"``.
    """

    recording: object
    sorting: object
    units: pd.DataFrame
    geometry: str


def make_probe(n_channels: int, geometry: str):
    """Return the probeinterface probe of a simulated array or microwire bundle.

    Parameters
    ----------
    n_channels : int
        Number of contacts.
    geometry : {"linear", "bundle"}
        A single-column shank with ``LINEAR_PITCH_UM`` pitch (a V-probe-like laminar array) or
        wires on a circle of radius ``BUNDLE_RADIUS_UM`` (a Behnke-Fried-like bundle).

    Returns
    -------
    probeinterface.Probe
        With ``device_channel_indices`` 0..n-1.
    """
    import probeinterface as pi

    if geometry == "linear":
        probe = pi.generate_linear_probe(
            num_elec=n_channels,
            ypitch=LINEAR_PITCH_UM,
            contact_shapes="circle",
            contact_shape_params={"radius": 7.5},
        )
    elif geometry == "bundle":
        angle = 2 * np.pi * np.arange(n_channels) / n_channels
        positions = BUNDLE_RADIUS_UM * np.column_stack([np.cos(angle), np.sin(angle)])
        probe = pi.Probe(ndim=2, si_units="um")
        probe.set_contacts(
            positions=np.round(positions, 3), shapes="circle", shape_params={"radius": 19.0}
        )
        probe.create_auto_shape(probe_type="tip")
    else:
        raise ValueError(f"unknown probe geometry {geometry!r}; use 'linear' or 'bundle'.")
    probe.set_device_channel_indices(np.arange(n_channels))
    return probe


def tuned_rates(
    events: pd.DataFrame,
    units: pd.DataFrame,
    *,
    duration: float,
    dt: float = 0.001,
    coding: pd.DataFrame | None = None,
) -> np.ndarray:
    """Compute the firing rate of each unit in bins of ``dt`` seconds from its planted tuning.

    Parameters
    ----------
    events : pandas.DataFrame
        The session's trial table.
    units : pandas.DataFrame
        ``variable``, ``gain`` and ``base_rate`` per unit.
    duration : float
        Recording length, s.
    dt : float
        Bin width, s.
    coding : pandas.DataFrame, optional
        The study design's per-trial coding of this probe (:data:`CODING_COLUMNS`, one row per
        trial of ``events``, e.g. :func:`read_probe_coding`): ``stay_factor`` replaces the
        fixed learning curve of the stay gain (the agent's own learning-set prior),
        ``coding_factor`` multiplies every tuned gain (0 = task coding removed) and
        ``rate_factor`` every rate (a silenced region). ``None``: the fixed curve
        ``1 - exp(-problem / LEARNING_TAU)`` and factors 1 (the tiny and default presets).

    Returns
    -------
    numpy.ndarray
        Rates in Hz, shape (units, bins).
    """
    n_bins = int(np.ceil(duration / dt))
    variables = task_variables(events)
    onset = events["onset"].to_numpy(float)
    anchors = {
        "onset": onset,
        "response": onset + events["response_time"].to_numpy(float),
        "feedback": onset + events["feedback_time"].to_numpy(float),
    }
    base = units["base_rate"].to_numpy(float)
    if coding is None:
        learning = 1.0 - np.exp(-events["problem"].to_numpy(float) / LEARNING_TAU)
        coding_factor = 1.0
    else:
        coding = _check_coding(coding, events)
        learning = coding["stay_factor"].to_numpy(float)
        coding_factor = coding["coding_factor"].to_numpy(float)
        base = base * coding["rate_factor"].to_numpy(float)[0]
    log_rate = np.tile(np.log(base)[:, None], (1, n_bins))
    for i, unit in enumerate(units.itertuples(index=False)):
        if unit.variable == "none":
            continue
        anchor, start, stop = WINDOWS[unit.variable]
        starts = anchors[anchor] + start
        stops = anchors["response"] if stop is None else anchors[anchor] + stop
        value = variables[unit.variable].to_numpy(float)
        gain = unit.gain * (learning if unit.variable == "stay" else 1.0)
        if coding is not None:
            gain = gain * coding_factor
        sign = np.where(np.isnan(value), 0.0, 2.0 * np.nan_to_num(value) - 1.0)
        first = np.clip(np.round(starts / dt).astype(int), 0, n_bins)
        last = np.clip(np.round(stops / dt).astype(int), 0, n_bins)
        for a, b, s, g in zip(first, last, sign, np.broadcast_to(gain, sign.shape), strict=True):
            log_rate[i, a:b] += s * g
    return np.exp(log_rate)


#: Columns of a probe's per-trial coding table (:func:`tuned_rates`, ``coding``).
CODING_COLUMNS: tuple[str, ...] = (
    "problem",
    "trial",
    "learning_set_prior",
    "stay_factor",
    "coding_factor",
    "rate_factor",
)


def _check_coding(coding: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in CODING_COLUMNS if c not in coding.columns]
    if missing:
        raise ValueError(
            f"coding table lacks column(s) {missing}; need {list(CODING_COLUMNS)} "
            "(panneuro.simulate.inactivation.probe_coding)."
        )
    if len(coding) != len(events) or not (
        np.array_equal(coding["problem"].to_numpy(int), events["problem"].to_numpy(int))
        and np.array_equal(coding["trial"].to_numpy(int), events["trial"].to_numpy(int))
    ):
        raise ValueError(
            "coding table does not match the trial table (one row per trial, same "
            "problem and trial order)."
        )
    if np.unique(coding["rate_factor"].to_numpy(float)).size != 1:
        raise ValueError(
            "coding table: rate_factor must be the same on every trial (a session-wide silencing)."
        )
    return coding.reset_index(drop=True)


def poisson_spike_samples(
    rates: np.ndarray,
    *,
    dt: float,
    sampling_frequency: float,
    refractory_ms: float,
    margin_samples: int,
    n_samples: int,
    rng: np.random.Generator,
) -> list[np.ndarray]:
    """Draw inhomogeneous Poisson spike trains with an absolute refractory period.

    Written here because SpikeInterface's generators draw homogeneous trains only (and
    elephant is not a dependency): one Bernoulli draw per ``dt`` bin (``rate * dt`` ≪ 1), a
    uniform position inside the bin, then spikes closer than ``refractory_ms`` to the previous
    kept spike are dropped.

    Parameters
    ----------
    rates : numpy.ndarray
        Hz, shape (units, bins).
    dt : float
        Bin width, s.
    sampling_frequency : float
        Hz, to convert times to samples.
    refractory_ms : float
        Minimum interval between spikes, ms.
    margin_samples : int
        No spike within this many samples of either end (room for the templates).
    n_samples : int
        Recording length in samples.
    rng : numpy.random.Generator
        The draws.

    Returns
    -------
    list of numpy.ndarray
        Sorted int64 spike sample indices of each unit.
    """
    refractory = int(round(refractory_ms * 1e-3 * sampling_frequency))
    trains = []
    for unit_rates in rates:
        bins = np.flatnonzero(rng.random(unit_rates.size) < unit_rates * dt)
        times = (bins + rng.random(bins.size)) * dt
        samples = np.floor(times * sampling_frequency).astype(np.int64)
        samples = samples[(samples >= margin_samples) & (samples < n_samples - margin_samples)]
        trains.append(samples[refractory_keep(samples, refractory)])
    return trains


def refractory_keep(samples: np.ndarray, refractory: int) -> np.ndarray:
    """Mask of the spikes kept by an absolute refractory period, applied in time order.

    A spike is dropped when it falls within ``refractory`` samples of the last *kept* spike (a
    dropped spike does not count). Only a spike within ``refractory`` of the spike just before
    it can be dropped, so the sequential rule runs over those few candidates only (about 1 % of
    the spikes at 10 Hz and 1.5 ms), not over every spike: the same mask as a loop over all.

    Parameters
    ----------
    samples : numpy.ndarray
        Sorted spike sample indices (≥ 0).
    refractory : int
        Samples.

    Returns
    -------
    numpy.ndarray
        Boolean mask, True where the spike is kept.
    """
    keep = np.ones(samples.size, dtype=bool)
    for k in np.flatnonzero(np.diff(samples) <= refractory) + 1:
        last = k - 1
        while not keep[last]:  # the first spike is always kept: the walk stops at 0
            last -= 1
        if samples[k] - samples[last] <= refractory:
            keep[k] = False
    return keep


@dataclass
class ProbeNeurons:
    """The neurons of a simulated probe: what stays the same across a session's recordings.

    Attributes
    ----------
    probe : probeinterface.Probe
        The contacts.
    units : pandas.DataFrame
        Planted tuning (the ``units`` of :class:`SimulatedProbe`).
    templates : numpy.ndarray
        Waveforms (units, samples, channels), µV, scaled to the planted SNRs.
    nbefore : int
        Template samples before the trough.
    seeds : numpy.ndarray
        The four seeds of the task recording: unit locations, templates, spikes, noise.
    broadband_noise_uv : float
        Broadband noise s.d. giving ``NOISE_UV`` in the spike band.
    geometry : str
        ``"linear"`` or ``"bundle"``.
    """

    probe: object
    units: pd.DataFrame
    templates: np.ndarray
    nbefore: int
    seeds: np.ndarray
    broadband_noise_uv: float
    geometry: str


def probe_neurons(
    *,
    n_channels: int,
    n_units: int,
    sampling_frequency: float,
    region: str,
    seed: int,
    geometry: str | None = None,
) -> ProbeNeurons:
    """Draw a probe's geometry and neurons (locations, templates, tuning) from its seed.

    The same seed gives the same neurons, so every recording of a probe in a session (the task
    and its sleep epochs, :mod:`panneuro.simulate.sleep`) holds the same units.

    Parameters
    ----------
    n_channels, n_units : int
        Contacts and ground-truth units.
    sampling_frequency : float
        Hz.
    region : str
        Brain region of the units.
    seed : int
        The probe's seed (as :func:`simulate_probe`).
    geometry : {"linear", "bundle"}, optional
        By default a linear shank for 16 channels or more, else a bundle.

    Returns
    -------
    ProbeNeurons
        The probe, units, templates and the seeds of the task recording's draws.
    """
    from spikeinterface.core.generate import generate_templates, generate_unit_locations

    if n_channels < 1 or n_units < 1:
        raise ValueError(
            f"simulate_probe: need n_channels and n_units > 0, got {n_channels}, "
            f"{n_units}; fix the size preset."
        )
    geometry = geometry or ("linear" if n_channels >= 16 else "bundle")
    rng = np.random.default_rng(seed)
    seeds = rng.integers(0, 2**31 - 1, size=4)
    probe = make_probe(n_channels, geometry)
    channel_locations = probe.contact_positions

    # Tuning of each unit: variables spread evenly over units, in random order.
    variables = rng.permutation(np.resize(np.array(VARIABLES), n_units))
    gains = np.where(variables == "none", 0.0, rng.uniform(*GAIN_RANGE, n_units))
    base_rates = np.exp(rng.uniform(*np.log(BASE_RATE_RANGE), n_units))
    snrs = rng.uniform(*SNR_RANGE, n_units)

    # Unit positions: SpikeInterface's uniform placement along the shank; beside a wire for a
    # bundle (its wires are far apart, so a uniform box would leave most units between wires).
    if geometry == "linear":
        unit_locations = generate_unit_locations(
            n_units,
            channel_locations,
            margin_um=20.0,
            minimum_z=10.0,
            maximum_z=40.0,
            minimum_distance=40.0,
            seed=int(seeds[0]),
        )
    else:
        wires = rng.permutation(np.resize(np.arange(n_channels), n_units))
        offsets = rng.uniform(-15.0, 15.0, (n_units, 2))
        unit_locations = np.column_stack(
            [channel_locations[wires] + offsets, rng.uniform(10.0, 40.0, n_units)]
        )
    templates = generate_templates(
        channel_locations,
        unit_locations,
        sampling_frequency,
        MS_BEFORE,
        MS_AFTER,
        seed=int(seeds[1]),
    )
    # Scale each template so its peak is the planted SNR times the band-limited noise s.d.
    # (white noise of s.d. sigma has s.d. sigma * sqrt(band / nyquist) in the band).
    band_fraction = (NOISE_BAND[1] - NOISE_BAND[0]) / (sampling_frequency / 2)
    broadband_noise_uv = NOISE_UV / np.sqrt(band_fraction)
    peaks = np.abs(templates).max(axis=(1, 2))
    templates = templates * (snrs * NOISE_UV / peaks)[:, None, None]
    peak_channel = np.abs(templates).max(axis=1).argmax(axis=1)

    units = pd.DataFrame(
        {
            "unit_id": np.arange(n_units),
            "region": region,
            "variable": variables,
            "gain": np.round(gains, 6),
            "snr": np.round(snrs, 6),
            "peak_channel": peak_channel,
            "base_rate": np.round(base_rates, 6),
        }
    )
    nbefore = int(round(MS_BEFORE * sampling_frequency / 1000))
    return ProbeNeurons(
        probe=probe,
        units=units,
        templates=templates,
        nbefore=nbefore,
        seeds=seeds,
        broadband_noise_uv=float(broadband_noise_uv),
        geometry=geometry,
    )


def spike_sorting_from_trains(trains: list[np.ndarray], sampling_frequency: float):
    """Return the ground-truth ``NumpySorting`` of spike trains (one per unit, in samples).

    Parameters
    ----------
    trains : list of numpy.ndarray
        Sorted sample indices of each unit (unit ids 0..n-1).
    sampling_frequency : float
        Hz.

    Returns
    -------
    spikeinterface.core.NumpySorting
        One segment.
    """
    from spikeinterface.core import NumpySorting

    samples = np.concatenate(trains)
    labels = np.concatenate([np.full(t.size, u) for u, t in enumerate(trains)])
    order = np.argsort(samples, kind="stable")
    return NumpySorting.from_samples_and_labels(
        [samples[order]], [labels[order]], sampling_frequency, unit_ids=np.arange(len(trains))
    )


def broadband_recording(
    neurons: ProbeNeurons,
    sorting,
    *,
    sampling_frequency: float,
    n_samples: int,
    noise_seed: int,
    region: str,
    extra: tuple | None = None,
):
    """Assemble the lazy int16 broadband recording: noise, the units' spikes, extra waveforms.

    Parameters
    ----------
    neurons : ProbeNeurons
        The probe and its templates.
    sorting : spikeinterface.core.BaseSorting
        The units' spike trains.
    sampling_frequency : float
        Hz.
    n_samples : int
        Recording length.
    noise_seed : int
        Seed of SpikeInterface's noise generator.
    region : str
        ``brain_area`` of the channels.
    extra : tuple, optional
        ``(sorting, templates, nbefore, amplitude_factor)`` of further waveforms injected
        after the spikes (the sharp-wave ripples of :mod:`panneuro.simulate.sleep`), µV.

    Returns
    -------
    spikeinterface.core.BaseRecording
        int16 counts of ``GAIN_TO_UV`` µV, probe attached.
    """
    from spikeinterface.core.generate import InjectTemplatesRecording
    from spikeinterface.generation import NoiseGeneratorRecording
    from spikeinterface.preprocessing import scale

    n_channels = neurons.probe.get_contact_count()
    noise = NoiseGeneratorRecording(
        num_channels=n_channels,
        sampling_frequency=sampling_frequency,
        durations=[n_samples / sampling_frequency],
        noise_levels=neurons.broadband_noise_uv,
        dtype="float32",
        seed=int(noise_seed),
        strategy="on_the_fly",
    )
    traces_uv = InjectTemplatesRecording(
        sorting,
        neurons.templates,
        nbefore=neurons.nbefore,
        parent_recording=noise,
        num_samples=[n_samples],
    )
    if extra is not None:
        extra_sorting, extra_templates, extra_nbefore, amplitude_factor = extra
        traces_uv = InjectTemplatesRecording(
            extra_sorting,
            extra_templates,
            nbefore=extra_nbefore,
            amplitude_factor=amplitude_factor,
            parent_recording=traces_uv,
            num_samples=[n_samples],
        )
    recording = scale(traces_uv, gain=1.0 / GAIN_TO_UV, offset=0.0, dtype="int16")
    recording.set_channel_gains(GAIN_TO_UV)
    recording.set_channel_offsets(0.0)
    recording.set_probe(neurons.probe)
    recording.set_property("brain_area", [region] * n_channels)
    return recording


def simulate_probe(
    events: pd.DataFrame,
    *,
    n_channels: int,
    n_units: int,
    sampling_frequency: float,
    duration: float,
    region: str,
    seed: int,
    geometry: str | None = None,
    coding: pd.DataFrame | None = None,
) -> SimulatedProbe:
    """Simulate one probe's broadband recording whose units encode the task.

    Parameters
    ----------
    events : pandas.DataFrame
        The session's trial table (onsets on the recording's clock).
    n_channels, n_units : int
        Contacts and ground-truth units.
    sampling_frequency : float
        Hz (30 kHz for the study).
    duration : float
        Seconds.
    region : str
        Brain region, stored with the units and on the recording (``brain_area``).
    seed : int
        Seeds every draw (templates, locations, tuning, spikes, noise).
    geometry : {"linear", "bundle"}, optional
        Probe geometry; by default a linear shank for 16 channels or more, else a bundle.
    coding : pandas.DataFrame, optional
        Per-trial coding of the study design (:func:`tuned_rates`); ``None`` = today's fixed
        learning curve.

    Returns
    -------
    SimulatedProbe
        The lazy int16 recording, the ground-truth sorting and the planted tuning.
    """
    if n_channels < 1 or n_units < 1 or duration <= 0:
        raise ValueError(
            f"simulate_probe: need n_channels, n_units and duration > 0, got "
            f"{n_channels}, {n_units}, {duration}; fix the size preset."
        )
    neurons = probe_neurons(
        n_channels=n_channels,
        n_units=n_units,
        sampling_frequency=sampling_frequency,
        region=region,
        seed=seed,
        geometry=geometry,
    )
    n_samples = int(round(duration * sampling_frequency))
    dt = 0.001
    rates = tuned_rates(
        events, neurons.units, duration=n_samples / sampling_frequency, dt=dt, coding=coding
    )
    trains = poisson_spike_samples(
        rates,
        dt=dt,
        sampling_frequency=sampling_frequency,
        refractory_ms=REFRACTORY_MS,
        margin_samples=neurons.templates.shape[1],
        n_samples=n_samples,
        rng=np.random.default_rng(neurons.seeds[2]),
    )
    sorting = spike_sorting_from_trains(trains, sampling_frequency)
    recording = broadband_recording(
        neurons,
        sorting,
        sampling_frequency=sampling_frequency,
        n_samples=n_samples,
        noise_seed=int(neurons.seeds[3]),
        region=region,
    )
    return SimulatedProbe(
        recording=recording, sorting=sorting, units=neurons.units, geometry=neurons.geometry
    )


def write_probe_nwb(
    sim: SimulatedProbe,
    path: str | os.PathLike,
    *,
    subject: str,
    session: str,
    species: str,
    region: str,
    session_start: dt.datetime,
    age: str | None = None,
    sex: str = "U",
    chunk_duration: float = 1.0,
) -> None:
    """Write a simulated probe's broadband recording as NWB, chunk by chunk.

    Parameters
    ----------
    sim : SimulatedProbe
        The probe.
    path : path-like
        The ``.nwb`` file (written atomically).
    subject, session : str
        BIDS labels (without ``sub-``/``ses-``).
    species : str
        ``macaque``/``human`` (or a Latin binomial).
    region : str
        Brain region: the electrodes' ``location`` and the group's.
    session_start : datetime.datetime
        Timezone-aware start time (fixed for simulated data, so files are byte-identical).
    age : str, optional
        Subject age, ISO 8601 duration (``P7Y``).
    sex : str
        ``M``, ``F``, ``U`` (unknown) or ``O``.
    chunk_duration : float
        Seconds per written chunk (bounded memory).
    """
    from panneuro.ingest.nwb_conversion import write_recording_nwb

    recording = sim.recording
    n_channels = recording.get_num_channels()
    gains = np.unique(recording.get_channel_gains())
    if gains.size != 1:
        raise ValueError(
            "write_probe_nwb: channels with different gains cannot share one "
            "ElectricalSeries conversion factor."
        )
    # the one writer of raw recordings, as for a lab's converted files (panneuro.ingest)
    write_recording_nwb(
        recording,
        path,
        subject=subject,
        session=session,
        group=f"probe-{region}",
        region=region,
        species=species,
        session_start=session_start,
        age=age,
        sex=sex,
        device_description=f"simulated {sim.geometry} probe, {n_channels} contacts",
        group_description=f"{sim.geometry} probe in {region}",
        series_description=f"Broadband voltage, int16 counts ({gains[0]} µV per count).",
        session_description=f"Simulated broadband {sim.geometry} recording in {region} (panneuro).",
        chunk_duration=chunk_duration,
    )


def write_probe_ground_truth(sim: SimulatedProbe, prefix: str | os.PathLike) -> None:
    """Write the ground-truth spike trains and tuning of a simulated probe.

    Parameters
    ----------
    sim : SimulatedProbe
        The probe.
    prefix : path-like
        ``<gt>/sub-X/ses-Y/sub-X_ses-Y_acq-P``: writes ``<prefix>_spikes.npz`` (SpikeInterface
        ``NpzSortingExtractor`` format) and ``<prefix>_units.tsv``.
    """
    from panneuro.io.tables import write_tsv

    write_spike_trains(sim.sorting, Path(f"{prefix}_spikes.npz"))
    write_tsv(sim.units, Path(f"{prefix}_units.tsv"))


def write_spike_trains(sorting, path: str | os.PathLike) -> None:
    """Write ground-truth spike trains in SpikeInterface's ``NpzSortingExtractor`` format.

    Parameters
    ----------
    sorting : spikeinterface.core.BaseSorting
        One segment.
    path : path-like
        The ``.npz`` file (written atomically, with fixed zip dates).
    """
    from panneuro.io.arrays import write_npz

    # The members of SpikeInterface's NpzSortingExtractor format, written with fixed zip dates
    # (numpy.savez, which NpzSortingExtractor.write_sorting uses, stamps the current time).
    vector = sorting.to_spike_vector()  # sorted by sample, then unit
    unit_ids = np.asarray(sorting.unit_ids)
    write_npz(
        {
            "unit_ids": unit_ids,
            "num_segment": np.array([1], dtype="int64"),
            "sampling_frequency": np.array([sorting.get_sampling_frequency()], dtype="float64"),
            "spike_indexes_seg0": vector["sample_index"].astype("int64"),
            "spike_labels_seg0": unit_ids[vector["unit_index"]],
        },
        Path(path),
    )


def read_probe_ground_truth(prefix: str | os.PathLike):
    """Read what :func:`write_probe_ground_truth` wrote.

    Parameters
    ----------
    prefix : path-like
        The ground-truth prefix of a probe.

    Returns
    -------
    sorting : spikeinterface.core.BaseSorting
        The ground-truth spike trains.
    units : pandas.DataFrame
        The planted tuning.
    """
    from spikeinterface.core import NpzSortingExtractor

    from panneuro.ephys.numba_cache import SPIKE_TRAIN_PACKAGES, cache_spikeinterface_kernels
    from panneuro.io.tables import read_tsv

    cache_spikeinterface_kernels(SPIKE_TRAIN_PACKAGES)  # its spike trains' kernels, not compiled
    spikes = Path(f"{prefix}_spikes.npz")
    table = Path(f"{prefix}_units.tsv")
    for p in (spikes, table):
        if not p.exists():
            raise FileNotFoundError(
                f"{p}: ground truth not found; it is written by the "
                "simulate_dataset rule (config simulate: true)."
            )
    return NpzSortingExtractor(spikes), read_tsv(table)


@dataclass
class SessionGroundTruth:
    """The ground truth of a session's probes, stacked (:func:`read_session_ground_truth`).

    Attributes
    ----------
    units : pandas.DataFrame
        Every probe's planted tuning, with a ``probe`` column (the ``acq-`` label).
    trains : list of numpy.ndarray
        Spike times (s) of each unit, in the order of ``units``.
    sampling_frequency : float
        Hz, the same for every probe.
    codings : dict
        Probe label -> its per-trial coding (:func:`read_probe_coding`; None without a design).
    """

    units: pd.DataFrame
    trains: list[np.ndarray]
    sampling_frequency: float
    codings: dict[str, pd.DataFrame | None]


def read_session_ground_truth(prefixes: Sequence[str | os.PathLike]) -> SessionGroundTruth:
    """Read the ground truth of a session's probes (``<gt>/…/sub-X_ses-Y_acq-P`` prefixes).

    Parameters
    ----------
    prefixes : sequence of path-like
        One ground-truth prefix per probe (as :func:`read_probe_ground_truth`).

    Returns
    -------
    SessionGroundTruth

    Raises
    ------
    ValueError
        If the probes were sampled at different rates.
    """
    units, trains, rates, codings = [], [], set(), {}
    for prefix in prefixes:
        sorting, probe_units = read_probe_ground_truth(prefix)
        probe = Path(prefix).name.rsplit("_acq-", 1)[1]
        codings[probe] = read_probe_coding(prefix)
        fs = sorting.get_sampling_frequency()
        rates.add(fs)
        units.append(probe_units.assign(probe=probe))
        trains += [sorting.get_unit_spike_train(u) / fs for u in probe_units["unit_id"]]
    if len(rates) != 1:
        raise ValueError(
            f"{[str(p) for p in prefixes]}: probes sampled at {sorted(rates)} Hz; "
            "the session's ground truth needs one sampling frequency."
        )
    return SessionGroundTruth(pd.concat(units, ignore_index=True), trains, rates.pop(), codings)


def read_probe_coding(prefix: str | os.PathLike) -> pd.DataFrame | None:
    """Read a probe's per-trial coding (``<prefix>_coding.tsv``) if the study design wrote one.

    Parameters
    ----------
    prefix : path-like
        The ground-truth prefix of a probe (as :func:`read_probe_ground_truth`).

    Returns
    -------
    pandas.DataFrame or None
        :data:`CODING_COLUMNS` (pass it as ``coding`` to :func:`tuned_rates` for the planted
        rates), or ``None`` for presets without a design: the fixed learning curve.
    """
    from panneuro.io.tables import read_tsv

    path = Path(f"{prefix}_coding.tsv")
    return read_tsv(path) if path.exists() else None
