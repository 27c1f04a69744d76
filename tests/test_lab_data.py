"""A lab's own recordings, end to end: the tiny study handed over as a lab would, and run so.

The tiny study's raw dataset (from the shared ``tiny_run``) is exported as a plain folder (no
git, no DataLad) with the prefrontal array as SpikeGLX (NI-DAQ stream), the hippocampal array
as plain binary and the human microwires as Open Ephys binary, ECoG as it is (BrainVision), and
a sample sheet naming each format. The workflow runs on it with ``--config simulate=false`` (YAML's
spelling), converts the three acquisition formats to iEEG-datatype NWB with NeuroConv and must
reach ``all``: every figure, the converted dataset valid BIDS, every NWB file clean under
nwbinspector's DANDI configuration, and sorting as accurate as on the NWB originals. The lab
also hands over a recording the simulated study does not make: a drifting 64-channel
high-density probe (``panneuro.simulate.drift``, 20 s, in a session of its own without
behaviour), whose motion the workflow must estimate and correct and figure 2 draw (panel g).
Two partial sheets (arrays only, ECoG only) then reuse that run's results: each reaches
``all`` with the figures its data support and says, once at planning, which it leaves out.
"""

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from compendium import fresh_copy, snakemake

from panneuro.ephys.ground_truth import compare_to_ground_truth
from panneuro.ephys.motion import motion_error, read_motion
from panneuro.ephys.sorting import load_sorting
from panneuro.io.tables import read_tsv, write_tsv
from panneuro.io.validation import read_samples
from panneuro.simulate.drift import (
    read_planted_motion,
    simulate_drifting_probe,
    write_drifting_ground_truth,
)
from panneuro.simulate.ephys import read_probe_ground_truth
from panneuro.simulate.lab_export import add_lab_recording, export_lab_folder

pytestmark = pytest.mark.workflow

FORMATS = {"PFC": "spikeglx", "HPC": "binary", "MW": "openephys"}
FIGURES = [
    "fig1_behaviour",
    "fig2_sorting",
    "fig3_monkey_decoding",
    "fig4_ecog",
    "fig5_human_units",
    "fig6_model",
]
#: The lab's drifting probe: a Neuropixels-like shank (high-density, so corrected under
#: ``auto``), 40 µm of zigzag drift in 20 s, as a plain binary file in a session of its own.
DRIFT = {"n_channels": 64, "n_units": 12, "duration": 20.0, "seed": 3, "drift_um": 40.0}
DRIFTING = {"subject": "M1", "session": "05", "probe": "NP", "region": "prefrontal"}
#: The estimate against the planted drift (sign and offset removed): 2.5 µm RMS measured.
MAX_MOTION_RMS_UM, MIN_MOTION_CORRELATION = 5.0, 0.95
#: Recovery bound on the drifting probe: mean accuracy of its 7 ground-truth units of SNR > 5.
#: Measured 2026-12-06 on this probe with the stage's functions (tests/test_motion.py
#: ``_recovery``): 0.644 motion-corrected, 0.264 with motion correction off (all 12 units 0.589
#: vs 0.320), so the bound holds with correction and fails without.
MIN_STRONG_ACCURACY = 0.5


def _lab_config(sheet: str) -> list[str]:
    return ["--config", "size=tiny", "simulate=false", "raw_dir=lab", f"samples={sheet}"]


@pytest.fixture(scope="module")
def lab_run(tiny_run, tmp_path_factory):
    """The tiny study as a lab's plain folder, probes in acquisition formats, run to ``all``."""
    workdir = fresh_copy(tmp_path_factory.mktemp("lab"))
    samples = read_samples(tiny_run / "config/samples.tsv")
    sheet = export_lab_folder(tiny_run / "resources/raw", samples, workdir / "lab", FORMATS)
    drifting = simulate_drifting_probe(**DRIFT)
    sheet = add_lab_recording(
        drifting.recording, workdir / "lab", sheet, acq_time="1923-05-06T09:00:00", **DRIFTING
    )
    write_drifting_ground_truth(drifting, workdir / "drift-truth" / "NP")  # not the lab's
    write_tsv(sheet, workdir / "config/lab_samples.tsv")
    result = snakemake(workdir, *_lab_config("config/lab_samples.tsv"))
    assert result.returncode == 0, result.stderr[-6000:]
    return workdir, result


