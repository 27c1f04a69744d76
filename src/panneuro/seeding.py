"""Deterministic random generators derived from the one seed in config.

Every random step of the compendium draws from a generator made here, so the same config
gives byte-identical results whatever the order in which Snakemake runs the jobs.
"""

from __future__ import annotations

import zlib

import numpy as np


def derived_seed(seed: int, *keys: str | int) -> int:
    """Return a 32-bit seed derived from ``seed`` and a path of names.

    Parameters
    ----------
    seed : int
        The project seed from config.
    *keys : str or int
        Names that identify the random step (e.g. ``"ephys", "M1", "04", "PFC"``).

    Returns
    -------
    int
        A seed in ``[0, 2**32)``, stable across Python versions and platforms (CRC-32 based,
        unlike ``hash``).
    """
    entropy = [int(seed)] + [zlib.crc32(str(key).encode()) for key in keys]
    return int(np.random.SeedSequence(entropy).generate_state(1)[0])


def rng_for(seed: int, *keys: str | int) -> np.random.Generator:
    """Return a numpy generator for the random step named by ``keys``.

    Parameters
    ----------
    seed : int
        The project seed from config.
    *keys : str or int
        Names that identify the random step.

    Returns
    -------
    numpy.random.Generator
        A PCG64 generator seeded by :func:`derived_seed`.
    """
    return np.random.default_rng(derived_seed(seed, *keys))
