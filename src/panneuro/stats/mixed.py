"""Mixed-effects models of group effects (statsmodels), the alternative to the bootstrap.

* :func:`session_mixed_model`: a linear mixed model of a session-level score (CCGP, decoding
  strength, reactivation) on a predictor (learning stage, after vs before, inactivated vs
  control) with a random intercept per subject, and optionally a random slope of the
  predictor per subject (``statsmodels`` ``MixedLM``, REML).
* :func:`trial_mixed_logistic`: trial-level behaviour (``correct`` on trial 2) on a session
  condition (inactivated vs control), a mixed-effects logistic model with random intercepts of
  subjects and of sessions within subjects. Two fits are offered:

  - ``"bayes"``: ``BinomialBayesMixedGLM`` (the mixed logistic model itself), fitted by the
    Laplace approximation at the posterior mode (``fit_map``; its full posterior covariance
    gives the fixed effect's standard deviation) or by mean-field variational Bayes
    (``"bayes-vb"``, ``fit_vb``, known to understate posterior variance). The interval and
    p-value are those of the normal approximation of the fixed effect's posterior, read as a
    frequentist Wald interval (the fixed-effect prior is wide: sd ``fe_p = 2`` on the
    log-odds scale by default).
  - ``"gee"``: a GEE logistic model clustered by subject (exchangeable working correlation
    within a subject) with the Mancl–DeRouen (2001) bias-reduced sandwich covariance and
    Student's t on ``n_subjects - 1`` degrees of freedom (a usual small-sample pairing). It
    estimates the population-averaged (marginal) log-odds ratio, which is smaller than the
    subject-specific one of the mixed model, but its interval does not lean on the variance
    components being estimated well, which the Laplace and variational fits do (their
    intervals are too narrow when sessions vary; see the benchmark). Clustering by session
    instead ignores the positive correlation of a subject's sessions, which makes a contrast
    balanced within subjects conservative (0.75 % false positives at 5 % over 400 nulls).
    With two subjects there is one degree of freedom and the interval is honest but wide.

Which of them holds its level on null data is measured in ``bench/bench_group_calibration.py``
(6 subjects x 6 interleaved sessions x 40 trials, no effect; false positives at 5 %): GEE
4.0 % [3.2, 5.0] over 2000 nulls; Laplace 15.3 % [11.9, 19.2] and variational Bayes 27.3 %
[22.9, 31.9] over 400. Use ``"gee"`` for tests and intervals; the Bayesian fits estimate the
subject-specific effect but their intervals are too narrow.

Every fit runs with one BLAS thread (``threadpoolctl``): the matrices are small (a subject's
trials at most), and on a loaded two-core machine multithreaded BLAS made a GEE fit 20-60
times slower (0.5-1.5 s instead of 0.025 s).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from threadpoolctl import threadpool_limits


@dataclass(frozen=True)
class ModelEffect:
    """A model's fixed effect of interest.

    Attributes
    ----------
    estimate : float
        The coefficient (score units per predictor unit; log-odds for the logistic models).
    se : float
        Its standard error (posterior sd for the Bayesian fit).
    ci_low, ci_high : float
        Wald interval at the requested level.
    p_value : float
        Two-sided Wald p-value of "coefficient = 0".
    method : str
        The fit that made it.
    converged : bool
        Whether the optimiser reported convergence.
    n_groups : int
        Number of subjects.
    """

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    method: str
    converged: bool
    n_groups: int

    def covers(self, value: float) -> bool:
        """Whether the interval holds ``value``."""
        return bool(self.ci_low <= value <= self.ci_high)


def _wald(
    estimate: float,
    se: float,
    confidence_level: float,
    method: str,
    converged: bool,
    n_groups: int,
    df: float | None = None,
) -> ModelEffect:
    ref = stats.norm if df is None else stats.t(df)
    z = ref.ppf(0.5 + confidence_level / 2)
    p = 2 * ref.sf(abs(estimate) / se) if se > 0 and np.isfinite(se) else float("nan")
    return ModelEffect(
        estimate=float(estimate),
        se=float(se),
        ci_low=float(estimate - z * se),
        ci_high=float(estimate + z * se),
        p_value=float(p),
        method=method,
        converged=bool(converged),
        n_groups=int(n_groups),
    )


def _check(table: pd.DataFrame, columns: list[str], what: str) -> None:
    missing = sorted(set(columns) - set(table.columns))
    if missing:
        raise ValueError(f"the table lacks column(s) {missing} for {what}.")


def session_mixed_model(
    table: pd.DataFrame,
    value: str,
    predictor: str,
    *,
    subject: str = "subject",
    random_slope: bool = True,
    confidence_level: float = 0.95,
) -> ModelEffect:
    """Linear mixed model ``value ~ predictor`` with subject random effects (MixedLM, REML).

    Parameters
    ----------
    table : pandas.DataFrame
        One row per session: ``subject``, ``value`` and a numeric ``predictor`` (stage
        0, 1, 2; or a 0/1 condition).
    value, predictor : str
        Response and predictor columns.
    subject : str
        Grouping column (random intercept per subject).
    random_slope : bool
        Add a random slope of ``predictor`` per subject (then the fixed slope's standard
        error includes the between-subject variation of slopes). Its interval and p-value
        use Student's t with ``n_subjects - 1`` degrees of freedom (the slope is then
        replicated by subjects; statsmodels has no Kenward–Roger or Satterthwaite degrees of
        freedom; with the normal reference a null with subject slopes of sd 0.03 was rejected
        in 11 of 100 exploratory simulations of 4 subjects). With t the level is
        conservative (``bench/bench_group_calibration.py``, 6 subjects: 3.0 % with varying
        slopes, 1.0 % without); without a random slope the normal (Wald z) reference, 7.25 %
        without and 17 % with slopes varying between subjects (9.25-9.5 % and 18-20 % at 2-3
        subjects, 2026-12-08), hence the random slope by default. At 2-3 subjects the
        random-slope fit is often singular (``numpy.linalg.LinAlgError``) and rejected no null
        (0 of 400): :data:`panneuro.stats.design_effects.MIXED_MODEL_MIN_SUBJECTS`.
    confidence_level : float
        Coverage of the Wald interval.

    Returns
    -------
    ModelEffect
        The fixed effect of ``predictor``.
    """
    import statsmodels.formula.api as smf

    _check(table, [value, predictor, subject], "the mixed model")
    data = pd.DataFrame(
        {
            "y": table[value].to_numpy(float),
            "x": table[predictor].to_numpy(float),
            "g": table[subject].astype(str).to_numpy(),
        }
    ).dropna()
    model = smf.mixedlm("y ~ x", data, groups=data["g"], re_formula="~x" if random_slope else "1")
    with warnings.catch_warnings(), threadpool_limits(limits=1, user_api="blas"):
        # boundary fits (a variance component estimated at 0) are expected on null data
        warnings.simplefilter("ignore")
        fit = model.fit(reml=True, method=["lbfgs", "powell"])
        se = float(np.sqrt(fit.cov_params().loc["x", "x"]))
    n_groups = data["g"].nunique()
    if random_slope:
        return _wald(
            fit.fe_params["x"],
            se,
            confidence_level,
            "mixedlm-random-slope",
            fit.converged,
            n_groups,
            df=max(n_groups - 1, 1),
        )
    return _wald(fit.fe_params["x"], se, confidence_level, "mixedlm", fit.converged, n_groups)


def trial_mixed_logistic(
    trials: pd.DataFrame,
    outcome: str,
    predictor: str,
    *,
    subject: str = "subject",
    session: str = "session",
    method: str = "bayes",
    confidence_level: float = 0.95,
    rng: np.random.Generator | None = None,
) -> ModelEffect:
    """Mixed-effects logistic model of a trial outcome on a session-level condition.

    Parameters
    ----------
    trials : pandas.DataFrame
        One row per trial: the 0/1 ``outcome``, numeric ``predictor`` (e.g. ``inactivated``
        0/1), ``subject`` and ``session`` (nested in subjects).
    outcome, predictor : str
        Columns.
    subject, session : str
        The hierarchy.
    method : {"bayes", "bayes-vb", "gee"}
        ``BinomialBayesMixedGLM`` by Laplace (``fit_map``) or variational Bayes
        (``fit_vb``), or GEE clustered by subject (see the module docstring).
    confidence_level : float
        Coverage of the Wald interval.
    rng : numpy.random.Generator, optional
        Starting values of the Bayesian fits (statsmodels draws them); pass one from
        :func:`panneuro.seeding.rng_for` for reproducible output.

    Returns
    -------
    ModelEffect
        The fixed effect of ``predictor`` on the log-odds scale.
    """
    _check(trials, [outcome, predictor, subject, session], "the mixed logistic model")
    data = pd.DataFrame(
        {
            "y": trials[outcome].to_numpy(float),
            "x": trials[predictor].to_numpy(float),
            "subj": trials[subject].astype(str).to_numpy(),
            "sess": (trials[subject].astype(str) + "/" + trials[session].astype(str)).to_numpy(),
        }
    ).dropna()
    if not set(np.unique(data["y"])) <= {0.0, 1.0}:
        raise ValueError(f"column {outcome!r} must hold 0/1 outcomes.")
    rng = rng if rng is not None else np.random.default_rng(0)
    if method in ("bayes", "bayes-vb"):
        from statsmodels.genmod.bayes_mixed_glm import BinomialBayesMixedGLM

        vc = {"subject": "0 + C(subj)", "session": "0 + C(sess)"}
        model = BinomialBayesMixedGLM.from_formula("y ~ x", vc, data)
        with warnings.catch_warnings(), threadpool_limits(limits=1, user_api="blas"):
            warnings.simplefilter("ignore")
            if method == "bayes":
                fit = model.fit_map(rng=rng)
            else:
                fit = model.fit_vb(rng=rng)
        names = list(model.exog_names)
        k = names.index("x")
        converged = bool(getattr(fit.optim_retvals, "success", True))
        return _wald(
            fit.fe_mean[k],
            fit.fe_sd[k],
            confidence_level,
            method,
            converged,
            data["subj"].nunique(),
        )
    if method == "gee":
        import statsmodels.api as sm
        import statsmodels.formula.api as smf

        model = smf.gee(
            "y ~ x",
            groups="subj",
            data=data,
            family=sm.families.Binomial(),
            cov_struct=sm.cov_struct.Exchangeable(),
        )
        with warnings.catch_warnings(), threadpool_limits(limits=1, user_api="blas"):
            warnings.simplefilter("ignore")
            fit = model.fit(cov_type="bias_reduced")
        converged = bool(getattr(fit, "converged", True))
        n_subjects = data["subj"].nunique()
        return _wald(
            fit.params["x"],
            fit.bse["x"],
            confidence_level,
            method,
            converged,
            n_subjects,
            df=max(n_subjects - 1, 1),
        )
    raise ValueError(f"method must be 'bayes', 'bayes-vb' or 'gee', not {method!r}.")
