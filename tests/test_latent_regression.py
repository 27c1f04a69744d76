import numpy as np
import pandas as pd
import pytest

from panneuro.decoding.latent_regression import (
    REGRESSION_COLUMNS,
    check_latents,
    latent_regression,
    regress_session,
    regression_table,
)
from panneuro.simulate.task import build_events


def test_r2_positive_and_significant_where_planted():
    rng = np.random.default_rng(0)
    n, units, bins = 180, 10, 8
    latent = rng.normal(size=n)
    lam = np.full((n, units, bins), 5.0)
    lam[:, :4, 3:5] += 2.0 * (latent - latent.min())[:, None, None]
    counts = rng.poisson(lam)
    groups = np.repeat(np.arange(30), 6)
    result = latent_regression(
        counts, latent, groups=groups, rng=np.random.default_rng(1), n_folds=5, n_permutations=49
    )
    assert result.null.shape == (49, bins)
    assert (result.scores[3:5] > 0.3).all()
    assert (result.scores[[0, 1, 6, 7]] < 0.1).all()
    table = regression_table(result, np.arange(bins) * 0.1)
    assert (table.loc[3:4, "significant"] == 1).all()
    assert table.loc[[0, 1, 6, 7], "significant"].sum() == 0
    assert (table["p_value"] > 0).all()
    assert (table["null_mean"] < 0.05).all()


def test_bad_inputs():
    with pytest.raises(ValueError, match="one target per trial"):
        latent_regression(
            np.ones((5, 2, 1)), np.ones(4), groups=np.arange(4), rng=np.random.default_rng(0)
        )
    with pytest.raises(ValueError, match="NaN"):
        latent_regression(
            np.ones((4, 2, 1)),
            np.array([1, np.nan, 2, 3]),
            groups=np.arange(4),
            rng=np.random.default_rng(0),
        )
    events = pd.DataFrame({"onset": [1.0, 2.0]})
    with pytest.raises(ValueError, match="lacks latent column"):
        check_latents(pd.DataFrame({"x": [1, 2]}), events, ["belief_chosen"], "f.tsv")
    with pytest.raises(ValueError, match="1 rows but the session has 2"):
        check_latents(pd.DataFrame({"belief_chosen": [1]}), events, ["belief_chosen"])


def test_regress_session_reads_the_planted_latent():
    rng = np.random.default_rng(2)
    problem = np.repeat(np.arange(1, 31), 6)
    trial = np.tile(np.arange(1, 7), 30)
    events = build_events(problem, trial, np.ones(180, dtype=int), rng, trial_duration=1.5)
    belief = np.clip(rng.normal(0.6, 0.2, 180), 0, 1)
    latents = pd.DataFrame(
        {"belief_chosen": belief, "prediction_error": rng.normal(size=180), "learning_rate": 0.2}
    )
    latents.loc[5, "prediction_error"] = np.nan  # dropped, not an error
    response = (events["onset"] + events["response_time"]).to_numpy()
    end = response[-1] + 2
    trains = []
    for unit in range(6):
        times = [rng.uniform(0, end, rng.poisson(5 * end))]
        if unit < 4:
            for t0, b in zip(response, belief, strict=True):
                times.append(rng.uniform(t0 - 0.2, t0 + 0.2, rng.poisson(60 * b * 0.4)))
        trains.append(np.sort(np.concatenate(times)))
    units = pd.DataFrame({"probe": "HPC", "region": "hippocampus"}, index=range(6))
    settings = {
        "window": [-0.6, 0.6],
        "bin_size": 0.2,
        "step": 0.2,
        "n_folds": 5,
        "n_permutations": 29,
        "min_units": 3,
        "latents": {
            "variables": ["belief_chosen", "prediction_error"],
            "align": {"belief_chosen": "response", "prediction_error": "feedback"},
        },
    }
    table = regress_session(units, trains, events, latents, settings, seed=3)
    assert list(table.columns) == list(REGRESSION_COLUMNS)
    belief_rows = table[table["latent"] == "belief_chosen"].set_index("time")
    assert belief_rows.loc[[-0.1, 0.1], "score"].min() > 0.2
    assert belief_rows.loc[[-0.1, 0.1], "significant"].all()
    pe = table[table["latent"] == "prediction_error"]
    assert (pe["align"] == "feedback").all() and pe["significant"].sum() == 0
