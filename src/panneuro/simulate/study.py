"""Simulate the whole study from one seed: the embedded, ground-truth default dataset.

The sample sheet says which sessions and recordings exist; the size preset says how long they
are; the seed makes every draw. The raw dataset is written as BIDS and saved as a DataLad
dataset; the ground truth (agent parameters, spike trains, planted tuning and effects) is
written beside it, outside the BIDS tree the pipeline reads.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from panneuro.ephys.nwb_units import SPECIES_LATIN
from panneuro.io.tables import write_json, write_tsv
from panneuro.seeding import derived_seed, rng_for
from panneuro.simulate.bids import (
    shift_date,
    write_dataset_files,
    write_nwb_ieeg_sidecars,
    write_sessions_files,
)
from panneuro.simulate.task import TRIALS_PER_PROBLEM, build_events

RECORDING_DATATYPES = ("array", "microwire", "ecog")
#: Fixed acquisition date of every simulated session: the simulation has no real date, and a
#: fixed one keeps the files byte-identical.
SESSION_START = dt.datetime(2000, 1, 1, 9, 0, 0, tzinfo=dt.UTC)


@dataclass(frozen=True)
class SessionPlan:
    """One simulated session: which problems it holds and whether it has recordings."""

    subject: str
    session: str
    species: str
    problems: np.ndarray
    recorded: bool


def plan_sessions(samples: pd.DataFrame, size: Mapping[str, Any]) -> list[SessionPlan]:
    """Decide the problems of every session of every subject.

    Sessions with a recording hold ``recorded_problems`` problems, others
    ``problems_per_session``; problem numbers run on across a subject's sessions in session
    order, so the agent keeps learning from one session to the next.

    Parameters
    ----------
    samples : pandas.DataFrame
        The sample sheet (one row per raw file).
    size : mapping
        The size preset (``config["sizes"][config["size"]]``).

    Returns
    -------
    list of SessionPlan
        In subject then session order.
    """
    plans = []
    for subject, rows in samples.groupby("subject", sort=True):
        next_problem = 1
        for session, session_rows in rows.groupby("session", sort=True):
            if "beh" not in set(session_rows["datatype"]):
                raise ValueError(
                    f"sample sheet: sub-{subject} ses-{session} has no 'beh' row; every "
                    "session needs its trial table (events.tsv)."
                )
            recorded = bool(session_rows["datatype"].isin(RECORDING_DATATYPES).any())
            n = int(size["recorded_problems"] if recorded else size["problems_per_session"])
            plans.append(
                SessionPlan(
                    subject=str(subject),
                    session=str(session),
                    species=str(session_rows["species"].iloc[0]),
                    problems=np.arange(next_problem, next_problem + n),
                    recorded=recorded,
                )
            )
            next_problem += n
    return plans


def ground_truth_prefix(gt_root: str | Path, subject: str, session: str) -> str:
    """Return the prefix of a session's ground-truth files (``<gt>/sub-X/ses-Y/sub-X_ses-Y``)."""
    return f"{gt_root}/sub-{subject}/ses-{session}/sub-{subject}_ses-{session}"


def expected_outputs(samples: pd.DataFrame, raw_root: str, gt_root: str) -> dict[str, list[str]]:
    """List the files :func:`simulate_study` writes (the simulate rule's outputs).

    Parameters
    ----------
    samples : pandas.DataFrame
        The sample sheet.
    raw_root, gt_root : str
        The raw dataset and ground-truth directories.

    Returns
    -------
    dict
        ``raw``: the dataset description (the raw dataset's handle in the DAG) and the trial
        tables, files git keeps in the working tree; the annexed recordings are not listed,
        since their content may be dropped (they enter the DAG as key records,
        :mod:`panneuro.compendium.datalad_io`); ``truth``: the agent parameters of each subject, the
        spike trains and tuning of each probe and the planted effects of each ECoG session.
    """
    raw = [f"{raw_root}/dataset_description.json", f"{raw_root}/participants.tsv"]
    raw += sessions_files(samples, raw_root)
    raw += [f"{raw_root}/{row.path}" for row in samples.itertuples(index=False)
            if row.datatype == "beh"]
    truth = [f"{gt_root}/sub-{s}/sub-{s}_agent.json" for s in sorted(set(samples["subject"]))]
    for row in samples.itertuples(index=False):
        prefix = ground_truth_prefix(gt_root, row.subject, row.session)
        if row.datatype in ("array", "microwire"):
            truth += [f"{prefix}_acq-{row.probe}_spikes.npz", f"{prefix}_acq-{row.probe}_units.tsv"]
        elif row.datatype == "ecog":
            truth.append(f"{prefix}_ecog-truth.json")
    return {"raw": raw, "truth": truth}


