"""High-gamma envelope of a long ECoG session in bounded memory, chunk by chunk.

:func:`high_gamma_in_chunks` does what :func:`~panneuro.ecog.high_gamma.preprocess_ecog`
followed by :func:`~panneuro.ecog.high_gamma.high_gamma_envelope` do, without ever holding a
float64 copy of the whole session: the recording is read from disk (``preload=False``) in
chunks of ``chunk_duration`` seconds plus ``pad_duration`` seconds of real signal on each side
(mirrored at the session's ends); only the decimated envelope of the session is kept.

Per chunk, everything linear happens in the frequency domain, on one FFT of the referenced
chunk (the reference is a matrix over channels, :func:`panneuro.ecog.bipolar.reference_matrix`,
and commutes with the filters): the gains of MNE's own FIR filters (the line-noise notch at the
line frequency and its harmonics, and each sub-band's band-pass, taken from their impulse
responses, so the same filters as ``raw.notch_filter`` / ``raw.filter``) times the analytic
signal's one-sided spectrum give each sub-band's analytic signal. Being band-limited, it is
sampled at twice ``sfreq_out`` directly by a shorter inverse FFT (its spectrum folded modulo that
length; the FIR side lobes below -40 dB are left out), and its modulus, the envelope, is halved
to ``sfreq_out`` with the Kaiser-window polyphase filter of MNE's ``resample(method=
"polyphase")``. This replaces eight full-rate filter + Hilbert passes per chunk (≈ 6× faster).

Three passes over the file:

1. bad channels: the session standard deviation of each notched channel, accumulated chunk by
   chunk (the rules of :func:`~panneuro.ecog.high_gamma.bad_channel_table`);
2. sub-band scale: the mean envelope of each sub-band and channel, which
   ``high_gamma_envelope`` divides each sub-band by so that the 1/f fall of power does not let
   the lowest sub-band dominate. It is the session mean when the session has at most
   ``max_scale_chunks`` chunks (then every chunk is used, as in the in-memory version), else
   the mean over ``max_scale_chunks`` evenly spaced chunks: an estimate, because the exact
   session mean would need either the whole-session sub-band envelopes in memory (what this
   module avoids) or a second full pass; the epochs are baseline-normalised per trial
   afterwards, so this scale only sets the sub-bands' relative weights;
3. the envelope: per chunk, the mean over sub-bands of envelope / scale (a short session, all
   of whose chunks served pass 2, reuses their envelopes, kept as float32).

The padding (default 5 s) exceeds the longest filter (the notch: 3.3 s), so the result does not
depend on the chunk length; it matches the in-memory functions to ~0.3% on average (a few % at
worst, from the side lobes left out and the envelope's sampling) except in the first and last
2 s of the session, where the two pad the edges differently (tested).
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import mne
import numpy as np
import pandas as pd
from scipy import signal

from panneuro.ecog.bipolar import REFERENCES, channel_positions, reference_matrix
from panneuro.ecog.high_gamma import bad_channel_table

#: Chunk interior and padding on each side, seconds.
CHUNK_DURATION = 120.0
PAD_DURATION = 5.0
#: Gain below which a sub-band filter's frequencies are left out (its Hamming side lobes
#: stay below -53 dB = 0.0022).
SUPPORT_GAIN = 0.01
#: Chunks used to estimate the sub-band scale of a long session.
MAX_SCALE_CHUNKS = 6


#: The keyword of :func:`high_gamma_in_chunks` each workflow param of the envelope sets, and the
#: type the param is read as (the params are named as :data:`panneuro.study.HIGH_GAMMA_CONFIG`).
ENVELOPE_PARAMS: dict[str, tuple[str, type]] = {
    "line_frequency": ("line_frequency", float),
    "reference": ("reference", str),
    "bad_channel_detection": ("detect_bads", bool),
    "band": ("band", tuple),
    "n_subbands": ("n_subbands", int),
    "envelope_sfreq": ("sfreq_out", float),
}


def envelope_settings(params: Mapping[str, Any]) -> dict[str, Any]:
    """Keywords of :func:`high_gamma_in_chunks` from a rule's envelope params.

    Parameters
    ----------
    params : mapping
        The params of a rule that computes the envelope (``dict(snakemake.params.items())``),
        holding every key of :data:`ENVELOPE_PARAMS`; other keys are ignored.

    Returns
    -------
    dict
        ``line_frequency``, ``reference``, ``detect_bads``, ``band``, ``n_subbands`` and
        ``sfreq_out``, each of its type.

    Raises
    ------
    KeyError
        When a param of the envelope is missing (named).
    """
    missing = sorted(set(ENVELOPE_PARAMS) - set(params))
    if missing:
        raise KeyError(f"the rule's params lack the high-gamma envelope's {missing}")
    return {key: kind(params[name]) for name, (key, kind) in ENVELOPE_PARAMS.items()}


def _chunks(n_samples: int, chunk: int, pad: int) -> list[tuple[int, int, int, int]]:
    """(read start, read stop, keep start, keep stop) sample indices of each chunk."""
    out = []
    for start in range(0, n_samples, chunk):
        stop = min(start + chunk, n_samples)
        out.append((max(0, start - pad), min(n_samples, stop + pad), start, stop))
    return out


def _impulse_response(apply, sfreq: float) -> np.ndarray:
    """Kernel of an MNE zero-phase FIR filter: its response to a unit impulse (odd length)."""
    half = int(round(30.0 * sfreq))  # longer than any filter used here (notch: ~3.3 s)
    impulse = np.zeros(2 * half + 1)
    impulse[half] = 1.0
    response = apply(impulse[None, :])[0]
    support = np.flatnonzero(np.abs(response) > 1e-12 * np.abs(response).max())
    reach = max(half - support.min(), support.max() - half)
    return response[half - reach : half + reach + 1]


def _zero_phase_gain(kernel: np.ndarray, n: int) -> np.ndarray:
    """Real gain of a centred (zero-phase) kernel at the ``rfft`` bins of length ``n``."""
    half = len(kernel) // 2
    if len(kernel) > n:
        raise ValueError(
            f"chunk of {n} samples is shorter than a {len(kernel)}-tap filter; use longer chunks."
        )
    buffer = np.zeros(n)
    buffer[: half + 1] = kernel[half:]
    buffer[n - half :] = kernel[:half]
    return np.fft.rfft(buffer).real


class _Filters:
    """MNE's notch and sub-band FIR kernels, as zero-phase gains per chunk length."""

    def __init__(self, sfreq: float, line_frequency: float, edges: np.ndarray) -> None:
        harmonics = np.arange(line_frequency, sfreq / 2 - 1.0, line_frequency)
        self.notch = (
            None
            if harmonics.size == 0
            else _impulse_response(
                lambda x: mne.filter.notch_filter(x, sfreq, harmonics, verbose=False), sfreq
            )
        )
        self.bands = [
            _impulse_response(
                lambda x, lo=lo, hi=hi: mne.filter.filter_data(x, sfreq, lo, hi, verbose=False),
                sfreq,
            )
            for lo, hi in zip(edges[:-1], edges[1:], strict=True)
        ]
        self._cache: dict[int, tuple[np.ndarray, list[np.ndarray]]] = {}

    def gains(self, n: int) -> tuple[np.ndarray, list[np.ndarray]]:
        """(notch gain, [notch × sub-band gain]) at the ``rfft`` bins of length ``n``."""
        if n not in self._cache:
            notch = np.ones(n // 2 + 1) if self.notch is None else _zero_phase_gain(self.notch, n)
            self._cache = {n: (notch, [notch * _zero_phase_gain(b, n) for b in self.bands])}
        return self._cache[n]


def _padded(
    raw: mne.io.BaseRaw, picks: np.ndarray, chunk: tuple[int, int, int, int], pad: int, down: int
) -> tuple[np.ndarray, int]:
    """Read a chunk with its padding; return it and the offset of its interior.

    The padding is mirrored at the session's ends (like MNE's ``reflect_limited``) and the
    chunk lengthened (mirrored) to a multiple of ``down``.
    """
    r0, r1, k0, k1 = chunk
    data = raw.get_data(picks=picks, start=r0, stop=r1)
    before = min(pad - (k0 - r0), data.shape[1] - 1)
    after = min(pad - (r1 - k1), data.shape[1] - 1)
    data = np.pad(data, ((0, 0), (before, after)), mode="reflect")
    extra = -data.shape[1] % down
    if extra:
        data = np.pad(data, ((0, 0), (0, extra)), mode="reflect")
    return data, (k0 - r0) + before


def high_gamma_in_chunks(
    raw: mne.io.BaseRaw,
    *,
    line_frequency: float,
    reference: str = "average",
    detect_bads: bool = True,
    band: tuple[float, float] = (70.0, 150.0),
    n_subbands: int = 8,
    sfreq_out: float = 200.0,
    chunk_duration: float = CHUNK_DURATION,
    pad_duration: float = PAD_DURATION,
    max_scale_chunks: int = MAX_SCALE_CHUNKS,
) -> tuple[mne.io.RawArray, pd.DataFrame]:
    """Line-noise removal, bad channels, re-reference and high-gamma envelope, in chunks.

    Parameters
    ----------
    raw : mne.io.BaseRaw
        The recording, loaded or not (``read_ecog(..., preload=False)``: read chunk by chunk);
        its ECoG channels (``channels.tsv`` types) are used, ``info["bads"]`` excluded.
    line_frequency : float
        Mains frequency, Hz; notched with all harmonics below Nyquist (MNE FIR notch).
    reference : {"average", "bipolar", "none"}
        Re-reference of the good channels (see :func:`panneuro.ecog.bipolar.reference_matrix`).
    detect_bads : bool
        Flag flat and outlying channels (pass 1); channels bad in ``channels.tsv`` are always
        excluded.
    band : tuple of float
        High-gamma band, Hz.
    n_subbands : int
        Equal sub-bands whose normalised Hilbert envelopes are averaged.
    sfreq_out : float
        Sampling rate of the envelope, Hz; ``sfreq / sfreq_out`` must be a ratio of small
        integers and each chunk a whole number of output samples.
    chunk_duration, pad_duration : float
        Chunk interior and padding on each side, s.
    max_scale_chunks : int
        Chunks that estimate the sub-band scale of a long session (see the module docstring).

    Returns
    -------
    envelope : mne.io.RawArray
        The high-gamma envelope at ``sfreq_out`` (unitless, ≈ 1 on average), one channel per
        referenced derivation, with the recording's annotations and ``first_samp`` rescaled.
    bad_channels : pandas.DataFrame
        Every ECoG channel with ``bad`` and ``reason``.

    Raises
    ------
    ValueError
        On an unknown reference, a band above Nyquist, an unusable chunking or when no good
        channel remains.
    """
    if reference not in REFERENCES:
        raise ValueError(
            f"ecog.reference = {reference!r} is not supported; use one of "
            f"{list(REFERENCES)} in config/config.yaml."
        )
    sfreq = float(raw.info["sfreq"])
    low, high = map(float, band)
    if not 0 < low < high < sfreq / 2:
        raise ValueError(
            f"high-gamma band {band} must lie in (0, {sfreq / 2}) Hz; "
            "fix ecog.high_gamma_band in config/config.yaml."
        )
    ratio = Fraction(sfreq_out / sfreq).limit_denominator(1000)
    chunk = int(round(chunk_duration * sfreq))
    pad = int(round(pad_duration * sfreq))
    if ratio > 1 or chunk % ratio.denominator or pad % ratio.denominator:
        raise ValueError(
            f"envelope_sfreq {sfreq_out} Hz must divide the recording's {sfreq} Hz "
            f"into whole chunks of {chunk_duration} s; change ecog.envelope_sfreq."
        )
    up, down = ratio.numerator, ratio.denominator

    ecog = mne.pick_types(raw.info, ecog=True, exclude=[])
    names = [raw.ch_names[i] for i in ecog]
    known_bads = [n for n in names if n in raw.info["bads"]]
    n_samples = raw.n_times
    chunks = _chunks(n_samples, chunk, pad)

    filters = _Filters(sfreq, line_frequency, np.linspace(low, high, n_subbands + 1))

    # pass 1: bad channels from the session standard deviation of the notched signals
    if detect_bads:
        total, total_sq = np.zeros(len(ecog)), np.zeros(len(ecog))
        for piece in chunks:
            data, offset = _padded(raw, ecog, piece, pad, down)
            notch, _ = filters.gains(data.shape[1])
            notched = np.fft.irfft(np.fft.rfft(data, axis=-1) * notch, n=data.shape[1])
            kept = notched[:, offset : offset + piece[3] - piece[2]]
            total += kept.sum(axis=1)
            total_sq += (kept**2).sum(axis=1)
        mean = total / n_samples
        std = np.sqrt(np.maximum(total_sq / n_samples - mean**2, 0.0))
        bad_channels = bad_channel_table(names, std, known_bads)
    else:
        bad_channels = pd.DataFrame(
            {
                "channel": names,
                "bad": [n in known_bads for n in names],
                "reason": ["channels.tsv status" if n in known_bads else "" for n in names],
            }
        )
    good = [n for n, bad in zip(names, bad_channels["bad"], strict=True) if not bad]
    if not good:
        raise ValueError(
            "high_gamma_in_chunks: every ECoG channel is bad; inspect the "
            "recording and its channels.tsv status column."
        )
    picks = np.array([raw.ch_names.index(n) for n in good])
    matrix, out_names, out_positions = reference_matrix(
        good, reference, channel_positions(raw.info, good)
    )

    def _subband_envelopes(piece: tuple[int, int, int, int]) -> np.ndarray:
        """Return each sub-band's envelope over the chunk interior: (bands, out, time).

        The analytic signal of the notched, referenced, band-passed chunk is formed in the
        frequency domain and, being band-limited, sampled at twice ``sfreq_out`` directly by
        an inverse FFT of the shorter length (its spectrum folded modulo that length).
        """
        data, offset = _padded(raw, picks, piece, pad, down)
        n = data.shape[1]
        m = 2 * n * up // down  # twice the output rate, then an anti-aliased halving
        spectrum = np.fft.rfft(matrix @ data, axis=-1)
        _, band_gains = filters.gains(n)
        out = []
        for gain in band_gains:
            # the pass band and its transitions (the FIR's side lobes, < -50 dB, are dropped)
            support = np.flatnonzero(np.abs(gain) > SUPPORT_GAIN)
            bins = np.arange(support.min(), support.max() + 1)
            if len(bins) >= m:
                raise ValueError(
                    f"envelope_sfreq {sfreq_out} Hz is too low for sub-bands of "
                    f"{band}; raise ecog.envelope_sfreq."
                )
            folded = np.zeros((spectrum.shape[0], m), dtype=complex)
            np.add.at(folded, (slice(None), bins % m), 2.0 * spectrum[:, bins] * gain[bins])
            envelope = np.abs(np.fft.ifft(folded, axis=-1)) * (m / n)
            # the envelope's own spectrum reaches past sfreq_out / 2: low-pass it as MNE's
            # polyphase resampling does (same Kaiser-window filter)
            envelope = signal.resample_poly(
                envelope, 1, 2, axis=-1, window=("kaiser", 5.0), padtype="reflect"
            )
            first = offset * up // down
            out.append(envelope[:, first : first + -(-(piece[3] - piece[2]) * up // down)])
        return np.stack(out)

    # pass 2: the sub-band scale (mean envelope per sub-band and channel)
    if len(chunks) <= max_scale_chunks:
        scale_chunks = chunks
    else:
        scale_chunks = [
            chunks[i]
            for i in np.unique(
                np.linspace(0, len(chunks) - 1, max_scale_chunks).round().astype(int)
            )
        ]
    # a short session keeps its (decimated, float32) sub-band envelopes for pass 3
    keep = len(scale_chunks) == len(chunks)
    cache = []
    sums, count = np.zeros((n_subbands, len(out_names))), 0
    for r0, r1, k0, k1 in scale_chunks:
        envelopes = _subband_envelopes((r0, r1, k0, k1))
        sums += envelopes.sum(axis=-1)
        count += envelopes.shape[-1]
        if keep:
            cache.append(envelopes.astype(np.float32))
    scale = sums / count

    # pass 3: the envelope, chunk by chunk
    n_out = int(np.ceil(n_samples * up / down))
    total = np.zeros((len(out_names), n_out))
    for i, (r0, r1, k0, k1) in enumerate(chunks):
        envelopes = cache[i] if keep else _subband_envelopes((r0, r1, k0, k1))
        o0 = k0 * up // down
        total[:, o0 : o0 + envelopes.shape[-1]] = (envelopes / scale[:, :, None]).mean(axis=0)

    info = mne.create_info(out_names, sfreq * up / down, ch_types="ecog")
    for ch, position in zip(info["chs"], out_positions, strict=True):
        if np.isfinite(position).all():
            ch["loc"][:3] = position
    with info._unlock():
        info["line_freq"] = raw.info["line_freq"]
        info["meas_date"] = raw.info["meas_date"]
    out = mne.io.RawArray(
        total, info, first_samp=int(round(raw.first_samp * up / down)), verbose=False
    )
    out.set_annotations(raw.annotations)
    return out, bad_channels
