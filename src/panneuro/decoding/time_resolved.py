"""Time-resolved, cross-validated population decoding with a restricted-permutation null.

For each region and task variable a linear decoder (standardisation + shrinkage LDA with an
equal-prior decision threshold) is trained on the spike counts of one time bin and tested on
every bin (the cross-temporal generalisation matrix; its diagonal is the usual time-resolved
decoding). Out-of-fold predictions from ``StratifiedKFold(shuffle=True)`` are pooled and scored by
balanced accuracy. The null reruns the decoder on labels permuted within problems — or, for a
variable constant within problems, by exchanging whole problems — see
:func:`panneuro.stats.permutation.permuted_labels`.

Speed (issue 5): :func:`decode_time_resolved` does not refit scikit-learn per label vector, fold
and bin. It solves the LDA in closed form, once per fold and bin for *all* label vectors
(:func:`_closed_form_scores`). Departures from a plain scikit-learn loop, and why:

1. The folds are split once, ``StratifiedKFold`` on the observed labels, and the same folds are
   reused for every permutation (``permutation_test_score`` re-splits per permuted label vector).
   Fixed folds make the standardisation and the training covariance label-free, so they are
   factorised once per fold and bin.
2. The within-class covariance pools the classes weighted by their training counts (scikit-learn's
   LDA with its default empirical priors) and the decision threshold is the midpoint of the class
   means (equal priors). ``LinearDiscriminantAnalysis(priors=[0.5, 0.5])`` would instead weight
   the two class covariances 1/2 : 1/2, which makes the covariance depend on the labels through a
   full-rank term whenever the classes are unequal; count weighting leaves a rank-one dependence
   (Sherman–Morrison). The two decoders are identical when the training classes are balanced.
   :func:`_sklearn_scores` is the same decoder written with scikit-learn fits (the reference the
   tests compare to, to 1e-9, and the path used for ``shrinkage="auto"``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import sklearn
from joblib import Parallel, delayed
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from panneuro.decoding.populations import population_counts, stack_tables
from panneuro.seeding import rng_for
from panneuro.simulate.task import task_variables
from panneuro.stats.permutation import (
    balanced_accuracy_ci,
    cluster_permutation_test,
    cluster_threshold,
    find_clusters,
    permutation_p_values,
    permuted_labels,
)

#: Columns of the decoding table (``results/decoding/sub-X_ses-Y_decoding.tsv``).
DECODING_COLUMNS: tuple[str, ...] = (
    "region",
    "n_units",
    "variable",
    "analysis",
    "align",
    "train_time",
    "time",
    "score",
    "null_mean",
    "null_q95",
    "p_value",
    "cluster",
    "cluster_p",
    "significant",
    "effect",
    "ci_low",
    "ci_high",
)


def make_decoder(shrinkage: float | str = 0.1) -> Pipeline:
    """Build the linear decoder: standardisation then shrinkage LDA with equal class priors.

    Parameters
    ----------
    shrinkage : float or "auto"
        Covariance shrinkage of the LDA; ``"auto"`` (Ledoit–Wolf) costs ~50% more per fit.

    Returns
    -------
    sklearn.pipeline.Pipeline
        Unfitted ``StandardScaler`` → ``LinearDiscriminantAnalysis(solver="lsqr",
        shrinkage=shrinkage, priors=[0.5, 0.5])``; equal priors make the decision rule target
        balanced accuracy when classes are unequal (e.g. ``correct`` late in learning).
    """
    return make_pipeline(
        StandardScaler(),
        LinearDiscriminantAnalysis(solver="lsqr", shrinkage=shrinkage, priors=[0.5, 0.5]),
    )


@dataclass
class DecodingResult:
    """Cross-temporal decoding scores and their permutation null.

    Attributes
    ----------
    scores : numpy.ndarray
        Balanced accuracy, shape (train bins, test bins).
    null : numpy.ndarray
        The same for each permutation, shape (n_permutations, train bins, test bins).
    n_folds : int
        Folds actually used (fewer than requested when a class is rare).
    class_counts : tuple of int, optional
        Trials of class 0 and class 1 (the observed labels), for the score's confidence
        interval (:func:`panneuro.stats.permutation.balanced_accuracy_ci`).
    """

    scores: np.ndarray
    null: np.ndarray
    n_folds: int
    class_counts: tuple[int, int] | None = None

    @property
    def time_resolved(self) -> np.ndarray:
        """Train-and-test-on-the-same-bin scores, shape (bins,)."""
        return np.diagonal(self.scores).copy()

    @property
    def null_time_resolved(self) -> np.ndarray:
        """The null of :attr:`time_resolved`, shape (n_permutations, bins)."""
        return np.diagonal(self.null, axis1=1, axis2=2).copy()


def balanced_accuracy(labels: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """Balanced accuracy of binary predictions, vectorised over trailing axes.

    Same value as ``sklearn.metrics.balanced_accuracy_score`` for each trailing index, computed
    in one pass for a whole (train bin × test bin) matrix.

    Parameters
    ----------
    labels : numpy.ndarray
        True 0/1 labels, shape (trials,).
    predicted : numpy.ndarray
        Predicted 0/1 (or bool) labels, shape (trials, ...).

    Returns
    -------
    numpy.ndarray
        Mean of the two classes' recalls, shape ``predicted.shape[1:]``.
    """
    labels = np.asarray(labels).astype(bool)
    predicted = np.asarray(predicted).astype(bool)
    recall_1 = predicted[labels].mean(axis=0)
    recall_0 = (~predicted[~labels]).mean(axis=0)
    return (recall_1 + recall_0) / 2


def _oof_predictions(
    counts: np.ndarray, labels: np.ndarray, n_folds: int, fold_seed: int, shrinkage: float | str
) -> np.ndarray:
    """Out-of-fold predicted labels, shape (trials, train bins, test bins).

    Equivalent to fitting :func:`make_decoder` on each training fold and bin and predicting
    every test bin (the scikit-learn decoder with ``priors=[0.5, 0.5]``, one label vector; used
    by :func:`cv_balanced_accuracy`), but the ``StandardScaler`` is fitted once per fold for all
    bins (its statistics are per feature, so per unit × bin) and the LDA alone is refitted per
    bin.
    """
    n_trials, n_units, n_bins = counts.shape
    predicted = np.zeros((n_trials, n_bins, n_bins), dtype=bool)
    folds = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=fold_seed)
    for train, test in folds.split(np.zeros(n_trials), labels):
        train_counts = counts[train].astype(float)
        scaler = StandardScaler().fit(train_counts.reshape(len(train), -1))
        mean = scaler.mean_.reshape(n_units, n_bins)
        scale = scaler.scale_.reshape(n_units, n_bins)
        z_train = (train_counts - mean) / scale
        test_counts = counts[test].astype(float)
        for b in range(n_bins):
            lda = LinearDiscriminantAnalysis(
                solver="lsqr", shrinkage=shrinkage, priors=[0.5, 0.5]
            ).fit(z_train[:, :, b], labels[train])
            # the bin-b model (its scaling included) applied to every test bin at once;
            # decision > 0 means the second class, 1
            weights = lda.coef_[0] / scale[:, b]
            decision = (
                np.einsum("nub,u->nb", test_counts, weights)
                - mean[:, b] @ weights
                + lda.intercept_[0]
            )
            predicted[test, b, :] = decision > 0
    return predicted


def cv_balanced_accuracy(
    counts: np.ndarray,
    labels: np.ndarray,
    *,
    n_folds: int,
    fold_seed: int,
    shrinkage: float | str = 0.1,
) -> np.ndarray:
    """Cross-validated balanced accuracy, train bin × test bin (pooled out-of-fold predictions).

    Parameters
    ----------
    counts : numpy.ndarray
        Spike counts, shape (trials, units, bins).
    labels : numpy.ndarray
        0/1 label per trial; each class needs at least ``n_folds`` trials.
    n_folds : int
        ``StratifiedKFold`` folds.
    fold_seed : int
        ``random_state`` of the shuffled folds.
    shrinkage : float or "auto"
        LDA covariance shrinkage.

    Returns
    -------
    numpy.ndarray
        Shape (bins, bins).
    """
    labels = np.asarray(labels).astype(int)
    with sklearn.config_context(skip_parameter_validation=True, assume_finite=True):
        return balanced_accuracy(
            labels, _oof_predictions(np.asarray(counts), labels, n_folds, fold_seed, shrinkage)
        )


def fold_splits(
    labels: np.ndarray, n_folds: int, fold_seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """``StratifiedKFold(shuffle=True)`` splits of the observed labels (reused by every null).

    Parameters
    ----------
    labels : numpy.ndarray
        The observed 0/1 label per trial.
    n_folds : int
        Folds.
    fold_seed : int
        ``random_state`` of the shuffle.

    Returns
    -------
    list of (numpy.ndarray, numpy.ndarray)
        Train and test trial indices of each fold; the test sets cover every trial once.
    """
    folds = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=fold_seed)
    return list(folds.split(np.zeros(len(labels)), labels))


def _fold_scaler(train_counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``StandardScaler`` mean and scale of a training fold, each shape (units, bins)."""
    n_train, n_units, n_bins = train_counts.shape
    scaler = StandardScaler().fit(train_counts.reshape(n_train, -1))
    return scaler.mean_.reshape(n_units, n_bins), scaler.scale_.reshape(n_units, n_bins)


