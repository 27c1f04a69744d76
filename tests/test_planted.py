import numpy as np
import pandas as pd
import pytest

from panneuro.decoding.planted import PLANTED_COLUMNS, declared_bins, planted_effect_recovery
from panneuro.decoding.time_resolved import DecodingResult, decoding_table

TIMES = np.round(np.arange(-0.4, 1.0, 0.1), 3)


def _session(rng, effect_bins, variable="choice", align="response", region="prefrontal"):
    null = rng.normal(0.5, 0.03, (40, len(TIMES), len(TIMES)))
    scores = rng.normal(0.5, 0.02, (len(TIMES), len(TIMES)))
    for b in effect_bins:
        scores[b, b] += 0.3
    table = decoding_table(DecodingResult(scores, null, 5, (120, 120)), TIMES)
    return table.assign(region=region, variable=variable, align=align)


def test_effect_found_in_its_planted_window():
    rng = np.random.default_rng(0)
    # choice planted -0.2..0.3 s around the response: bins centred at -0.1..0.2
    table = _session(rng, effect_bins=[3, 4, 5, 6])
    truth = pd.DataFrame({"region": ["prefrontal"] * 3, "variable": ["choice", "choice", "none"]})
    result = planted_effect_recovery(table, truth, bin_size=0.2)
    assert list(result.columns) == list(PLANTED_COLUMNS)
    row = result.iloc[0]
    assert row["n_planted_units"] == 2
    assert (row["window_start"], row["window_stop"]) == (-0.2, 0.3)
    assert -0.2 <= row["peak_time"] <= 0.3 and row["peak_in_window"] == 1
    assert row["n_significant"] >= 3 and row["n_significant_in_window"] == row["n_significant"]
    assert row["found"] == 1.0
    assert row["peak_ci_low"] < row["peak_score"] < row["peak_ci_high"]


def test_effect_outside_the_window_or_not_planted_is_not_found():
    rng = np.random.default_rng(1)
    late = _session(rng, effect_bins=[11, 12, 13])  # 0.7-0.9 s: outside -0.2..0.3
    truth = pd.DataFrame({"region": ["prefrontal"], "variable": ["choice"]})
    row = planted_effect_recovery(late, truth, bin_size=0.2).iloc[0]
    assert row["peak_in_window"] == 0 and row["found"] == 0.0
    nothing = planted_effect_recovery(late, truth.assign(variable="correct"), bin_size=0.2)
    assert np.isnan(nothing["found"].iloc[0]) and nothing["n_planted_units"].iloc[0] == 0
    # decoded at another alignment than the planted anchor: no window to compare with
    other = planted_effect_recovery(late.assign(align="onset"), truth, bin_size=0.2)
    assert np.isnan(other["window_start"].iloc[0]) and other["found"].iloc[0] == 0.0
    with pytest.raises(ValueError, match="lacks column"):
        planted_effect_recovery(late.drop(columns="significant"), truth, bin_size=0.2)


def test_declared_bins_lie_inside_the_window_primary_in_the_middle():
    centres = np.round(np.arange(-0.4, 1.0, 0.1), 3)
    inside, primary = declared_bins(centres, 0.1, 0.0, 0.5)  # feedback variables
    assert np.allclose(centres[inside], [0.1, 0.2, 0.3, 0.4]) and centres[primary] == 0.2
    inside, primary = declared_bins(centres, 0.1, -0.2, 0.3)  # choice
    assert np.allclose(centres[inside], [-0.1, 0.0, 0.1, 0.2]) and centres[primary] == 0.0
    inside, primary = declared_bins(centres, 0.1, 0.0, 0.14)  # shorter than a bin
    assert inside.sum() == 1 and centres[primary] == 0.1  # nearest its centre


def _oracle(times, truth, region="prefrontal", variable="choice"):
    return pd.DataFrame(
        {
            "region": region,
            "variable": variable,
            "time": times,
            "truth": truth,
            "truth_sd": 0.02,
            "coverage": 0.95,
            "estimate_gt_units": np.nan,
        }
    )


