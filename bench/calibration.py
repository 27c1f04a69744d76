"""What the calibration benchmarks share: a false-positive rate with its exact interval.

Imported by the ``bench_*_calibration.py`` scripts, which are run as
``.venv/bin/python bench/<script>.py`` (this folder first on ``sys.path``).
"""

from __future__ import annotations

from scipy import stats

#: Calibrated: a test at 5 % calls 5 ± 1.5 % of the null simulations (the issues' target).
TARGET = (0.035, 0.065)


def false_positive_rate(positives: int, n: int) -> dict[str, float | int | bool]:
    """Return the rate of ``positives`` calls in ``n`` nulls, with its Clopper–Pearson 95 % CI.

    Parameters
    ----------
    positives : int
        Null simulations (or units tested) the test called.
    n : int
        Null simulations (or units) tested; > 0.

    Returns
    -------
    dict
        ``positives``, ``n``, ``rate``, ``ci_low``, ``ci_high`` and ``in_target`` (the rate
        inside :data:`TARGET`).
    """
    ci = stats.binomtest(int(positives), int(n)).proportion_ci(
        confidence_level=0.95, method="exact"
    )
    rate = positives / n
    return {
        "positives": int(positives),
        "n": int(n),
        "rate": rate,
        "ci_low": float(ci.low),
        "ci_high": float(ci.high),
        "in_target": bool(TARGET[0] <= rate <= TARGET[1]),
    }
