import numpy as np
import pandas as pd
import pytest

from panneuro.decoding.oracle import ORACLE_COLUMNS, oracle_decoding, planted_spike_times
from panneuro.decoding.planted import declared_bins
from panneuro.decoding.time_resolved import decode_session
from panneuro.simulate.ephys import WINDOWS, tuned_rates
from panneuro.simulate.task import build_events, task_variables

FS = 30000.0
SETTINGS = {
    "variables": ["choice", "correct"],
    "align": {"choice": "response", "correct": "feedback"},
    "window": [-0.5, 1.0],
    "bin_size": 0.2,
    "step": 0.1,
    "n_folds": 5,
    "n_permutations": 20,
    "shrinkage": 0.1,
    "min_units": 1,
}
N_REPLICATES = 60


@pytest.fixture(scope="module")
def design():
    """120 trials of a simulated session; region ``a`` holds two choice units, ``b`` none."""
    rng = np.random.default_rng(3)
    problem = np.repeat(np.arange(1, 21), 6)
    trial = np.tile(np.arange(1, 7), 20)
    events = build_events(
        problem, trial, (rng.random(len(problem)) < 0.7).astype(int), rng, trial_duration=1.5
    )
    units = pd.DataFrame(
        {
            "unit_id": np.arange(8),
            "region": ["a"] * 4 + ["b"] * 4,
            "variable": ["choice", "choice"] + ["none"] * 6,
            "gain": [0.8, 0.8] + [0.0] * 6,
            "base_rate": [8.0] * 8,
        }
    )
    return events, units


@pytest.fixture(scope="module")
def oracle(design):
    events, units = design
    return oracle_decoding(
        events,
        units,
        SETTINGS,
        seed=7,
        keys=("S", "01"),
        n_replicates=N_REPLICATES,
        sampling_frequency=FS,
    )


def _rows(oracle, region, variable):
    return oracle[(oracle["region"] == region) & (oracle["variable"] == variable)]


def test_truth_of_a_variable_nothing_encodes_is_chance(oracle):
    assert list(oracle.columns) == list(ORACLE_COLUMNS)
    assert len(oracle) == 2 * 2 * 14 and (oracle["n_replicates"] == N_REPLICATES).all()
    null = pd.concat(
        [_rows(oracle, "b", "choice"), _rows(oracle, "b", "correct"), _rows(oracle, "a", "correct")]
    )
    # each bin within 5 Monte Carlo standard errors of 0.5, and 0.5 +- 0.02 on average
    mc_se = null["truth_sd"] / np.sqrt(N_REPLICATES)
    assert (np.abs(null["truth"] - 0.5) < 5 * mc_se).all(), null.to_string()
    assert abs(null["truth"].mean() - 0.5) < 0.02


def test_truth_of_a_planted_variable_peaks_in_its_window_only(oracle):
    rows = _rows(oracle, "a", "choice")
    t = rows["time"].to_numpy()
    _, start, stop = WINDOWS["choice"]
    inside, primary = declared_bins(t, 0.1, start, stop)
    assert np.allclose(t[inside], [-0.1, 0.0, 0.1, 0.2]) and t[primary] == pytest.approx(0.0)
    truth = rows["truth"].to_numpy()
    assert (truth[inside] > 0.85).all(), truth
    far = (t - 0.1 >= stop + 0.1) | (t + 0.1 <= start - 0.1)  # no overlap with the window
    assert (np.abs(truth[far] - 0.5) < 0.05).all(), truth
    assert (rows["truth_sd"] > 0).all()


def test_interval_of_new_sessions_drawn_from_the_model_covers_the_truth(design, oracle):
    """Sessions drawn from the planted rates (seeds the oracle does not use), decoded by the
    production path (decode_session, 20-permutation null): the 95 % interval contains the
    oracle's truth in 90-99 % of the bins near chance and of the planted bins. The Wald interval
    of the same scores covers less near chance (~0.88 here: cross-validated accuracy varies
    more there than the binomial formula says)."""
    events, units = design
    a = units[units["region"] == "a"].reset_index(drop=True)
    truth = _rows(oracle, "a", "choice").set_index("time")["truth"]
    rates = tuned_rates(events, a, duration=float(events["onset"].iloc[-1] + 2.5))
    n_0, n_1 = np.bincount(task_variables(events)["choice"].to_numpy(int), minlength=2)
    rows = []
    for k in range(30):
        trains = planted_spike_times(rates, np.random.default_rng(1000 + k), sampling_frequency=FS)
        table = decode_session(
            a, trains, events, {**SETTINGS, "variables": ["choice"]}, seed=7, keys=("S", "01")
        )
        rows.append(table[table["analysis"] == "time_resolved"].set_index("time"))
    rows = pd.concat(rows)
    rows["truth"] = truth.loc[rows.index].to_numpy()
    covered = (rows["ci_low"] <= rows["truth"]) & (rows["truth"] <= rows["ci_high"])
    half = 1.959964 * np.sqrt(rows["score"] * (1 - rows["score"]) * (1 / n_0 + 1 / n_1)) / 2
    wald = (rows["score"] - half <= rows["truth"]) & (rows["truth"] <= rows["score"] + half)
    chance, planted = rows["truth"] < 0.6, rows["truth"] > 0.8
    assert chance.sum() >= 200 and planted.sum() >= 100
    assert 0.9 <= covered[chance].mean() <= 0.99, covered[chance].mean()
    assert 0.9 <= covered[planted].mean() <= 0.99, covered[planted].mean()
    assert wald[chance].mean() < covered[chance].mean() - 0.02, wald[chance].mean()


