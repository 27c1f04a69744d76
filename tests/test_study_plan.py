"""The study object: what the sheet's data can make, and each rule's inputs."""

import copy
from types import SimpleNamespace

import pandas as pd
import pytest
import yaml
from compendium import ROOT

from panneuro.io.validation import read_samples
from panneuro.study import FIGURES, RULE_CONFIG, Study

CONFIG = yaml.safe_load((ROOT / "config/config.yaml").read_text())
SHEET = read_samples(ROOT / "config/samples.tsv")


def _study(samples, **changes):
    config = {**CONFIG, **changes}
    return Study.from_config(config, samples.reset_index(drop=True))


def _only(*datatypes):
    return SHEET[SHEET["datatype"].isin(datatypes)]


def test_shipped_sheet_makes_every_figure():
    study = _study(SHEET)
    # the study design's figures (7-10) are not mentioned without a design or sleep runs
    assert study.figures() == list(FIGURES)
    assert study.left_out_message() is None
    assert study.sleep_runs() == [] and study.sleep_probes() == []
    assert study.unit_sessions() == [("H2", "01"), ("M1", "01")]
    assert study.ecog_sessions() == [("H1", "01")]
    assert study.conversions() == []  # the simulated recordings are NWB already


def test_arrays_without_behaviour_get_sorting_only():
    study = _study(_only("array"), simulate=False)
    assert study.figures() == ["fig2_sorting"]
    assert study.unit_sessions() == [] and study.probe_sessions() == [("M1", "01")]
    message = study.left_out_message()
    for figure in (
        "fig1_behaviour",
        "fig3_monkey_decoding",
        "fig4_ecog",
        "fig5_human_units",
        "fig6_model",
    ):
        assert figure in message
    assert "no ECoG session with behaviour" in message and "\n" not in message
    inputs = study.session_nwb_inputs(SimpleNamespace(subject="M1", session="01"))
    assert inputs["events"] == []  # units NWB without a trials table
    assert len(inputs["sortings"]) == 2


def test_figure_2_reads_every_probes_motion_table():
    """figure_sorting's inputs: each probe's motion.tsv (a preprocess_probe output) in probe
    order; the planted drift only of probes whose simulation planted one (none today)."""
    study = _study(SHEET)
    inputs = study.sorting_figure_inputs()
    probes = study.probes()
    assert inputs["motion"] == [
        f"results/ephys/sub-{s}/ses-{ses}/acq-{p}/motion.tsv" for s, ses, p in probes
    ]
    assert [len(inputs[k]) for k in ("metrics", "waveforms", "gt")] == [len(probes)] * 3
    assert study.drifting_probes() == [] and inputs["planted_motion"] == []
    lab = _study(_only("array"), simulate=False)
    assert lab.sorting_figure_inputs()["gt"] == [] and lab.drifting_probes() == []
    assert len(lab.sorting_figure_inputs()["motion"]) == 2


def test_a_planted_drift_in_the_simulations_truth_reaches_figure_2(monkeypatch):
    import panneuro.simulate.study as simulate_study

    study = _study(SHEET)
    drifting = ("M1", "01", "HPC")
    truth = study.ground_truth("motion.tsv", [drifting])
    original = simulate_study.expected_outputs

    def with_drift(samples, raw_root, gt_root):
        outputs = original(samples, raw_root, gt_root)
        return {**outputs, "truth": outputs["truth"] + truth}

    monkeypatch.setattr(simulate_study, "expected_outputs", with_drift)
    assert study.drifting_probes() == [drifting]
    assert study.sorting_figure_inputs()["planted_motion"] == truth
    assert study.probe_labels(study.drifting_probes()) == ["M1 01 HPC"]


def test_ecog_and_behaviour_only():
    study = _study(_only("beh", "ecog"), simulate=False)
    assert study.figures() == ["fig1_behaviour", "fig4_ecog"]
    assert "fig2_sorting (no array or microwire row)" in study.left_out_message()


def test_arrays_with_behaviour_but_no_humans():
    study = _study(_only("beh", "array"), simulate=False)
    assert study.figures() == [
        "fig1_behaviour",
        "fig2_sorting",
        "fig3_monkey_decoding",
        "fig6_model",
    ]
    assert study.group_species() == ["macaque"]


