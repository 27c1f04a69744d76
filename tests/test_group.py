import warnings

import numpy as np
import pandas as pd
import pytest

from panneuro.compendium.provenance import sidecar_path
from panneuro.decoding.group import GROUP_COLUMNS, group_decoding


def _tables(rng, n_subjects, n_sessions, effect_bins=(3, 4, 5), size=0.15, noise=0.03, n_bins=10):
    rows = []
    for s in range(n_subjects):
        for ses in range(n_sessions):
            effect = rng.normal(0, noise, n_bins)
            effect[list(effect_bins)] += size
            score = 0.5 + effect
            rows.append(
                pd.DataFrame(
                    {
                        "subject": f"S{s}",
                        "session": f"0{ses + 1}",
                        "region": "prefrontal",
                        "variable": "choice",
                        "analysis": "time_resolved",
                        "align": "response",
                        "time": np.arange(n_bins) * 0.1,
                        "score": score,
                        "null_mean": 0.5,
                        "effect": effect,
                        "ci_low": score - 0.1,
                        "ci_high": score + 0.1,
                    }
                )
            )
    table = pd.concat(rows, ignore_index=True)
    # cross-temporal rows are ignored
    return pd.concat(
        [table, table.assign(analysis="cross_temporal", effect=9.0)], ignore_index=True
    )


def test_group_effect_interval_and_test_find_the_planted_bins():
    table = _tables(np.random.default_rng(0), n_subjects=4, n_sessions=2)
    group = group_decoding(table, np.random.default_rng(1), n_bootstrap=500)
    assert list(group.columns) == list(GROUP_COLUMNS)
    assert len(group) == 10
    assert (group["n_subjects"] == 4).all() and (group["n_sessions"] == 8).all()
    assert (group["replication"] == "subjects").all()
    planted = group["time"].round(1).isin([0.3, 0.4, 0.5])
    # 4 subjects: 16 sign flips, the smallest p is 1/16 -> nothing can reach 0.05 ...
    assert group["p_fwer"].min() == pytest.approx(1 / 16)
    # ... but the planted effect is estimated, with intervals that contain it and exclude 0
    assert (group.loc[planted, "ci_low"] > 0.05).all()
    assert ((group.loc[planted, "ci_low"] <= 0.15) & (0.15 <= group.loc[planted, "ci_high"])).all()
    assert (group.loc[~planted, "effect"].abs() < 0.05).all()


def test_group_test_with_enough_subjects_is_family_wise():
    table = _tables(np.random.default_rng(2), n_subjects=7, n_sessions=1)
    group = group_decoding(table, np.random.default_rng(3), n_bootstrap=300)
    planted = group["time"].round(1).isin([0.3, 0.4, 0.5])
    assert (group.loc[planted, "significant"] == 1).all()
    assert group.loc[~planted, "significant"].sum() == 0
    null = _tables(np.random.default_rng(4), n_subjects=7, n_sessions=1, size=0.0)
    assert group_decoding(null, np.random.default_rng(5), n_bootstrap=100)["p_fwer"].min() > 0.05


def test_a_session_without_scores_is_skipped_without_warnings():
    """A session that could not decode a variable (too few trials of a class: every bin NaN,
    as the tiny design's first session of M2 for the rewarded object) is left out of the
    means of its subject's resamples; the group effect and interval come from the others."""
    table = _tables(np.random.default_rng(8), n_subjects=2, n_sessions=2)
    empty = (table["subject"] == "S1") & (table["session"] == "01")
    table.loc[empty, ["score", "effect", "ci_low", "ci_high"]] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        group = group_decoding(table, np.random.default_rng(9), n_bootstrap=200)
    assert np.isfinite(group[["effect", "ci_low", "ci_high"]].to_numpy(float)).all()


def test_single_session_keeps_its_own_interval_and_has_no_group_test():
    table = _tables(np.random.default_rng(6), n_subjects=1, n_sessions=1)
    group = group_decoding(table, np.random.default_rng(7), n_bootstrap=100)
    assert (group["replication"] == "none").all()
    assert group["p_fwer"].isna().all() and group["significant"].sum() == 0
    tr = table[table["analysis"] == "time_resolved"]
    np.testing.assert_allclose(group["ci_low"], tr["ci_low"] - 0.5)
    np.testing.assert_allclose(group["effect"], tr["effect"])
    # one subject with two sessions: sessions are the replication units
    two = _tables(np.random.default_rng(8), n_subjects=1, n_sessions=2)
    assert (
        group_decoding(two, np.random.default_rng(9), n_bootstrap=100)["replication"] == "sessions"
    ).all()
    with pytest.raises(ValueError, match="lack column"):
        group_decoding(table.drop(columns="effect"), np.random.default_rng(0))


@pytest.mark.workflow
def test_tiny_run_writes_the_group_tables_the_figures_draw(tiny_run):
    """Rule group_decoding writes each species' group table (with its provenance sidecar), the
    same table group_decoding gives from the session tables and the rule's seed."""
    import yaml

    from panneuro.decoding.time_resolved import DECODING_COLUMNS, read_session_tables
    from panneuro.io.tables import read_tsv
    from panneuro.seeding import rng_for

    config = yaml.safe_load((tiny_run / "config" / "config.yaml").read_text())
    for species, subjects in (("macaque", ["M1"]), ("human", ["H2"])):
        path = tiny_run / "results" / "decoding" / f"group_{species}.tsv"
        assert sidecar_path(path).exists()
        written = read_tsv(path)
        sessions = [(s, "01") for s in subjects]
        table = read_session_tables(
            [tiny_run / "results" / "decoding" / f"sub-{s}_ses-01_decoding.tsv" for s in subjects],
            sessions,
            columns=DECODING_COLUMNS,
        )
        expected = group_decoding(
            table,
            rng_for(config["seed"], "group_decoding", species),
            alpha=config["decoding"]["alpha"],
        )
        assert list(written.columns) == list(GROUP_COLUMNS) and len(written) == len(expected)
        assert np.allclose(written["effect"], expected["effect"], atol=1e-9)
        assert np.allclose(written["ci_low"], expected["ci_low"], atol=1e-9)