def test_oracle_coverage_column_is_the_interval_coverage(oracle):
    """The oracle's own replicates, each with its permutation null: coverage 0.9-0.99."""
    for rows in (oracle[oracle["truth"] < 0.6], oracle[oracle["truth"] > 0.8]):
        assert len(rows) >= 4
        assert 0.9 <= rows["coverage"].mean() <= 0.99, rows["coverage"].mean()


def test_oracle_decodes_with_the_session_decoder_and_folds(design):
    events, units = design
    rng = np.random.default_rng(5)
    rates = tuned_rates(events, units, duration=float(events["onset"].iloc[-1] + 2.5))
    trains = planted_spike_times(rates, rng, sampling_frequency=FS)
    oracle = oracle_decoding(
        events,
        units,
        SETTINGS,
        seed=11,
        keys=("S", "02"),
        n_replicates=2,
        sampling_frequency=FS,
        ground_truth_trains=trains,
    )
    table = decode_session(units, trains, events, SETTINGS, seed=11, keys=("S", "02"))
    session = table[table["analysis"] == "time_resolved"]
    merged = session.merge(oracle, on=["region", "variable", "time"])
    assert len(merged) == len(oracle)
    assert np.allclose(merged["score"], merged["estimate_gt_units"], atol=1e-12)


def test_oracle_is_seeded(design):
    events, units = design
    run = [
        oracle_decoding(
            events, units, SETTINGS, seed=s, keys=("S", "01"), n_replicates=3, sampling_frequency=FS
        )
        for s in (7, 7, 8)
    ]
    pd.testing.assert_frame_equal(run[0], run[1])
    assert not np.allclose(run[0]["truth"], run[2]["truth"])
    # a region's truth does not depend on the other regions' units or their order
    alone = oracle_decoding(
        events,
        units[units["region"] == "a"],
        SETTINGS,
        seed=7,
        keys=("S", "01"),
        n_replicates=3,
        sampling_frequency=FS,
    )
    both = run[0][run[0]["region"] == "a"].reset_index(drop=True)
    pd.testing.assert_frame_equal(alone, both)


def test_oracle_rejects_bad_input(design):
    events, units = design
    with pytest.raises(ValueError, match="at least 2"):
        oracle_decoding(
            events, units, SETTINGS, seed=7, keys=(), n_replicates=1, sampling_frequency=FS
        )
    with pytest.raises(ValueError, match="lack column"):
        oracle_decoding(
            events,
            units.drop(columns="base_rate"),
            SETTINGS,
            seed=7,
            keys=(),
            n_replicates=2,
            sampling_frequency=FS,
        )
    with pytest.raises(ValueError, match="spike trains"):
        oracle_decoding(
            events,
            units,
            SETTINGS,
            seed=7,
            keys=(),
            n_replicates=2,
            sampling_frequency=FS,
            ground_truth_trains=[np.zeros(1)],
        )


CCGP_SETTINGS = {
    "align": {"stay": "response"},
    "n_folds": 5,
    "n_permutations": 2,
    "shrinkage": 0.1,
    "min_units": 1,
    "cross_condition": {
        "variable": "stay",
        "window": [-0.3, 0.0],
        "conditions": ["choice", "object_pair"],
    },
}


def _coding(events, stay_factor, coding_factor=1.0, rate_factor=1.0):
    return pd.DataFrame(
        {
            "problem": events["problem"],
            "trial": events["trial"],
            "learning_set_prior": stay_factor,
            "stay_factor": stay_factor,
            "coding_factor": coding_factor,
            "rate_factor": rate_factor,
        }
    )


@pytest.fixture(scope="module")
def ccgp_design():
    """Region ``a``: three strong stay units coding fully; ``b``: the same, silenced."""
    events, _ = build_events_stay()
    units = pd.DataFrame(
        {
            "unit_id": np.arange(4),
            "region": "a",
            "variable": ["stay"] * 3 + ["none"],
            "gain": [1.2] * 3 + [0.0],
            "base_rate": [10.0] * 4,
        }
    )
    silenced = units.assign(region="b")
    probes = [
        (units, _coding(events, 1.0)),
        (silenced, _coding(events, 1.0, coding_factor=0.0, rate_factor=0.25)),
    ]
    return events, probes