def test_acquisition_formats_are_converted_before_the_ephys_stage():
    sheet = SHEET.copy()
    pfc = sheet["probe"] == "PFC"
    sheet.loc[pfc, "format"] = "spikeglx"
    sheet.loc[pfc, "path"] = "sourcedata/sub-M1/ses-01/ephys/run_g0/run_g0_t0.nidq.bin"
    study = _study(sheet, simulate=False)
    assert study.conversions() == [("M1", "01", "PFC")]
    nwb = "results/bids/sub-M1/ses-01/ieeg/sub-M1_ses-01_task-harlow_acq-PFC_ieeg.nwb"
    assert study.recording("M1", "01", "PFC") == nwb
    assert study.recording_format("M1", "01", "PFC") == "nwb"
    assert study.recording_format("M1", "01", "HPC") == "nwb"
    assert study.raw_recording("M1", "01", "PFC").startswith("resources/raw-keys/sourcedata/")
    assert study.converted_files("M1", "01", "PFC") == [
        nwb,
        nwb.replace("_ieeg.nwb", "_ieeg.json"),
        nwb.replace("_ieeg.nwb", "_channels.tsv"),
        "results/bids/sub-M1/ses-01/ieeg/sub-M1_ses-01_acq-PFC_electrodes.tsv",
        "results/bids/sub-M1/ses-01/ieeg/sub-M1_ses-01_acq-PFC_coordsystem.json",
        nwb.replace("_ieeg.nwb", "_events.tsv"),
    ]
    [conversion] = study.bids_conversions()
    assert conversion["format"] == "spikeglx" and conversion["converted"][0] == nwb


def test_sleep_runs_in_an_acquisition_format_are_converted_like_task_recordings():
    """A lab's binary sleep run is converted to NWB (run-level sidecars only: the probe's
    electrodes are its task recording's) and the sleep stage reads the converted file; a sleep
    run the stage does not use (no task recording of its probe) stays under sourcedata/."""
    sheet = SHEET.copy()
    sheet["task"], sheet["run"] = "harlow", "n/a"
    hpc = sheet[sheet["probe"] == "HPC"].iloc[0].to_dict()
    runs = [
        {
            **hpc,
            "task": "sleep",
            "run": run,
            "format": fmt,
            "path": f"sub-M1/ses-01/ephys/sub-M1_ses-01_task-sleep_acq-{probe}_run-{run}_raw.{ext}",
            "probe": probe,
        }
        for run, fmt, ext, probe in (
            ("1", "binary", "bin", "HPC"),
            ("2", "nwb", "nwb", "HPC"),
            ("1", "binary", "bin", "X9"),  # no task recording of probe X9
        )
    ]
    study = _study(pd.concat([sheet, pd.DataFrame(runs)], ignore_index=True), simulate=False)
    assert len(study.sleep_runs()) == 2
    assert study.conversions() == []  # the task recordings are NWB already
    assert study.sleep_conversions() == [("M1", "01", "HPC", "1")]
    nwb = "results/bids/sub-M1/ses-01/ieeg/sub-M1_ses-01_task-sleep_acq-HPC_run-1_ieeg.nwb"
    converted = [
        nwb,
        nwb.replace(".nwb", ".json"),
        nwb.replace("_ieeg.nwb", "_channels.tsv"),
        nwb.replace("_ieeg.nwb", "_events.tsv"),  # the run as one epoch
    ]
    assert study.converted_sleep_files("M1", "01", "HPC", "1") == converted
    assert study.bids_conversions() == [
        {"path": runs[0]["path"], "format": "binary", "converted": converted},
        {"path": runs[2]["path"], "format": "binary", "converted": []},
    ]
    assert set(converted) <= set(study.all_converted_files())
    one, two = (SimpleNamespace(subject="M1", session="01", probe="HPC", run=r) for r in "12")
    assert study.sleep_inputs(one)["recording"] == nwb and study.sleep_format(one) == "nwb"
    assert "run-2_raw.nwb" in study.sleep_inputs(two)["recording"]  # its raw input
    inputs = study.convert_sleep_inputs(one)
    assert "run-1_raw.bin" in inputs["recording"] and inputs["companions"] == []
    params = study.convert_sleep_params(one)
    assert params["task"] == "sleep" and not params["probe_sidecars"]
    assert params["format"] == "binary" and params["region"] == hpc["region"]
    # the raw inputs (BIDS validation) name the raw runs, not the converted file
    assert nwb not in study.raw_inputs()
    # its dataset-level sidecars (task-sleep_*) are in the view with the sleep data
    assert study.bids_scope()["tasks"] == ["harlow", "sleep"]
    assert _study(SHEET, simulate=False).bids_scope()["tasks"] == ["harlow"]


