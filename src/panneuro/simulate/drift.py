"""Simulated high-density probe recordings that drift, with their ground truth.

A Neuropixels-1-like shank (four staggered columns, 16 µm apart, rows every 20 µm) of any
channel count (64 for tests, 384 for benchmarks) whose units move together along the shank by a
planted trace (a zigzag of ``drift_um`` peak to peak). The pieces are SpikeInterface's
(``spikeinterface.generation``: the recipe of ``generate_drifting_recording``, assembled here so
that each unit's SNR and some pairs of similar templates can be planted): templates regenerated
at every 1 µm step of the drift (``generate_templates``, ``DriftingTemplates``), spikes injected
at the displacement of their time (``InjectDriftingTemplatesRecording``) into white noise
scaled as in :mod:`panneuro.simulate.ephys` (its 300-6000 Hz band has s.d. ``NOISE_UV``).

SNRs are log-uniform over ``SNR_RANGE`` (2-15: about 45 % of units below 5); ``n_similar_pairs``
units are copies of another unit's waveform parameters placed 10-16 µm from it, with an SNR
within 15 % of it (``units.similar_to``). Everything is drawn from one seed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from panneuro.simulate.ephys import GAIN_TO_UV, NOISE_BAND, NOISE_UV, SimulatedProbe

#: Planted SNR range (template peak / band-limited noise s.d.), log-uniform.
SNR_RANGE = (2.0, 15.0)
#: Neuropixels-1-like geometry: 4 columns 16 µm apart, contacts every 40 µm per column,
#: alternate columns shifted by 20 µm (so a row every 20 µm, two contacts per row).
COLUMN_PITCH_UM, COLUMN_ROW_PITCH_UM = 16.0, 40.0
#: Template extent around the trough (ms), as SpikeInterface's drifting generator.
MS_BEFORE, MS_AFTER = 1.5, 3.0
#: Firing rates (Hz), uniform, and refractory period (ms) of the Poisson spike trains.
FIRING_RATES = (3.0, 10.0)
REFRACTORY_MS = 4.0
#: Sampling rate of the planted displacement trace (Hz) and its spatial step (µm).
DISPLACEMENT_FS = 5.0
DRIFT_STEP_UM = 1.0
#: Distance (µm) of a similar unit from the unit whose waveform it copies.
SIMILAR_DISTANCE_UM = (10.0, 16.0)


@dataclass
class SimulatedDriftingProbe(SimulatedProbe):
    """A drifting high-density probe and its ground truth.

    Attributes
    ----------
    motion : pandas.DataFrame
        The planted drift: ``time_s``, ``displacement_um`` (every unit moves by it along the
        shank, rigidly).
    """

    motion: pd.DataFrame | None = None


def make_high_density_probe(n_channels: int):
    """Return a Neuropixels-1-like probe of ``n_channels`` contacts (a multiple of 4).

    Parameters
    ----------
    n_channels : int
        Contacts; 4 columns of ``n_channels / 4``.

    Returns
    -------
    probeinterface.Probe
        With ``device_channel_indices`` 0..n-1, contacts 12 µm squares.
    """
    from probeinterface import generate_multi_columns_probe

    if n_channels < 8 or n_channels % 4:
        raise ValueError(
            f"a high-density probe needs a multiple of 4 channels (>= 8), got {n_channels}."
        )
    probe = generate_multi_columns_probe(
        num_columns=4,
        num_contact_per_column=n_channels // 4,
        xpitch=COLUMN_PITCH_UM,
        ypitch=COLUMN_ROW_PITCH_UM,
        y_shift_per_column=[0.0, COLUMN_ROW_PITCH_UM / 2] * 2,
        contact_shapes="square",
        contact_shape_params={"width": 12.0},
    )
    order = np.lexsort((probe.contact_positions[:, 0], probe.contact_positions[:, 1]))
    probe = probe.get_slice(order)  # channels ordered by depth, then column
    probe.set_device_channel_indices(np.arange(n_channels))
    return probe


def _unit_params(n_units: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Waveform parameters of each unit, drawn over SpikeInterface's default ranges."""
    from spikeinterface.core.generate import default_unit_params_range

    return {
        key: rng.uniform(low, high, n_units)
        for key, (low, high) in default_unit_params_range.items()
    }


