import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from panneuro.simulate.study import (
    _participants,
    expected_outputs,
    plan_sessions,
    save_datalad_dataset,
)

ROOT = Path(__file__).resolve().parents[1]
SIZE = {"problems_per_session": 7, "recorded_problems": 3}


def _samples():
    return pd.read_csv(ROOT / "config" / "samples.tsv", sep="\t", dtype=str, keep_default_na=False)


def test_problems_run_on_across_sessions():
    plans = {(p.subject, p.session): p for p in plan_sessions(_samples(), SIZE)}
    m1 = [plans[("M1", s)] for s in ["01", "02", "03", "04"]]
    assert [len(p.problems) for p in m1] == [3, 7, 7, 7]
    assert [p.recorded for p in m1] == [True, False, False, False]
    assert m1[1].problems[0] == m1[0].problems[-1] + 1 and m1[3].problems[-1] == 24
    assert plans[("H1", "01")].recorded and plans[("H1", "01")].problems.tolist() == [1, 2, 3]
    assert plans[("M2", "04")].recorded is False


def test_session_without_trial_table_is_rejected():
    samples = _samples()
    samples = samples[~((samples["subject"] == "H1") & (samples["datatype"] == "beh"))]
    with pytest.raises(ValueError, match="sub-H1 ses-01 has no 'beh' row"):
        plan_sessions(samples, SIZE)


def test_expected_outputs_cover_sheet_and_truth():
    samples = _samples()
    out = expected_outputs(samples, "raw", "gt")
    # the description, the BIDS metadata the NWB files take their session and subject from
    # (participants, each subject's sessions file) and the trial tables (kept in git);
    # annexed recordings are not outputs, since their content may be dropped (they enter the
    # DAG as key records)
    assert out["raw"][:2] == ["raw/dataset_description.json", "raw/participants.tsv"]
    subjects = samples["subject"].nunique()
    assert sum(p.endswith("_sessions.tsv") for p in out["raw"]) == subjects
    assert len(out["raw"]) == 2 + subjects + (samples["datatype"] == "beh").sum()
    assert not any(path.endswith((".nwb", ".vhdr")) for path in out["raw"])
    assert "gt/sub-M1/ses-01/sub-M1_ses-01_acq-PFC_spikes.npz" in out["truth"]
    assert "gt/sub-H1/ses-01/sub-H1_ses-01_ecog-truth.json" in out["truth"]
    assert sum(p.endswith("_agent.json") for p in out["truth"]) == samples["subject"].nunique()


def test_participants_are_deterministic():
    a, b = _participants(_samples(), 1), _participants(_samples(), 1)
    assert a.equals(b) and list(a["participant_id"]) == ["sub-H1", "sub-H2", "sub-M1", "sub-M2"]
    assert set(a["species"]) == {"Macaca mulatta", "Homo sapiens"}