def test_remote_storage_names_files_not_key_records():
    study = Study.from_config({**CONFIG, "simulate": False}, SHEET, remote_storage=True)
    wc = SimpleNamespace(subject="M1", session="01", probe="PFC")
    assert study.preprocess_inputs(wc)["recording"] == (
        "resources/raw/sub-M1/ses-01/ieeg/sub-M1_ses-01_task-harlow_acq-PFC_ieeg.nwb"
    )
    # the BIDS sidecars read_recording checks it against are declared (undeclared, they were
    # missing when no earlier job on the machine had left local copies: CI, 2026-12-07)
    stem = "resources/raw/sub-M1/ses-01/ieeg/sub-M1_ses-01_task-harlow_acq-PFC"
    assert study.preprocess_inputs(wc)["companions"] == [
        "resources/raw/dataset_description.json",
        f"{stem}_channels.tsv",
        f"{stem}_ieeg.json",
    ]


def test_a_missing_row_is_named_with_the_sheet():
    with pytest.raises(
        ValueError, match="config/samples.tsv: expected one 'beh' row for sub-M9 ses-01"
    ):
        _study(SHEET).events_file("M9", "01")
    assert isinstance(_study(SHEET).rows("beh"), pd.DataFrame)


def test_heavy_jobs_are_sized_from_the_preset_before_the_simulation():
    study = _study(SHEET)
    wc = SimpleNamespace(subject="M1", session="01", probe="PFC")
    small = study.mem_mb(wc, 1, "preprocess_probe"), study.runtime(wc, 1, "preprocess_probe")
    assert study.mem_mb(wc, 2, "preprocess_probe") >= 2 * small[0] - 1  # retries ask for more
    assert study.runtime(wc, 2, "sort_probe") > study.runtime(wc, 1, "sort_probe")
    assert study.heavy_size(wc, "preprocess_probe") > 0


def test_fif_ecog_is_converted_to_brainvision():
    sheet = SHEET.copy()
    ecog = sheet["datatype"] == "ecog"
    sheet.loc[ecog, ["path", "format"]] = ["sourcedata/sub-H1/ses-01/sub-H1_ses-01.fif", "fif"]
    study = _study(sheet, simulate=False)
    assert study.ecog_conversions() == [("H1", "01")]
    vhdr = "results/bids/sub-H1/ses-01/ieeg/sub-H1_ses-01_task-harlow_ieeg.vhdr"
    assert study.ecog_file("H1", "01") == vhdr
    assert study.high_gamma_inputs(SimpleNamespace(subject="H1", session="01"))["ecog"] == vhdr
    assert vhdr in study.all_converted_files()
    assert study.bids_conversions()[-1]["format"] == "fif"


def test_design_sheet_sleep_runs_are_apart_from_the_task_rows():
    paper = read_samples(ROOT / "config/samples_paper.tsv")
    study = _study(paper, size="paper")
    assert len(study.samples) == (paper["task"] == "harlow").sum() < len(paper)
    assert study.probe_row("M1", "01", "HPC")["path"].endswith("_task-harlow_acq-HPC_ieeg.nwb")
    assert _study(SHEET).samples is SHEET or _study(SHEET).samples.equals(SHEET)


def _change(config, dotted):
    """A copy of ``config`` with the value at a dotted path changed (a section: a key added)."""
    config = copy.deepcopy(config)
    *parents, last = dotted.split(".")
    node = config
    for part in parents:
        node = node[part]
    node[last] = {**node[last], "changed": 1} if isinstance(node[last], dict) else "changed"
    return config