def simulate_drifting_probe(
    *,
    n_channels: int,
    n_units: int,
    duration: float,
    seed: int,
    drift_um: float = 40.0,
    drift_period_s: float | None = None,
    n_similar_pairs: int = 3,
    sampling_frequency: float = 30_000.0,
    region: str = "PFC",
    drift_step_um: float = DRIFT_STEP_UM,
) -> SimulatedDriftingProbe:
    """Simulate a drifting high-density probe recording with ground truth.

    Parameters
    ----------
    n_channels : int
        Contacts (a multiple of 4; 64 for tests, 384 for benchmarks).
    n_units : int
        Ground-truth units (including the similar ones).
    duration : float
        Seconds.
    seed : int
        Seeds every draw (locations, waveforms, SNRs, spikes, drift, noise).
    drift_um : float
        Peak-to-peak planted drift along the shank (a zigzag); 0 for a still probe.
    drift_period_s : float, optional
        Period of the zigzag; by default ``duration / 1.5`` (one and a half cycles).
    n_similar_pairs : int
        Units placed beside another unit with a copy of its waveform parameters.
    sampling_frequency : float
        Hz.
    region : str
        Brain region (``brain_area`` of the channels, ``region`` of the units).
    drift_step_um : float
        Spatial step of the template bank (templates are regenerated every step of the drift,
        the displacement rounded to it). The bank holds ``drift_um / drift_step_um + 1`` dense
        copies of every template (``n_units x 135 samples x n_channels`` float32 each): 40 µm
        at 1 µm for 200 units on 384 channels is 1.7 GB; 2 µm (a quarter of the 16 µm column
        pitch, below the sorters' template resolution) halves it.

    Returns
    -------
    SimulatedDriftingProbe
        The lazy int16 recording (gain ``GAIN_TO_UV``), the ground-truth sorting, the units
        (``unit_id, region, snr, x_um, y_um, z_um, peak_channel, similar_to, firing_rate``)
        and the planted motion.
    """
    from spikeinterface.core import Templates
    from spikeinterface.core.generate import (
        generate_sorting,
        generate_templates,
        generate_unit_locations,
    )
    from spikeinterface.generation import (
        DriftingTemplates,
        InjectDriftingTemplatesRecording,
        NoiseGeneratorRecording,
    )
    from spikeinterface.generation.drifting_generator import generate_displacement_vector
    from spikeinterface.preprocessing import scale

    if (
        n_units < 2 * n_similar_pairs
        or n_units < 1
        or duration <= 0
        or drift_um < 0
        or drift_step_um <= 0
    ):
        raise ValueError(
            f"simulate_drifting_probe: need n_units >= 2 x n_similar_pairs, "
            f"duration > 0, drift_um >= 0, drift_step_um > 0 (got {n_units}, "
            f"{n_similar_pairs}, {duration}, {drift_um}, {drift_step_um})."
        )
    rng = np.random.default_rng(seed)
    seeds = [int(s) for s in rng.integers(0, 2**31 - 1, size=5)]
    probe = make_high_density_probe(n_channels)
    channel_locations = probe.contact_positions

    n_base = n_units - n_similar_pairs
    locations = generate_unit_locations(
        n_base,
        channel_locations,
        margin_um=20.0,
        minimum_z=5.0,
        maximum_z=40.0,
        minimum_distance=18.0,
        max_iteration=100,
        distance_strict=False,
        seed=seeds[0],
    )
    params = _unit_params(n_base, rng)
    snrs = np.exp(rng.uniform(*np.log(SNR_RANGE), n_base))
    similar_to = np.full(n_units, -1)
    # similar pairs: copies of the waveform of distinct units, a short step away
    sources = rng.choice(n_base, size=n_similar_pairs, replace=False)
    angle = rng.uniform(0, 2 * np.pi, n_similar_pairs)
    step = rng.uniform(*SIMILAR_DISTANCE_UM, n_similar_pairs)
    partners = locations[sources].copy()
    partners[:, 0] += step * np.cos(angle)
    partners[:, 1] += step * np.sin(angle)
    locations = np.concatenate([locations, partners])
    params = {k: np.concatenate([v, v[sources]]) for k, v in params.items()}
    snrs = np.concatenate([snrs, snrs[sources] * rng.uniform(0.85, 1.15, n_similar_pairs)])
    similar_to[n_base:] = sources
    similar_to[sources] = np.arange(n_base, n_units)

    if drift_um > 0:
        period = float(drift_period_s or duration / 1.5)
        displacement = generate_displacement_vector(
            duration,
            locations[:, :2],
            displacement_sampling_frequency=DISPLACEMENT_FS,
            drift_start_um=[0.0, drift_um / 2],
            drift_stop_um=[0.0, -drift_um / 2],
            drift_step_um=float(drift_step_um),
            motion_list=[
                {
                    "drift_mode": "zigzag",
                    "non_rigid_gradient": None,
                    "t_start_drift": 0.0,
                    "t_end_drift": None,
                    "period_s": period,
                }
            ],
            seed=seeds[1],
        )
        _, vectors, unit_factor, displacement_fs, steps = displacement
    else:
        n_bins = int(np.ceil(duration * DISPLACEMENT_FS))
        vectors, unit_factor = np.zeros((n_bins, 2, 1)), np.ones((n_units, 1))
        displacement_fs, steps = DISPLACEMENT_FS, np.zeros((1, 2))

    template_kwargs = {
        "ms_before": MS_BEFORE,
        "ms_after": MS_AFTER,
        "mode": "ellipsoid",
        "unit_params": params,
        "seed": seeds[2],
    }
    static = generate_templates(channel_locations, locations, sampling_frequency, **template_kwargs)
    # planted SNR: the template's peak over the band-limited noise s.d. (as simulate.ephys)
    factor = (snrs * NOISE_UV / np.abs(static).max(axis=(1, 2))).astype("float32")
    static = static * factor[:, None, None]
    moved = np.empty((len(steps), *static.shape), dtype="float32")
    for i, offset in enumerate(steps):
        shifted = locations.copy()
        shifted[:, :2] += offset
        moved[i] = (
            generate_templates(channel_locations, shifted, sampling_frequency, **template_kwargs)
            * factor[:, None, None]
        )
    nbefore = int(round(MS_BEFORE * sampling_frequency / 1000))
    templates = Templates(
        templates_array=static,
        sampling_frequency=sampling_frequency,
        nbefore=nbefore,
        probe=probe,
        is_in_uV=True,
    )
    drifting = DriftingTemplates.from_static_templates(templates)
    drifting.templates_array_moved = moved
    drifting.displacements = steps

    sorting = generate_sorting(
        num_units=n_units,
        sampling_frequency=sampling_frequency,
        durations=[duration],
        firing_rates=FIRING_RATES,
        refractory_period_ms=REFRACTORY_MS,
        seed=seeds[3],
    )
    n_samples = int(round(duration * sampling_frequency))
    band_fraction = (NOISE_BAND[1] - NOISE_BAND[0]) / (sampling_frequency / 2)
    noise = NoiseGeneratorRecording(
        num_channels=n_channels,
        sampling_frequency=sampling_frequency,
        durations=[n_samples / sampling_frequency],
        noise_levels=NOISE_UV / np.sqrt(band_fraction),
        dtype="float32",
        seed=seeds[4],
        strategy="on_the_fly",
    )
    traces_uv = InjectDriftingTemplatesRecording(
        sorting=sorting,
        parent_recording=noise,
        drifting_templates=drifting,
        displacement_vectors=[vectors],
        displacement_sampling_frequency=displacement_fs,
        displacement_unit_factor=unit_factor,
        num_samples=[n_samples],
        amplitude_factor=None,
    )
    recording = scale(traces_uv, gain=1.0 / GAIN_TO_UV, offset=0.0, dtype="int16")
    recording.set_channel_gains(GAIN_TO_UV)
    recording.set_channel_offsets(0.0)
    recording.set_probe(probe)
    recording.set_property("brain_area", [region] * n_channels)

    counts = sorting.count_num_spikes_per_unit(outputs="array")
    units = pd.DataFrame(
        {
            "unit_id": [str(u) for u in sorting.unit_ids],
            "region": region,
            "snr": np.round(snrs, 6),
            "x_um": np.round(locations[:, 0], 3),
            "y_um": np.round(locations[:, 1], 3),
            "z_um": np.round(locations[:, 2], 3),
            "peak_channel": np.abs(static).max(axis=1).argmax(axis=1),
            "similar_to": [str(sorting.unit_ids[j]) if j >= 0 else "" for j in similar_to],
            "firing_rate": np.round(counts / duration, 6),
        }
    )
    motion = pd.DataFrame(
        {
            "time_s": np.arange(len(vectors)) / displacement_fs,
            "displacement_um": np.round(vectors[:, 1, 0], 6),
        }
    )
    return SimulatedDriftingProbe(
        recording=recording, sorting=sorting, units=units, geometry="high-density", motion=motion
    )


