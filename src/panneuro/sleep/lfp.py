"""Local field potential from a broadband recording (SpikeInterface).

The broadband microelectrode recording (30 kHz) is resampled to the LFP rate and band-passed,
lazily, with SpikeInterface's preprocessing (``resample``, whose polyphase Kaiser FIR is the
anti-alias filter, then ``bandpass_filter`` at the low rate, 20 times cheaper than at 30 kHz).
The LFP rate defaults to 1500 Hz, the rate ``ripple_detection``'s precomputed ripple filter
(Frank lab) is designed for; the band keeps the ripple band (150–250 Hz) with room above it.

SpikeInterface refuses high-pass edges below 100 Hz unless told (``ignore_low_freq_error``):
a chunked filter needs margins of several periods of the lowest frequency. The margin is
SpikeInterface's own "auto" (5 periods of the low edge, 5 s at 1 Hz), which its LFP how-to
recommends with large chunks; :func:`lfp_traces` reads each segment in one piece.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from spikeinterface.core import BaseRecording

#: LFP band (Hz) kept from the broadband signal.
LFP_BAND: tuple[float, float] = (1.0, 400.0)
#: LFP sampling rate (Hz): that of ripple_detection's precomputed ripple filter.
LFP_SAMPLING_FREQUENCY = 1500.0


def lfp_from_broadband(
    recording: BaseRecording,
    *,
    band: tuple[float, float] = LFP_BAND,
    sampling_frequency: float = LFP_SAMPLING_FREQUENCY,
    channel_ids: Sequence | None = None,
) -> BaseRecording:
    """Return the LFP of a broadband recording: resampled, then band-passed (lazy).

    Parameters
    ----------
    recording : spikeinterface.core.BaseRecording
        The broadband recording (e.g. a probe of the simulated study or a raw NWB).
    band : (float, float)
        Pass band in Hz; the upper edge must lie below half the LFP rate.
    sampling_frequency : float
        LFP sampling rate in Hz.
    channel_ids : sequence, optional
        Channels kept (e.g. those in the hippocampal pyramidal layer); all by default.

    Returns
    -------
    spikeinterface.core.BaseRecording
        The lazy LFP recording (float32).
    """
    import spikeinterface.preprocessing as spre

    low, high = band
    if not 0 < low < high < sampling_frequency / 2:
        raise ValueError(
            f"the LFP band {band} Hz must satisfy 0 < low < high < {sampling_frequency / 2} "
            f"(half the LFP rate {sampling_frequency} Hz)."
        )
    if sampling_frequency > recording.get_sampling_frequency():
        raise ValueError(
            f"the LFP rate {sampling_frequency} Hz exceeds the recording's "
            f"{recording.get_sampling_frequency()} Hz; pass a broadband recording."
        )
    if channel_ids is not None:
        recording = recording.select_channels(list(channel_ids))
    resampled = spre.resample(recording, resample_rate=sampling_frequency, dtype="float32")
    return spre.bandpass_filter(
        resampled, freq_min=low, freq_max=high, margin_ms="auto", ignore_low_freq_error=True
    )


def lfp_traces(lfp: BaseRecording, *, segment_index: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Read an LFP recording's samples and their times.

    Parameters
    ----------
    lfp : spikeinterface.core.BaseRecording
        The LFP (:func:`lfp_from_broadband`).
    segment_index : int
        Segment read.

    Returns
    -------
    time : numpy.ndarray
        Sample times in seconds (the recording's own times: its start time included),
        shape (samples,).
    traces : numpy.ndarray
        Microvolts, shape (samples, channels).
    """
    traces = lfp.get_traces(segment_index=segment_index, return_in_uV=lfp.has_scaleable_traces())
    time = np.asarray(lfp.get_times(segment_index=segment_index), dtype=float)
    return time, np.asarray(traces, dtype=float)
