"""Tests of panneuro.results: opening a compendium folder and reading a run's results."""

import json
import shutil
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from compendium import ROOT

from panneuro.ephys.curation import write_waveforms
from panneuro.figures.rulegraph import parse_dot
from panneuro.figures.save import save_figure
from panneuro.io.tables import write_tsv
from panneuro.results import (
    FIGURES_ENV,
    ROOT_ENV,
    compendium_root,
    figure_sources,
    figures_dir,
    open_run,
    plan_workflow,
    read_behaviour,
    read_decoding,
    read_ecog_sessions,
    read_latent_regressions,
    read_probe_sorting,
    read_session_trials,
    read_session_units,
    read_sorting_summaries,
    show,
)

SHEET = """subject\tsession\tspecies\tdatatype\tprobe\tregion\tpath\tformat
M1\t01\tmacaque\tbeh\tn/a\tn/a\tm1_01.tsv\ttsv
M1\t01\tmacaque\tarray\tPFC\tprefrontal\tm1_01_pfc.nwb\tnwb
M1\t01\tmacaque\tarray\tHPC\thippocampus\tm1_01_hpc.nwb\tnwb
M1\t02\tmacaque\tbeh\tn/a\tn/a\tm1_02.tsv\ttsv
H1\t01\thuman\tbeh\tn/a\tn/a\th1.tsv\ttsv
H1\t01\thuman\tecog\tgrid\ttemporal\th1.vhdr\tbrainvision
H2\t01\thuman\tbeh\tn/a\tn/a\th2.tsv\ttsv
H2\t01\thuman\tmicrowire\tMW\thippocampus\th2.nwb\tnwb
"""


@pytest.fixture
def compendium(tmp_path):
    """A compendium folder: the repository's config with a small sample sheet of its own."""
    (tmp_path / "Snakefile").write_text("# stand-in\n")
    shutil.copytree(ROOT / "config", tmp_path / "config")
    (tmp_path / "config" / "samples.tsv").write_text(SHEET)
    return tmp_path


def test_compendium_root_takes_the_argument_then_the_environment(compendium, monkeypatch):
    monkeypatch.setenv(ROOT_ENV, str(compendium))
    assert compendium_root() == compendium.resolve()
    monkeypatch.delenv(ROOT_ENV)
    assert compendium_root() == ROOT
    assert compendium_root(compendium) == compendium.resolve()


def test_compendium_root_names_the_fix_when_there_is_no_snakefile(tmp_path):
    with pytest.raises(FileNotFoundError, match=f"no Snakefile.*set {ROOT_ENV}"):
        compendium_root(tmp_path)


def test_open_run_derives_the_sessions_the_rules_use(compendium):
    run = open_run(compendium)
    assert run.probes() == [("M1", "01", "PFC"), ("M1", "01", "HPC"), ("H2", "01", "MW")]
    assert run.probe_sessions() == [("H2", "01"), ("M1", "01")]
    assert run.probe_sessions(species="macaque") == [("M1", "01")]
    assert run.probe_sessions(("microwire",), "human") == [("H2", "01")]
    assert run.probe_sessions(("array",), "human") == []
    assert run.ecog_sessions() == [("H1", "01")]
    assert run.region("M1", "01", "HPC") == "hippocampus"
    assert run.species("H2", "01") == "human"
    with pytest.raises(ValueError, match="probe XYZ"):
        run.region("M1", "01", "XYZ")
    with pytest.raises(ValueError, match="no row for sub-M9"):
        run.species("M9", "01")


def test_open_run_applies_nested_overrides(compendium):
    run = open_run(compendium, overrides={"simulate": False, "decoding": {"alpha": 0.01}})
    assert run.simulated is False
    assert run.config["decoding"]["alpha"] == 0.01
    assert run.config["decoding"]["variables"] == open_run(compendium).config["decoding"][
        "variables"]


def test_open_run_names_a_missing_sample_sheet(compendium):
    (compendium / "config" / "samples.tsv").unlink()
    with pytest.raises(FileNotFoundError, match="samples.tsv: sample sheet not found"):
        open_run(compendium)