def write_drifting_ground_truth(sim: SimulatedDriftingProbe, prefix: str | os.PathLike) -> None:
    """Write a drifting probe's ground truth: spikes, units and the planted motion.

    Parameters
    ----------
    sim : SimulatedDriftingProbe
        The probe.
    prefix : path-like
        ``<gt>/sub-X/ses-Y/sub-X_ses-Y_acq-P``: ``<prefix>_spikes.npz`` and ``<prefix>_units.tsv``
        as :func:`panneuro.simulate.ephys.write_probe_ground_truth`, plus ``<prefix>_motion.tsv``.
    """
    from panneuro.io.tables import write_tsv
    from panneuro.simulate.ephys import write_probe_ground_truth

    write_probe_ground_truth(sim, prefix)
    write_tsv(sim.motion, Path(f"{prefix}_motion.tsv"))


def read_planted_motion(prefix: str | os.PathLike) -> pd.DataFrame:
    """Read the planted motion written by :func:`write_drifting_ground_truth`.

    Parameters
    ----------
    prefix : path-like
        The probe's ground-truth prefix.

    Returns
    -------
    pandas.DataFrame
        ``time_s, displacement_um``.
    """
    from panneuro.io.tables import read_tsv

    path = Path(f"{prefix}_motion.tsv")
    if not path.exists():
        raise FileNotFoundError(
            f"{path}: no planted motion; simulate the probe with "
            "panneuro.simulate.drift.simulate_drifting_probe."
        )
    return read_tsv(path).astype({"time_s": float, "displacement_um": float})