def _balanced_from_hits(
    label_sets: np.ndarray, hits_1: np.ndarray, hits_0: np.ndarray
) -> np.ndarray:
    """Balanced accuracy from pooled correct counts per class, shape (label sets, ...)."""
    n_1 = label_sets.sum(axis=1).astype(float)
    n_0 = label_sets.shape[1] - n_1
    extra = (1,) * (hits_1.ndim - 1)
    return (hits_1 / n_1.reshape(-1, *extra) + hits_0 / n_0.reshape(-1, *extra)) / 2


def _closed_form_scores(
    counts: np.ndarray,
    label_sets: np.ndarray,
    splits: Sequence[tuple[np.ndarray, np.ndarray]],
    shrinkage: float,
    train_bins: np.ndarray,
    cross_temporal: bool,
    chunk: int = 256,
) -> np.ndarray:
    """Balanced accuracy of the closed-form LDA for many label vectors at once.

    The pooled out-of-fold hits of :func:`_closed_form_hits` (same arguments) over the label
    vectors' class counts: the folds' test sets must cover every trial once.
    """
    hits = _closed_form_hits(
        counts, label_sets, splits, shrinkage, train_bins, cross_temporal, chunk
    )
    return _balanced_from_hits(label_sets, *hits)


def _closed_form_hits(
    counts: np.ndarray,
    label_sets: np.ndarray,
    splits: Sequence[tuple[np.ndarray, np.ndarray]],
    shrinkage: float,
    train_bins: np.ndarray,
    cross_temporal: bool,
    chunk: int = 256,
) -> tuple[np.ndarray, np.ndarray]:
    """Correct test predictions of each class by the closed-form LDA, many label vectors at once.

    Same decoder as :func:`_sklearn_scores` (to rounding): per fold, ``StandardScaler`` fitted
    on the training trials, then per training bin a fixed-shrinkage LDA whose within-class
    covariance pools the classes by their training counts and whose threshold is the midpoint
    of the class means. With ``z`` the standardised training data (n trials), ``G`` its
    (label-free) covariance, ``π_k`` the class fractions and ``d = μ1 − μ0``, scikit-learn's
    covariance with shrinkage ``α`` over ``p`` units is

        Σ = Σ_k π_k shrunk(C_k) = (1 − α)(G − π0 π1 d dᵀ) + α/p · tr(G − π0 π1 d dᵀ) · I

    (``Σ_k π_k μ_k μ_kᵀ = m mᵀ + π0 π1 d dᵀ`` with ``m`` the overall mean). Writing
    ``(1 − α) G = V diag(λ) Vᵀ`` (one ``eigh`` per fold and bin, shared by all label vectors),
    ``Σ = V diag(λ + c) Vᵀ − γ d dᵀ`` with ``c = α/p · (tr G − π0 π1 |d|²)`` and
    ``γ = (1 − α) π0 π1``, and Sherman–Morrison gives the LDA weights in closed form:
    ``w = Σ⁻¹ d = V D⁻¹ u / (1 − γ uᵀ D⁻¹ u)`` with ``u = Vᵀ d``, ``D = λ + c``. The intercept
    is ``−(μ0 + μ1)ᵀ w / 2``. Every step is a matrix product over the label vectors. Where scikit-
    learn's ``lstsq`` would return a minimum-norm solution (zero eigenvalues: ``α = 0`` with
    constant units), zero eigenvalues are dropped the same way (pseudo-inverse).

    Parameters
    ----------
    counts : numpy.ndarray
        Spike counts, shape (trials, units, bins).
    label_sets : numpy.ndarray
        0/1 label vectors, shape (label sets, trials).
    splits : sequence of (train, test)
        The folds (fixed for all label vectors).
    shrinkage : float
        LDA shrinkage in [0, 1].
    train_bins : numpy.ndarray
        Training bins to compute.
    cross_temporal : bool
        Test each training bin's decoder on every bin (else on its own bin only).
    chunk : int
        Label vectors per block of the test-set products (bounds memory).

    Returns
    -------
    hits_1, hits_0 : numpy.ndarray
        Test trials of class 1 predicted 1, and of class 0 predicted 0, summed over the splits;
        each shape (label sets, len(train_bins), bins) if ``cross_temporal`` else
        (label sets, len(train_bins)).
    """
    n_trials, n_units, n_bins = counts.shape
    n_sets = label_sets.shape[0]
    alpha = float(shrinkage)
    out_shape = (n_sets, len(train_bins)) + ((n_bins,) if cross_temporal else ())
    hits_1 = np.zeros(out_shape)
    hits_0 = np.zeros(out_shape)
    for train, test in splits:
        train_counts = counts[train].astype(float)
        test_counts = counts[test].astype(float)
        mean, scale = _fold_scaler(train_counts)
        y_train = label_sets[:, train].astype(float)  # (sets, n)
        y_test = label_sets[:, test].astype(float)  # (sets, n_test)
        n = len(train)
        n_1 = y_train.sum(axis=1)
        n_0 = n - n_1
        # a training fold may lack a class under a permutation (fixed folds): the decoder is
        # then the constant prediction of the class present (scikit-learn would refuse to fit)
        only_1, only_0 = n_0 == 0, n_1 == 0
        pi_1, pi_0 = n_1 / n, n_0 / n
        # rows: per-trial weights giving d = μ1 − μ0 and s = μ0 + μ1 as (weights @ z)
        a_1 = y_train / np.maximum(n_1, 1)[:, None]
        a_0 = (1 - y_train) / np.maximum(n_0, 1)[:, None]
        diff_w, sum_w = a_1 - a_0, a_1 + a_0
        gamma = (1 - alpha) * pi_0 * pi_1
        # test trials (flattened over test bins) for the cross-temporal products
        if cross_temporal:
            test_flat = test_counts.transpose(0, 2, 1).reshape(-1, n_units)  # (n_test*bins, p)
        for j, b in enumerate(train_bins):
            z = (train_counts[:, :, b] - mean[:, b]) / scale[:, b]
            zc = z - z.mean(axis=0)
            g = zc.T @ zc / n
            lam, v = np.linalg.eigh((1 - alpha) * g)
            zv = z @ v  # (n, p)
            u = diff_w @ zv  # d in the eigenbasis, (sets, p)
            s = sum_w @ zv  # μ0 + μ1 in the eigenbasis
            c = alpha / n_units * (np.trace(g) - pi_0 * pi_1 * np.einsum("kp,kp->k", u, u))
            denom = lam[None, :] + c[:, None]
            tol = n_units * np.finfo(float).eps * np.abs(denom).max(axis=1, keepdims=True)
            inv = np.divide(1.0, denom, out=np.zeros_like(denom), where=np.abs(denom) > tol)
            q = np.einsum("kp,kp->k", u * inv, u)
            w_eig = u * inv / (1 - gamma * q)[:, None]  # w in the eigenbasis
            intercept = -0.5 * np.einsum("kp,kp->k", s, w_eig)
            # back to raw counts: decision = x @ w_raw + offset
            w_raw = (v @ w_eig.T) / scale[:, b][:, None]  # (p, sets)
            offset = intercept - mean[:, b] @ w_raw
            for k0 in range(0, n_sets, chunk):
                ks = slice(k0, k0 + chunk)
                if cross_temporal:
                    decision = (test_flat @ w_raw[:, ks] + offset[ks]).reshape(
                        len(test), n_bins, -1
                    )  # (n_test, bins, sets)
                else:
                    decision = test_counts[:, :, b] @ w_raw[:, ks] + offset[ks]  # (n_test, sets)
                pred = decision > 0
                pred[..., only_1[ks]] = True
                pred[..., only_0[ks]] = False
                pred = pred.astype(float)
                yt = y_test[ks]
                if cross_temporal:
                    said_1 = pred.sum(axis=0).T  # (sets, bins)
                    right_1 = np.einsum("ki,itk->kt", yt, pred)
                else:
                    said_1 = pred.sum(axis=0)
                    right_1 = np.einsum("ki,ik->k", yt, pred)
                n_test_0 = (1 - yt).sum(axis=1)
                hits_1[ks, j] += right_1
                # test trials of class 0 predicted 0 = class-0 count − (said 1 − right 1)
                hits_0[ks, j] += (n_test_0[:, None] if cross_temporal else n_test_0) - (
                    said_1 - right_1
                )
    return hits_1, hits_0


