"""Tests of panneuro.results.readers: a run's result tables as the figures read them."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from panneuro.ephys.curation import write_waveforms
from panneuro.io.tables import write_tsv
from panneuro.results import (
    open_run,
    read_behaviour,
    read_decoding,
    read_ecog_sessions,
    read_latent_regressions,
    read_probe_sorting,
    read_session_trials,
    read_session_units,
    read_sorting_summaries,
)


def test_read_probe_sorting_reads_unit_ids_as_strings(tmp_path):
    write_tsv(
        pd.DataFrame({"unit_id": [1, 2], "snr": [5.0, 2.0], "keep": [1, 0]}),
        tmp_path / "metrics.tsv",
    )
    write_waveforms(
        {"unit_ids": np.array(["1", "2"]), "templates": np.zeros((2, 90, 4))},
        tmp_path / "waveforms.npz",
    )
    probe = read_probe_sorting(
        "M1 01 PFC", "prefrontal", tmp_path / "metrics.tsv", tmp_path / "waveforms.npz"
    )
    assert probe.metrics["unit_id"].tolist() == ["1", "2"]
    assert probe.waveforms["templates"].shape == (2, 90, 4)
    assert probe.gt is None


def test_read_probe_sorting_reads_the_motion_tables(tmp_path):
    """Figure 2's panel g from the declared files: motion.tsv with rows, and a planted drift."""
    from panneuro.ephys.motion import write_motion
    from panneuro.figures.fig2_sorting import plot_sorting_figure

    write_tsv(
        pd.DataFrame({"unit_id": [1, 2], "snr": [5.0, 2.0], "keep": [1, 0]}),
        tmp_path / "metrics.tsv",
    )
    write_waveforms(
        {"unit_ids": np.array(["1", "2"]), "templates": np.zeros((2, 90, 4))},
        tmp_path / "waveforms.npz",
    )
    t = np.arange(0.0, 20.0, 2.0)
    write_motion(
        pd.DataFrame({"time_s": t, "depth_um": 100.0, "displacement_um": np.sin(t)}),
        tmp_path / "drifting.tsv",
    )
    write_motion(None, tmp_path / "still.tsv")
    write_tsv(pd.DataFrame({"time_s": t, "displacement_um": np.sin(t)}), tmp_path / "planted.tsv")
    files = (tmp_path / "metrics.tsv", tmp_path / "waveforms.npz")
    still = read_probe_sorting("M1 01 PFC", "prefrontal", *files, motion=tmp_path / "still.tsv")
    assert still.motion is None and still.planted_motion is None
    assert len(plot_sorting_figure([still]).get_axes()) == 6  # the six-panel figure
    drifting = read_probe_sorting(
        "M1 05 NP",
        "prefrontal",
        *files,
        motion=tmp_path / "drifting.tsv",
        planted_motion=tmp_path / "planted.tsv",
    )
    assert len(drifting.motion) == len(t) and len(drifting.planted_motion) == len(t)
    axes = plot_sorting_figure([still, drifting]).get_axes()
    assert len(axes) == 7 and axes[6].get_title(loc="left").startswith("g")
    assert "RMS error" in axes[6].get_legend().get_texts()[0].get_text()


@pytest.mark.workflow
def test_readers_open_the_tiny_run(tiny_run):
    run = open_run(tiny_run)
    behaviour = read_behaviour(run)
    assert set(run.samples["subject"]) <= set(behaviour["curves"]["subject"])
    summaries = read_sorting_summaries(run)
    assert [s.label for s in summaries] == [f"{s} {ses} {p}" for s, ses, p in run.probes()]
    assert all(s.gt is not None and len(s.metrics) for s in summaries)
    assert all(s.motion is None for s in summaries)  # no high-density probe: none corrected
    decoding, ccgp = read_decoding(run, "macaque")
    assert set(zip(decoding["subject"], decoding["session"], strict=True)) == set(
        run.probe_sessions(species="macaque")
    )
    assert set(ccgp["variable"]) == {run.config["decoding"]["cross_condition"]["variable"]}
    regressions = read_latent_regressions(run)
    assert set(regressions["species"]) == {run.species(*s) for s in run.probe_sessions()}
    ecog = read_ecog_sessions(run)
    assert [s.label for s in ecog] == [f"sub-{s} ses-{ses}" for s, ses in run.ecog_sessions()]
    assert all(s.truth is not None for s in ecog)
    truth = json.loads(
        run.ground_truth(
            f"sub-{run.ecog_sessions()[0][0]}",
            f"ses-{run.ecog_sessions()[0][1]}",
            f"sub-{run.ecog_sessions()[0][0]}_ses-{run.ecog_sessions()[0][1]}_ecog-truth.json",
        ).read_text()
    )
    assert ecog[0].truth == truth


@pytest.mark.workflow
def test_session_units_and_trials_come_from_the_nwb(tiny_run):
    run = open_run(tiny_run)
    subject, session = run.probe_sessions()[0]
    units, spike_times = read_session_units(run, subject, session)
    trials = read_session_trials(run.units_nwb(subject, session))
    assert len(units) == len(spike_times) > 0
    assert {"start_time", "correct", "feedback_time", "response_time"} <= set(trials.columns)
    events = pd.read_csv(
        Path(tiny_run)
        / run.config["raw_dir"]
        / run.samples.query("subject == @subject and session == @session and datatype == 'beh'")[
            "path"
        ].iloc[0],
        sep="\t",
    )
    assert trials["start_time"].to_numpy() == pytest.approx(events["onset"].to_numpy())
    assert trials["correct"].tolist() == events["correct"].tolist()