def build_events_stay():
    rng = np.random.default_rng(11)
    problem = np.repeat(np.arange(1, 31), 6)
    trial = np.tile(np.arange(1, 7), 30)
    events = build_events(
        problem, trial, (rng.random(len(problem)) < 0.6).astype(int), rng, trial_duration=1.5
    )
    return events, None


def test_ccgp_oracle_truth_of_planted_and_silenced_codes(ccgp_design):
    from panneuro.decoding.oracle import CCGP_ORACLE_COLUMNS, oracle_cross_condition

    events, probes = ccgp_design
    table = oracle_cross_condition(
        events,
        probes,
        CCGP_SETTINGS,
        seed=3,
        keys=("S", "01"),
        n_replicates=20,
        sampling_frequency=FS,
    )
    assert list(table.columns) == list(CCGP_ORACLE_COLUMNS)
    a = table[table["region"] == "a"]
    b = table[table["region"] == "b"]
    assert set(a["analysis"]) == {"ccgp", "cv"} and set(a["epoch"]) == {"early", "late"}
    assert (a["truth"] > 0.75).all()  # planted stay code generalises
    assert (b["truth"].between(0.4, 0.6)).all()  # coding removed: chance
    assert a["planted_rate"].iloc[0] == pytest.approx(10.0, rel=0.15)
    assert b["planted_rate"].iloc[0] == pytest.approx(2.5, rel=0.15)


def test_ccgp_oracle_is_the_mean_of_the_session_estimate_under_the_model(ccgp_design):
    from panneuro.decoding.cross_condition import session_cross_condition
    from panneuro.decoding.oracle import oracle_cross_condition, planted_spike_times

    events, probes = ccgp_design
    units, coding = probes[0]
    truth = oracle_cross_condition(
        events,
        [probes[0]],
        CCGP_SETTINGS,
        seed=3,
        keys=("S", "01"),
        n_replicates=30,
        sampling_frequency=FS,
    )
    rates = tuned_rates(
        events, units, duration=float(events["onset"].iloc[-1] + 2.5), coding=coding
    )
    scores = []
    for k in range(15):
        trains = planted_spike_times(rates, np.random.default_rng(100 + k), sampling_frequency=FS)
        est = session_cross_condition(units, trains, events, CCGP_SETTINGS, seed=k, keys=("S",))
        scores.append(
            est[
                (est["analysis"] == "ccgp")
                & (est["epoch"] == "late")
                & (est["condition"] == "choice")
            ]["score"].iloc[0]
        )
    row = truth[
        (truth["analysis"] == "ccgp")
        & (truth["epoch"] == "late")
        & (truth["condition"] == "choice")
    ].iloc[0]
    assert abs(np.mean(scores) - row["truth"]) < 4 * row["truth_sd"] / np.sqrt(15) + 0.01


def test_oracle_with_codings_silences_an_inactivated_probe(design):
    events, units = design
    units = units.assign(probe=["A"] * 4 + ["B"] * 4)
    plain = oracle_decoding(
        events, units, SETTINGS, seed=7, keys=("S", "01"), n_replicates=4, sampling_frequency=FS
    )
    none = oracle_decoding(
        events,
        units,
        SETTINGS,
        seed=7,
        keys=("S", "01"),
        n_replicates=4,
        sampling_frequency=FS,
        codings={"A": None, "B": None},
    )
    pd.testing.assert_frame_equal(plain, none)  # presets without a design: unchanged
    silenced = oracle_decoding(
        events,
        units,
        SETTINGS,
        seed=7,
        keys=("S", "01"),
        n_replicates=4,
        sampling_frequency=FS,
        codings={"A": _coding(events, 1.0, coding_factor=0.0, rate_factor=0.25), "B": None},
    )
    a_plain = _rows(plain, "a", "choice")["truth"].max()
    a_silenced = _rows(silenced, "a", "choice")["truth"].max()
    assert a_plain > 0.75 and a_silenced < 0.65
    with pytest.raises(ValueError, match="no coding given for probe"):
        oracle_decoding(
            events,
            units,
            SETTINGS,
            seed=7,
            keys=("S", "01"),
            n_replicates=2,
            sampling_frequency=FS,
            codings={"A": _coding(events, 1.0), "C": None},
        )


def test_oracle_in_worker_processes_gives_the_same_table(design, oracle):
    """Replicates shared among 2 processes: the single-process table, bit for bit."""
    events, units = design
    parallel = oracle_decoding(
        events,
        units,
        SETTINGS,
        seed=7,
        keys=("S", "01"),
        n_replicates=N_REPLICATES,
        sampling_frequency=FS,
        n_jobs=2,
    )
    pd.testing.assert_frame_equal(parallel, oracle, check_exact=True)