def test_lab_folder_holds_acquisition_formats_not_bids(lab_run):
    workdir, _ = lab_run
    sheet = read_samples(workdir / "config/lab_samples.tsv")
    formats = dict(zip(sheet["probe"], sheet["format"], strict=True))
    assert formats == {**FORMATS, "NP": "binary", "n/a": "tsv", "grid": "brainvision"}
    assert not (workdir / "lab" / ".git").exists()
    assert list((workdir / "lab").rglob("*.nidq.meta"))


def test_every_figure_from_the_lab_folder(lab_run):
    workdir, result = lab_run
    for figure in FIGURES:
        path = workdir / "results" / "figures" / f"{figure}.png"
        assert path.exists() and path.stat().st_size > 5000, path
    assert "left out" not in result.stderr  # this sheet supports every figure


def test_converted_dataset_is_valid_bids(lab_run):
    workdir, _ = lab_run
    summary = json.loads((workdir / "results/qc/bids_validation.json").read_text())
    assert summary["n_errors"] == 0, summary["errors"][:5]
    converted = sorted((workdir / "results/bids").rglob("*_ieeg.nwb"))
    assert [p.name for p in converted] == [
        "sub-H2_ses-01_task-harlow_acq-MW_ieeg.nwb",
        "sub-M1_ses-01_task-harlow_acq-HPC_ieeg.nwb",
        "sub-M1_ses-01_task-harlow_acq-PFC_ieeg.nwb",
        "sub-M1_ses-05_task-harlow_acq-NP_ieeg.nwb",
    ]


def test_every_nwb_file_passes_nwbinspector_dandi(lab_run):
    from nwbinspector import inspect_all, load_config

    workdir, _ = lab_run
    files = [*(workdir / "results/bids").rglob("*.nwb"), *(workdir / "results/nwb").glob("*.nwb")]
    assert len(files) == 7  # 4 converted recordings, 3 session units files
    for path in files:
        messages = list(inspect_all(path=path, config=load_config("dandi")))
        serious = [
            (m.check_function_name, m.message)
            for m in messages
            if m.importance.name in ("CRITICAL", "BEST_PRACTICE_VIOLATION", "ERROR")
        ]
        assert not serious, (path.name, serious)


def test_drifting_probe_is_motion_corrected_and_drawn(lab_run):
    """The lab's drifting high-density probe is corrected (estimate near the planted drift, its
    strong units recovered); the 32-contact arrays and the bundle are not; figure 2 draws the
    estimate (panel g)."""
    from PIL import Image

    from panneuro.figures.fig2_sorting import plot_sorting_figure
    from panneuro.results import open_run, read_sorting_summaries

    workdir, _ = lab_run
    ephys = workdir / "results/ephys"
    estimate = read_motion(ephys / "sub-M1/ses-05/acq-NP/motion.tsv")
    assert estimate is not None and len(estimate) > 0
    error = motion_error(estimate, read_planted_motion(workdir / "drift-truth" / "NP"))
    print(f"lab's drifting probe: motion {error}")
    assert error["rms_um"] < MAX_MOTION_RMS_UM, error
    assert error["correlation"] > MIN_MOTION_CORRELATION, error
    for probe in ("sub-M1/ses-01/acq-PFC", "sub-M1/ses-01/acq-HPC", "sub-H2/ses-01/acq-MW"):
        assert read_motion(ephys / probe / "motion.tsv") is None  # a table of no rows
    # its units recovered: a bound the uncorrected sorting misses (MIN_STRONG_ACCURACY)
    gt_sorting, gt_units = read_probe_ground_truth(workdir / "drift-truth" / "NP")
    sorting = load_sorting(ephys / "sub-M1/ses-05/acq-NP/sorting")
    table = compare_to_ground_truth(
        gt_sorting, sorting, match_score=0.5, well_detected_accuracy=0.8, gt_units=gt_units
    )
    strong = table[table["snr"] > 5]
    print(
        f"lab's drifting probe: SNR > 5 units {len(strong)}, mean accuracy "
        f"{strong['accuracy'].mean():.3f}, well detected {int(strong['well_detected'].sum())}"
    )
    assert len(strong) == 7 and strong["accuracy"].mean() >= MIN_STRONG_ACCURACY
    # the pipeline's figure has the seventh panel (13 x 10.5 in, the six-panel one 13 x 7.5)
    with Image.open(workdir / "results/figures/fig2_sorting.png") as png:
        width, height = png.size
    assert height / width > 0.7, (width, height)
    # drawn from the declared files as the rule's script reads them: panel g, the NP probe
    run = open_run(
        workdir,
        overrides={
            "simulate": False,
            "raw_dir": "lab",
            "samples": "config/lab_samples.tsv",
            "size": "tiny",
        },
    )
    summaries = read_sorting_summaries(run)
    assert [s.label for s in summaries if s.motion is not None] == ["M1 05 NP"]
    axes = plot_sorting_figure(summaries).get_axes()
    assert len(axes) == 7 and axes[6].get_title(loc="left").startswith("g")
    assert "M1 05 NP" in axes[6].get_legend().get_texts()[0].get_text()