def test_missing_results_name_the_snakemake_target(compendium):
    run = open_run(compendium)
    with pytest.raises(FileNotFoundError,
                       match="learning_set_curves.tsv: not found; make it first: snakemake "
                             "results/behaviour/learning_set_curves.tsv"):
        read_behaviour(run)
    with pytest.raises(FileNotFoundError, match="acq-PFC/metrics.tsv: not found"):
        read_sorting_summaries(run)


def test_read_probe_sorting_reads_unit_ids_as_strings(tmp_path):
    write_tsv(pd.DataFrame({"unit_id": [1, 2], "snr": [5.0, 2.0], "keep": [1, 0]}),
              tmp_path / "metrics.tsv")
    write_waveforms({"unit_ids": np.array(["1", "2"]), "templates": np.zeros((2, 90, 4))},
                    tmp_path / "waveforms.npz")
    probe = read_probe_sorting("M1 01 PFC", "prefrontal", tmp_path / "metrics.tsv",
                               tmp_path / "waveforms.npz")
    assert probe.metrics["unit_id"].tolist() == ["1", "2"]
    assert probe.waveforms["templates"].shape == (2, 90, 4)
    assert probe.gt is None


def test_show_renders_and_saves_as_the_workflow_does(tmp_path, compendium, monkeypatch):
    def figure():
        fig, ax = plt.subplots(figsize=(3, 2))
        ax.plot([0, 1], [1, 0])
        return fig

    shown = show(figure())
    assert shown._repr_png_().startswith(b"\x89PNG") and shown.path is None
    saved = show(figure(), "line", folder=tmp_path)
    save_figure(figure(), tmp_path / "ref.pdf", tmp_path / "ref.png")
    assert saved.path == tmp_path / "line.png"
    assert saved.data == (tmp_path / "ref.png").read_bytes() == shown.data
    assert (tmp_path / "line.pdf").read_bytes() == (tmp_path / "ref.pdf").read_bytes()
    with pytest.raises(ValueError, match="folder="):
        show(figure(), "line")
    monkeypatch.setenv(FIGURES_ENV, str(tmp_path / "out"))
    assert figures_dir(open_run(compendium)) == tmp_path / "out"
    assert (tmp_path / "out").is_dir()


def test_figure_sources_trace_every_figure_to_a_plotting_function():
    import importlib

    sources = figure_sources(open_run(ROOT))
    made = sorted({p.stem for p in (ROOT / "workflow" / "report").glob("fig*.rst")})
    assert sources["figure"].tolist() == made
    for row in sources.itertuples():
        assert (ROOT / row.script).is_file() and (ROOT / row.rule_file).is_file()
        module, name = row.function.rsplit(".", 1)
        assert callable(getattr(importlib.import_module(module), name))
        assert row.rule in (ROOT / row.rule_file).read_text()


def test_plan_workflow_gives_the_rule_graph_without_touching_the_compendium():
    run = open_run(ROOT)
    before = sorted(p.name for p in ROOT.iterdir())
    graph = parse_dot(plan_workflow(run, "--rulegraph"))
    assert sorted(p.name for p in ROOT.iterdir()) == before
    assert set(figure_sources(run)["rule"]) <= set(graph.rules)
    assert "all" in graph.rules
    with pytest.raises(RuntimeError, match="--no-such-option"):
        plan_workflow(run, "--no-such-option")


@pytest.mark.workflow
def test_readers_open_the_tiny_run(tiny_run):
    run = open_run(tiny_run)
    behaviour = read_behaviour(run)
    assert set(run.samples["subject"]) <= set(behaviour["curves"]["subject"])
    summaries = read_sorting_summaries(run)
    assert [s.label for s in summaries] == [f"{s} {ses} {p}" for s, ses, p in run.probes()]
    assert all(s.gt is not None and len(s.metrics) for s in summaries)
    decoding, ccgp = read_decoding(run, "macaque")
    assert set(zip(decoding["subject"], decoding["session"], strict=True)) \
        == set(run.probe_sessions(species="macaque"))
    assert set(ccgp["variable"]) == {run.config["decoding"]["cross_condition"]["variable"]}
    regressions = read_latent_regressions(run)
    assert set(regressions["species"]) == {run.species(*s) for s in run.probe_sessions()}
    ecog = read_ecog_sessions(run)
    assert [s.label for s in ecog] == [f"sub-{s} ses-{ses}" for s, ses in run.ecog_sessions()]
    assert all(s.truth is not None for s in ecog)
    truth = json.loads(run.ground_truth(
        f"sub-{run.ecog_sessions()[0][0]}", f"ses-{run.ecog_sessions()[0][1]}",
        f"sub-{run.ecog_sessions()[0][0]}_ses-{run.ecog_sessions()[0][1]}_ecog-truth.json"
    ).read_text())
    assert ecog[0].truth == truth