def raw_dataset_files(samples: pd.DataFrame, raw_root: str) -> list[str]:
    """List every file of the simulated raw BIDS dataset, as :func:`simulate_study` writes it.

    Under remote default storage (S3) each job receives only the files it declares, so the
    simulation declares the whole dataset and the BIDS validator and de-identification check
    read it all. DataLad's own files (``.datalad/``, ``.gitattributes``, ``.gitmodules``) are
    not listed. ``tests/test_study.py`` checks this list against a simulated dataset.

    Parameters
    ----------
    samples : pandas.DataFrame
        The sample sheet.
    raw_root : str
        The raw dataset's directory.

    Returns
    -------
    list of str
        The files, sorted.
    """
    files = {f"{raw_root}/{name}" for name in (
        "README.md", "dataset_description.json", "participants.json", "participants.tsv",
        "task-harlow_events.json")}
    files.update(sessions_files(samples, raw_root))
    for row in samples.itertuples(index=False):
        files.add(f"{raw_root}/{row.path}")
        folder = f"{raw_root}/sub-{row.subject}/ses-{row.session}"
        entities = f"sub-{row.subject}_ses-{row.session}"
        if row.datatype in ("array", "microwire"):
            stem = f"{folder}/ieeg/{entities}_task-harlow_acq-{row.probe}"
            files.update(f"{stem}_{suffix}" for suffix in ("channels.tsv", "events.tsv",
                                                           "ieeg.json"))
            files.update(f"{folder}/ieeg/{entities}_acq-{row.probe}_{suffix}"
                         for suffix in ("coordsystem.json", "electrodes.tsv"))
        elif row.datatype == "ecog":
            stem = f"{folder}/ieeg/{entities}"
            files.update([f"{folder}/{entities}_scans.tsv", f"{stem}_coordsystem.json",
                          f"{stem}_electrodes.json", f"{stem}_electrodes.tsv"])
            files.update(f"{stem}_task-harlow_{suffix}" for suffix in (
                "channels.tsv", "events.json", "events.tsv", "ieeg.eeg", "ieeg.json",
                "ieeg.vmrk"))
    return sorted(files)