def test_config_params_are_the_values_the_rules_passed_by_hand():
    study = _study(SHEET, size="tiny")
    assert study.config_params("high_gamma_epochs")["band"] == CONFIG["ecog"]["high_gamma_band"]
    assert study.config_params("ecog_statistics")["window"] == CONFIG["ecog"]["test_window"]
    assert study.config_params("decode_session") == {
        "settings": CONFIG["decoding"],
        "seed": CONFIG["seed"],
    }
    assert study.config_params("simulate_dataset")["size"] is study.size
    # a size preset's override wins over the general value; without it the general value
    assert study.config_params("decoding_oracle")["n_replicates"] == 100
    no_override = {k: v for k, v in CONFIG["sizes"]["default"].items() if k != "oracle_replicates"}
    assert (
        _study(
            SHEET, sizes={**CONFIG["sizes"], "default": no_override}, size="default"
        ).config_params("decoding_oracle")["n_replicates"]
        == CONFIG["decoding"]["oracle"]["n_replicates"]
        != 100
    )
    chunk = study.config_params("curate_units")["chunk_duration"]
    assert chunk == CONFIG["ephys"]["analyzer_chunk_duration"] != CONFIG["ephys"]["chunk_duration"]
    ephys = {k: v for k, v in CONFIG["ephys"].items() if k != "analyzer_chunk_duration"}
    assert (
        _study(SHEET, ephys=ephys).config_params("curate_units")["chunk_duration"]
        == CONFIG["ephys"]["chunk_duration"]
    )


def _read(key):
    """The key a RULE_CONFIG entry reads in the shipped config (a tuple: its first present)."""
    for dotted in (key,) if isinstance(key, str) else key:
        node = CONFIG["sizes"][CONFIG["size"]] if dotted.startswith("size") else CONFIG
        parts = dotted.split(".")[1:] if dotted.startswith("size") else dotted.split(".")
        for part in parts:
            if part not in node:
                break
            node = node[part]
        else:
            return dotted
    raise KeyError(key)


def test_each_config_key_changes_only_the_rules_reading_it():
    """Fine-grained invalidation: a key's change reaches exactly the rules listing it."""
    base = {rule: _study(SHEET).config_params(rule) for rule in RULE_CONFIG}
    keys = {
        k
        for params in RULE_CONFIG.values()
        for v in params.values()
        for k in ((v,) if isinstance(v, str) else v)
        if not k.startswith("size") and k != "simulation"
    }
    for key in sorted(keys):
        changed = _change(CONFIG, key)
        study = Study.from_config(changed, SHEET)
        differ = {rule for rule in RULE_CONFIG if study.config_params(rule) != base[rule]}
        readers = {
            rule
            for rule, params in RULE_CONFIG.items()
            for v in params.values()
            if _read(v) == key or key.startswith(f"{_read(v)}.")
        }
        assert differ == readers, key
    assert {r for r in RULE_CONFIG if "behaviour.figure_blocks" in RULE_CONFIG[r].values()} == {
        "figure_behaviour"
    }


def test_a_missing_config_key_is_named():
    config = copy.deepcopy(CONFIG)
    del config["ecog"]["baseline"]
    with pytest.raises(KeyError, match="config/config.yaml: no key ecog.baseline; add it"):
        Study.from_config(config, SHEET).config_params("high_gamma_epochs")


def test_bids_view_params_are_conversions_and_scope():
    study = _study(SHEET, simulate=False)
    assert study.bids_view_params() == {
        "conversions": study.bids_conversions(),
        "scope": study.bids_scope(),
    }


