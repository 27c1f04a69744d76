import numpy as np
import pandas as pd

from panneuro.decoding.time_resolved import DecodingResult, decoding_table
from panneuro.figures.fig5_human_units import plot_human_units
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



def test_fig5_smoke(tmp_path):
    rng = np.random.default_rng(0)
    human = fake_decoding(rng, ["hippocampus"], sessions=[("H2", "01")])
    monkey = fake_decoding(rng, ["prefrontal", "hippocampus"])
    fig = plot_human_units(human, monkey, fake_ccgp(rng, ["hippocampus"], [("H2", "01")]),
                           fake_ccgp(rng, ["prefrontal", "hippocampus"]))
    axes = np.array(fig.axes).reshape(2, 4)
    assert axes[0, 0].get_title().startswith("human")
    assert axes[1, 0].get_title().startswith("macaque")
    assert axes[1, 3].get_title().endswith("(hippocampus)")  # like with like across species
    assert len(axes[1, 3].patches) == 6  # 2 epochs x 3 measures, hippocampus only
    # one score line per region and session in the monkey panel (+ chance and zero lines)
    labels = [t.get_text() for t in axes[1, 0].get_legend().get_texts()]
    assert sorted(labels) == ["hippocampus sub-M1 ses-04", "prefrontal sub-M1 ses-04"]
    save_figure(fig, tmp_path / "f.pdf", tmp_path / "f.png")
    assert (tmp_path / "f.png").stat().st_size > 10_000


def test_fig5_without_ccgp():
    rng = np.random.default_rng(1)
    fig = plot_human_units(fake_decoding(rng, ["hippocampus"]),
                           fake_decoding(rng, ["prefrontal"]), variables=["choice"])
    assert len(fig.axes) == 2