def test_truth_compared_with_the_estimate_at_the_declared_bins():
    rng = np.random.default_rng(0)
    table = _session(rng, effect_bins=[3, 4, 5, 6])  # ~0.8 at -0.1..0.2 s, CI +- ~0.09
    truth_units = pd.DataFrame({"region": ["prefrontal"], "variable": ["choice"]})
    rows = table[table["analysis"] == "time_resolved"].reset_index(drop=True)
    truth = rows["score"].to_numpy() + 0.01  # inside every CI
    truth[5] = rows["ci_high"].iloc[5] + 0.05  # 0.1 s: outside
    row = planted_effect_recovery(
        table, truth_units, bin_size=0.2, oracle=_oracle(TIMES, truth)
    ).iloc[0]
    assert row["oracle_time"] == 0.0 and row["estimate"] == rows["score"].iloc[4]
    assert row["truth"] == pytest.approx(truth[4]) and row["truth_in_ci"] == 1.0
    assert (row["n_window_bins"], row["n_window_bins_truth_in_ci"]) == (4, 3)
    assert row["estimate_ci_low"] < row["estimate"] < row["estimate_ci_high"]
    truth[4] = rows["ci_low"].iloc[4] - 0.01  # primary bin outside
    row = planted_effect_recovery(
        table, truth_units, bin_size=0.2, oracle=_oracle(TIMES, truth)
    ).iloc[0]
    assert row["truth_in_ci"] == 0.0 and row["n_window_bins_truth_in_ci"] == 2
    # no oracle: the columns are there, NaN
    plain = planted_effect_recovery(table, truth_units, bin_size=0.2).iloc[0]
    assert np.isnan(plain["truth"]) and np.isnan(plain["truth_in_ci"])
    with pytest.raises(ValueError, match="oracle table lacks the decoding bins"):
        planted_effect_recovery(
            table, truth_units, bin_size=0.2, oracle=_oracle(TIMES[:5], truth[:5])
        )


@pytest.mark.workflow
def test_tiny_run_finds_planted_effects_where_planted(tiny_run):
    """On the tiny preset (10 recorded problems, 6-12 units per probe) every significant
    time-resolved cluster of a planted region x variable overlaps the planted window and its
    peak lies in it (the code is found where and when it was planted, never elsewhere), and
    most planted effects are found. Measured (2026-11-25): all 9 found (M1 prefrontal and
    hippocampus, H2 hippocampus; choice, correct, rewarded_object), peaks at -0.1 to 0.4 s."""
    import glob

    from panneuro.io.tables import read_tsv

    found = []
    for subject in ("M1", "H2"):
        table = read_tsv(tiny_run / "results" / "decoding" / f"sub-{subject}_ses-01_decoding.tsv")
        truth = pd.concat(
            [
                read_tsv(p)
                for p in glob.glob(
                    str(
                        tiny_run
                        / "resources"
                        / "groundtruth"
                        / f"sub-{subject}"
                        / "ses-01"
                        / "*_units.tsv"
                    )
                )
            ],
            ignore_index=True,
        )
        result = planted_effect_recovery(table, truth, bin_size=0.2)
        assert len(result) > 0
        detected = result[(result["n_significant"] > 0) & (result["n_planted_units"] > 0)]
        assert (detected["found"] == 1.0).all(), detected.to_string()
        found.extend(result.loc[result["n_planted_units"] > 0, "found"].tolist())
    assert len(found) >= 6 and np.mean(found) >= 0.8, found


@pytest.mark.workflow
def test_tiny_run_compares_each_planted_effect_with_its_truth(tiny_run):
    """The workflow's planted-effect tables (rule planted_effects) hold, for every planted
    region x variable, the oracle's truth at the declared bin and whether the estimate's 95 %
    interval contains it. Measured on the tiny preset (2026-11-25, 200 replicates): truth
    0.70-0.91, 9 of 9 intervals contain it (H2 hippocampus x correct: estimate 0.57, interval
    0.41-0.71, truth 0.71, s.d. 0.08); the interval's coverage of the truth under the model
    0.905-0.995 at these bins, 0.945 / 0.949 / 0.952 over all bins with truth < 0.6 / 0.6-0.8
    / > 0.8."""
    from panneuro.io.tables import read_tsv

    tables = [
        read_tsv(tiny_run / "results" / "decoding" / f"sub-{s}_ses-01_planted.tsv")
        for s in ("M1", "H2")
    ]
    planted = pd.concat(tables, ignore_index=True)
    planted = planted[planted["n_planted_units"] > 0]
    assert len(planted) >= 6
    assert planted[["truth", "truth_sd", "estimate", "estimate_gt_units"]].notna().all().all()
    assert ((planted["truth"] > 0.6) & (planted["truth"] <= 1.0)).all(), planted.to_string()
    assert (planted["n_window_bins"] == 4).all()
    assert planted["truth_in_ci"].isin([0.0, 1.0]).all()
    assert planted["truth_in_ci"].mean() >= 2 / 3, planted.to_string()
    assert (planted["ci_coverage"] >= 0.85).all(), planted["ci_coverage"].tolist()
    # the interval's coverage under the model over every bin, near chance and planted
    oracle = pd.concat(
        [
            read_tsv(tiny_run / "results" / "decoding" / f"sub-{s}_ses-01_oracle.tsv")
            for s in ("M1", "H2")
        ]
    )
    for rows in (oracle[oracle["truth"] < 0.6], oracle[oracle["truth"] > 0.8]):
        assert len(rows) >= 10
        assert 0.92 <= rows["coverage"].mean() <= 0.98, rows["coverage"].mean()