def test_design_sheet_plans_the_sleep_runs():
    paper = read_samples(ROOT / "config/samples_paper.tsv")
    study = _study(paper, size="paper")
    sleep = paper[paper["task"] == "sleep"]
    runs = study.sleep_runs()
    assert len(runs) == len(sleep) > 0
    assert {r for *_, r in runs} == {"1", "2"}
    assert {p for _, _, p, _ in runs} == {"HPC", "MW"}  # the hippocampal probes only
    assert len(study.sleep_probes()) == len(runs) // 2
    assert "fig9_sleep" in study.figures()
    key = ("M1", "01", "HPC", "2")
    raw = study.sleep_recording(*key)
    assert raw == (
        "resources/raw-keys/sub-M1/ses-01/ieeg/sub-M1_ses-01_task-sleep_acq-HPC_run-2_ieeg.nwb.json"
    )
    assert raw in study.raw_inputs()  # raw recordings enter as DataLad key records
    wc = SimpleNamespace(subject="M1", session="01", probe="HPC", run="2")
    assert study.sleep_inputs(wc) == {"recording": raw, "companions": []}
    assert study.sleep_format(wc) == "nwb"
    inputs = study.reactivation_inputs(wc)
    assert inputs["task_sorting"] == "results/ephys/sub-M1/ses-01/acq-HPC/sorting"
    assert inputs["units"] == [
        f"results/ephys/sub-M1/ses-01/acq-HPC/sleep/run-{r}/units.npz" for r in ("1", "2")
    ]
    assert inputs["gt_ripples"][1].endswith(
        "sub-M1/ses-01/sub-M1_ses-01_task-sleep_acq-HPC_run-2_ripples.tsv"
    )
    assert study.reactivation_params(wc) == {"species": "macaque", "region": "hippocampus"}
    with pytest.raises(ValueError, match="no sleep row for sub-M1 ses-01 probe PFC run 1"):
        study.sleep_row("M1", "01", "PFC", "1")


def test_sleep_runs_need_the_task_recording_and_both_runs():
    paper = read_samples(ROOT / "config/samples_paper.tsv")
    # without the task's HPC recording there are no templates: its sleep runs are not planned
    no_task = paper[~((paper["task"] == "harlow") & (paper["probe"] == "HPC"))]
    study = _study(no_task, size="paper")
    assert all(p != "HPC" for _, _, p, _ in study.sleep_runs())
    # one run only: ripples are detected, reactivation (after vs before) is not planned
    only_pre = paper[paper["run"] != "2"]
    study = _study(only_pre, size="paper")
    assert study.sleep_runs() and study.sleep_probes() == []
    assert "fig9_sleep" not in study.figures()
    assert "fig9_sleep (no probe with sleep runs 1 and 2" in study.left_out_message()
    # the task plan is the same with and without the sleep rows
    without = _study(paper[paper["task"] == "harlow"], size="paper")
    assert without.raw_inputs() == [
        r for r in _study(paper, size="paper").raw_inputs() if "task-sleep" not in r
    ]


# --- the study design's group analyses ---------------------------------------------------------
PAPER_SHEET = read_samples(ROOT / "config/samples_paper.tsv")


def _paper_study(sheet=PAPER_SHEET, **changes):
    config = {**CONFIG, "size": "paper", "samples": "config/samples_paper.tsv", **changes}
    return Study.from_config(config, sheet.reset_index(drop=True))


