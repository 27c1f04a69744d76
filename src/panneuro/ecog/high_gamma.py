"""ECoG high-gamma activity around feedback: reading, preprocessing, envelopes, epochs, spectra.

Steps (each a function on MNE objects or arrays): :func:`read_ecog` (mne-bids, honouring the
``channels.tsv`` types and status) → :func:`preprocess_ecog` (line-noise notch at the line
frequency and its harmonics, automatic bad-channel detection with reasons, common average
reference) → :func:`high_gamma_envelope` (mean of normalised Hilbert envelopes over sub-bands of
70–150 Hz, decimated) → :func:`epoch_high_gamma` (epochs around feedback from the trial table,
baseline-normalised). :func:`power_spectrum` and :func:`spectral_peak` describe spectra.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import mne
import numpy as np
import pandas as pd
from scipy import stats

from panneuro.ecog.bipolar import REFERENCES, set_bipolar
from panneuro.io.arrays import write_npz
from panneuro.io.validation import check_ieeg_sidecars, check_raw_finite

#: Robust z-score (median/MAD of log standard deviation across channels) beyond which a channel
#: is called bad for its variance.
BAD_Z_THRESHOLD = 5.0
#: Standard deviation below which a channel is flat (volts).
FLAT_THRESHOLD = 1e-9


@dataclass
class HighGammaEpochs:
    """High-gamma epochs around feedback.

    Attributes
    ----------
    data : numpy.ndarray
        ``(trials, electrodes, times)`` baseline-normalised envelope (relative change).
    times : numpy.ndarray
        Seconds from feedback.
    channels : list of str
        Electrode names (good electrodes only).
    positions : numpy.ndarray
        ``(electrodes, 3)`` contact positions in mm (NaN when unknown).
    trials : pandas.DataFrame
        The trial-table rows of the epochs (same order), with their original ``trial_index``.
    bad_channels : pandas.DataFrame
        Every ECoG channel with ``bad`` (bool) and ``reason``.
    """

    data: np.ndarray
    times: np.ndarray
    channels: list[str]
    positions: np.ndarray
    trials: pd.DataFrame
    bad_channels: pd.DataFrame


def read_ecog(path: str | os.PathLike, *, preload: bool = True) -> mne.io.BaseRaw:
    """Read an iEEG-BIDS ECoG recording with mne-bids, with its channel types and status.

    Parameters
    ----------
    path : path-like
        The recording (e.g. ``sub-H1/ses-01/ieeg/sub-H1_ses-01_task-harlow_ieeg.vhdr``) inside
        a BIDS dataset.
    preload : bool
        Load the samples into memory; ``False`` leaves them on disk (read chunk by chunk by
        :func:`panneuro.ecog.chunked_envelope.high_gamma_in_chunks`).

    Returns
    -------
    mne.io.BaseRaw
        The recording, loaded if ``preload``, with ``info["bads"]`` from ``channels.tsv``,
        positions from ``electrodes.tsv`` and the events as annotations.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the file name is not a BIDS iEEG file name or it holds no ECoG channel; or
        (:class:`panneuro.io.validation.InputError`) its ``channels.tsv`` is missing or
        disagrees with it, its rate or length disagree with ``_ieeg.json``, or a good channel
        holds NaN.
    """
    import mne_bids

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"{path}: ECoG recording not found; check the sample sheet's "
            "ecog row and that the raw dataset is present (datalad get)."
        )
    try:
        bids_path = mne_bids.get_bids_path_from_fname(path)
    except Exception as err:  # mne-bids raises several types on a non-BIDS name
        raise ValueError(
            f"{path}: not a BIDS file name ({err}); name it "
            "sub-X_ses-Y_task-harlow_ieeg.vhdr inside a BIDS dataset."
        ) from err
    with warnings.catch_warnings():
        # "Other" (a grid frame without anatomy) is a valid BIDS iEEG space that MNE reads as
        # the "unknown" frame, with a warning saying just that.
        warnings.filterwarnings("ignore", message=".*not an MNE-Python coordinate frame.*")
        check_ieeg_sidecars(path)  # channels.tsv present (mne-bids would only warn)
        raw = mne_bids.read_raw_bids(bids_path, verbose=False)
    if preload:
        raw.load_data(verbose=False)
    check_ieeg_sidecars(
        path,
        sampling_frequency=raw.info["sfreq"],
        channel_names=raw.ch_names,
        duration=raw.n_times / raw.info["sfreq"],
    )
    check_raw_finite(
        raw,
        path=path,
        fix="Repair or re-export the file, or mark the channel "
        "bad (status column) in its channels.tsv.",
    )
    if "ecog" not in raw.get_channel_types(unique=True):
        raise ValueError(
            f"{path}: no ECOG channel in channels.tsv; mark the grid contacts with type ECOG."
        )
    return raw


def detect_bad_channels(
    raw: mne.io.BaseRaw, *, z_threshold: float = BAD_Z_THRESHOLD
) -> pd.DataFrame:
    """Flag flat channels and channels of outlying variance, with the reason.

    A channel is ``flat`` when its standard deviation is below 1 nV, and ``high variance`` or
    ``low variance`` when the robust z-score of its log standard deviation (median and MAD over
    channels) exceeds ``z_threshold``. Channels already bad in ``raw.info["bads"]`` (from
    ``channels.tsv``) keep the reason ``channels.tsv status``. Written here because no library
    of the pinned stack detects bad ECoG channels (pyprep/autoreject are not installed).

    Parameters
    ----------
    raw : mne.io.BaseRaw
        The recording (ideally line-noise filtered).
    z_threshold : float
        Robust z-score beyond which a channel's variance is outlying.

    Returns
    -------
    pandas.DataFrame
        One row per ECoG channel: ``channel``, ``bad`` (bool), ``reason`` (empty when good).
    """
    picks = mne.pick_types(raw.info, ecog=True, exclude=[])
    names = [raw.ch_names[i] for i in picks]
    std = raw.get_data(picks=picks).std(axis=1)
    return bad_channel_table(names, std, raw.info["bads"], z_threshold=z_threshold)


def bad_channel_table(
    names: list[str],
    std: np.ndarray,
    known_bads: list[str],
    *,
    z_threshold: float = BAD_Z_THRESHOLD,
) -> pd.DataFrame:
    """Apply the rules of :func:`detect_bad_channels` to given standard deviations.

    Parameters
    ----------
    names : list of str
        ECoG channel names.
    std : numpy.ndarray
        Standard deviation of each channel over the session (volts).
    known_bads : list of str
        Channels bad in ``channels.tsv``.
    z_threshold : float
        Robust z-score beyond which a channel's variance is outlying.

    Returns
    -------
    pandas.DataFrame
        ``channel``, ``bad``, ``reason`` (see :func:`detect_bad_channels`).
    """
    std = np.asarray(std, dtype=float)
    raw_bads = set(known_bads)
    reasons = ["" for _ in names]
    log_std = np.log10(np.maximum(std, FLAT_THRESHOLD))
    usable = (std >= FLAT_THRESHOLD) & np.array([n not in raw_bads for n in names])
    if usable.sum() >= 3:
        median = np.median(log_std[usable])
        mad = stats.median_abs_deviation(log_std[usable], scale="normal")
        z = (log_std - median) / mad if mad > 0 else np.zeros_like(log_std)
    else:
        z = np.zeros_like(log_std)
    for i, name in enumerate(names):
        if name in raw_bads:
            reasons[i] = "channels.tsv status"
        elif std[i] < FLAT_THRESHOLD:
            reasons[i] = "flat"
        elif z[i] > z_threshold:
            reasons[i] = f"high variance (robust z = {z[i]:.1f})"
        elif z[i] < -z_threshold:
            reasons[i] = f"low variance (robust z = {z[i]:.1f})"
    return pd.DataFrame({"channel": names, "bad": [r != "" for r in reasons], "reason": reasons})


def preprocess_ecog(
    raw: mne.io.BaseRaw,
    *,
    line_frequency: float,
    reference: str = "average",
    detect_bads: bool = True,
) -> tuple[mne.io.BaseRaw, pd.DataFrame]:
    """Remove line noise, find bad channels and re-reference an ECoG recording.

    Parameters
    ----------
    raw : mne.io.BaseRaw
        The loaded recording (not modified).
    line_frequency : float
        Mains frequency, Hz; notched with all harmonics below Nyquist (MNE FIR notch).
    reference : {"average", "bipolar", "none"}
        ``"average"``: common average of the good ECoG channels; ``"bipolar"``: differences of
        neighbouring good contacts (:func:`panneuro.ecog.bipolar.set_bipolar`, named
        ``"G01-G02"``); ``"none"``: keep the recorded reference.
    detect_bads : bool
        Run :func:`detect_bad_channels` (channels bad in ``channels.tsv`` are always excluded).

    Returns
    -------
    raw : mne.io.BaseRaw
        Good ECoG channels only, filtered and re-referenced (a copy).
    bad_channels : pandas.DataFrame
        Every ECoG channel with ``bad`` and ``reason``.

    Raises
    ------
    ValueError
        On an unknown reference or when no good channel remains.
    """
    if reference not in REFERENCES:
        raise ValueError(
            f"ecog.reference = {reference!r} is not supported; use one of "
            f"{list(REFERENCES)} in config/config.yaml."
        )
    raw = raw.copy().pick("ecog", exclude=[])
    sfreq = raw.info["sfreq"]
    harmonics = np.arange(line_frequency, sfreq / 2 - 1.0, line_frequency)
    raw.notch_filter(harmonics, verbose=False)
    if detect_bads:
        bad_channels = detect_bad_channels(raw)
    else:
        bad_channels = pd.DataFrame(
            {
                "channel": raw.ch_names,
                "bad": [c in raw.info["bads"] for c in raw.ch_names],
                "reason": [
                    "channels.tsv status" if c in raw.info["bads"] else "" for c in raw.ch_names
                ],
            }
        )
    raw.info["bads"] = bad_channels.loc[bad_channels["bad"], "channel"].tolist()
    raw.pick("ecog", exclude="bads")
    if len(raw.ch_names) == 0:
        raise ValueError(
            "preprocess_ecog: every ECoG channel is bad; inspect the recording and "
            "its channels.tsv status column."
        )
    if reference == "average":
        raw.set_eeg_reference("average", ch_type="ecog", verbose=False)
    elif reference == "bipolar":
        raw = set_bipolar(raw)
    return raw, bad_channels


def high_gamma_envelope(
    raw: mne.io.BaseRaw,
    band: tuple[float, float] = (70.0, 150.0),
    n_subbands: int = 8,
    *,
    sfreq_out: float = 200.0,
) -> mne.io.RawArray:
    """High-gamma amplitude: the mean of normalised Hilbert envelopes over sub-bands, decimated.

    The band is split into ``n_subbands`` equal sub-bands; each is band-passed (MNE FIR) and its
    Hilbert envelope (``apply_hilbert(envelope=True)``) divided by its session mean per channel,
    so that the 1/f fall of power does not let the lowest sub-band dominate; the mean over
    sub-bands is resampled (polyphase, anti-aliased) to ``sfreq_out``. One sub-band copy of the
    recording is held at a time.

    Parameters
    ----------
    raw : mne.io.BaseRaw
        Preprocessed recording (good ECoG channels).
    band : tuple of float
        High-gamma band, Hz.
    n_subbands : int
        Number of sub-bands.
    sfreq_out : float
        Sampling frequency of the returned envelope, Hz.

    Returns
    -------
    mne.io.RawArray
        The envelope (unitless, session mean ≈ 1), same channels and annotations.

    Raises
    ------
    ValueError
        If the band does not fit below Nyquist.
    """
    low, high = map(float, band)
    if not 0 < low < high < raw.info["sfreq"] / 2:
        raise ValueError(
            f"high-gamma band {band} must lie in (0, {raw.info['sfreq'] / 2}) Hz; "
            "fix ecog.high_gamma_band in config/config.yaml."
        )
    edges = np.linspace(low, high, n_subbands + 1)
    total = None
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        sub = raw.copy().filter(lo, hi, verbose=False).apply_hilbert(envelope=True, verbose=False)
        envelope = sub.get_data()
        envelope /= envelope.mean(axis=1, keepdims=True)
        total = envelope if total is None else total + envelope
        del sub
    total /= n_subbands
    out = mne.io.RawArray(total, raw.info.copy(), first_samp=raw.first_samp, verbose=False)
    out.set_annotations(raw.annotations)
    if sfreq_out < raw.info["sfreq"]:
        out.resample(sfreq_out, method="polyphase", verbose=False)
    return out


def epoch_high_gamma(
    envelope: mne.io.BaseRaw,
    events: pd.DataFrame,
    *,
    window: tuple[float, float] = (-0.5, 1.0),
    baseline: tuple[float, float] = (-0.5, -0.1),
    mode: str = "percent",
    bad_channels: pd.DataFrame | None = None,
) -> HighGammaEpochs:
    """Cut the high-gamma envelope around feedback and normalise each trial to its baseline.

    Parameters
    ----------
    envelope : mne.io.BaseRaw
        Output of :func:`high_gamma_envelope` (time 0 = start of the recording).
    events : pandas.DataFrame
        The session's trial table (``onset`` and ``feedback_time`` in seconds,
        ``correct``).
    window : tuple of float
        Epoch limits, s from feedback.
    baseline : tuple of float
        Baseline window, s from feedback (inside ``window``).
    mode : str
        MNE baseline mode (``mne.baseline.rescale``): ``"percent"`` gives the relative change
        ``(x - b) / b``; ``"zscore"``, ``"logratio"``... also work.
    bad_channels : pandas.DataFrame, optional
        Channel table from :func:`preprocess_ecog`, carried along.

    Returns
    -------
    HighGammaEpochs
        Trials that fit inside the recording, in trial-table order.

    Raises
    ------
    ValueError
        If the baseline lies outside the window or no trial fits the recording.
    """
    from mne.baseline import rescale

    if not window[0] <= baseline[0] < baseline[1] <= window[1]:
        raise ValueError(
            f"baseline {baseline} must lie inside the epoch window {window}; fix "
            "ecog.baseline / ecog.epoch_window in config/config.yaml."
        )
    sfreq = envelope.info["sfreq"]
    feedback = (events["onset"] + events["feedback_time"]).to_numpy(float)
    samples = np.round(feedback * sfreq).astype(int) + envelope.first_samp
    mne_events = np.column_stack([samples, np.zeros_like(samples), np.ones_like(samples)])
    epochs = mne.Epochs(
        envelope,
        mne_events,
        event_id={"feedback": 1},
        tmin=window[0],
        tmax=window[1],
        baseline=None,
        reject_by_annotation=False,
        preload=True,
        verbose=False,
    )
    if len(epochs) == 0:
        raise ValueError(
            "epoch_high_gamma: no trial fits inside the recording; check that the "
            "events onsets are seconds from the recording start."
        )
    data = rescale(epochs.get_data(), epochs.times, baseline, mode=mode, copy=False, verbose=False)
    trials = events.iloc[epochs.selection].copy()
    trials.insert(0, "trial_index", epochs.selection)
    positions = np.array([ch["loc"][:3] * 1000.0 for ch in epochs.info["chs"]])
    positions[~np.isfinite(positions).all(axis=1) | (positions == 0).all(axis=1)] = np.nan
    if bad_channels is None:
        bad_channels = pd.DataFrame({"channel": epochs.ch_names, "bad": False, "reason": ""})
    return HighGammaEpochs(
        data=data,
        times=epochs.times.copy(),
        channels=list(epochs.ch_names),
        positions=positions,
        trials=trials.reset_index(drop=True),
        bad_channels=bad_channels.reset_index(drop=True),
    )


def power_spectrum(
    data: np.ndarray,
    sfreq: float,
    *,
    fmin: float = 1.0,
    fmax: float = 100.0,
    seconds_per_segment: float = 2.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Welch power spectral density (MNE ``psd_array_welch``).

    Parameters
    ----------
    data : numpy.ndarray
        ``(..., samples)`` signals.
    sfreq : float
        Sampling frequency, Hz.
    fmin, fmax : float
        Frequency range kept, Hz.
    seconds_per_segment : float
        Welch segment length (sets the resolution, 1 / length Hz).

    Returns
    -------
    freqs : numpy.ndarray
        Frequencies, Hz.
    psd : numpy.ndarray
        ``(..., freqs)`` power spectral density (units² / Hz).
    """
    n_fft = int(min(round(seconds_per_segment * sfreq), np.shape(data)[-1]))
    psd, freqs = mne.time_frequency.psd_array_welch(
        np.asarray(data, dtype=float),
        sfreq,
        fmin=fmin,
        fmax=fmax,
        n_fft=n_fft,
        n_overlap=n_fft // 2,
        verbose=False,
    )
    return freqs, psd


