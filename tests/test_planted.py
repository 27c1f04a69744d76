import numpy as np
import pandas as pd
import pytest

from panneuro.decoding.planted import PLANTED_COLUMNS, planted_effect_recovery
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
    late = _session(rng, effect_bins=[11, 12, 13])          # 0.7-0.9 s: outside -0.2..0.3
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
        truth = pd.concat([read_tsv(p) for p in glob.glob(str(
            tiny_run / "resources" / "groundtruth" / f"sub-{subject}" / "ses-01"
            / "*_units.tsv"))], ignore_index=True)
        result = planted_effect_recovery(table, truth, bin_size=0.2)
        assert len(result) > 0
        detected = result[(result["n_significant"] > 0) & (result["n_planted_units"] > 0)]
        assert (detected["found"] == 1.0).all(), detected.to_string()
        found.extend(result.loc[result["n_planted_units"] > 0, "found"].tolist())
    assert len(found) >= 6 and np.mean(found) >= 0.8, found