def test_paper_design_plans_the_group_analyses():
    from panneuro.study import DESIGN_FIGURES

    study = _paper_study()
    assert study.figures() == [*FIGURES, *DESIGN_FIGURES]
    assert study.left_out_message() is None
    assert study.group_analyses() == ["stage_effects", "inactivation_effects"]
    stage = study.stage_sessions()
    assert ("M1", "01") in stage and ("M1", "04") not in stage  # inactivation: not a stage
    assert ("H2", "01") in stage and ("H1", "01") not in stage  # ECoG has no units
    # ECoG patients enter the stage effects by their stay code on high gamma, with its truth
    assert study.ecog_stage_sessions() == [("H1", "01"), ("H3", "01")]
    assert study.ecog_oracle_sessions() == [("H1", "01"), ("H3", "01")]
    inputs = study.stage_effects_inputs(None)
    assert inputs["ecog_ccgp"] == [
        "results/ecog/sub-H1_ses-01_ccgp.tsv",
        "results/ecog/sub-H3_ses-01_ccgp.tsv",
    ]
    assert inputs["ecog_oracle"][1] == "results/ecog/sub-H3_ses-01_ccgp_oracle.tsv"
    assert "resources/raw/sub-H1/sub-H1_sessions.tsv" in inputs["design"]
    params = study.stage_effects_params(None)
    assert params["ecog_sessions"] == [["H1", "01"], ["H3", "01"]]
    assert params["species"]["H1"] == "human"
    oracle = study.ecog_stay_oracle_inputs(SimpleNamespace(subject="H1", session="01"))
    assert oracle["truth"].endswith("sub-H1/ses-01/sub-H1_ses-01_ecog-truth.json")
    assert study.ecog_region(SimpleNamespace(subject="H1", session="01")) == "temporal"
    # behaviour: every inactivation session, recorded (04, 10) or behaviour-only (07, 13),
    # with its neighbouring controls of its kind; codes: the recorded ones only
    assert study.inactivation_sessions() == [
        (m, f"{s:02d}") for m in ("M1", "M2") for s in range(3, 15)
    ]
    assert study.inactivation_unit_sessions() == [
        (m, s) for m in ("M1", "M2") for s in ("03", "04", "05", "09", "10", "11")
    ]
    inputs = study.inactivation_effects_inputs(None)
    assert len(inputs["ccgp"]) == len(inputs["oracle"]) == len(inputs["decoding"]) == 12
    assert len(inputs["events"]) == len(inputs["truth"]) == 24
    assert inputs["truth"][3].endswith("sub-M1/ses-06/sub-M1_ses-06_design.json")
    assert len(inputs["metrics"]) == 24 and inputs["design"] == [
        "resources/raw/sub-M1/sub-M1_sessions.tsv",
        "resources/raw/sub-M2/sub-M2_sessions.tsv",
    ]
    params = study.inactivation_effects_params(None)
    assert params["probes"][:2] == [["M1", "03", "prefrontal"], ["M1", "03", "hippocampus"]]
    assert params["sessions"] == [list(k) for k in study.inactivation_unit_sessions()]
    assert params["behaviour_sessions"] == [list(k) for k in study.inactivation_sessions()]
    assert ("M1", "07") not in study.ccgp_oracle_sessions()  # no units: no CCGP truth
    oracle = study.ccgp_oracle_inputs(SimpleNamespace(subject="M1", session="04"))
    assert oracle["coding"][0].endswith("sub-M1/ses-04/sub-M1_ses-04_acq-PFC_coding.tsv")
    assert study.group_tables()[0] == "results/group/stage_effects.tsv"


def test_an_ecog_only_design_plans_the_stage_effects_from_its_patients():
    # a lab with ECoG patients only (no arrays, no microwires): two patients are enough
    sheet = PAPER_SHEET[PAPER_SHEET["subject"].isin(["H1", "H3"])]
    study = _paper_study(sheet)
    assert study.stage_sessions() == [] and study.ecog_stage_sessions() == [
        ("H1", "01"),
        ("H3", "01"),
    ]
    assert study.group_analyses() == ["stage_effects"]
    assert "fig7_learning_stages" in study.figures()
    assert study.stage_effects_inputs(None)["ccgp"] == []
    # one patient: not enough, and said so
    one = _paper_study(sheet[sheet["subject"] == "H1"])
    assert "human patients (microwire or ECoG)" in one.group_plan()["stage_effects"]
    assert one.ecog_oracle_sessions() == []


def test_design_subset_without_inactivation_leaves_out_figure_8():
    keep = ~PAPER_SHEET["session"].isin(["04", "07", "10", "13"])
    study = _paper_study(PAPER_SHEET[keep])
    assert study.group_plan()["inactivation_effects"] is not None
    assert "fig8_inactivation" not in study.figures()
    assert "fig7_learning_stages" in study.figures()
    message = study.left_out_message()
    assert "fig8_inactivation (needs two subjects with an inactivation session" in message
    # figure 10 reads the planned group effects and, with sleep runs, the sleep stage's
    assert study.group_effect_tables() == [
        "results/group/stage_effects.tsv",
        "results/group/sleep_effects.tsv",
    ]