def test_datalad_dataset_annexes_binaries_and_keeps_text_in_git(tmp_path):
    (tmp_path / "data.tsv").write_text("a\tb\n1\t2\n")
    (tmp_path / "rec.nwb").write_bytes(bytes(range(256)) * 64)
    save_datalad_dataset(tmp_path, message="test")
    assert (tmp_path / ".datalad" / "config").exists()
    assert (tmp_path / "rec.nwb").is_symlink() and not (tmp_path / "data.tsv").is_symlink()
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    status = subprocess.run(
        ["git", "status", "--porcelain"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    assert status.stdout == ""


def test_rmtree_removes_write_protected_annex_trees(tmp_path):
    from panneuro.simulate.study import _rmtree

    locked = tmp_path / "ds" / "objects"
    locked.mkdir(parents=True)
    (locked / "key").write_text("content")
    (locked / "key").chmod(0o444)
    locked.chmod(0o555)
    _rmtree(tmp_path / "ds")
    assert not (tmp_path / "ds").exists()


def test_human_subjects_are_nested_subdatasets(tmp_path):
    for subject in ("sub-H1", "sub-M1"):
        (tmp_path / subject).mkdir()
        (tmp_path / subject / "rec.nwb").write_bytes(bytes(range(256)) * 16)
    save_datalad_dataset(tmp_path, message="test", subdatasets=["sub-H1"])
    assert (tmp_path / "sub-H1" / ".datalad" / "config").exists()
    assert "path = sub-H1" in (tmp_path / ".gitmodules").read_text()
    assert "sub-M1" not in (tmp_path / ".gitmodules").read_text()
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    for repo in (tmp_path, tmp_path / "sub-H1"):
        status = subprocess.run(
            ["git", "status", "--porcelain"],
            cwd=repo,
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
        assert status.stdout == "", repo
    assert (tmp_path / "sub-H1" / "rec.nwb").is_symlink()  # annexed in the subdataset


def test_ground_truth_dataset_keeps_everything_in_git(tmp_path):
    (tmp_path / "spikes.npz").write_bytes(bytes(range(256)) * 16)
    save_datalad_dataset(tmp_path, message="test", annex=False)
    assert (tmp_path / ".datalad" / "config").exists()
    assert not (tmp_path / "spikes.npz").is_symlink()


@pytest.mark.workflow
def test_raw_dataset_files_list_exactly_what_the_simulation_writes(tiny_run):
    from panneuro.simulate.study import raw_dataset_files

    raw = tiny_run / "resources" / "raw"
    written = set()
    for folder, subfolders, names in os.walk(raw):
        subfolders[:] = [d for d in subfolders if d not in (".git", ".datalad")]
        written |= {
            (Path(folder) / n).relative_to(tiny_run).as_posix()
            for n in names
            if not n.startswith(".")
        }
    listed = raw_dataset_files(_samples(), "resources/raw")
    assert len(listed) == len(set(listed))
    assert set(listed) == written, (sorted(set(listed) - written), sorted(written - set(listed)))


# --- the study design (a size preset's ``design``: the paper preset) ----------------------------
def _simulate_small_design(root: Path, *, ecog: list[str], n_jobs: int = 1):
    """Simulate a small instance of the paper design into root/raw and root/gt."""
    import copy

    import yaml

    from panneuro.simulate.design import design_samples, plan_design
    from panneuro.simulate.study import simulate_study

    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    size = copy.deepcopy(config["sizes"]["paper"])
    size.update(recorded_problems=3, problems_per_session=5, n_units_array=6, n_units_microwire=4)
    size["design"].update(
        macaques=["M1"],
        ecog_patients=ecog,
        microwire_patients=["H2"],
        macaque_sessions=["early", "beh", "middle/inactivation", "beh/inactivation", "beh"],
    )
    size["design"]["sleep"]["duration_s"] = 5.0
    samples = design_samples(plan_design(size, config["simulation"]["agent"]))
    simulate_study(
        samples,
        seed=1949,
        size=size,
        simulation=config["simulation"],
        raw_root=root / "raw",
        gt_root=root / "gt",
        n_jobs=n_jobs,
    )
    return samples


@pytest.fixture(scope="module")
def design_run(tmp_path_factory):
    """A small instance of the paper design simulated through simulate_study (~10 s)."""
    root = tmp_path_factory.mktemp("design")
    return root, _simulate_small_design(root, ecog=[])


def _dataset_bytes(root: Path) -> dict[str, bytes]:
    """Every file below root but git's and DataLad's own (their dataset ids are random)."""
    own = {".git", ".datalad", ".gitmodules"}
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not own & set(p.relative_to(root).parts)
    }


def test_sessions_simulated_in_parallel_give_the_same_bytes(design_run, tmp_path):
    """n_jobs=2 (sessions in spawned processes, the ECoG one inline) = one process."""
    serial, parallel = tmp_path / "serial", tmp_path / "parallel"
    _simulate_small_design(serial, ecog=["H1"])
    _simulate_small_design(parallel, ecog=["H1"], n_jobs=2)
    for part in ("raw", "gt"):
        one, two = _dataset_bytes(serial / part), _dataset_bytes(parallel / part)
        assert sorted(one) == sorted(two)
        assert [name for name in one if one[name] != two[name]] == []
    assert any(name.endswith(".vhdr") for name in _dataset_bytes(serial / "raw"))


def test_design_run_writes_the_rules_outputs_and_every_listed_file(design_run):
    from panneuro.simulate.study import raw_dataset_files

    root, samples = design_run
    out = expected_outputs(samples, str(root / "raw"), str(root / "gt"))
    assert [p for p in out["raw"] + out["truth"] if not Path(p).exists()] == []
    written = set()
    for folder, subfolders, names in os.walk(root / "raw"):
        subfolders[:] = [d for d in subfolders if d not in (".git", ".datalad")]
        written |= {str(Path(folder) / n) for n in names if not n.startswith(".")}
    listed = set(raw_dataset_files(samples, str(root / "raw")))
    assert listed == written, (sorted(listed - written), sorted(written - listed))


def test_design_bids_metadata_names_condition_stage_and_epochs(design_run):
    import json

    root, _ = design_run
    raw = root / "raw"
    sessions = pd.read_csv(
        raw / "sub-M1" / "sub-M1_sessions.tsv", sep="\t", dtype=str, keep_default_na=False
    )
    assert sessions["condition"].tolist() == [
        "control",
        "control",
        "inactivation",
        "inactivation",
        "control",
    ]
    assert sessions["inactivated_region"].tolist() == [
        "n/a",
        "n/a",
        "hippocampus",
        "hippocampus",
        "n/a",
    ]
    assert sessions["learning_stage"].tolist() == ["early", "n/a", "middle", "n/a", "n/a"]
    assert sessions["acq_time"].is_monotonic_increasing
    described = json.loads((raw / "sub-M1" / "sub-M1_sessions.json").read_text())
    assert set(described["condition"]["Levels"]) == {"control", "inactivation"}
    # the sleep runs before and after the task, in the scans' acquisition times
    scans = pd.read_csv(raw / "sub-M1" / "ses-01" / "sub-M1_ses-01_scans.tsv", sep="\t")
    order = scans.sort_values("acq_time")["filename"].str.extract(r"task-(\w+?)_.*?(run-\d)?_ieeg")
    assert order[0].tolist() == ["sleep", "harlow", "harlow", "sleep"]
    assert order[1].iloc[0] == "run-1" and order[1].iloc[-1] == "run-2"
    sidecar = json.loads(
        (raw / "sub-M1/ses-01/ieeg/sub-M1_ses-01_task-sleep_acq-HPC_run-2_ieeg.json").read_text()
    )
    assert sidecar["TaskName"] == "sleep"
    assert not (
        raw / "sub-M1/ses-03/ieeg/sub-M1_ses-03_task-sleep_acq-HPC_run-1_ieeg.nwb"
    ).exists()  # no sleep in the inactivation session
    assert (raw / "task-sleep_events.json").exists()


def test_design_ground_truth_holds_each_planted_effect(design_run):
    import json

    root, _ = design_run
    gt = root / "gt" / "sub-M1"
    inactivated = json.loads((gt / "ses-03" / "sub-M1_ses-03_design.json").read_text())
    assert inactivated["condition"] == "inactivation"
    assert inactivated["behaviour"]["trial2_cost"] > 0.05
    assert inactivated["probes"]["HPC"]["coding_factor"] == 0.0
    assert (
        inactivated["probes"]["PFC"]["mean_stay_factor"]
        < inactivated["behaviour"]["mean_learning_set_prior"]
    )
    control = json.loads((gt / "ses-01" / "sub-M1_ses-01_design.json").read_text())
    assert control["behaviour"]["trial2_cost"] == 0.0
    runs = control["sleep_runs"]
    assert runs["HPC_run-1"]["epoch"] == "pre" and runs["HPC_run-2"]["epoch"] == "post"
    ripples = pd.read_csv(
        gt / "ses-01" / "sub-M1_ses-01_task-sleep_acq-HPC_run-2_ripples.tsv", sep="\t"
    )
    assert len(ripples) == runs["HPC_run-2"]["n_ripples"] > 0
    coding = pd.read_csv(gt / "ses-03" / "sub-M1_ses-03_acq-PFC_coding.tsv", sep="\t")
    events = pd.read_csv(
        root / "raw/sub-M1/ses-03/beh/sub-M1_ses-03_task-harlow_events.tsv", sep="\t"
    )
    assert coding[["problem", "trial"]].equals(events[["problem", "trial"]])
    assert np.load(gt / "ses-01" / "sub-M1_ses-01_acq-HPC_cofiring.npz")[
        "task_rate_correlation"
    ].shape == (6, 6)


def test_behaviour_only_inactivation_session_is_simulated_and_its_cost_saved(design_run):
    """ses-04 (beh/inactivation): trials only, its agent's prior odds x prior_odds_factor."""
    import json

    from panneuro.behaviour.model import LearningSetParams, expected_accuracy

    root, samples = design_run
    assert samples.loc[samples["session"] == "04", "datatype"].tolist() == ["beh"]
    assert not (root / "raw" / "sub-M1" / "ses-04" / "ieeg").exists()
    gt = root / "gt" / "sub-M1"
    truth = {
        s: json.loads((gt / f"ses-{s}" / f"sub-M1_ses-{s}_design.json").read_text())
        for s in ("02", "04", "05")
    }
    session = truth["04"]
    assert (session["kind"], session["stage"], session["condition"]) == (
        "beh",
        "n/a",
        "inactivation",
    )
    assert session["inactivated_region"] == "hippocampus" and session["probes"] == {}
    # in expectation, trial 2 below both neighbouring behaviour-only controls and below the
    # subject's own agent on the same problems (the planted cost)
    expected = {s: t["behaviour"]["expected_trial2_accuracy"] for s, t in truth.items()}
    assert expected["04"] < min(expected["02"], expected["05"]) - 0.05
    assert session["behaviour"]["trial2_cost"] > 0.1
    assert truth["02"]["behaviour"]["trial2_cost"] == truth["05"]["behaviour"]["trial2_cost"] == 0
    # the expectation is the inactivated agent's (n_half / prior_odds_factor) on its problems
    agent = json.loads((gt / "sub-M1_agent.json").read_text())
    factor = json.loads((root / "gt" / "design.json").read_text())["inactivation"][
        "prior_odds_factor"
    ]
    problems = np.arange(session["first_problem"], session["last_problem"] + 1)
    inactivated = LearningSetParams(n_half=agent["n_half"] / factor, beta=agent["beta"])
    assert expected["04"] == pytest.approx(
        expected_accuracy(inactivated, problems)[:, 1].mean(), abs=1e-8
    )
    events = pd.read_csv(
        root / "raw/sub-M1/ses-04/beh/sub-M1_ses-04_task-harlow_events.tsv", sep="\t"
    )
    assert sorted(set(events["problem"])) == problems.tolist()


def test_design_dataset_passes_the_bids_validator(design_run):
    from panneuro.compendium.bids_validation import run_bids_validator

    report = run_bids_validator(design_run[0] / "raw")
    assert report["n_errors"] == 0, report["errors"]


def test_design_coding_truth_gives_the_planted_rates(design_run):
    from panneuro.io.tables import read_events
    from panneuro.simulate.ephys import read_probe_coding, read_probe_ground_truth, tuned_rates

    root, _ = design_run
    prefix = root / "gt" / "sub-M1" / "ses-03" / "sub-M1_ses-03_acq-HPC"
    coding = read_probe_coding(prefix)
    _, units = read_probe_ground_truth(prefix)
    events = read_events(root / "raw/sub-M1/ses-03/beh/sub-M1_ses-03_task-harlow_events.tsv")
    rates = tuned_rates(events, units, duration=30.0, coding=coding)
    # the inactivated hippocampus: a quarter of the baseline rate and no tuning left
    expected = np.broadcast_to(0.25 * units["base_rate"].to_numpy()[:, None], rates.shape)
    np.testing.assert_allclose(rates, expected, rtol=1e-6)
    assert read_probe_coding(root / "gt" / "nothing") is None


def test_design_raw_files_carry_the_planted_effects(design_run):
    """Read back from the raw dataset: ripples in the sleep broadband, a silenced HPC."""
    import json

    import scipy.signal
    from spikeinterface.core import NpzSortingExtractor

    from panneuro.ephys.preprocessing import read_recording

    root, _ = design_run
    gt = root / "gt" / "sub-M1"
    nwb = root / "raw/sub-M1/ses-01/ieeg/sub-M1_ses-01_task-sleep_acq-HPC_run-2_ieeg.nwb"
    recording = read_recording(nwb, "nwb")
    truth = json.loads((gt / "ses-01" / "sub-M1_ses-01_design.json").read_text())
    channel = truth["sleep_runs"]["HPC_run-2"]["ripple_peak_channel"]
    fs = recording.get_sampling_frequency()
    trace = recording.get_traces(return_in_uV=True)[:, channel].astype(float)
    sos = scipy.signal.butter(4, [150.0, 250.0], btype="band", fs=fs, output="sos")
    envelope = np.abs(scipy.signal.hilbert(scipy.signal.sosfiltfilt(sos, trace)))
    ripples = pd.read_csv(
        gt / "ses-01" / "sub-M1_ses-01_task-sleep_acq-HPC_run-2_ripples.tsv", sep="\t"
    )
    at_peaks = envelope[(ripples["peak_time"].to_numpy() * fs).astype(int)]
    assert np.all(at_peaks > 0.4 * ripples["amplitude_uv"].to_numpy())
    assert np.median(envelope) < 0.2 * ripples["amplitude_uv"].min()
    # the inactivated hippocampus fires at about a quarter of its control rate
    rates = []
    for session in ("01", "03"):
        prefix = gt / f"ses-{session}" / f"sub-M1_ses-{session}_acq-HPC"
        sorting = NpzSortingExtractor(f"{prefix}_spikes.npz")
        events = pd.read_csv(
            root / f"raw/sub-M1/ses-{session}/beh/sub-M1_ses-{session}_task-harlow_events.tsv",
            sep="\t",
        )
        duration = float(events["onset"].iloc[-1] + events["duration"].iloc[-1] + 1.0)
        rates.append(sorting.count_total_num_spikes() / duration)
    assert 0.1 < rates[1] / rates[0] < 0.4  # 0.25 x the baseline, the tuning gone


def test_a_design_ecog_sessions_stay_code_follows_its_coding_or_is_off():
    from panneuro.simulate.study import ecog_stay_code
    from panneuro.simulate.task import build_events

    rng = np.random.default_rng(0)
    events = build_events(
        np.repeat([1, 2], 6), np.tile(np.arange(1, 7), 2), np.ones(12, int), rng, trial_duration=1.5
    )
    coding = pd.DataFrame({"stay_factor": np.linspace(0.2, 0.6, 12)})
    code = ecog_stay_code(events, coding, {"ecog_stay_gain": 1.0, "ecog_stay_electrodes": 4})
    assert code.gain == 1.0 and code.n_electrodes == 4
    np.testing.assert_array_equal(code.stay_factor, coding["stay_factor"])
    assert np.isnan(code.stay[0]) and np.isnan(code.stay[6])  # each problem's first trial
    assert (
        ecog_stay_code(events, coding, {"ecog_stay_gain": 0.0, "ecog_stay_electrodes": 4}) is None
    )
    assert ecog_stay_code(events, coding, {}) is None  # a config without the keys: none
