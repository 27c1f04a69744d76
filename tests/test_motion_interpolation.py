"""Motion interpolation with a cached kriging inverse (panneuro.ephys.motion_interpolation)."""

import numpy as np
import pytest
from probeinterface import generate_multi_columns_probe
from spikeinterface.core import Motion, NumpyRecording
from spikeinterface.preprocessing import get_spatial_interpolation_kernel
from spikeinterface.sortingcomponents.motion.motion_interpolation import interpolate_motion

from panneuro.ephys.motion_interpolation import (
    KernelCachedInterpolateMotionRecording,
    KrigingKernels,
    kernel_cached,
)

FS = 1000.0


def _probe(n_per_column: int = 16):
    return generate_multi_columns_probe(
        num_columns=4,
        num_contact_per_column=n_per_column,
        xpitch=16,
        ypitch=20,
        y_shift_per_column=[0, 10, 0, 10],
    )


@pytest.mark.parametrize("sigma_um", [20.0, [20.0, 30.0]])
@pytest.mark.parametrize("force_extrapolate", [True, False])
def test_kernels_are_spikeinterfaces_bit_for_bit(sigma_um, force_extrapolate):
    source = _probe().contact_positions
    kernels = KrigingKernels(
        source, sigma_um=sigma_um, p=2, force_extrapolate=force_extrapolate, dtype="float32"
    )
    for shift in (0.0, 7.3, -12.5, 40.0):  # 40 µm: the top contacts leave the probe
        target = source.copy()
        target[:, 1] += shift
        expected = get_spatial_interpolation_kernel(
            source,
            target,
            method="kriging",
            sigma_um=sigma_um,
            p=2,
            force_extrapolate=force_extrapolate,
            dtype="float32",
        )
        assert np.array_equal(kernels(target), expected)


def _drifting_recording(seed: int = 0):
    """Noise on a 64-contact probe, 12 s, and a non-rigid motion in 2 s bins, 3 depth windows."""
    rng = np.random.default_rng(seed)
    probe = _probe()
    probe.set_device_channel_indices(np.arange(probe.get_contact_count()))
    traces = rng.normal(0, 20, (int(12 * FS), probe.get_contact_count())).astype("float32")
    recording = NumpyRecording(traces, sampling_frequency=FS)
    recording.set_probe(probe)
    bins = np.arange(1.0, 12.0, 2.0)
    depths = np.array([50.0, 160.0, 270.0])
    displacement = np.cumsum(rng.normal(0, 4, (bins.size, depths.size)), axis=0)
    return recording, Motion([displacement], [bins], depths, direction="y")


@pytest.mark.parametrize("border_mode", ["remove_channels", "force_extrapolate", "force_zeros"])
def test_interpolated_traces_are_spikeinterfaces_bit_for_bit(border_mode, monkeypatch):
    recording, motion = _drifting_recording()
    options = {"border_mode": border_mode, "spatial_interpolation_method": "kriging"}
    options |= {"sigma_um": 20.0, "p": 2}
    theirs = interpolate_motion(recording, motion, **options)
    ours = kernel_cached(theirs)
    assert isinstance(ours, KernelCachedInterpolateMotionRecording)
    assert list(ours.channel_ids) == list(theirs.channel_ids)
    if border_mode == "remove_channels":  # the drift moves some contacts off the probe
        assert ours.get_num_channels() < recording.get_num_channels()

    # chunks across time bins, inside one bin, at both ends, and a subset of channels
    chunks = ((0, 12000), (0, 1000), (1500, 4700), (10900, 12000), (2000, 2001))
    ids = theirs.channel_ids[[0, 5, 9]]
    expected = [theirs.get_traces(start_frame=a, end_frame=b) for a, b in chunks]
    expected_ids = theirs.get_traces(start_frame=3000, end_frame=6000, channel_ids=ids)

    def no_inverse(*args, **kwargs):
        raise AssertionError("the kriging inverse was computed again")

    # the inverse was computed when the recording was made: reading traces never computes it
    monkeypatch.setattr(np.linalg, "pinv", no_inverse)
    for (start, stop), traces in zip(chunks, expected, strict=True):
        assert np.array_equal(ours.get_traces(start_frame=start, end_frame=stop), traces)
    assert np.array_equal(
        ours.get_traces(start_frame=3000, end_frame=6000, channel_ids=ids), expected_ids
    )


def test_other_spatial_methods_keep_spikeinterfaces_segments():
    recording, motion = _drifting_recording()
    ours = KernelCachedInterpolateMotionRecording(
        recording, motion, border_mode="force_extrapolate", spatial_interpolation_method="idw"
    )
    theirs = interpolate_motion(
        recording, motion, border_mode="force_extrapolate", spatial_interpolation_method="idw"
    )
    assert ours._kernels is None
    assert np.array_equal(
        ours.get_traces(start_frame=0, end_frame=5000),
        theirs.get_traces(start_frame=0, end_frame=5000),
    )


def test_bins_the_parameters_do_not_keep_are_refused():
    recording, motion = _drifting_recording()
    theirs = interpolate_motion(
        recording, motion, border_mode="force_extrapolate", interpolation_time_bin_size_s=0.5
    )
    with pytest.raises(ValueError, match="interpolation_time_bin_size_s"):
        kernel_cached(theirs)
    ours = KernelCachedInterpolateMotionRecording(
        recording, motion, border_mode="force_extrapolate", interpolation_time_bin_size_s=0.5
    )
    assert np.array_equal(
        ours.get_traces(start_frame=0, end_frame=5000),
        theirs.get_traces(start_frame=0, end_frame=5000),
    )