@pytest.mark.workflow
def test_session_units_and_trials_come_from_the_nwb(tiny_run):
    run = open_run(tiny_run)
    subject, session = run.probe_sessions()[0]
    units, spike_times = read_session_units(run, subject, session)
    trials = read_session_trials(run.units_nwb(subject, session))
    assert len(units) == len(spike_times) > 0
    assert {"start_time", "correct", "feedback_time", "response_time"} <= set(trials.columns)
    events = pd.read_csv(Path(tiny_run) / run.config["raw_dir"] / run.samples.query(
        "subject == @subject and session == @session and datatype == 'beh'")["path"].iloc[0],
        sep="\t")
    assert trials["start_time"].to_numpy() == pytest.approx(events["onset"].to_numpy())
    assert trials["correct"].tolist() == events["correct"].tolist()


@pytest.mark.workflow
def test_a_run_is_read_in_place_from_a_bucket(tiny_run, tmp_path, monkeypatch):
    from s3server import S3_KEYS, moto_s3, s3_client

    from panneuro.io.tables import read_tsv
    from panneuro.results import plot_session_unit, read_unit_spike_times

    for name, value in S3_KEYS.items():
        monkeypatch.setenv(name, value)
    with moto_s3(tmp_path / "moto.log") as url:
        client = s3_client(url)
        client.create_bucket(Bucket="panneuro-read")
        for path in sorted((tiny_run / "config").rglob("*")) + sorted(
                (tiny_run / "results").rglob("*")):  # the layout of a run on S3 storage
            if path.is_file() and "preprocessed" not in path.parts:
                client.upload_file(str(path), "panneuro-read",
                                   f"tiny/{path.relative_to(tiny_run)}")
        run, local = open_run("s3://panneuro-read/tiny", endpoint_url=url), open_run(tiny_run)
        assert run.samples.equals(local.samples) and run.probes() == local.probes()
        table = "results/decoding/sub-M1_ses-01_decoding.tsv"  # tables: read whole
        pd.testing.assert_frame_equal(read_tsv(run.result(table)), read_tsv(local.result(table)))
        # one unit's spikes by byte range: a small part of its session's NWB file
        units, spike_times = read_session_units(local, "M1", "01")
        unit = int(units.index[len(units) // 2])
        size = run.result_size(run.units_nwb("M1", "01"))
        before = run.store.counter.n_bytes
        spikes = read_unit_spike_times(run, "M1", "01", unit)
        received = run.store.counter.n_bytes - before
        np.testing.assert_array_equal(spikes, spike_times[units.index.get_loc(unit)])
        print(f"unit {unit}: {received} of {size} bytes ({received / size:.1%}), "
              f"{spikes.size} spikes")
        assert received < 0.2 * size, (received, size)
        remote_units, remote_spikes = read_session_units(run, "M1", "01")
        pd.testing.assert_frame_equal(remote_units, units)
        assert all(np.array_equal(a, b) for a, b in zip(remote_spikes, spike_times, strict=True))
        pd.testing.assert_frame_equal(read_session_trials(run, "M1", "01"),
                                      read_session_trials(local.units_nwb("M1", "01")))
        plt.close(plot_session_unit(run, "M1", "01", unit))  # the notebook's raster
        copied = [p.name for p in Path(run.store._cache.name).rglob("*") if p.is_file()]
        assert copied and not [n for n in copied if n.endswith(".nwb")], copied
        with pytest.raises(FileNotFoundError, match="not in the bucket"):
            run.result("results/none.tsv")
