import json

import numpy as np
import pytest

from panneuro.compendium.bids_validation import run_bids_validator
from panneuro.ecog.high_gamma import read_ecog
from panneuro.io.tables import write_json
from panneuro.simulate.ecog import (
    GRID_SPACING_MM,
    StayCode,
    grid_positions,
    simulate_ecog,
    write_ecog_bids,
    write_ecog_truth,
)
from panneuro.simulate.task import build_events


def _events(n_trials=36, seed=0):
    rng = np.random.default_rng(seed)
    problem = np.repeat(np.arange(1, n_trials // 6 + 1), 6)
    trial = np.tile(np.arange(1, 7), n_trials // 6)
    correct = (rng.random(n_trials) < 0.6).astype(int)
    return build_events(problem, trial, correct, rng, trial_duration=1.5)


def _sim(events, **kwargs):
    args = dict(n_electrodes=16, sfreq=1000.0, n_planted=3, gain=2.0, line_frequency=60.0, seed=7)
    args.update(kwargs)
    return simulate_ecog(events, **args)


@pytest.fixture(scope="module")
def events():
    return _events()


@pytest.fixture(scope="module")
def sim(events):
    return _sim(events)


def test_recording_shape_types_and_duration(sim, events):
    raw = sim.raw
    expected = events["onset"].iloc[-1] + events["duration"].iloc[-1] + 1.0
    assert raw.times[-1] + 1 / raw.info["sfreq"] == pytest.approx(expected, abs=2e-3)
    assert set(raw.get_channel_types()) == {"ecog"}
    assert len(raw.ch_names) == 16
    rms = raw.get_data().std(axis=1)
    assert np.all((rms > 5e-6) & (rms < 500e-6))  # µV-scale values, in volts
    assert raw.info["line_freq"] == 60.0


def test_grid_montage_has_10_mm_spacing(sim):
    pos = sim.raw.get_montage().get_positions()["ch_pos"]
    xy = np.array([pos[c][:2] for c in sim.raw.ch_names]) * 1000.0
    steps = np.linalg.norm(np.diff(xy[:4], axis=0), axis=1)
    np.testing.assert_allclose(steps, GRID_SPACING_MM)
    assert len(np.unique(grid_positions(32)[:, 0])) == 4
    assert len(np.unique(grid_positions(32)[:, 1])) == 8


def test_deterministic_from_seed(events, sim):
    again = _sim(events)
    np.testing.assert_array_equal(again.raw.get_data(), sim.raw.get_data())
    assert again.truth == sim.truth
    other = _sim(events, seed=8)
    assert not np.allclose(other.raw.get_data(), sim.raw.get_data())


def test_truth_and_planted_high_gamma(sim, events):
    import mne

    truth = sim.truth
    assert len(truth["planted_electrodes"]) == 3
    assert truth["effect_rewarded"] > truth["effect_unrewarded"] > 0
    # Planted electrodes carry more high-gamma power inside response windows than outside.
    raw = sim.raw
    sfreq = raw.info["sfreq"]
    hg = mne.filter.filter_data(raw.get_data(), sfreq, 75.0, 110.0, verbose=False) ** 2
    inside = np.zeros(len(raw.times), dtype=bool)
    feedback = events["onset"] + events["feedback_time"]
    for t in feedback[events["correct"] == 1]:
        inside[int((t + 0.15) * sfreq) : int((t + 0.35) * sfreq)] = True
    ratio = hg[:, inside].mean(axis=1) / hg[:, ~inside].mean(axis=1)
    planted = [raw.ch_names.index(c) for c in truth["planted_electrodes"]]
    others = [i for i in range(len(raw.ch_names)) if i not in planted]
    assert ratio[planted].min() > 1.5
    assert ratio[others].max() < 1.3


def _stay_code(events, factor, gain=2.0, n=3):
    from panneuro.simulate.task import task_variables

    return StayCode(
        stay=task_variables(events)["stay"].to_numpy(float),
        stay_factor=np.asarray(factor, dtype=float),
        gain=gain,
        n_electrodes=n,
    )


def _stay_window_power(raw, events, select):
    import mne

    sfreq = raw.info["sfreq"]
    hg = mne.filter.filter_data(raw.get_data(), sfreq, 75.0, 140.0, verbose=False) ** 2
    starts = events["onset"] + 0.15
    stops = events["onset"] + events["response_time"] - 0.05
    return np.array(
        [
            hg[:, int(a * sfreq) : int(b * sfreq)].mean(axis=1)
            for a, b in zip(starts[select], stops[select], strict=True)
        ]
    ).mean(axis=0)


def test_a_planted_stay_code_grows_with_the_stay_factor(events, sim):
    from panneuro.simulate.task import task_variables

    # the stay factor rises over the session, as a patient's learning-set prior does
    factor = np.linspace(0.1, 1.0, len(events))
    coded = _sim(events, stay_code=_stay_code(events, factor))
    stay_truth = coded.truth["stay_code"]
    names = stay_truth["electrodes"]
    assert len(names) == 3 and not set(names) & set(coded.truth["planted_electrodes"])
    assert stay_truth["stay_factor"] == pytest.approx(list(factor))
    # the rest of the recording is the one drawn without the code
    stay_rows = [coded.raw.ch_names.index(c) for c in names]
    others = [i for i in range(16) if i not in stay_rows]
    np.testing.assert_array_equal(coded.raw.get_data()[others], sim.raw.get_data()[others])
    assert {k: v for k, v in coded.truth.items() if k != "stay_code"} == sim.truth
    stay = task_variables(events)["stay"].to_numpy()
    late = np.arange(len(events)) >= len(events) / 2
    ratio = {}
    for half, part in (("early", ~late), ("late", late)):
        on = _stay_window_power(coded.raw, events, part & (stay == 1))
        off = _stay_window_power(coded.raw, events, part & (stay == 0))
        ratio[half] = on / off
    # stay trials carry more high gamma on the code's electrodes only, more in the late half
    assert ratio["late"][stay_rows].min() > 1.5
    assert np.delete(ratio["late"], stay_rows).max() < 1.3
    assert ratio["late"][stay_rows].mean() > ratio["early"][stay_rows].mean() + 0.3
    # the oracle's replicates: the same patches, given, with new noise
    again = _sim(
        events,
        seed=99,
        stay_code=_stay_code(events, factor),
        planted=[coded.raw.ch_names.index(c) for c in coded.truth["planted_electrodes"]],
        stay_planted=stay_rows,
    )
    assert again.truth["stay_code"]["electrodes"] == names
    assert again.truth["planted_electrodes"] == coded.truth["planted_electrodes"]
    with pytest.raises(ValueError, match="ecog_stay_electrodes"):
        _sim(events, stay_code=_stay_code(events, factor, n=14))


def test_rejects_bad_requests(events):
    with pytest.raises(ValueError, match="n_planted"):
        _sim(events, n_planted=40)
    with pytest.raises(ValueError, match="sfreq"):
        _sim(events, sfreq=200.0)
    with pytest.raises(ValueError, match="no trials"):
        _sim(events.iloc[:0])


def test_bids_writing_validates_and_is_deterministic(sim, tmp_path):
    roots = [tmp_path / "a", tmp_path / "b"]
    for root in roots:  # as the study does: the recording first, dataset files after
        vhdr = write_ecog_bids(sim, root, subject="H1", session="01", line_frequency=60.0)
        write_json(
            {"Name": "test", "BIDSVersion": "1.10.1", "DatasetType": "raw"},
            root / "dataset_description.json",
        )
    ieeg = roots[0] / "sub-H1" / "ses-01" / "ieeg"
    stem = "sub-H1_ses-01_task-harlow"
    for name in (
        f"{stem}_ieeg.vhdr",
        f"{stem}_ieeg.eeg",
        f"{stem}_channels.tsv",
        f"{stem}_events.tsv",
        f"{stem}_ieeg.json",
        "sub-H1_ses-01_electrodes.tsv",
        "sub-H1_ses-01_coordsystem.json",
    ):
        assert (ieeg / name).exists(), name
    assert vhdr == roots[1] / "sub-H1" / "ses-01" / "ieeg" / f"{stem}_ieeg.vhdr"
    for path in sorted(p for p in roots[0].rglob("*") if p.is_file()):
        twin = roots[1] / path.relative_to(roots[0])
        assert path.read_bytes() == twin.read_bytes(), path.name
    coords = json.loads((ieeg / "sub-H1_ses-01_coordsystem.json").read_text())
    assert coords["iEEGCoordinateSystem"] == "Other"
    assert coords["iEEGCoordinateUnits"] == "mm"
    summary = run_bids_validator(roots[0])
    assert summary["n_errors"] == 0, summary["errors"]
    raw = read_ecog(vhdr)
    assert raw.ch_names == sim.raw.ch_names
    np.testing.assert_allclose(raw.get_data(), sim.raw.get_data(), atol=1e-7)
    pos = raw.get_montage().get_positions()["ch_pos"]
    np.testing.assert_allclose(pos["G02"] - pos["G01"], [0.01, 0.0, 0.0], atol=1e-9)
    assert sum(d.startswith("feedback") for d in raw.annotations.description) == 36


def test_truth_json(sim, tmp_path):
    target = tmp_path / "sub-H1" / "ses-01" / "sub-H1_ses-01_ecog-truth.json"
    write_ecog_truth(sim, target)
    assert json.loads(target.read_text())["planted_electrodes"] == sim.truth["planted_electrodes"]