def spectral_peak(
    freqs: np.ndarray,
    psd: np.ndarray,
    *,
    band: tuple[float, float] | None = None,
) -> dict[str, float]:
    """Find the largest peak of a spectrum above its aperiodic (1/f) component.

    The aperiodic component is a straight line in log-log coordinates fitted robustly
    (Theil–Sen, ``scipy.stats.theilslopes``, so that peaks barely pull it); the peak is the
    frequency of the largest log-power residual, within ``band`` if given. (A FOOOF/specparam
    fit would do this too; neither is in the pinned stack.)

    Parameters
    ----------
    freqs : numpy.ndarray
        Frequencies, Hz (all > 0).
    psd : numpy.ndarray
        Power spectral density of one signal (1-D) or the mean of several (averaged here).
    band : tuple of float, optional
        Search the peak only in this band, Hz.

    Returns
    -------
    dict
        ``peak_frequency`` (Hz), ``peak_height`` (log10 power above the aperiodic fit),
        ``aperiodic_exponent`` (χ of power ∝ f^-χ) and ``aperiodic_offset``.
    """
    psd = np.asarray(psd, dtype=float)
    if psd.ndim > 1:
        psd = psd.reshape(-1, psd.shape[-1]).mean(axis=0)
    log_f, log_p = np.log10(freqs), np.log10(psd)
    slope, offset, _, _ = stats.theilslopes(log_p, log_f)
    residual = log_p - (offset + slope * log_f)
    search = np.ones_like(freqs, dtype=bool)
    if band is not None:
        search = (freqs >= band[0]) & (freqs <= band[1])
    index = np.flatnonzero(search)[np.argmax(residual[search])]
    return {
        "peak_frequency": float(freqs[index]),
        "peak_height": float(residual[index]),
        "aperiodic_exponent": float(-slope),
        "aperiodic_offset": float(offset),
    }


