import json

import numpy as np
import pandas as pd
import pytest

from panneuro.ecog.high_gamma import epoch_high_gamma, high_gamma_envelope, preprocess_ecog
from panneuro.ecog.statistics import (
    compare_to_truth,
    decode_outcome,
    responsive_electrodes,
    statistics_to_json,
)
from panneuro.simulate.ecog import simulate_ecog
from panneuro.simulate.task import build_events


def _epochs(gain, seed, n_trials=90, n_planted=4):
    rng = np.random.default_rng(seed)
    problem = np.repeat(np.arange(1, n_trials // 6 + 1), 6)
    trial = np.tile(np.arange(1, 7), n_trials // 6)
    correct = (rng.random(n_trials) < 0.6).astype(int)
    events = build_events(problem, trial, correct, rng, trial_duration=1.5)
    sim = simulate_ecog(
        events,
        n_electrodes=16,
        sfreq=1000.0,
        n_planted=n_planted,
        gain=gain,
        line_frequency=60.0,
        seed=seed,
    )
    clean, bads = preprocess_ecog(sim.raw, line_frequency=60.0)
    envelope = high_gamma_envelope(clean, (70.0, 150.0), 4, sfreq_out=100.0)
    return epoch_high_gamma(envelope, events, bad_channels=bads), sim.truth


@pytest.fixture(scope="module")
def planted():
    return _epochs(gain=1.0, seed=21)


@pytest.fixture(scope="module")
def responsive(planted):
    epochs, _ = planted
    return responsive_electrodes(
        epochs.data,
        epochs.trials["correct"].to_numpy(),
        epochs.times,
        epochs.channels,
        n_permutations=200,
        seed=3,
    )


def test_planted_electrodes_recovered(planted, responsive):
    _, truth = planted
    scored = compare_to_truth(responsive["electrodes"], truth)
    assert scored["sensitivity"] == 1.0
    assert scored["n_false_discoveries"] <= 1
    table = responsive["electrodes"].set_index("channel")
    hits = table.loc[truth["planted_electrodes"]]
    assert (hits["effect"] > 0).all()  # rewarded > unrewarded
    assert hits["cluster_start"].min() >= 0.0
    assert hits["cluster_stop"].max() <= 0.7
    assert (hits["p_value"] < 0.05).all()


def test_cluster_test_is_seeded(planted, responsive):
    epochs, _ = planted
    again = responsive_electrodes(
        epochs.data,
        epochs.trials["correct"].to_numpy(),
        epochs.times,
        epochs.channels,
        n_permutations=200,
        seed=3,
    )
    pd.testing.assert_frame_equal(again["electrodes"], responsive["electrodes"])


def test_no_effect_gives_few_discoveries():
    epochs, _ = _epochs(gain=0.0, seed=22)
    result = responsive_electrodes(
        epochs.data,
        epochs.trials["correct"].to_numpy(),
        epochs.times,
        epochs.channels,
        n_permutations=200,
        seed=4,
    )
    assert result["electrodes"]["responsive"].sum() <= 1


def test_decoding_finds_outcome_after_feedback(planted):
    epochs, truth = planted
    keep = (epochs.times >= -0.3) & (epochs.times <= 0.9)
    result = decode_outcome(
        epochs.data[:, :, keep],
        epochs.trials["correct"].to_numpy(),
        epochs.times[keep],
        n_folds=3,
        n_permutations=29,
        seed=5,
        bin_width=0.15,
    )
    scores, clusters = result["scores"], result["clusters"]
    significant = clusters[clusters["p_value"] < 0.05]
    assert len(significant) >= 1
    assert significant["start"].min() >= 0.0
    assert significant["start"].min() <= truth["window"][1]
    assert scores.loc[scores["time"] < 0, "auc"].max() < 0.75
    assert scores["auc"].max() > 0.8
    assert scores["significant"].any()


def test_input_errors(planted):
    epochs, _ = planted
    only_rewarded = np.ones(len(epochs.trials), dtype=int)
    with pytest.raises(ValueError, match="each outcome"):
        responsive_electrodes(epochs.data, only_rewarded, epochs.times, epochs.channels)
    with pytest.raises(ValueError, match="trials"):
        responsive_electrodes(epochs.data[:3], only_rewarded, epochs.times, epochs.channels)
    with pytest.raises(ValueError, match="decoding needs"):
        decode_outcome(epochs.data, only_rewarded, epochs.times)


def test_compare_to_truth_counts():
    table = pd.DataFrame(
        {"channel": ["A", "B", "C", "D"], "responsive": [True, False, True, False]}
    )
    scored = compare_to_truth(table, {"planted_electrodes": ["A", "B"]})
    assert scored["hits"] == ["A"] and scored["misses"] == ["B"]
    assert scored["false_discoveries"] == ["C"]
    assert scored["sensitivity"] == 0.5


def test_summary_is_json(planted, responsive):
    epochs, _ = planted
    keep = (epochs.times >= 0.0) & (epochs.times <= 0.4)
    decoding = decode_outcome(
        epochs.data[:, :, keep],
        epochs.trials["correct"].to_numpy(),
        epochs.times[keep],
        n_permutations=3,
        seed=1,
        bin_width=0.1,
    )
    summary = statistics_to_json(responsive, decoding, {"rewarded": 1, "unrewarded": 2})
    text = json.dumps(summary, sort_keys=True)
    assert json.loads(text)["responsive_electrodes"] == summary["responsive_electrodes"]
    assert len(summary["electrodes"]) == len(epochs.channels)


def test_closed_form_decoder_matches_scikit_learn():
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.metrics import roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from panneuro.decoding.time_resolved import fold_splits
    from panneuro.ecog.statistics import _closed_form_auc

    rng = np.random.default_rng(0)
    x = rng.standard_normal((80, 12, 4))
    y = (rng.random(80) < 0.4).astype(int)
    x[y == 1, :3, 2] += 0.8
    label_sets = np.vstack([y, rng.permutation(y), rng.permutation(y)])
    splits = fold_splits(y, 4, 3)
    closed = _closed_form_auc(x, label_sets, splits, 0.1)
    for k, labels in enumerate(label_sets):
        for b in range(x.shape[2]):
            folds = []
            for train, test in splits:
                model = make_pipeline(
                    StandardScaler(), LinearDiscriminantAnalysis(solver="lsqr", shrinkage=0.1)
                ).fit(x[train, :, b], labels[train])
                folds.append(roc_auc_score(labels[test], model.decision_function(x[test, :, b])))
            assert closed[k, b] == pytest.approx(np.mean(folds), abs=1e-9)
    assert closed[0, 2] > 0.65 > closed[0, [0, 1, 3]].max()  # the planted bin