def simulate_study(
    samples: pd.DataFrame,
    *,
    seed: int,
    size: Mapping[str, Any],
    simulation: Mapping[str, Any],
    raw_root: Path,
    gt_root: Path,
) -> None:
    """Simulate every session of the sample sheet and write the raw dataset and ground truth.

    Everything is first written into temporary directories beside the targets, the raw one is
    saved as a DataLad dataset, and both are then renamed into place: a crash leaves the old
    dataset (or nothing), never a half-written one.

    Parameters
    ----------
    samples : pandas.DataFrame
        The sample sheet.
    seed : int
        The project seed (``config["seed"]``).
    size : mapping
        The size preset (``config["sizes"][config["size"]]``).
    simulation : mapping
        The ``simulation`` block of the config (agents, sampling rates, planted effects).
    raw_root, gt_root : pathlib.Path
        Where the raw BIDS dataset and the ground truth go.
    """
    from panneuro.behaviour.model import LearningSetParams, simulate_agent

    seed = int(seed)
    sim = simulation
    raw_tmp = _fresh_dir(raw_root.parent / f".{raw_root.name}.tmp")
    gt_tmp = _fresh_dir(gt_root.parent / f".{gt_root.name}.tmp")

    plans = plan_sessions(samples, size)
    participants = _participants(samples, seed)
    demographics = participants.set_index("participant_id")
    for subject in sorted({p.subject for p in plans}):
        species = next(p.species for p in plans if p.subject == subject)
        write_json(dict(sim["agent"][species]), gt_tmp / f"sub-{subject}/sub-{subject}_agent.json")

    for plan in plans:
        params = LearningSetParams(**sim["agent"][plan.species])
        agent = simulate_agent(params, plan.problems,
                               rng_for(seed, "behaviour", plan.subject, plan.session),
                               trials_per_problem=TRIALS_PER_PROBLEM)
        events = build_events(
            agent["problem"].to_numpy(), agent["trial"].to_numpy(), agent["correct"].to_numpy(),
            rng_for(seed, "task", plan.subject, plan.session),
            trial_duration=float(size["trial_duration_s"]),
        )
        rows = samples[(samples["subject"] == plan.subject) & (samples["session"] == plan.session)]
        for row in rows.itertuples(index=False):
            target = raw_tmp / row.path
            if row.datatype == "beh":
                write_tsv(events, target)
            elif row.datatype in ("array", "microwire"):
                person = demographics.loc[f"sub-{row.subject}"]
                _simulate_probe(row, events, size, sim, seed, target, gt_tmp,
                                age=f"P{int(person['age'])}Y", sex=str(person["sex"]))
                # iEEG-BIDS expects the task events beside each recording too.
                write_tsv(events, Path(str(target)[: -len("_ieeg.nwb")] + "_events.tsv"))
            elif row.datatype == "ecog":
                _simulate_ecog(row, events, size, sim, seed, raw_tmp, gt_tmp)
            else:
                raise ValueError(f"sample sheet: unknown datatype {row.datatype!r} for "
                                 f"{row.path}; use beh, array, microwire or ecog.")

    write_dataset_files(raw_tmp, participants)
    write_sessions_files(raw_tmp, _subject_sessions(samples), shift_date(SESSION_START))
    human = sorted({f"sub-{p.subject}" for p in plans if p.species == "human"})
    save_datalad_dataset(raw_tmp, message="Simulated learning-set study (panneuro)",
                         subdatasets=human)
    # The ground truth is published beside the raw dataset (all in git: small, always present).
    save_datalad_dataset(gt_tmp, message="Ground truth of the simulated study (panneuro)",
                         annex=False)
    _replace_dir(raw_tmp, raw_root)
    _replace_dir(gt_tmp, gt_root)