def write_high_gamma(epochs: HighGammaEpochs, path: str | os.PathLike) -> None:
    """Write high-gamma epochs to a byte-deterministic ``.npz``.

    Written with :func:`panneuro.io.arrays.write_npz` (same data, same bytes).

    Parameters
    ----------
    epochs : HighGammaEpochs
        The epochs.
    path : path-like
        Target ``.npz`` (``results/ecog/sub-X_ses-Y_high_gamma.npz``).
    """
    arrays = {
        "epochs": epochs.data.astype(np.float32),
        "times": epochs.times.astype(float),
        "channels": np.array(epochs.channels, dtype=str),
        "positions": epochs.positions.astype(float),
        "correct": epochs.trials["correct"].to_numpy(int),
        "trial_index": epochs.trials["trial_index"].to_numpy(int),
        "problem": epochs.trials["problem"].to_numpy(int),
        "trial": epochs.trials["trial"].to_numpy(int),
        "all_channels": np.array(epochs.bad_channels["channel"], dtype=str),
        "bad": epochs.bad_channels["bad"].to_numpy(bool),
        "bad_reason": np.array(epochs.bad_channels["reason"], dtype=str),
    }
    write_npz(arrays, path)


def read_high_gamma(path: str | os.PathLike) -> HighGammaEpochs:
    """Read epochs written by :func:`write_high_gamma`.

    Parameters
    ----------
    path : path-like
        The ``.npz``.

    Returns
    -------
    HighGammaEpochs
        The epochs (``trials`` holds ``trial_index``, ``problem``, ``trial``, ``correct``).

    Raises
    ------
    ValueError
        If an array is missing (not a high-gamma file, or an older format).
    """
    with np.load(path, allow_pickle=False) as archive:
        needed = [
            "epochs",
            "times",
            "channels",
            "positions",
            "correct",
            "trial_index",
            "problem",
            "trial",
            "all_channels",
            "bad",
            "bad_reason",
        ]
        missing = [k for k in needed if k not in archive.files]
        if missing:
            raise ValueError(
                f"{path}: not a high-gamma epochs file (missing {missing}); "
                "rerun the high_gamma_epochs rule."
            )
        arrays = {k: archive[k] for k in needed}
    trials = pd.DataFrame(
        {
            "trial_index": arrays["trial_index"],
            "problem": arrays["problem"],
            "trial": arrays["trial"],
            "correct": arrays["correct"],
        }
    )
    bad = pd.DataFrame(
        {
            "channel": arrays["all_channels"].tolist(),
            "bad": arrays["bad"],
            "reason": arrays["bad_reason"].tolist(),
        }
    )
    return HighGammaEpochs(
        data=arrays["epochs"].astype(float),
        times=arrays["times"],
        channels=arrays["channels"].tolist(),
        positions=arrays["positions"],
        trials=trials,
        bad_channels=bad,
    )