def _accuracy(
    workdir: Path, groundtruth: Path, subject: str, probe: str, session: str = "ses-01"
) -> float:
    gt_sorting, gt_units = read_probe_ground_truth(
        groundtruth / subject / session / f"{subject}_{session}_acq-{probe}"
    )
    folder = workdir / "results/ephys" / subject / session / f"acq-{probe}"
    table = compare_to_ground_truth(
        gt_sorting,
        load_sorting(folder / "sorting"),
        match_score=0.5,
        well_detected_accuracy=0.8,
        gt_units=gt_units,
        curated=read_tsv(folder / "metrics.tsv").astype({"unit_id": str}),
    )
    return float(table["accuracy"].mean())


@pytest.mark.parametrize(
    ("subject", "probe"), [("sub-M1", "PFC"), ("sub-M1", "HPC"), ("sub-H2", "MW")]
)
def test_sorting_as_accurate_as_on_the_nwb_originals(lab_run, tiny_run, subject, probe):
    workdir, _ = lab_run
    groundtruth = tiny_run / "resources/groundtruth"
    lab = _accuracy(workdir, groundtruth, subject, probe)
    original = _accuracy(tiny_run, groundtruth, subject, probe)
    print(f"{subject} {probe}: mean accuracy {lab:.3f} (lab formats) vs {original:.3f} (NWB)")
    assert abs(lab - original) <= 0.02, (probe, lab, original)


def _partial(lab_run, tmp_path, datatypes, subjects) -> tuple[Path, str]:
    """A copy of the lab run with a sheet of some datatypes, run to ``all``."""
    workdir = tmp_path / "partial"
    shutil.copytree(lab_run[0], workdir, symlinks=True)
    sheet = read_samples(workdir / "config/lab_samples.tsv")
    sheet = sheet[sheet["datatype"].isin(datatypes) & sheet["subject"].isin(subjects)]
    write_tsv(sheet, workdir / "config/partial.tsv")
    result = snakemake(workdir, *_lab_config("config/partial.tsv"))
    assert result.returncode == 0, result.stderr[-6000:]
    return workdir, result.stderr


def test_arrays_only_sheet_reaches_all_with_its_figures(lab_run, tmp_path):
    workdir, stderr = _partial(lab_run, tmp_path, ["beh", "array"], ["M1", "M2"])
    assert stderr.count("left out:") == 1
    line = next(x for x in stderr.splitlines() if "left out:" in x)
    assert "supports 4 of 6 figures" in line
    assert "fig4_ecog (no ECoG session with behaviour)" in line and "fig5_human_units" in line
    for figure in ("fig4_ecog", "fig5_human_units"):
        (workdir / "results/figures" / f"{figure}.png").unlink()
    result = snakemake(workdir, *_lab_config("config/partial.tsv"), "--dry-run")
    assert "Nothing to be done" in result.stdout + result.stderr  # all asks for neither


def test_ecog_only_sheet_reaches_all_with_its_figures(lab_run, tmp_path):
    workdir, stderr = _partial(lab_run, tmp_path, ["beh", "ecog"], ["H1"])
    line = next(x for x in stderr.splitlines() if "left out:" in x)
    assert "supports 2 of 6 figures" in line and "fig2_sorting (no array or microwire row)" in line
    summary = json.loads((workdir / "results/qc/bids_validation.json").read_text())
    assert summary["n_errors"] == 0
    figure = workdir / "results/figures/fig1_behaviour.png"
    assert (
        figure.stat().st_mtime > (lab_run[0] / "results/figures/fig1_behaviour.png").stat().st_mtime
    )  # remade from H1 alone
    assert pd.read_csv(workdir / "results/model/parameters.tsv", sep="\t")["subject"].tolist() == [
        "H1"
    ]
