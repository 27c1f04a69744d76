import numpy as np
import pandas as pd

from panneuro.decoding.cross_condition import CCGP_COLUMNS
from panneuro.decoding.time_resolved import DECODING_COLUMNS, DecodingResult, decoding_table
from panneuro.figures.fig3_monkey_decoding import ordered_regions, plot_monkey_decoding
from panneuro.figures.save import save_figure


def fake_decoding(rng, regions, sessions=(("M1", "04"),), variables=("choice", "correct",
                                                                       "rewarded_object")):
    parts = []
    times = np.round(np.arange(-0.4, 1.0, 0.1), 3)
    for subject, session in sessions:
        for region in regions:
            for variable in variables:
                null = rng.normal(0.5, 0.03, (30, len(times), len(times)))
                scores = rng.normal(0.5, 0.03, (len(times), len(times)))
                scores[5:8, 5:8] += 0.3
                table = decoding_table(DecodingResult(scores, null, 5), times)
                table.insert(0, "region", region)
                table.insert(1, "n_units", 25)
                table.insert(2, "variable", variable)
                table.insert(4, "align", "response")
                table.insert(0, "subject", subject)
                table.insert(1, "session", session)
                parts.append(table)
    return pd.concat(parts, ignore_index=True)


def fake_ccgp(rng, regions, sessions=(("M1", "04"),)):
    rows = []
    for subject, session in sessions:
        for region in regions:
            for epoch in ("early", "late"):
                for condition, analysis in (("choice", "ccgp"), ("object_pair", "ccgp"),
                                            ("none", "cv")):
                    score = 0.55 if epoch == "early" else 0.8
                    rows.append({"subject": subject, "session": session, "region": region,
                                 "n_units": 25, "variable": "stay", "epoch": epoch,
                                 "condition": condition, "analysis": analysis,
                                 "align": "response", "window_start": -0.4, "window_stop": 0.0,
                                 "n_trials": 100, "score": score + rng.normal(0, 0.01),
                                 "null_mean": 0.5, "null_q95": 0.6,
                                 "p_value": 0.3 if epoch == "early" else 0.02})
    return pd.DataFrame(rows)


def test_fig3_smoke(tmp_path):
    rng = np.random.default_rng(0)
    table = fake_decoding(rng, ["hippocampus", "prefrontal"], sessions=[("M1", "04"),
                                                                         ("M2", "04")])
    assert set(DECODING_COLUMNS) <= set(table.columns)
    assert table["significant"].sum() > 0  # the planted bins are marked
    ccgp = fake_ccgp(rng, ["hippocampus", "prefrontal"])
    assert set(CCGP_COLUMNS) <= set(ccgp.columns)
    fig = plot_monkey_decoding(table, ccgp)
    axes = np.array(fig.axes).reshape(2, 4)
    assert axes[0, 0].get_title() == "prefrontal: choice"  # prefrontal first
    assert len(axes[0, 0].lines) >= 2 * 1 + 2  # two sessions + chance + zero lines
    save_figure(fig, tmp_path / "f.pdf", tmp_path / "f.png")
    assert (tmp_path / "f.png").stat().st_size > 10_000
    assert (tmp_path / "f.pdf").stat().st_size > 1_000


def test_fig3_without_ccgp_and_empty_table():
    rng = np.random.default_rng(1)
    fig = plot_monkey_decoding(fake_decoding(rng, ["prefrontal"]))
    assert len(fig.axes) == 3
    empty = pd.DataFrame(columns=["subject", "session", *DECODING_COLUMNS])
    fig = plot_monkey_decoding(empty, pd.DataFrame(columns=["subject", "session",
                                                            *CCGP_COLUMNS]))
    assert len(fig.axes) == 4


def test_ordered_regions():
    assert ordered_regions(["amygdala", "hippocampus", "prefrontal", "amygdala"]) == [
        "prefrontal", "hippocampus", "amygdala"]