def _behaviour_only_design(macaques=("M1", "M2")):
    """A paper config whose macaques have behaviour-only sessions, and its sheet (macaques)."""
    from panneuro.simulate.design import design_samples, plan_design

    config = copy.deepcopy(CONFIG)
    design = config["sizes"]["paper"]["design"]
    design.update(
        macaques=list(macaques),
        macaque_sessions=["beh", "beh/inactivation", "beh", "beh", "beh/inactivation", "beh"],
    )
    sheet = design_samples(plan_design(config["sizes"]["paper"], CONFIG["simulation"]["agent"]))
    return config, sheet[sheet["species"] == "macaque"]


def test_behaviour_only_inactivation_design_plans_the_behavioural_effects():
    config, sheet = _behaviour_only_design()
    study = _paper_study(sheet, sizes=config["sizes"])
    assert study.group_plan()["inactivation_effects"] is None
    assert study.group_analyses() == ["inactivation_effects"]  # no recorded stage
    assert "fig8_inactivation" in study.figures()
    assert study.inactivation_sessions() == [
        (m, f"{s:02d}") for m in ("M1", "M2") for s in range(1, 7)
    ]
    # no recorded session: no code, decoding, unit or truth table of the neural contrast
    assert study.inactivation_unit_sessions() == [] and study.ccgp_oracle_sessions() == []
    inputs = study.inactivation_effects_inputs(None)
    assert inputs["ccgp"] == inputs["oracle"] == inputs["decoding"] == inputs["metrics"] == []
    assert inputs["events"][1] == (
        "resources/raw/sub-M1/ses-02/beh/sub-M1_ses-02_task-harlow_events.tsv"
    )
    assert len(inputs["truth"]) == 12 and inputs["design"] == [
        "resources/raw/sub-M1/sub-M1_sessions.tsv",
        "resources/raw/sub-M2/sub-M2_sessions.tsv",
    ]
    params = study.inactivation_effects_params(None)
    assert params["sessions"] == [] and params["probes"] == []
    assert params["species"] == {"M1": "macaque", "M2": "macaque"}
    assert len(params["behaviour_sessions"]) == 12


def test_behaviour_only_inactivation_needs_two_subjects():
    config, sheet = _behaviour_only_design()
    one = _paper_study(sheet[sheet["subject"] == "M1"], sizes=config["sizes"])
    reason = one.group_plan()["inactivation_effects"]
    assert reason.startswith(
        "needs two subjects with an inactivation session and a "
        "neighbouring control session of its kind"
    )
    assert "fig8_inactivation (needs two subjects" in one.left_out_message()
    assert one.group_tables() == []
    # two subjects, but one without a control beside its inactivation sessions
    alone = ~((sheet["subject"] == "M2") & ~sheet["session"].isin(["02", "05"]))
    study = _paper_study(sheet[alone], sizes=config["sizes"])
    assert study.group_plan()["inactivation_effects"] == reason


def _lab_sessions(raw, subject, design_columns: bool):
    folder = raw / f"sub-{subject}"
    folder.mkdir(parents=True, exist_ok=True)
    table = pd.DataFrame({"session_id": ["ses-01"], "acq_time": ["2020-01-01T10:00:00"]})
    if design_columns:
        table = table.assign(
            condition="control",
            inactivated_region="n/a",
            learning_stage="early",
            first_problem=1,
            last_problem=40,
        )
    table.to_csv(folder / f"sub-{subject}_sessions.tsv", sep="\t", index=False)


def test_lab_without_design_columns_gets_the_six_figures(tmp_path):
    for subject in set(SHEET["subject"]):
        _lab_sessions(tmp_path, subject, design_columns=False)
    study = _study(SHEET, simulate=False, raw_dir=str(tmp_path))
    assert study.design is None
    assert study.figures() == list(FIGURES)
    assert study.left_out_message() is None  # the design figures are not mentioned
    assert "no study design" in study.figure_plan()["fig7_learning_stages"]
    assert study.group_tables() == [] and study.ccgp_oracle_sessions() == []


def test_lab_with_design_columns_but_too_few_sessions(tmp_path):
    for subject in set(SHEET["subject"]):
        _lab_sessions(tmp_path, subject, design_columns=True)
    study = _study(SHEET, simulate=False, raw_dir=str(tmp_path))
    assert study.design is not None and set(study.design["learning_stage"]) == {"early"}
    assert study.group_tables() == []
    assert "fig7_learning_stages (needs two subjects" in study.left_out_message()
