r"""A learning-to-learn agent for Harlow's task: a Bayesian reading of the learning set.

The agent
---------
On every problem the agent entertains two hypotheses about the new pair of objects:

* ``S`` (structure): one object of the pair is rewarded on every trial (Harlow's task);
* ``not S``: rewards are coin flips, unrelated to the objects.

Across problems it learns how often problems are structured with a Beta(1, ``tau``) prior:
``tau`` is the prior's weight against structure, in problems. After ``p - 1`` structured
problems its prior belief in ``S`` at the start of problem ``p`` (the *learning set*) is the
posterior mean

.. math:: \pi_p = \frac{p}{p + \tau}, \qquad \text{prior odds } \pi_p / (1 - \pi_p) = p / \tau .

Within a problem the first trial says which object would be the rewarded one under ``S`` but
nothing about ``S`` itself; every later trial whose feedback is consistent (always, in this
deterministic task) doubles the odds of ``S`` (likelihood 1 under ``S``, 1/2 under
``not S``). The agent's belief that object ``o`` is rewarded is
``Q_o = 1/2 ± P(S | feedback)/2`` (plus for the object the feedback points to).

Read as a delta rule, the values move toward the reward (chosen object) and toward its
complement (unchosen object) with a learning rate ``alpha_{p,t}``; on the first trial of a
problem that rate is exactly ``pi_p``, which grows over problems until one trial is enough
(the learning set), and later in a problem it is the Bayesian update of ``P(S)``. Because the
task's feedback is always consistent, the beliefs do not depend on which object was chosen,
only on the problem and the trial number: expected accuracy is exact in closed form.

Choice is a softmax of the log belief ratio with inverse temperature ``beta``:

.. math:: P(\text{correct}) = \sigma\!\left(\beta \log \frac{Q_r}{Q_u}\right)
          = \frac{Q_r^\beta}{Q_r^\beta + Q_u^\beta},

(``beta = 1`` is probability matching); trial 1 is at chance.

Parameters: identifiable by construction
-----------------------------------------
The agent has two parameters. They are *reported and fitted* as

* ``n_half``: the problem on which the agent's trial-2 accuracy is half way from chance to
  perfect (75 %), i.e. how fast the learning set forms; and
* ``beta``: the choice determinism, which sets how accuracy rises from trial to trial within
  a problem and how errors die out over problems,

with the prior weight recovered as ``tau = 2 n_half / (3^{1/beta} - 1)`` (trial-2 accuracy
is ``sigma(beta log(1 + 2 p / tau))``). ``(tau, beta)`` trade off (a more doubtful prior with a
more deterministic choice gives nearly the same early curve); ``n_half`` is what the data pin
down directly (recovery r over 3 repeats of 40 subjects × 344 problems: ``n_half``
0.961–0.975, ``beta`` 0.915–0.936, the derived ``tau`` 0.896–0.944). An earlier four-
parameter version (free prior ``alpha0`` on problem 1 and a lapse rate) was not identifiable:
its fit to Harlow (1949) put ``alpha0 = 0.043 ≈ 1/(1 + tau)`` (what the Beta(1, tau) prior
implies) and the lapse at 0, and on simulated subjects the four estimates traded off
(recovery r 0.18–0.88). ``bench/bench_recovery.py`` measures recovery of this version.

Fitting is maximum likelihood (:func:`fit_subject`) on trial tables, or least squares on
block-averaged curves such as Harlow (1949) (:func:`fit_to_curves`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import expit, logit
from statsmodels.tools.numdiff import approx_hess3
from threadpoolctl import threadpool_limits

#: Names of the agent's parameters, in the order of :class:`LearningSetParams`.
PARAM_NAMES: tuple[str, ...] = ("n_half", "beta")
#: Bounds used by the fits; both parameters are transformed on a log scale.
PARAM_BOUNDS: dict[str, tuple[float, float]] = {
    "n_half": (0.01, 1e4),
    "beta": (0.01, 20.0),
}
_LOG_SCALE = {"n_half", "beta"}
_LOG2 = float(np.log(2.0))
_LOG3 = float(np.log(3.0))
#: Columns a trial table needs for the model.
MODEL_EVENT_COLUMNS: tuple[str, ...] = (
    "problem",
    "trial",
    "chosen_object",
    "rewarded_object",
    "correct",
)


@dataclass(frozen=True)
class LearningSetParams:
    """Parameters of the learning-to-learn agent.

    Parameters
    ----------
    n_half : float
        Problem (1-based, may be fractional or below 1 for a fast learner) on which the
        agent's trial-2 accuracy reaches 75 %, half way from chance to perfect. > 0.
    beta : float
        Inverse temperature of the softmax on the log belief ratio (1 = probability
        matching). > 0.
    """

    n_half: float
    beta: float

    def __post_init__(self) -> None:
        """Check the parameter ranges."""
        if not self.n_half > 0.0:
            raise ValueError(f"n_half must be > 0, got {self.n_half}")
        if not self.beta > 0.0:
            raise ValueError(f"beta must be > 0, got {self.beta}")

    @property
    def tau(self) -> float:
        """Weight of the Beta(1, tau) prior against structure, in problems."""
        return float(2.0 * self.n_half / np.expm1(_LOG3 / self.beta))

    @property
    def alpha0(self) -> float:
        """Prior belief in structure on problem 1 (= trial-1 learning rate): 1 / (1 + tau)."""
        return float(1.0 / (1.0 + self.tau))

    def as_dict(self) -> dict[str, float]:
        """Return the parameters as a plain dict (JSON-ready)."""
        return {k: float(v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class FitResult:
    """A maximum-likelihood fit of :class:`LearningSetParams`.

    Attributes
    ----------
    params : LearningSetParams
        The estimates.
    nll : float
        Negative log-likelihood at the estimates.
    n_trials : int
        Trials fitted.
    se : dict
        Delta-method standard errors of each parameter (NaN if the Hessian is singular).
    ci_low, ci_high : dict
        95 % Wald intervals computed on the transformed (unbounded) scale and mapped back,
        so they respect the bounds.
    converged : bool
        Whether the best optimiser run reported success.
    """

    params: LearningSetParams
    nll: float
    n_trials: int
    se: dict[str, float] = field(default_factory=dict)
    ci_low: dict[str, float] = field(default_factory=dict)
    ci_high: dict[str, float] = field(default_factory=dict)
    converged: bool = True

    def as_row(self) -> dict[str, float | int | bool]:
        """Flatten to one table row: each parameter with ``_se``, ``_ci_low``, ``_ci_high``.

        The derived prior weight ``tau`` is added for reference.
        """
        row: dict[str, float | int | bool] = {
            "n_trials": self.n_trials,
            "nll": self.nll,
            "converged": self.converged,
        }
        for name in PARAM_NAMES:
            row[name] = float(getattr(self.params, name))
            row[f"{name}_se"] = self.se.get(name, np.nan)
            row[f"{name}_ci_low"] = self.ci_low.get(name, np.nan)
            row[f"{name}_ci_high"] = self.ci_high.get(name, np.nan)
        row["tau"] = self.params.tau
        return row


@dataclass(frozen=True)
class CurveFit:
    """A least-squares fit of the agent to block-averaged learning-set curves.

    Attributes
    ----------
    params : LearningSetParams
        The estimates.
    rmse_trial2 : float
        Root-mean-square error on trial 2 over blocks, in percentage points.
    rmse_all : float
        Same over trials 2–6 (trial 1 is chance by construction).
    predicted : pandas.DataFrame
        The input curves with a ``model_percent_correct`` column.
    trial_weights : tuple of float
        Weights of trials 2–6 in the loss.
    """

    params: LearningSetParams
    rmse_trial2: float
    rmse_all: float
    predicted: pd.DataFrame
    trial_weights: tuple[float, ...]

    def as_dict(self) -> dict:
        """JSON-ready summary (parameters, RMSEs, weights and the predicted curves)."""
        pred = self.predicted[
            [
                "block",
                "problem_first",
                "problem_last",
                "trial",
                "percent_correct",
                "model_percent_correct",
            ]
        ]
        return {
            "params": self.params.as_dict(),
            "rmse_trial2": float(self.rmse_trial2),
            "rmse_all": float(self.rmse_all),
            "trial_weights": [float(w) for w in self.trial_weights],
            "curves": [
                {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in rec.items()}
                for rec in pred.astype(object).to_dict(orient="records")
            ],
        }


# --------------------------------------------------------------------------------------------
# The agent's beliefs: closed form in (problem, trial)
# --------------------------------------------------------------------------------------------
def learning_set_prior(params: LearningSetParams, problems: np.ndarray) -> np.ndarray:
    """Prior belief that a problem is structured (= trial-1 learning rate) on each problem.

    Parameters
    ----------
    params : LearningSetParams
        The agent.
    problems : numpy.ndarray
        Problem numbers, 1-based over the subject's history.

    Returns
    -------
    numpy.ndarray
        ``pi_p = p / (p + tau)``, same shape as ``problems``.
    """
    p = np.asarray(problems, dtype=float)
    if np.any(p < 1):
        raise ValueError("problem numbers are 1-based; got a problem < 1")
    return p / (p + params.tau)


def _structure_log_odds(
    params: LearningSetParams, problems: np.ndarray, trials: np.ndarray
) -> np.ndarray:
    """Log-odds of ``S`` before feedback of ``trial`` (``-inf`` on trial 1: no pointer yet)."""
    p = np.asarray(problems, dtype=float)
    if np.any(p < 1):
        raise ValueError("problem numbers are 1-based; got a problem < 1")
    t = np.asarray(trials, dtype=float)
    lo = np.log(p / params.tau) + _LOG2 * (t - 2.0)  # prior odds p / tau, doubled per trial
    return np.where(t >= 2, lo, -np.inf)


def _p_correct_from_log_odds(params: LearningSetParams, log_odds_s: np.ndarray) -> np.ndarray:
    # log(Q_r / Q_u) with Q = 1/2 ± s/2 equals log(1 + 2 e^L), L the log-odds of S.
    decision = params.beta * np.logaddexp(0.0, log_odds_s + _LOG2)
    return expit(decision)


def _trial_quantities(
    params: LearningSetParams, problems: np.ndarray, trials: np.ndarray
) -> dict[str, np.ndarray]:
    """Belief in ``S`` before/after feedback, learning rate and P(correct) per trial."""
    problems = np.asarray(problems, dtype=float)
    trials = np.asarray(trials, dtype=float)
    if np.any(trials < 1):
        raise ValueError("trial numbers are 1-based; got a trial < 1")
    lo_before = _structure_log_odds(params, problems, trials)
    lo_after = _structure_log_odds(params, problems, trials + 1)
    s_before = expit(lo_before)
    s_after = expit(lo_after)
    return {
        "s_before": s_before,
        "learning_rate": _learning_rate(s_before, s_after),
        "p_correct": _p_correct_from_log_odds(params, lo_before),
    }


def _learning_rate(s_before: np.ndarray, s_after: np.ndarray) -> np.ndarray:
    """Delta-rule rate of the update of P(S): (after - before) / (1 - before); 0 at certainty."""
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = (s_after - s_before) / (1.0 - s_before)
    return np.where(s_before < 1.0, rate, 0.0)


def expected_accuracy(
    params: LearningSetParams, problems: np.ndarray, trials_per_problem: int = 6
) -> np.ndarray:
    """Exact expected proportion correct on each trial of each problem.

    The agent's beliefs do not depend on its past choices (the task's feedback is always
    consistent, and the agent updates both objects), so the sum over choice histories has a
    single term and the expectation is the model's P(correct) itself.

    Parameters
    ----------
    params : LearningSetParams
        The agent.
    problems : numpy.ndarray
        Problem numbers (1-based).
    trials_per_problem : int
        Trials per problem.

    Returns
    -------
    numpy.ndarray
        Shape ``(len(problems), trials_per_problem)``, proportions in [0, 1].
    """
    problems = np.atleast_1d(np.asarray(problems, dtype=float))
    trials = np.arange(1, trials_per_problem + 1, dtype=float)
    pp, tt = np.meshgrid(problems, trials, indexing="ij")
    return _trial_quantities(params, pp, tt)["p_correct"]


def simulate_agent(
    params: LearningSetParams,
    problems: np.ndarray,
    rng: np.random.Generator,
    trials_per_problem: int = 6,
) -> pd.DataFrame:
    """Simulate the agent on the given problems.

    Parameters
    ----------
    params : LearningSetParams
        The agent.
    problems : numpy.ndarray
        Problem numbers (1-based, over the subject's history). The agent's state depends on
        the problem number only, so a subject's sessions can be simulated independently.
    rng : numpy.random.Generator
        Draws the choices.
    trials_per_problem : int
        Trials per problem.

    Returns
    -------
    pandas.DataFrame
        One row per trial: ``problem``, ``trial`` (1-based), ``correct`` (0/1), ``p_correct``,
        ``belief_chosen`` (belief, before feedback, that the chosen object is rewarded),
        ``prediction_error`` (``correct - belief_chosen``) and ``learning_rate``.
    """
    problems = np.asarray(problems, dtype=int)
    problem = np.repeat(problems, trials_per_problem)
    trial = np.tile(np.arange(1, trials_per_problem + 1), len(problems))
    q = _trial_quantities(params, problem, trial)
    correct = (rng.random(len(problem)) < q["p_correct"]).astype(int)
    belief = _belief_chosen(q["s_before"], correct)
    return pd.DataFrame(
        {
            "problem": problem,
            "trial": trial,
            "correct": correct,
            "p_correct": q["p_correct"],
            "belief_chosen": belief,
            "prediction_error": correct - belief,
            "learning_rate": q["learning_rate"],
        }
    )


def _belief_chosen(s_before: np.ndarray, correct: np.ndarray) -> np.ndarray:
    return np.where(np.asarray(correct) == 1, 0.5 + s_before / 2.0, 0.5 - s_before / 2.0)


def _check_events(events: pd.DataFrame) -> None:
    missing = [c for c in MODEL_EVENT_COLUMNS if c not in events.columns]
    if missing:
        raise ValueError(
            f"trial table lacks column(s) {missing}; the model needs {list(MODEL_EVENT_COLUMNS)} "
            "(read events with panneuro.io.tables.read_events)."
        )
    if len(events) == 0:
        raise ValueError("trial table has no trials; nothing to model.")
    chose_rewarded = (events["chosen_object"] == events["rewarded_object"]).astype(int)
    bad = chose_rewarded != events["correct"].astype(int)
    if bad.any():
        raise ValueError(
            f"trial table: 'correct' disagrees with chosen_object == rewarded_object on "
            f"{int(bad.sum())} trial(s) (first at problem {events.loc[bad, 'problem'].iloc[0]}); "
            "fix the events file."
        )


def latent_variables(params: LearningSetParams, events: pd.DataFrame) -> pd.DataFrame:
    """Compute the model's per-trial latent variables for an observed trial table.

    Parameters
    ----------
    params : LearningSetParams
        The (fitted) agent.
    events : pandas.DataFrame
        A trial table with columns ``problem``, ``trial``, ``chosen_object``,
        ``rewarded_object``, ``correct`` (see ``docs/architecture.md``).

    Returns
    -------
    pandas.DataFrame
        Same index as ``events``: ``belief_chosen`` (the model's probability, before
        feedback, that the chosen object is rewarded), ``prediction_error`` (reward minus
        ``belief_chosen``), ``learning_rate`` (the effective delta-rule rate of the update
        after feedback) and ``p_correct``.
    """
    _check_events(events)
    q = _trial_quantities(params, events["problem"].to_numpy(), events["trial"].to_numpy())
    correct = events["correct"].to_numpy().astype(int)
    belief = _belief_chosen(q["s_before"], correct)
    return pd.DataFrame(
        {
            "belief_chosen": belief,
            "prediction_error": correct - belief,
            "learning_rate": q["learning_rate"],
            "p_correct": q["p_correct"],
        },
        index=events.index,
    )


# --------------------------------------------------------------------------------------------
# Likelihood and fits
# --------------------------------------------------------------------------------------------
def _counts(events: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Correct and total counts per (problem, trial): the likelihood's sufficient statistic."""
    grouped = events.groupby(["problem", "trial"], sort=True)["correct"].agg(["sum", "count"])
    idx = grouped.index.to_frame(index=False)
    return (
        idx["problem"].to_numpy(float),
        idx["trial"].to_numpy(float),
        grouped["sum"].to_numpy(float),
        grouped["count"].to_numpy(float),
    )


def _nll_counts(
    params: LearningSetParams, problem: np.ndarray, trial: np.ndarray, k: np.ndarray, n: np.ndarray
) -> float:
    # log P(correct) = -log(1 + e^-d), log P(error) = -log(1 + e^d): stable for any decision d.
    lo = _structure_log_odds(params, problem, trial)
    decision = params.beta * np.logaddexp(0.0, lo + _LOG2)
    return float((k * np.logaddexp(0.0, -decision) + (n - k) * np.logaddexp(0.0, decision)).sum())


def negative_log_likelihood(params: LearningSetParams, events: pd.DataFrame) -> float:
    """Negative log-likelihood of the observed choices (correct / incorrect).

    Parameters
    ----------
    params : LearningSetParams
        The agent.
    events : pandas.DataFrame
        A trial table (``problem``, ``trial``, ``chosen_object``, ``rewarded_object``,
        ``correct``).

    Returns
    -------
    float
        ``-sum log P(observed choice)``.
    """
    _check_events(events)
    return _nll_counts(params, *_counts(events))


def _to_unbounded(params: LearningSetParams) -> np.ndarray:
    x = []
    for name in PARAM_NAMES:
        lo, hi = PARAM_BOUNDS[name]
        v = float(np.clip(getattr(params, name), lo * (1 + 1e-9), hi * (1 - 1e-9)))
        if name in _LOG_SCALE:
            lo, hi, v = np.log(lo), np.log(hi), np.log(v)
        x.append(logit((v - lo) / (hi - lo)))
    return np.array(x)


def _from_unbounded(x: np.ndarray) -> np.ndarray:
    values = []
    for xi, name in zip(x, PARAM_NAMES, strict=True):
        lo, hi = PARAM_BOUNDS[name]
        if name in _LOG_SCALE:
            values.append(float(np.exp(np.log(lo) + (np.log(hi) - np.log(lo)) * expit(xi))))
        else:
            values.append(float(lo + (hi - lo) * expit(xi)))
    return np.array(values)


def _params(x: np.ndarray) -> LearningSetParams:
    return LearningSetParams(*(float(v) for v in _from_unbounded(x)))


def _random_start(rng: np.random.Generator) -> np.ndarray:
    start = LearningSetParams(
        n_half=float(np.exp(rng.uniform(np.log(1.0), np.log(300.0)))),
        beta=float(np.exp(rng.uniform(np.log(0.2), np.log(5.0)))),
    )
    return _to_unbounded(start)


def _grid_start(objective, free: np.ndarray) -> np.ndarray:
    """Best point of a coarse log-spaced grid over the free parameters (robust first start)."""
    axes = {"n_half": np.geomspace(0.3, 3000.0, 25), "beta": np.geomspace(0.05, 10.0, 20)}
    base = _to_unbounded(LearningSetParams(n_half=10.0, beta=1.0))
    grids = [
        np.array(
            [
                _to_unbounded(LearningSetParams(**{**{"n_half": 10.0, "beta": 1.0}, name: v}))[i]
                for v in axes[name]
            ]
        )
        if free[i]
        else np.array([base[i]])
        for i, name in enumerate(PARAM_NAMES)
    ]
    best_x, best_f = None, np.inf
    for point in np.array(np.meshgrid(*grids, indexing="ij")).reshape(len(PARAM_NAMES), -1).T:
        f = objective(point[free])
        if np.isfinite(f) and f < best_f:
            best_x, best_f = point[free], f
    return best_x if best_x is not None else base[free]


def _multistart(objective, rng: np.random.Generator, n_starts: int, free: np.ndarray | None = None):
    """L-BFGS-B from the best grid point and ``n_starts - 1`` random starts; best run wins."""
    free = np.ones(len(PARAM_NAMES), bool) if free is None else free
    starts = [_grid_start(objective, free)]
    starts += [_random_start(rng)[free] for _ in range(max(n_starts - 1, 0))]
    best = None
    # L-BFGS-B calls BLAS on 2-vectors: threaded BLAS only adds overhead (2.5x on 2 busy cores)
    with threadpool_limits(limits=1):
        for start in starts:
            res = minimize(
                objective, start, method="L-BFGS-B", bounds=[(-12.0, 12.0)] * int(free.sum())
            )
            if best is None or res.fun < best.fun:
                best = res
    return best


def fit_subject(
    events: pd.DataFrame, seed: int, n_starts: int = 8, fixed: Mapping[str, float] | None = None
) -> FitResult:
    """Maximum-likelihood fit of the agent to one subject's trials.

    Parameters are optimised on an unbounded scale (scaled logit of each bound, log scale for
    both parameters) with L-BFGS-B from ``n_starts`` random starts; standard errors come
    from the numerical Hessian (statsmodels) on that scale, mapped back by the delta method,
    and the 95 % intervals are Wald intervals on the unbounded scale mapped back.

    Parameters
    ----------
    events : pandas.DataFrame
        The subject's trials (all sessions concatenated): ``problem`` (over the subject's
        history), ``trial``, ``chosen_object``, ``rewarded_object``, ``correct``.
    seed : int
        Seeds the random starts (derive it with :func:`panneuro.seeding.derived_seed`).
    n_starts : int
        Number of optimiser starts.
    fixed : mapping, optional
        Parameters held at given values (e.g. ``{"beta": 1.0}``); their standard errors
        are 0 and their intervals collapse to the value.

    Returns
    -------
    FitResult
        The estimates, the NLL, the number of trials and the uncertainty.
    """
    _check_events(events)
    counts = _counts(events)
    rng = np.random.default_rng(seed)
    fixed = dict(fixed or {})
    unknown = set(fixed) - set(PARAM_NAMES)
    if unknown:
        raise ValueError(f"fixed parameter(s) {sorted(unknown)} unknown; use {PARAM_NAMES}")
    free = np.array([name not in fixed for name in PARAM_NAMES])
    x_fixed = _to_unbounded(LearningSetParams(**{n: fixed.get(n, 0.5) for n in PARAM_NAMES}))

    def full(x_free: np.ndarray) -> np.ndarray:
        x = x_fixed.copy()
        x[free] = x_free
        return x

    def objective(x_free: np.ndarray) -> float:
        return _nll_counts(_params(full(x_free)), *counts)

    best = _multistart(objective, rng, n_starts, free)
    x_hat = full(best.x)
    params = _params(x_hat)
    se, ci_low, ci_high = _uncertainty(objective, best.x, x_hat, free)
    return FitResult(
        params=params,
        nll=float(best.fun),
        n_trials=int(len(events)),
        se=se,
        ci_low=ci_low,
        ci_high=ci_high,
        converged=bool(best.success),
    )


def _uncertainty(
    objective, x_free: np.ndarray, x_hat: np.ndarray, free: np.ndarray
) -> tuple[dict, dict, dict]:
    nan = {name: (np.nan if f else 0.0) for name, f in zip(PARAM_NAMES, free, strict=True)}
    values = _from_unbounded(x_hat)
    nan_low = {
        n: (np.nan if f else float(v)) for n, f, v in zip(PARAM_NAMES, free, values, strict=True)
    }
    hess = approx_hess3(x_free, objective)
    try:
        cov = np.linalg.inv(hess)
    except np.linalg.LinAlgError:
        return dict(nan), dict(nan_low), dict(nan_low)
    var_free = np.diag(cov)
    if not np.all(np.isfinite(var_free)) or np.any(var_free <= 0):
        return dict(nan), dict(nan_low), dict(nan_low)
    sd = np.zeros(len(PARAM_NAMES))
    sd[free] = np.sqrt(var_free)
    # Jacobian of the back-transform (diagonal) for the delta method.
    eps = 1e-6
    jac = (_from_unbounded(x_hat + eps) - _from_unbounded(x_hat - eps)) / (2 * eps)
    low = _from_unbounded(x_hat - 1.959964 * sd)
    high = _from_unbounded(x_hat + 1.959964 * sd)
    se = {n: float(abs(j) * s) for n, j, s in zip(PARAM_NAMES, jac, sd, strict=True)}
    return (
        se,
        {n: float(v) for n, v in zip(PARAM_NAMES, low, strict=True)},
        {n: float(v) for n, v in zip(PARAM_NAMES, high, strict=True)},
    )


def block_expected_accuracy(
    params: LearningSetParams,
    problem_first: Sequence[int],
    problem_last: Sequence[int],
    trials_per_problem: int = 6,
) -> np.ndarray:
    """Compute the expected proportion correct per trial, averaged over each block.

    Parameters
    ----------
    params : LearningSetParams
        The agent.
    problem_first, problem_last : sequence of int
        First and last problem (inclusive) of each block.
    trials_per_problem : int
        Trials per problem.

    Returns
    -------
    numpy.ndarray
        Shape ``(n_blocks, trials_per_problem)``.
    """
    first = np.asarray(problem_first, dtype=int)
    last = np.asarray(problem_last, dtype=int)
    if np.any(last < first):
        raise ValueError("a block ends before it starts (problem_last < problem_first)")
    sizes = last - first + 1
    problems = np.concatenate([np.arange(a, b + 1) for a, b in zip(first, last, strict=True)])
    acc = expected_accuracy(params, problems, trials_per_problem)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    return np.add.reduceat(acc, starts, axis=0) / sizes[:, None]


def fit_to_curves(
    curves: pd.DataFrame,
    *,
    trial_weights: Sequence[float] = (2, 1, 1, 1, 1),
    n_starts: int = 20,
    seed: int = 0,
) -> CurveFit:
    """Fit the agent to block-averaged learning-set curves by weighted least squares.

    Parameters
    ----------
    curves : pandas.DataFrame
        Long table with ``block``, ``problem_first``, ``problem_last`` (problem numbers over
        the subjects' history), ``trial`` (1–6) and ``percent_correct`` (NaN = missing), e.g.
        the Harlow (1949) rows of :func:`panneuro.behaviour.reference.read_reference_curves`.
    trial_weights : sequence of float
        Weights of the squared errors of trials 2–6 (trial 1 is chance by construction).
        The default doubles trial 2, Harlow's index of the learning set.
    n_starts : int
        Random starts of the optimiser.
    seed : int
        Seeds the starts.

    Returns
    -------
    CurveFit
        The parameters, the trial-2 and trials-2–6 RMSE in percentage points and the
        predicted curves.
    """
    need = ["block", "problem_first", "problem_last", "trial", "percent_correct"]
    missing = [c for c in need if c not in curves.columns]
    if missing:
        raise ValueError(
            f"curves lack column(s) {missing}; need {need} (one row per block "
            "and trial, problem ranges filled in)."
        )
    if curves[["problem_first", "problem_last"]].isna().any().any():
        raise ValueError(
            "curves have blocks without problem ranges; fit_to_curves needs the "
            "problem numbers of every block."
        )
    weights = np.asarray(trial_weights, dtype=float)
    n_trials = len(weights) + 1
    blocks = curves.drop_duplicates("block")[["block", "problem_first", "problem_last"]]
    wide = curves.pivot(index="block", columns="trial", values="percent_correct")
    wide = wide.reindex(index=blocks["block"], columns=range(1, n_trials + 1))
    observed = wide.to_numpy(float) / 100.0
    rng = np.random.default_rng(seed)

    def predict(params: LearningSetParams) -> np.ndarray:
        return block_expected_accuracy(
            params, blocks["problem_first"], blocks["problem_last"], n_trials
        )

    def objective(x: np.ndarray) -> float:
        resid = (predict(_params(x)) - observed)[:, 1:] * weights
        return float(np.nansum(resid**2))

    best = _multistart(objective, rng, n_starts)
    params = _params(best.x)
    pred = predict(params)
    err = (pred - observed) * 100.0
    rmse2 = float(np.sqrt(np.nanmean(err[:, 1] ** 2)))
    rmse_all = float(np.sqrt(np.nanmean(err[:, 1:] ** 2)))
    predicted = curves.copy()
    lookup = pd.DataFrame(
        pred * 100.0, index=blocks["block"].to_numpy(), columns=range(1, n_trials + 1)
    )
    predicted["model_percent_correct"] = [
        float(lookup.loc[b, int(t)]) if int(t) <= n_trials else np.nan
        for b, t in zip(predicted["block"], predicted["trial"], strict=True)
    ]
    return CurveFit(
        params=params,
        rmse_trial2=rmse2,
        rmse_all=rmse_all,
        predicted=predicted,
        trial_weights=tuple(float(w) for w in weights),
    )


def params_from_row(row: pd.Series | dict, prefix: str = "") -> LearningSetParams:
    """Build :class:`LearningSetParams` from a table row (e.g. of ``parameters.tsv``).

    Parameters
    ----------
    row : pandas.Series or dict
        Holds ``n_half`` and ``beta`` (with ``prefix``).
    prefix : str
        Column prefix, e.g. ``"true_"`` for the ground-truth columns.

    Returns
    -------
    LearningSetParams
        The parameters.
    """
    return LearningSetParams(**{n: float(row[f"{prefix}{n}"]) for n in PARAM_NAMES})


def fit_subjects(
    events: pd.DataFrame,
    seed: int,
    *,
    n_starts: int = 8,
    truth: Mapping[str, Mapping[str, float]] | None = None,
) -> pd.DataFrame:
    """Fit every subject of a concatenated trial table; one row per subject.

    Parameters
    ----------
    events : pandas.DataFrame
        All sessions' trial tables concatenated with ``subject`` and ``species`` columns.
    seed : int
        The project seed; each subject's starts use
        ``derived_seed(seed, "fit_model", subject)``.
    n_starts : int
        Optimiser starts per subject.
    truth : mapping, optional
        True parameters per subject (simulated data), added as ``true_<name>`` columns.

    Returns
    -------
    pandas.DataFrame
        ``subject``, ``species``, ``n_problems``, the columns of :meth:`FitResult.as_row`
        and, with ``truth``, ``true_n_half`` and ``true_beta``.
    """
    from panneuro.seeding import derived_seed

    for col in ("subject", "species"):
        if col not in events.columns:
            raise ValueError(f"events lack column '{col}'; add the sample sheet's {col}.")
    rows = []
    for subject, data in events.groupby("subject", sort=True):
        fit = fit_subject(data, derived_seed(seed, "fit_model", str(subject)), n_starts)
        row = {
            "subject": str(subject),
            "species": str(data["species"].iloc[0]),
            "n_problems": int(data["problem"].nunique()),
            **fit.as_row(),
        }
        if truth is not None:
            true = truth.get(str(subject), {})
            row.update({f"true_{n}": float(true.get(n, np.nan)) for n in PARAM_NAMES})
        rows.append(row)
    return pd.DataFrame.from_records(rows)


def session_latents(params: LearningSetParams, events: pd.DataFrame) -> pd.DataFrame:
    """Join a session's trial identifiers and the model's latents, in trial order.

    Parameters
    ----------
    params : LearningSetParams
        The subject's fitted agent.
    events : pandas.DataFrame
        The session's trial table.

    Returns
    -------
    pandas.DataFrame
        ``onset`` (if present), ``problem``, ``trial``, ``correct`` and the columns of
        :func:`latent_variables`.
    """
    keys = [c for c in ("onset", "problem", "trial", "correct") if c in events.columns]
    return pd.concat(
        [
            events[keys].reset_index(drop=True),
            latent_variables(params, events).reset_index(drop=True),
        ],
        axis=1,
    )


def _agent_events(
    params: LearningSetParams, n_problems: int, rng: np.random.Generator
) -> pd.DataFrame:
    """Simulate a minimal trial table of the agent on problems 1..n_problems (recovery)."""
    sim = simulate_agent(params, np.arange(1, n_problems + 1), rng)
    rewarded = 2 * sim["problem"].to_numpy()
    return sim[["problem", "trial", "correct"]].assign(
        rewarded_object=rewarded,
        chosen_object=np.where(sim["correct"] == 1, rewarded, rewarded - 1),
    )


def parameter_recovery(
    n_subjects: int,
    n_problems: int,
    seed: int,
    *,
    n_half_range: tuple[float, float] = (3.0, 150.0),
    beta_range: tuple[float, float] = (0.4, 2.0),
    n_starts: int = 3,
) -> pd.DataFrame:
    """Simulate subjects with known parameters and fit them back (parameter recovery).

    True parameters tile each range evenly on a log scale and are paired by independent
    random permutations (so the truths of the two parameters are not correlated by design).

    Parameters
    ----------
    n_subjects : int
        Simulated subjects (>= 3).
    n_problems : int
        Problems per subject (Harlow's monkeys: 344).
    seed : int
        Seeds the design, the choices and the fits' starts.
    n_half_range, beta_range : tuple of float
        Ranges of the true ``n_half`` (problems) and ``beta``. The defaults span fast (human-
        like, ``n_half`` ~3) to slow (macaque-like, ~45, and slower) learners, near-matching to
        near-deterministic choice.
    n_starts : int
        Optimiser starts per fit.

    Returns
    -------
    pandas.DataFrame
        The table of :func:`fit_subjects` with the ``true_*`` columns.
    """
    if n_subjects < 3:
        raise ValueError(f"parameter recovery needs >= 3 subjects, got {n_subjects}")
    rng = np.random.default_rng(seed)
    truths = {
        "n_half": rng.permutation(np.geomspace(*n_half_range, n_subjects)),
        "beta": rng.permutation(np.geomspace(*beta_range, n_subjects)),
    }
    tables, truth = [], {}
    for i in range(n_subjects):
        params = LearningSetParams(**{k: float(v[i]) for k, v in truths.items()})
        subject = f"S{i:03d}"
        tables.append(
            _agent_events(params, n_problems, rng).assign(subject=subject, species="simulated")
        )
        truth[subject] = params.as_dict()
    return fit_subjects(pd.concat(tables, ignore_index=True), seed, n_starts=n_starts, truth=truth)


def recovery_correlations(table: pd.DataFrame) -> dict[str, float]:
    """Pearson r between true and fitted parameters (log scale), per parameter.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`parameter_recovery` (or ``parameters.tsv`` with ``true_*`` columns).

    Returns
    -------
    dict
        ``{name: r}`` for every name of :data:`PARAM_NAMES` (both are positive scale
        parameters, so r is computed on their logarithms).
    """
    missing = [f"true_{n}" for n in PARAM_NAMES if f"true_{n}" not in table.columns]
    if missing:
        raise ValueError(f"recovery table lacks {missing}; fit with truth= (simulated data).")
    return {
        n: float(
            np.corrcoef(
                np.log(table[f"true_{n}"].to_numpy(float)), np.log(table[n].to_numpy(float))
            )[0, 1]
        )
        for n in PARAM_NAMES
    }


# Exposed for tests and figures.
__all__ = [
    "PARAM_NAMES",
    "CurveFit",
    "FitResult",
    "LearningSetParams",
    "block_expected_accuracy",
    "expected_accuracy",
    "fit_subject",
    "fit_subjects",
    "fit_to_curves",
    "latent_variables",
    "learning_set_prior",
    "negative_log_likelihood",
    "parameter_recovery",
    "params_from_row",
    "recovery_correlations",
    "session_latents",
    "simulate_agent",
]
