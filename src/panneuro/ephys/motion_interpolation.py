"""Motion interpolation with the kriging kernel's contact inverse computed once per recording.

SpikeInterface's ``interpolate_motion`` (0.105) moves the traces back to a still probe with a
kriging kernel per time bin: ``K(moved, contacts) @ pinv(K(contacts, contacts) + 1e-6 I)``.
The pseudo-inverse depends on the contacts only, yet ``get_spatial_interpolation_kernel``
computes it again for every time bin of every chunk: at 384 contacts a kernel took 38 ms on one
core (the ``pinv`` 24 ms of it), against 90 ms for the chunk's interpolation product itself (1 s
of samples) and ~150 ms for its band-pass and median reference. No option of SpikeInterface
keeps it, hence :class:`KrigingKernels` (the same arithmetic in the same order, the inverse
computed once) and the recording below, SpikeInterface's class with its segments' loop over time
bins written again around it. The output is SpikeInterface's, bit for bit
(``tests/test_motion_interpolation.py``). Measured on the 384-channel, 60 s drifting benchmark
probe (``bench_sorting.py --drift 40 --channels 384 --floor``, 2 jobs, quiet machine, 3 rounds
each): the streaming pass 12.0 s with SpikeInterface's kernels, 10.5 s with these.
"""

from __future__ import annotations

import numpy as np
from spikeinterface.core.motion import ensure_time_bins
from spikeinterface.preprocessing.preprocessing_tools import get_kriging_kernel_distance
from spikeinterface.sortingcomponents.motion.motion_interpolation import (
    InterpolateMotionRecording,
    InterpolateMotionRecordingSegment,
)

#: Regularisation SpikeInterface adds to the contacts' kriging matrix before inverting it.
KRIGING_RIDGE = 1e-6


class KrigingKernels:
    """Kriging interpolation kernels from a probe's contacts to moved positions.

    ``kernels(target)`` equals SpikeInterface's ``get_spatial_interpolation_kernel(source,
    target, method="kriging", sigma_um=..., p=..., force_extrapolate=..., dtype=...)`` (with no
    ``sparse_thresh``), with ``pinv(K(source, source) + 1e-6 I)`` computed here once.

    Parameters
    ----------
    source : numpy.ndarray
        Contact positions, ``(n_contacts, n_dims)`` µm.
    sigma_um : float or sequence of float
        Kriging scale (two values: x and y, Kilosort's city-block form).
    p : float
        Exponent of the kriging kernel.
    force_extrapolate : bool
        Keep the kernel of targets outside the contacts' extent (else their columns are zero).
    dtype : numpy.dtype
        Kernel dtype.
    """

    def __init__(
        self,
        source: np.ndarray,
        *,
        sigma_um: float | list[float],
        p: float,
        force_extrapolate: bool,
        dtype: np.dtype | str = "float32",
    ):
        self.source = np.asarray(source)
        self.sigma_um = sigma_um
        self.p = p
        self.force_extrapolate = bool(force_extrapolate)
        self.dtype = np.dtype(dtype)
        gram = get_kriging_kernel_distance(self.source, self.source, sigma_um, p)
        self.inverse = np.linalg.pinv(gram + KRIGING_RIDGE * np.eye(gram.shape[0]))
        self.lower = self.source.min(axis=0)
        self.upper = self.source.max(axis=0)

    def __call__(self, target: np.ndarray) -> np.ndarray:
        """Kernel ``(n_contacts, n_targets)``: traces ``(samples, contacts) @ kernel``."""
        inside = np.all((target >= self.lower) & (target <= self.upper), axis=1)
        cross = get_kriging_kernel_distance(target, self.source, self.sigma_um, self.p)
        kernel = (cross @ self.inverse).T.copy()
        # as SpikeInterface: the weights of a target inside the probe sum to 1
        total = np.sum(kernel, axis=0)
        kernel[:, inside] /= total[inside].reshape(1, -1)
        if not self.force_extrapolate:
            kernel[:, ~inside] = 0
        return kernel.astype(self.dtype)