def _sklearn_scores(
    counts: np.ndarray,
    label_sets: np.ndarray,
    splits: Sequence[tuple[np.ndarray, np.ndarray]],
    shrinkage: float | str,
    train_bins: np.ndarray,
    cross_temporal: bool,
) -> np.ndarray:
    """Score the decoder of :func:`_closed_form_scores` with scikit-learn fits (reference).

    Same arguments and return value as :func:`_closed_form_scores`; the hits of
    :func:`_sklearn_hits`.
    """
    hits = _sklearn_hits(counts, label_sets, splits, shrinkage, train_bins, cross_temporal)
    return _balanced_from_hits(label_sets, *hits)


def _sklearn_hits(
    counts: np.ndarray,
    label_sets: np.ndarray,
    splits: Sequence[tuple[np.ndarray, np.ndarray]],
    shrinkage: float | str,
    train_bins: np.ndarray,
    cross_temporal: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Count the hits of :func:`_closed_form_hits` with scikit-learn fits (reference).

    One ``StandardScaler`` + ``LinearDiscriminantAnalysis(solver="lsqr", shrinkage=shrinkage)``
    fit (default, empirical priors: the class covariances pooled by training counts) per label
    vector, fold and bin; the equal-prior threshold is the decision function minus
    ``log(π1/π0)``. Slow; used for ``shrinkage="auto"`` (no closed form) and by the tests.
    Same arguments and return value as :func:`_closed_form_hits`.
    """
    n_trials, n_units, n_bins = counts.shape
    out_shape = (label_sets.shape[0], len(train_bins)) + ((n_bins,) if cross_temporal else ())
    hits_1 = np.zeros(out_shape)
    hits_0 = np.zeros(out_shape)
    with sklearn.config_context(skip_parameter_validation=True, assume_finite=True):
        for k, labels in enumerate(label_sets):
            for train, test in splits:
                train_counts = counts[train].astype(float)
                test_counts = counts[test].astype(float)
                mean, scale = _fold_scaler(train_counts)
                y_train, y_test = labels[train], labels[test].astype(bool)
                for j, b in enumerate(train_bins):
                    tested = np.arange(n_bins) if cross_temporal else np.array([b])
                    if np.unique(y_train).size < 2:
                        pred = np.full((len(test), len(tested)), bool(y_train[0]))
                    else:
                        lda = LinearDiscriminantAnalysis(solver="lsqr", shrinkage=shrinkage)
                        lda.fit((train_counts[:, :, b] - mean[:, b]) / scale[:, b], y_train)
                        z_test = (test_counts[:, :, tested] - mean[:, b, None]) / scale[:, b, None]
                        decision = (
                            np.einsum("nut,u->nt", z_test, lda.coef_[0])
                            + lda.intercept_[0]
                            - np.log(lda.priors_[1] / lda.priors_[0])
                        )
                        pred = decision > 0
                    right_1 = pred[y_test].sum(axis=0)
                    right_0 = (~pred[~y_test]).sum(axis=0)
                    hits_1[k, j] += right_1 if cross_temporal else right_1[0]
                    hits_0[k, j] += right_0 if cross_temporal else right_0[0]
    return hits_1, hits_0


def hits_for_splits(
    counts: np.ndarray,
    label_sets: np.ndarray,
    splits: Sequence[tuple[np.ndarray, np.ndarray]],
    shrinkage: float | str,
    train_bins: np.ndarray,
    cross_temporal: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Correct test predictions of each class, the decoder trained on each split's train trials.

    The decoder of :func:`decode_time_resolved` (standardisation, count-pooled shrinkage LDA,
    equal-prior threshold) in closed form for all label vectors at once
    (:func:`_closed_form_hits`), or fitted by scikit-learn per label vector for
    ``shrinkage="auto"`` (Ledoit-Wolf has no shared factorisation). A split whose training
    trials lack a class predicts the class present. Any train/test splits (folds, or the two
    conditions of a cross-condition generalisation).

    Parameters
    ----------
    counts : numpy.ndarray
        Spike counts, shape (trials, units, bins).
    label_sets : numpy.ndarray
        0/1 label vectors, shape (label sets, trials).
    splits : sequence of (train, test)
        Trial indices, the same for every label vector.
    shrinkage : float or "auto"
        LDA covariance shrinkage.
    train_bins : numpy.ndarray
        Training bins.
    cross_temporal : bool
        Test each training bin's decoder on every bin (else on its own bin only).

    Returns
    -------
    hits_1, hits_0 : numpy.ndarray
        As :func:`_closed_form_hits`.
    """
    if isinstance(shrinkage, str):
        return _sklearn_hits(counts, label_sets, splits, shrinkage, train_bins, cross_temporal)
    return _closed_form_hits(counts, label_sets, splits, shrinkage, train_bins, cross_temporal)


def scores_for_splits(
    counts: np.ndarray,
    label_sets: np.ndarray,
    splits: Sequence[tuple[np.ndarray, np.ndarray]],
    shrinkage: float | str,
    train_bins: np.ndarray,
    cross_temporal: bool,
) -> np.ndarray:
    """Balanced accuracy of :func:`hits_for_splits`' decoder over folds covering every trial once.

    Parameters
    ----------
    counts, label_sets, splits, shrinkage, train_bins, cross_temporal
        As :func:`hits_for_splits`; the splits' test sets must cover every trial once (e.g.
        :func:`fold_splits`), as the hits are divided by each label vector's class counts.

    Returns
    -------
    numpy.ndarray
        Shape (label sets, len(train_bins), bins) if ``cross_temporal`` else
        (label sets, len(train_bins)).
    """
    hits = hits_for_splits(counts, label_sets, splits, shrinkage, train_bins, cross_temporal)
    return _balanced_from_hits(label_sets, *hits)


def decode_time_resolved(
    counts: np.ndarray,
    labels: np.ndarray,
    *,
    groups: np.ndarray,
    rng: np.random.Generator,
    n_folds: int = 5,
    n_permutations: int = 100,
    shrinkage: float | str = 0.1,
    n_jobs: int = 1,
    cross_temporal: bool = True,
) -> DecodingResult:
    """Cross-validated cross-temporal decoding of a binary variable, with its null.

    The decoder is solved in closed form for the observed and all permuted label vectors at
    once (see the module docstring for where and why this departs from scikit-learn's
    ``LinearDiscriminantAnalysis(priors=[0.5, 0.5])`` and ``permutation_test_score``).

    Parameters
    ----------
    counts : numpy.ndarray
        Spike counts, shape (trials, units, bins).
    labels : numpy.ndarray
        0/1 label per trial (no NaN: drop unlabelled trials first).
    groups : numpy.ndarray
        Problem of each trial: the exchangeability blocks of the permutation null.
    rng : numpy.random.Generator
        Draws the fold assignment seed and the permutations.
    n_folds : int
        Cross-validation folds (reduced to the rarer class's count if needed); split once on
        the observed labels and reused for every permutation.
    n_permutations : int
        Permutations of the null (0 for none).
    shrinkage : float or "auto"
        LDA covariance shrinkage; a float uses the closed form, ``"auto"`` (Ledoit–Wolf) fits
        scikit-learn per label vector, fold and bin (slow).
    n_jobs : int
        Worker processes (joblib) over which the training bins are split; the result does
        not depend on it.
    cross_temporal : bool
        Test every training bin's decoder on every bin (the default). ``False`` tests each bin
        on itself only (time-resolved decoding, ``bins`` times cheaper); the off-diagonal
        entries of ``scores`` and ``null`` are then NaN.

    Returns
    -------
    DecodingResult
        Scores (train bin × test bin) and their null; all-NaN when the rarer class has fewer
        than two trials.
    """
    counts = np.asarray(counts)
    labels = np.asarray(labels)
    if counts.ndim != 3 or counts.shape[0] != labels.shape[0]:
        raise ValueError(
            f"counts must be (trials, units, bins) with one label per trial; got "
            f"counts {counts.shape} and {labels.shape[0]} labels."
        )
    if not np.all(np.isfinite(counts)):
        raise ValueError("counts contain NaN/inf; spike counts must be finite.")
    if np.any(np.isnan(labels.astype(float))):
        raise ValueError("labels contain NaN; drop the unlabelled trials before decoding.")
    labels = labels.astype(int)
    n_bins = counts.shape[2]
    fold_seed = int(rng.integers(2**31 - 1))
    permuted = permuted_labels(labels, np.asarray(groups), n_permutations, rng)
    class_counts = np.bincount(labels, minlength=2)
    counts_01 = (int(class_counts[0]), int(class_counts[1]))
    min_class = class_counts.min()
    if min_class < 2:
        nan = np.full((n_bins, n_bins), np.nan)
        return DecodingResult(nan, np.full((n_permutations, n_bins, n_bins), np.nan), 0, counts_01)
    folds = int(min(n_folds, min_class))
    splits = fold_splits(labels, folds, fold_seed)
    label_sets = np.vstack([labels[None, :], permuted])
    chunks = [c for c in np.array_split(np.arange(n_bins), max(1, n_jobs)) if c.size]
    if n_jobs > 1 and len(chunks) > 1:
        parts = Parallel(n_jobs=n_jobs)(
            delayed(scores_for_splits)(counts, label_sets, splits, shrinkage, c, cross_temporal)
            for c in chunks
        )
    else:
        parts = [
            scores_for_splits(
                counts, label_sets, splits, shrinkage, np.arange(n_bins), cross_temporal
            )
        ]
    scores = np.concatenate(parts, axis=1)
    if not cross_temporal:
        full = np.full((len(label_sets), n_bins, n_bins), np.nan)
        full[:, np.arange(n_bins), np.arange(n_bins)] = scores
        scores = full
    return DecodingResult(scores[0], scores[1:], folds, counts_01)


def null_summary(
    observed: np.ndarray, null: np.ndarray, *, threshold_quantile: float = 0.95
) -> dict[str, np.ndarray]:
    """Summarise a permutation null per bin: quantiles, p-values and cluster-mass clusters.

    Shared by :func:`decoding_table` and
    :func:`panneuro.decoding.latent_regression.regression_table`.

    Parameters
    ----------
    observed : numpy.ndarray
        Observed scores, any shape (bins, or train bin × test bin).
    null : numpy.ndarray
        Their null, shape (n_permutations, *observed.shape).
    threshold_quantile : float
        Cluster-forming quantile of the null (see
        :func:`panneuro.stats.permutation.cluster_permutation_test`).

    Returns
    -------
    dict
        Flattened (C order) arrays ``null_mean``, ``null_q95``, ``p_value`` (per bin,
        uncorrected), ``cluster`` (label, 0 = none) and ``cluster_p`` (cluster-mass,
        family-wise); NaN (cluster 0) everywhere when there is no null or a score is not finite.
    """
    observed = np.asarray(observed)
    if null.shape[0] == 0 or not np.all(np.isfinite(observed)):
        nan = np.full(observed.size, np.nan)
        return {
            "null_mean": nan,
            "null_q95": nan,
            "p_value": nan,
            "cluster": np.zeros(observed.size, dtype=np.int64),
            "cluster_p": nan,
        }
    clusters = cluster_permutation_test(observed, null, threshold_quantile=threshold_quantile)
    labels, _ = find_clusters(observed, cluster_threshold(null, threshold_quantile))
    cluster_p = dict(zip(clusters["cluster"], clusters["p_value"], strict=True))
    return {
        "null_mean": null.mean(axis=0).ravel(),
        "null_q95": np.quantile(null, 0.95, axis=0).ravel(),
        "p_value": permutation_p_values(observed, null).ravel(),
        "cluster": labels.ravel(),
        "cluster_p": np.array([cluster_p.get(c, np.nan) for c in labels.ravel()], dtype=float),
    }


def decoding_table(
    result: DecodingResult,
    bin_centers: np.ndarray,
    *,
    threshold_quantile: float = 0.95,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Tidy table of a decoding result: time-resolved rows and cross-temporal rows.

    Parameters
    ----------
    result : DecodingResult
        From :func:`decode_time_resolved`.
    bin_centers : numpy.ndarray
        Bin centres, seconds from the alignment event.
    threshold_quantile : float
        Cluster-forming quantile of the null (see
        :func:`panneuro.stats.permutation.cluster_permutation_test`).
    alpha : float
        A bin is ``significant`` when it lies in a cluster with ``cluster_p < alpha``.

    Returns
    -------
    pandas.DataFrame
        Columns ``analysis`` (``time_resolved`` or ``cross_temporal``), ``train_time``,
        ``time`` (test time), ``score``, ``null_mean``, ``null_q95``, ``p_value`` (per bin,
        uncorrected), ``cluster`` (0 = none), ``cluster_p`` (cluster-mass, family-wise),
        ``significant``, the effect size ``effect`` (``score - null_mean``: balanced accuracy
        above the permutation null's mean, i.e. above chance as the design defines it) and
        ``ci_low``/``ci_high``, the 95 % interval of ``score``
        (:func:`panneuro.stats.permutation.balanced_accuracy_ci`, a score interval whose
        variance near chance includes the permutation null's, given two or more permutations;
        NaN without class counts).
    """
    bin_centers = np.asarray(bin_centers, dtype=float)
    parts = []
    for analysis, observed, null in (
        ("time_resolved", result.time_resolved, result.null_time_resolved),
        ("cross_temporal", result.scores, result.null),
    ):
        if observed.ndim == 1:
            train_t, test_t = bin_centers, bin_centers
        else:
            train_t, test_t = (
                g.ravel() for g in np.meshgrid(bin_centers, bin_centers, indexing="ij")
            )
        table = pd.DataFrame(
            {
                "analysis": analysis,
                "train_time": train_t,
                "time": test_t,
                "score": observed.ravel(),
                **null_summary(observed, null, threshold_quantile=threshold_quantile),
            }
        )
        table["significant"] = (table["cluster_p"] < alpha).astype(int)
        table["effect"] = table["score"] - table["null_mean"]
        if result.class_counts is not None:
            # the null's variance per bin: the extra variance cross-validation adds at chance
            null_var = (
                null.reshape(null.shape[0], -1).var(axis=0, ddof=1) if null.shape[0] >= 2 else None
            )
            low, high = balanced_accuracy_ci(
                table["score"].to_numpy(float), *result.class_counts, null_var=null_var
            )
        else:
            low = high = np.full(len(table), np.nan)
        table["ci_low"], table["ci_high"] = low, high
        parts.append(table)
    return pd.concat(parts, ignore_index=True)


def decode_session(
    units: pd.DataFrame,
    spike_times: Sequence[np.ndarray],
    events: pd.DataFrame,
    settings: Mapping,
    *,
    seed: int,
    keys: Sequence[str | int] = (),
    n_jobs: int = 1,
) -> pd.DataFrame:
    """Decode each task variable from each region's population in one session.

    Parameters
    ----------
    units : pandas.DataFrame
        Units (``region`` column), in the order of ``spike_times``.
    spike_times : sequence of numpy.ndarray
        Spike times of each unit, seconds on the events' clock.
    events : pandas.DataFrame
        The session's trial table.
    settings : mapping
        ``config["decoding"]``: ``variables``, ``align`` (variable → onset/response/feedback),
        ``window``, ``bin_size``, ``step``, ``n_folds``, ``n_permutations``,
        ``shrinkage``, ``cluster_threshold_quantile``, ``alpha``, ``min_units``.
    seed : int
        The project seed; each region × variable gets ``rng_for(seed, "decoding", *keys,
        region, variable)``.
    keys : sequence
        Names of the session (subject, session) for the seed.
    n_jobs : int
        Worker processes.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`DECODING_COLUMNS`.
    """
    align = {v: settings.get("align", {}).get(v, "onset") for v in settings["variables"]}
    populations = population_counts(
        units,
        spike_times,
        events,
        align,
        window=settings["window"],
        bin_size=settings["bin_size"],
        step=settings["step"],
        min_units=int(settings.get("min_units", 1)),
    )
    variables = task_variables(events)
    unknown = [v for v in align if v not in variables.columns]
    if unknown:
        raise ValueError(
            f"config['decoding']['variables'] names {unknown}; "
            f"choose from {list(variables.columns)}."
        )
    groups = events["problem"].to_numpy()
    parts = []
    for pop in populations:
        y = variables[pop.target].to_numpy(dtype=float)
        keep = ~np.isnan(y)
        result = decode_time_resolved(
            pop.counts[keep],
            y[keep].astype(int),
            groups=groups[keep],
            rng=rng_for(seed, "decoding", *keys, pop.region, pop.target),
            n_folds=int(settings["n_folds"]),
            n_permutations=int(settings["n_permutations"]),
            shrinkage=settings.get("shrinkage", 0.1),
            n_jobs=n_jobs,
        )
        table = decoding_table(
            result,
            pop.centers,
            threshold_quantile=float(settings.get("cluster_threshold_quantile", 0.95)),
            alpha=float(settings.get("alpha", 0.05)),
        )
        parts.append(pop.label(table))
    return stack_tables(parts, DECODING_COLUMNS)


def read_session_tables(
    paths: Sequence[str],
    sessions: Sequence[Sequence[str]],
    *,
    columns: Sequence[str],
    species: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Read per-session result tables and stack them with ``subject``/``session`` columns.

    Parameters
    ----------
    paths : sequence of path-like
        The TSVs (decoding, cross-condition or latent-regression tables).
    sessions : sequence of (subject, session)
        The session of each path, same order.
    columns : sequence of str
        The table's columns (used for the empty result when there is no session).
    species : str or sequence of str, optional
        Species of all sessions, or of each; added as a ``species`` column.

    Returns
    -------
    pandas.DataFrame
        ``subject``, ``session`` (strings, e.g. ``"01"``), [``species``,] then ``columns``.
    """
    from panneuro.io.tables import read_tsv

    if len(paths) != len(sessions):
        raise ValueError(
            f"{len(paths)} tables but {len(sessions)} sessions; pass one "
            "(subject, session) per table, in the same order."
        )
    if isinstance(species, str) or species is None:
        species = [species] * len(paths)
    head = ["subject", "session"] + (["species"] if species and species[0] else [])
    parts = []
    for path, (subject, session), sp in zip(paths, sessions, species, strict=True):
        table = read_tsv(path)
        missing = [c for c in columns if c not in table.columns]
        if missing:
            raise ValueError(
                f"{path}: lacks column(s) {missing}; rerun the rule that makes it "
                "(snakemake --forcerun <rule>)."
            )
        table.insert(0, "subject", str(subject))
        table.insert(1, "session", str(session))
        if sp:
            table.insert(2, "species", sp)
        parts.append(table)
    if not parts:
        return pd.DataFrame(columns=head + list(columns))
    return pd.concat(parts, ignore_index=True)
