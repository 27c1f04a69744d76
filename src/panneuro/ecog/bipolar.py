"""Re-referencing of ECoG grids and strips: common average or bipolar pairs of neighbours.

:func:`bipolar_pairs` pairs each contact with its nearest neighbours on the grid, from the
``electrodes.tsv`` coordinates (contacts at the smallest inter-contact distance, within 25%), or,
without coordinates, from the names (consecutive numbers with the same prefix: ``G01-G02``,
``G02-G03``...). :func:`set_bipolar` applies them with ``mne.set_bipolar_reference``;
:func:`reference_matrix` writes either reference as a matrix for data processed in chunks
(:mod:`panneuro.ecog.chunked_envelope`).
"""

from __future__ import annotations

import re

import mne
import numpy as np

#: Neighbours: contacts whose distance is within this factor of the smallest spacing.
NEIGHBOUR_TOLERANCE = 1.25
#: Reference schemes of ``ecog.reference``.
REFERENCES = ("average", "bipolar", "none")


def channel_positions(info: mne.Info, names: list[str]) -> np.ndarray:
    """Contact positions (m) of ``names`` from ``info``; NaN rows where unknown (zeros/NaN)."""
    index = {ch["ch_name"]: ch for ch in info["chs"]}
    positions = np.array([index[n]["loc"][:3] for n in names], dtype=float).reshape(-1, 3)
    unknown = ~np.isfinite(positions).all(axis=1) | (positions == 0).all(axis=1)
    positions[unknown] = np.nan
    return positions


def _pairs_from_names(names: list[str]) -> list[tuple[str, str]]:
    groups: dict[str, list[tuple[int, str]]] = {}
    for name in names:
        match = re.fullmatch(r"(.*?)(\d+)", name)
        if match:
            groups.setdefault(match.group(1), []).append((int(match.group(2)), name))
    pairs = []
    for members in groups.values():
        members.sort()
        pairs += [
            (a, b)
            for (na, a), (nb, b) in zip(members[:-1], members[1:], strict=True)
            if nb == na + 1
        ]
    return pairs


def bipolar_pairs(names: list[str], positions: np.ndarray | None = None) -> list[tuple[str, str]]:
    """Pairs (anode, cathode) of neighbouring contacts for a bipolar montage.

    Parameters
    ----------
    names : list of str
        Contact names (good contacts only: a bad contact forms no pair).
    positions : numpy.ndarray, optional
        ``(contacts, 3)`` coordinates (any unit). With every position known, contacts closer
        than ``NEIGHBOUR_TOLERANCE`` × the smallest inter-contact distance are neighbours (on a
        grid: the row and column neighbours, each pair once, in name order); otherwise pairs
        are consecutive numbers with the same name prefix.

    Returns
    -------
    list of (str, str)
        The pairs, anode first (the earlier contact in ``names``).

    Raises
    ------
    ValueError
        If no pair can be formed.
    """
    names = list(names)
    pos = None if positions is None else np.asarray(positions, dtype=float)
    if pos is not None and len(names) > 1 and np.isfinite(pos).all():
        distance = np.linalg.norm(pos[:, None, :] - pos[None, :, :], axis=-1)
        upper = np.triu_indices(len(names), k=1)
        spacing = distance[upper].min()
        if spacing > 0:
            pairs = [
                (names[i], names[j])
                for i, j in zip(*upper, strict=True)
                if distance[i, j] <= NEIGHBOUR_TOLERANCE * spacing
            ]
        else:
            pairs = _pairs_from_names(names)
    else:
        pairs = _pairs_from_names(names)
    if not pairs:
        raise ValueError(
            f"bipolar reference: no neighbouring contacts among {names[:6]}...; "
            "give electrodes.tsv coordinates or numbered names (G01, G02...), or "
            "set ecog.reference: average in config/config.yaml."
        )
    return pairs


def bipolar_name(anode: str, cathode: str) -> str:
    """Name of a bipolar derivation, ``"anode-cathode"``."""
    return f"{anode}-{cathode}"


def set_bipolar(raw: mne.io.BaseRaw) -> mne.io.BaseRaw:
    """Bipolar re-reference of the good ECoG channels of ``raw`` (in place, returned).

    Uses :func:`bipolar_pairs` on the channels' positions and ``mne.set_bipolar_reference``;
    each derivation sits at the midpoint of its two contacts; contacts in no pair are dropped.

    Parameters
    ----------
    raw : mne.io.BaseRaw
        Loaded recording of good ECoG channels only.

    Returns
    -------
    mne.io.BaseRaw
        The bipolar derivations only.
    """
    names = list(raw.ch_names)
    positions = channel_positions(raw.info, names)
    pairs = bipolar_pairs(names, positions)
    where = {n: i for i, n in enumerate(names)}
    ch_info = []
    for a, c in pairs:
        loc = raw.info["chs"][where[a]]["loc"].copy()
        loc[:3] = (positions[where[a]] + positions[where[c]]) / 2
        ch_info.append({"loc": loc})
    out_names = [bipolar_name(a, c) for a, c in pairs]
    raw = mne.set_bipolar_reference(
        raw,
        [a for a, _ in pairs],
        [c for _, c in pairs],
        ch_name=out_names,
        ch_info=ch_info,
        drop_refs=True,
        copy=False,
        verbose=False,
    )
    return raw.pick(out_names)


def reference_matrix(
    names: list[str], reference: str, positions: np.ndarray | None = None
) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Write a re-reference as a matrix: referenced = matrix @ recorded (good channels).

    Parameters
    ----------
    names : list of str
        Good contacts, in data order.
    reference : {"average", "bipolar", "none"}
        Common average (identity minus the mean), bipolar neighbours (:func:`bipolar_pairs`)
        or the recorded reference (identity).
    positions : numpy.ndarray, optional
        ``(contacts, 3)`` positions (for bipolar pairs and the output positions).

    Returns
    -------
    matrix : numpy.ndarray
        ``(outputs, contacts)``.
    out_names : list of str
        Output channel names.
    out_positions : numpy.ndarray
        ``(outputs, 3)`` positions (bipolar: midpoints; NaN when unknown).

    Raises
    ------
    ValueError
        On an unknown reference.
    """
    n = len(names)
    pos = np.full((n, 3), np.nan) if positions is None else np.asarray(positions, dtype=float)
    if reference == "average":
        return np.eye(n) - 1.0 / n, list(names), pos
    if reference == "none":
        return np.eye(n), list(names), pos
    if reference == "bipolar":
        pairs = bipolar_pairs(names, pos)
        where = {name: i for i, name in enumerate(names)}
        matrix = np.zeros((len(pairs), n))
        for k, (a, c) in enumerate(pairs):
            matrix[k, where[a]], matrix[k, where[c]] = 1.0, -1.0
        mid = np.array([(pos[where[a]] + pos[where[c]]) / 2 for a, c in pairs])
        return matrix, [bipolar_name(a, c) for a, c in pairs], mid
    raise ValueError(
        f"ecog.reference = {reference!r} is not supported; use one of "
        f"{list(REFERENCES)} in config/config.yaml."
    )