class KernelCachedInterpolateMotionSegment(InterpolateMotionRecordingSegment):
    """A segment of :class:`KernelCachedInterpolateMotionRecording`.

    SpikeInterface's segment (same attributes), whose traces are interpolated with
    :class:`KrigingKernels`.
    """

    def __init__(self, segment: InterpolateMotionRecordingSegment, kernels: KrigingKernels):
        InterpolateMotionRecordingSegment.__init__(
            self,
            segment.parent_recording_segment,
            segment.channel_locations,
            segment.motion,
            segment.spatial_interpolation_method,
            segment.spatial_interpolation_kwargs,
            segment.channel_inds,
            segment.segment_index,
            segment.interpolation_time_bin_centers_s,
            segment.interpolation_time_bin_edges_s,
            dtype=segment.dtype,
        )
        self.kernels = kernels

    def get_traces(self, start_frame, end_frame, channel_indices):
        """Interpolated traces of ``[start_frame, end_frame)`` (samples x channels)."""
        if start_frame is None:
            start_frame = 0
        if end_frame is None:
            end_frame = self.get_num_samples()
        times = self.parent_recording_segment.sample_index_to_time(
            np.arange(start_frame, end_frame)
        )
        traces = self.parent_recording_segment.get_traces(
            start_frame, end_frame, channel_indices=slice(None)
        ).astype(self.dtype)
        corrected = self._interpolate(traces, times)
        return corrected if channel_indices is None else corrected[:, channel_indices]

    def _interpolate(self, traces: np.ndarray, times: np.ndarray) -> np.ndarray:
        """SpikeInterface's ``interpolate_motion_on_traces`` (0.105), with cached kernels.

        Each sample is moved by the displacement of its interpolation time bin (the motion
        estimate's bins; samples outside them take the nearest bin's), one kernel per bin. As
        there, a bin's displacement is read at the middle of its edges (the segment passes only
        the edges), not at the motion's own bin centre (they differ at the first and last bin).
        """
        locations = self.channel_locations
        dim = self.motion.dim
        n_out = locations.shape[0] if self.channel_inds is None else self.channel_inds.size
        corrected = np.zeros((traces.shape[0], n_out), dtype=traces.dtype)
        edges = self.interpolation_time_bin_edges_s
        centers, _ = ensure_time_bins(None, edges)
        bins = np.searchsorted(edges, times, side="right") - 1
        np.clip(bins, 0, edges.shape[0] - 2, out=bins)
        start = 0
        for index in range(bins[0], bins[-1] + 1):
            displacement = self.motion.get_displacement_at_time_and_depth(
                np.full(locations.shape[0], centers[index]),
                locations[:, dim],
                segment_index=self.segment_index,
            )
            moved = locations.copy()
            moved[:, dim] += displacement
            if self.channel_inds is not None:
                moved = moved[self.channel_inds]
            stop = start + np.searchsorted(bins[start:], index + 1, side="left")
            np.matmul(traces[start:stop], self.kernels(moved), out=corrected[start:stop])
            start = stop
        return corrected


class KernelCachedInterpolateMotionRecording(InterpolateMotionRecording):
    """SpikeInterface's ``InterpolateMotionRecording`` with the kriging inverse computed once.

    Same parameters and output as
    :class:`spikeinterface.sortingcomponents.motion.motion_interpolation.InterpolateMotionRecording`;
    with ``spatial_interpolation_method="kriging"`` (every motion preset's) and no
    ``sparse_thresh`` its segments interpolate with :class:`KrigingKernels`, else they are
    SpikeInterface's.
    """

    def __init__(self, recording, motion, **kwargs):
        method = kwargs.get("spatial_interpolation_method", "kriging")
        self._cached = method == "kriging" and kwargs.get("sparse_thresh") is None
        self._kernels: KrigingKernels | None = None
        super().__init__(recording, motion, **kwargs)

    def add_recording_segment(self, recording_segment) -> None:
        """Add a segment, wrapped in :class:`KernelCachedInterpolateMotionSegment` if cached."""
        if self._cached and isinstance(recording_segment, InterpolateMotionRecordingSegment):
            if self._kernels is None:  # the contacts are the same for every segment
                options = recording_segment.spatial_interpolation_kwargs
                self._kernels = KrigingKernels(
                    recording_segment.channel_locations,
                    sigma_um=options["sigma_um"],
                    p=options["p"],
                    force_extrapolate=options["force_extrapolate"],
                    dtype=recording_segment.dtype,
                )
            recording_segment = KernelCachedInterpolateMotionSegment(
                recording_segment, self._kernels
            )
        super().add_recording_segment(recording_segment)


def kernel_cached(corrected: InterpolateMotionRecording) -> KernelCachedInterpolateMotionRecording:
    """Rebuild SpikeInterface's ``corrected`` interpolation with its kriging inverse cached.

    Parameters
    ----------
    corrected : InterpolateMotionRecording
        What ``spikeinterface.preprocessing.correct_motion`` returned.

    Returns
    -------
    KernelCachedInterpolateMotionRecording
        Built from ``corrected``'s own parameters (its recording, motion, border mode,
        kriging options, time bins and dtype).

    Raises
    ------
    ValueError
        If the rebuilt recording's time bins are not ``corrected``'s: SpikeInterface's
        parameters do not keep ``interpolation_time_bin_size_s`` or explicit bin edges, so such
        an interpolation cannot be rebuilt from them.
    """
    cached = KernelCachedInterpolateMotionRecording(**corrected._kwargs)
    for theirs, ours in zip(corrected.segments, cached.segments, strict=True):
        if not np.array_equal(
            theirs.interpolation_time_bin_edges_s, ours.interpolation_time_bin_edges_s
        ):
            raise ValueError(
                "kernel_cached: the interpolation's time bins are not the motion's (set by "
                "interpolation_time_bin_size_s or explicit edges), which its parameters do not "
                "keep; build KernelCachedInterpolateMotionRecording with them instead."
            )
    return cached