def _simulate_probe(row: Any, events: pd.DataFrame, size: Mapping[str, Any],
                    sim: Mapping[str, Any], seed: int, target: Path, gt_tmp: Path, *,
                    age: str, sex: str) -> None:
    from panneuro.simulate.ephys import simulate_probe, write_probe_ground_truth, write_probe_nwb

    kind = "array" if row.datatype == "array" else "microwire"
    duration = float(events["onset"].iloc[-1] + events["duration"].iloc[-1] + 1.0)
    probe = simulate_probe(
        events,
        n_channels=int(size[f"n_channels_{kind}"]),
        n_units=int(size[f"n_units_{kind}"]),
        sampling_frequency=float(sim["sampling_frequency_ephys"]),
        duration=duration,
        region=row.region,
        seed=derived_seed(seed, "ephys", row.subject, row.session, row.probe),
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    write_probe_nwb(probe, target, subject=row.subject, session=row.session,
                    species=row.species, region=row.region, session_start=shift_date(SESSION_START),
                    age=age, sex=sex)
    recording = probe.recording
    write_nwb_ieeg_sidecars(
        target,
        channel_ids=recording.channel_ids,
        locations_um=recording.get_channel_locations(),
        sampling_frequency=recording.sampling_frequency,
        duration=recording.get_total_duration(),
        region=row.region,
        probe_description=f"simulated {kind} ({recording.get_num_channels()} channels)",
        line_frequency=float(sim["line_frequency"]),
    )
    prefix = ground_truth_prefix(gt_tmp, row.subject, row.session)
    Path(prefix).parent.mkdir(parents=True, exist_ok=True)
    write_probe_ground_truth(probe, Path(f"{prefix}_acq-{row.probe}"))


def _simulate_ecog(row: Any, events: pd.DataFrame, size: Mapping[str, Any],
                   sim: Mapping[str, Any], seed: int, raw_tmp: Path, gt_tmp: Path) -> None:
    from panneuro.simulate.ecog import simulate_ecog, write_ecog_bids, write_ecog_truth

    ecog = simulate_ecog(
        events,
        n_electrodes=int(size["n_electrodes_ecog"]),
        sfreq=float(sim["sampling_frequency_ecog"]),
        n_planted=int(sim["ecog_planted_electrodes"]),
        gain=float(sim["ecog_high_gamma_gain"]),
        line_frequency=float(sim["line_frequency"]),
        seed=derived_seed(seed, "ecog", row.subject, row.session),
    )
    write_ecog_bids(ecog, raw_tmp, subject=row.subject, session=row.session,
                    line_frequency=float(sim["line_frequency"]))
    if not (raw_tmp / row.path).exists():
        raise RuntimeError(f"ECoG writer did not produce {row.path}; the sample sheet path "
                           "must follow mne-bids naming (sub-X_ses-Y_task-harlow_ieeg.vhdr).")
    write_ecog_truth(ecog, Path(f"{ground_truth_prefix(gt_tmp, row.subject, row.session)}"
                                "_ecog-truth.json"))


def _subject_sessions(samples: pd.DataFrame) -> dict[str, list[str]]:
    return {str(subject): sorted(set(group["session"]))
            for subject, group in samples.groupby("subject", sort=True)}


def sessions_files(samples: pd.DataFrame, raw_root: str) -> list[str]:
    """List the subjects' ``sub-<label>_sessions.tsv`` files the simulation writes.

    Parameters
    ----------
    samples : pandas.DataFrame
        The sample sheet.
    raw_root : str
        The raw dataset's directory.

    Returns
    -------
    list of str
        One per subject, sorted.
    """
    return [f"{raw_root}/sub-{s}/sub-{s}_sessions.tsv" for s in _subject_sessions(samples)]


def _participants(samples: pd.DataFrame, seed: int) -> pd.DataFrame:
    records = []
    for subject in sorted(set(samples["subject"])):
        species = samples.loc[samples["subject"] == subject, "species"].iloc[0]
        rng = rng_for(seed, "participant", subject)
        age = int(rng.integers(5, 12)) if species == "macaque" else int(rng.integers(20, 60))
        records.append({"participant_id": f"sub-{subject}", "species": SPECIES_LATIN[species],
                        "sex": str(rng.choice(["M", "F"])), "age": age})
    return pd.DataFrame(records)


def save_datalad_dataset(root: Path, message: str, *, subdatasets: Sequence[str] = (),
                         annex: bool = True) -> None:
    """Make ``root`` a DataLad dataset and save its content (text in git, binaries annexed).

    Commit dates are faked (DataLad's ``fake_dates``) so the dataset's history does not
    depend on the wall clock.

    Parameters
    ----------
    root : pathlib.Path
        A directory of files to turn into a dataset.
    message : str
        The commit message.
    subdatasets : sequence of str
        Folders of ``root`` (e.g. the human subjects ``sub-H1``) saved as nested DataLad
        subdatasets, so they can be published, encrypted or withheld separately.
    annex : bool
        ``False`` keeps every file in git (no annexed content to get).
    """
    import datalad.api as dl

    # datalad finds git-annex (a PyPI wheel in this environment) only on PATH.
    venv_bin = str(Path(sys.executable).parent)
    if venv_bin not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = venv_bin + os.pathsep + os.environ.get("PATH", "")
    for key, value in (("GIT_AUTHOR_NAME", "panneuro"), ("GIT_AUTHOR_EMAIL", "panneuro@localhost"),
                       ("GIT_COMMITTER_NAME", "panneuro"),
                       ("GIT_COMMITTER_EMAIL", "panneuro@localhost")):
        os.environ.setdefault(key, value)
    if annex:
        dl.create(path=str(root), force=True, cfg_proc="text2git", fake_dates=True,
                  result_renderer="disabled")
    else:
        dl.create(path=str(root), force=True, annex=False, fake_dates=True,
                  result_renderer="disabled")
    for name in subdatasets:
        dl.create(path=str(root / name), dataset=str(root), force=True, cfg_proc="text2git",
                  fake_dates=True, result_renderer="disabled")
    dl.save(dataset=str(root), message=message, recursive=True, result_renderer="disabled")


def _fresh_dir(path: Path) -> Path:
    if path.exists():
        _rmtree(path)
    path.mkdir(parents=True)
    return path


def _replace_dir(source: Path, target: Path) -> None:
    if target.exists() or target.is_symlink():
        _rmtree(target)
    os.replace(source, target)


def _rmtree(path: Path) -> None:
    """Remove a tree, including git-annex's write-protected object directories."""

    def _make_writable(func: Any, name: str, _exc: Any) -> None:
        os.chmod(Path(name).parent, 0o755)
        os.chmod(name, 0o755)
        func(name)

    shutil.rmtree(path, onerror=_make_writable)
