"""Group effects of sleep: reactivation after vs before across subjects, ripple scores."""

import numpy as np
import pandas as pd

from panneuro.sleep.sleep_effects import EFFECT_COLUMNS, sleep_effects


def _reactivation(rng, effect, n_subjects=4, n_sessions=3, species="macaque"):
    rows = []
    for s in range(n_subjects):
        subject_effect = effect + rng.normal(0, 0.02)
        for ses in range(n_sessions):
            truth = subject_effect + rng.normal(0, 0.02)
            for method in ("ev", "assembly"):
                rows.append(
                    {
                        "subject": f"S{s}",
                        "session": f"0{ses}",
                        "probe": "HPC",
                        "species": species,
                        "region": "hippocampus",
                        "method": method,
                        "statistic": truth + rng.normal(0, 0.03),
                        "truth": truth,
                    }
                )
    return pd.DataFrame(rows)


def test_planted_reactivation_is_found_with_its_truth_in_the_interval():
    rng = np.random.default_rng(0)
    table = pd.concat([_reactivation(rng, 0.3), _reactivation(rng, 0.2, 2, 1, "human")])
    scores = pd.DataFrame(
        {
            "subject": ["S0", "S0", "S1", "S1"],
            "session": ["01"] * 4,
            "species": "human",
            "region": "hippocampus",
            "recall": [0.9, 1.0, 0.8, 1.0],
            "precision": [1.0, 0.9, 1.0, 1.0],
        }
    )
    effects = sleep_effects(table, scores, seed=1, n_resamples=500)
    assert list(effects.columns) == list(EFFECT_COLUMNS)
    macaque = effects[
        (effects["species"] == "macaque") & (effects["method"] == "hierarchical_bootstrap")
    ]
    assert len(macaque) == 2 and (macaque["ci_low"] > 0).all()
    assert macaque["truth_in_ci"].all()
    assert (macaque["n_subjects"] == 4).all() and (macaque["n_sessions"] == 12).all()
    ttest = effects[(effects["species"] == "macaque") & (effects["method"] == "subject_t_test")]
    assert (ttest["p_value"] < 0.01).all()
    recall = effects[
        (effects["effect"] == "ripple_recall") & (effects["method"] == "hierarchical_bootstrap")
    ].iloc[0]
    assert recall["estimate"] == np.mean([0.95, 0.9]) and pd.isna(recall["truth_in_ci"])
    assert pd.isna(recall["p_value"])  # a score has no test of "= 0"
    again = sleep_effects(table, scores, seed=1, n_resamples=500)
    pd.testing.assert_frame_equal(effects, again)  # seeded


def test_no_reactivation_gives_intervals_around_zero():
    rng = np.random.default_rng(1)
    effects = sleep_effects(_reactivation(rng, 0.0, 6, 3), None, seed=2, n_resamples=500)
    boot = effects[effects["method"] == "hierarchical_bootstrap"]
    assert ((boot["ci_low"] < 0) & (boot["ci_high"] > 0)).all()
    assert boot["truth_in_ci"].all()
    assert not effects["effect"].str.startswith("ripple").any()  # no scores without truth
