"""Simulate the whole study from one seed: the embedded, ground-truth default dataset.

The sample sheet says which sessions and recordings exist; the size preset says how long they
are; the seed makes every draw. The raw dataset is written as BIDS and saved as a DataLad
dataset; the ground truth (agent parameters, spike trains, planted tuning and effects) is
written beside it, outside the BIDS tree the pipeline reads.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
from panneuro.simulate.task import TRIALS_PER_PROBLEM, build_events, task_variables

if TYPE_CHECKING:
    from panneuro.simulate.design import DesignSession, StudyDesign

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
    raw += [
        f"{raw_root}/{row.path}" for row in samples.itertuples(index=False) if row.datatype == "beh"
    ]
    truth = [f"{gt_root}/sub-{s}/sub-{s}_agent.json" for s in sorted(set(samples["subject"]))]
    if is_design_sheet(samples):
        return {"raw": raw, "truth": truth + _design_truth_files(samples, gt_root)}
    for row in samples.itertuples(index=False):
        prefix = ground_truth_prefix(gt_root, row.subject, row.session)
        if row.datatype in ("array", "microwire"):
            truth += [f"{prefix}_acq-{row.probe}_spikes.npz", f"{prefix}_acq-{row.probe}_units.tsv"]
        elif row.datatype == "ecog":
            truth.append(f"{prefix}_ecog-truth.json")
    return {"raw": raw, "truth": truth}


def is_design_sheet(samples: pd.DataFrame) -> bool:
    """Tell whether a sheet is a study design's (it names each file's BIDS ``task`` and ``run``).

    Parameters
    ----------
    samples : pandas.DataFrame
        The sample sheet.

    Returns
    -------
    bool
        ``True`` for a sheet of :func:`panneuro.simulate.design.design_samples`.
    """
    return {"task", "run"} <= set(samples.columns)


def _design_truth_files(samples: pd.DataFrame, gt_root: str) -> list[str]:
    """Ground-truth files of a design sheet's sessions (:func:`expected_outputs`)."""
    truth = [f"{gt_root}/design.json"]
    for (subject, session), rows in samples.groupby(["subject", "session"], sort=True):
        prefix = ground_truth_prefix(gt_root, subject, session)
        truth.append(f"{prefix}_design.json")
        for row in rows.itertuples(index=False):
            if row.datatype in ("array", "microwire") and row.task == "harlow":
                truth += [
                    f"{prefix}_acq-{row.probe}_{name}"
                    for name in ("spikes.npz", "units.tsv", "coding.tsv")
                ]
            elif row.datatype in ("array", "microwire"):
                run = f"{prefix}_task-{row.task}_acq-{row.probe}_run-{row.run}"
                truth += [f"{run}_spikes.npz", f"{run}_ripples.tsv"]
                if row.run == "1":
                    truth.append(f"{prefix}_acq-{row.probe}_cofiring.npz")
            elif row.datatype == "ecog":
                truth.append(f"{prefix}_ecog-truth.json")
    return sorted(set(truth))


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
    files = {
        f"{raw_root}/{name}"
        for name in (
            "README.md",
            "dataset_description.json",
            "participants.json",
            "participants.tsv",
            "task-harlow_events.json",
        )
    }
    files.update(sessions_files(samples, raw_root))
    if is_design_sheet(samples):
        return _design_raw_files(samples, raw_root, files)
    for row in samples.itertuples(index=False):
        files.add(f"{raw_root}/{row.path}")
        folder = f"{raw_root}/sub-{row.subject}/ses-{row.session}"
        entities = f"sub-{row.subject}_ses-{row.session}"
        if row.datatype in ("array", "microwire"):
            stem = f"{folder}/ieeg/{entities}_task-harlow_acq-{row.probe}"
            files.update(
                f"{stem}_{suffix}" for suffix in ("channels.tsv", "events.tsv", "ieeg.json")
            )
            files.update(
                f"{folder}/ieeg/{entities}_acq-{row.probe}_{suffix}"
                for suffix in ("coordsystem.json", "electrodes.tsv")
            )
        elif row.datatype == "ecog":
            files.update(_ecog_files(folder, entities))
    return sorted(files)


def _ecog_files(folder: str, entities: str) -> list[str]:
    """Return the files of one ECoG session (BrainVision and its BIDS sidecars)."""
    stem = f"{folder}/ieeg/{entities}"
    return [
        f"{folder}/{entities}_scans.tsv",
        f"{stem}_coordsystem.json",
        f"{stem}_electrodes.json",
        f"{stem}_electrodes.tsv",
        *(
            f"{stem}_task-harlow_{suffix}"
            for suffix in (
                "channels.tsv",
                "events.json",
                "events.tsv",
                "ieeg.eeg",
                "ieeg.json",
                "ieeg.vmrk",
            )
        ),
    ]


def _design_raw_files(samples: pd.DataFrame, raw_root: str, files: set[str]) -> list[str]:
    """Every file of a design sheet's raw dataset (:func:`raw_dataset_files`)."""
    from panneuro.simulate.bids import nwb_ieeg_sidecar_paths

    files.update(f"{raw_root}/sub-{s}/sub-{s}_sessions.json" for s in set(samples["subject"]))
    if (samples["task"] == "sleep").any():
        files.add(f"{raw_root}/task-sleep_events.json")
    for row in samples.itertuples(index=False):
        files.add(f"{raw_root}/{row.path}")
        folder = f"{raw_root}/sub-{row.subject}/ses-{row.session}"
        entities = f"sub-{row.subject}_ses-{row.session}"
        if row.datatype in ("array", "microwire"):
            nwb = f"{raw_root}/{row.path}"
            files.update(nwb_ieeg_sidecar_paths(nwb))
            files.add(f"{nwb[: -len('_ieeg.nwb')]}_events.tsv")
            files.add(f"{folder}/{entities}_scans.tsv")
        elif row.datatype == "ecog":
            files.update(_ecog_files(folder, entities))
    return sorted(files)


def simulate_study(
    samples: pd.DataFrame,
    *,
    seed: int,
    size: Mapping[str, Any],
    simulation: Mapping[str, Any],
    raw_root: Path,
    gt_root: Path,
    n_jobs: int = 1,
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
    n_jobs : int
        Sessions simulated at once, each in its own process (the result does not depend on it).
    """
    seed = int(seed)
    sim = simulation
    raw_tmp = _fresh_dir(raw_root.parent / f".{raw_root.name}.tmp")
    gt_tmp = _fresh_dir(gt_root.parent / f".{gt_root.name}.tmp")
    if size.get("design"):
        _simulate_design(
            samples, seed=seed, size=size, sim=sim, raw_tmp=raw_tmp, gt_tmp=gt_tmp, n_jobs=n_jobs
        )
        _save_and_replace(samples, raw_tmp, gt_tmp, raw_root, gt_root)
        return

    plans = plan_sessions(samples, size)
    participants = _participants(samples, seed)
    demographics = participants.set_index("participant_id")
    for subject in sorted({p.subject for p in plans}):
        species = next(p.species for p in plans if p.subject == subject)
        write_json(dict(sim["agent"][species]), gt_tmp / f"sub-{subject}/sub-{subject}_agent.json")

    jobs = []
    for plan in plans:
        rows = samples[(samples["subject"] == plan.subject) & (samples["session"] == plan.session)]
        person = demographics.loc[f"sub-{plan.subject}"]
        inline = bool((rows["datatype"] == "ecog").any())
        # A session's files are independent given its events (drawn again by each part from
        # the session's own seeds): each recording is its own job, so a session with two
        # arrays takes two workers, not one.
        parts = [rows] if inline else [rows.iloc[[i]] for i in range(len(rows))]
        jobs += [
            (
                _session_job,
                inline,
                (
                    plan,
                    part,
                    seed,
                    size,
                    sim,
                    raw_tmp,
                    gt_tmp,
                    f"P{int(person['age'])}Y",
                    str(person["sex"]),
                ),
            )
            for part in parts
        ]
    # the longest jobs first (arrays, then microwire bundles, then behaviour-only files)
    jobs.sort(key=lambda job: _cost_rank(job[2][1]))
    _run_session_jobs(jobs, n_jobs)

    write_dataset_files(raw_tmp, participants)
    write_sessions_files(raw_tmp, _subject_sessions(samples), shift_date(SESSION_START))
    human = sorted({f"sub-{p.subject}" for p in plans if p.species == "human"})
    save_datalad_dataset(
        raw_tmp, message="Simulated learning-set study (panneuro)", subdatasets=human
    )
    # The ground truth is published beside the raw dataset (all in git: small, always present).
    save_datalad_dataset(
        gt_tmp, message="Ground truth of the simulated study (panneuro)", annex=False
    )
    _replace_dir(raw_tmp, raw_root)
    _replace_dir(gt_tmp, gt_root)


def _cost_rank(rows: pd.DataFrame) -> int:
    """Order of a simulation job by cost: 0 with an array, 1 a microwire bundle, 2 otherwise."""
    return min({"array": 0, "microwire": 1}.get(d, 2) for d in rows["datatype"])


def _session_job(
    plan: SessionPlan,
    rows: pd.DataFrame,
    seed: int,
    size: Mapping[str, Any],
    sim: Mapping[str, Any],
    raw_tmp: Path,
    gt_tmp: Path,
    age: str,
    sex: str,
) -> str:
    """Simulate one session of the tiny/default presets; return its log line."""
    from panneuro.behaviour.model import LearningSetParams, simulate_agent

    started = time.perf_counter()
    params = LearningSetParams(**sim["agent"][plan.species])
    agent = simulate_agent(
        params,
        plan.problems,
        rng_for(seed, "behaviour", plan.subject, plan.session),
        trials_per_problem=TRIALS_PER_PROBLEM,
    )
    events = build_events(
        agent["problem"].to_numpy(),
        agent["trial"].to_numpy(),
        agent["correct"].to_numpy(),
        rng_for(seed, "task", plan.subject, plan.session),
        trial_duration=float(size["trial_duration_s"]),
    )
    for row in rows.itertuples(index=False):
        target = raw_tmp / row.path
        if row.datatype == "beh":
            write_tsv(events, target)
        elif row.datatype in ("array", "microwire"):
            _simulate_probe(row, events, size, sim, seed, target, gt_tmp, age=age, sex=sex)
            # iEEG-BIDS expects the task events beside each recording too.
            write_tsv(events, Path(str(target)[: -len("_ieeg.nwb")] + "_events.tsv"))
        elif row.datatype == "ecog":
            _simulate_ecog(row, events, size, sim, seed, raw_tmp, gt_tmp)
        else:
            raise ValueError(
                f"sample sheet: unknown datatype {row.datatype!r} for "
                f"{row.path}; use beh, array, microwire or ecog."
            )
    return (
        f"simulated sub-{plan.subject} ses-{plan.session}: {len(rows)} files in "
        f"{time.perf_counter() - started:.1f} s"
    )


def _save_and_replace(
    samples: pd.DataFrame, raw_tmp: Path, gt_tmp: Path, raw_root: Path, gt_root: Path
) -> None:
    """Save the simulated datasets with DataLad and rename them into place."""
    human = sorted(
        {
            f"sub-{s}"
            for s, species in zip(samples["subject"], samples["species"], strict=True)
            if species == "human"
        }
    )
    save_datalad_dataset(
        raw_tmp, message="Simulated learning-set study (panneuro)", subdatasets=human
    )
    save_datalad_dataset(
        gt_tmp, message="Ground truth of the simulated study (panneuro)", annex=False
    )
    _replace_dir(raw_tmp, raw_root)
    _replace_dir(gt_tmp, gt_root)


def _simulate_design(
    samples: pd.DataFrame,
    *,
    seed: int,
    size: Mapping[str, Any],
    sim: Mapping[str, Any],
    raw_tmp: Path,
    gt_tmp: Path,
    n_jobs: int = 1,
) -> None:
    """Simulate the sessions of a study design (a size preset's ``design``) into the tmp dirs.

    Each session of the sheet is simulated as the design plans it
    (:func:`panneuro.simulate.design.plan_design`): behaviour by the subject's agent as the
    session expresses it (:func:`panneuro.simulate.inactivation.session_agent`), the task
    recordings with each probe's per-trial coding, the sleep runs with ripples and replay
    (:mod:`panneuro.simulate.sleep`), and the ground truth of every planted effect.
    """
    from panneuro.simulate.bids import write_design_sessions_files, write_sleep_dataset_files
    from panneuro.simulate.design import check_design_samples, plan_design, sessions_table

    design = plan_design(size, sim["agent"])
    check_design_samples(samples, design)
    participants = _participants(samples, seed)
    demographics = participants.set_index("participant_id")
    subjects = sorted(set(samples["subject"]))
    for subject in subjects:
        write_json(
            design.agents[subject].as_dict(), gt_tmp / f"sub-{subject}/sub-{subject}_agent.json"
        )
    write_json(_design_summary(design), gt_tmp / "design.json")

    jobs = []
    for plan in design.sessions:
        rows = samples[(samples["subject"] == plan.subject) & (samples["session"] == plan.session)]
        if rows.empty:
            continue
        person = demographics.loc[f"sub-{plan.subject}"]
        jobs.append(
            (
                _design_session_job,
                plan.kind == "ecog",
                (
                    plan,
                    design,
                    rows,
                    seed,
                    size,
                    sim,
                    raw_tmp,
                    gt_tmp,
                    f"P{int(person['age'])}Y",
                    str(person["sex"]),
                ),
            )
        )
    _run_session_jobs(jobs, n_jobs)

    write_dataset_files(raw_tmp, participants)
    for subject in subjects:
        table = sessions_table(design, subject)
        table = table[
            table["session_id"].isin(
                [f"ses-{e}" for e in samples.loc[samples["subject"] == subject, "session"]]
            )
        ]
        days = {f"ses-{p.session}": p.day for p in design.sessions if p.subject == subject}
        table.insert(
            1,
            "acq_time",
            [_session_day(days[e]).strftime("%Y-%m-%dT%H:%M:%S") for e in table["session_id"]],
        )
        write_design_sessions_files(raw_tmp, subject, table.reset_index(drop=True))
    if (samples["task"] == "sleep").any():
        write_sleep_dataset_files(raw_tmp)


def design_session_events(
    plan: DesignSession, design: StudyDesign, *, seed: int, size: Mapping[str, Any]
) -> pd.DataFrame:
    """Simulate the trial table of one design session (its behaviour, no recording).

    The subject's agent as the session expresses it
    (:func:`panneuro.simulate.inactivation.session_agent`: under inactivation, recorded or
    behaviour-only alike, its prior odds times ``prior_odds_factor``) plays the session's
    problems; the draws come from the session's own seeds, so a session's trials do not depend
    on which other sessions are simulated, nor on its recordings.

    Parameters
    ----------
    plan : DesignSession
        The session.
    design : StudyDesign
        The planned design (agents, inactivation).
    seed : int
        The project seed.
    size : mapping
        The size preset (``trial_duration_s``).

    Returns
    -------
    pandas.DataFrame
        The session's trial table (``events.tsv``).
    """
    from panneuro.behaviour.model import simulate_agent
    from panneuro.simulate.inactivation import session_agent

    expressed = session_agent(design.agents[plan.subject], plan.condition, design.inactivation)
    behaviour = simulate_agent(
        expressed,
        plan.problems,
        rng_for(seed, "behaviour", plan.subject, plan.session),
        trials_per_problem=TRIALS_PER_PROBLEM,
    )
    return build_events(
        behaviour["problem"].to_numpy(),
        behaviour["trial"].to_numpy(),
        behaviour["correct"].to_numpy(),
        rng_for(seed, "task", plan.subject, plan.session),
        trial_duration=float(size["trial_duration_s"]),
    )


def simulate_design_behaviour(
    design: StudyDesign, *, seed: int, size: Mapping[str, Any]
) -> dict[tuple[str, str], pd.DataFrame]:
    """Simulate the trial tables of every session of a design, without any recording.

    The same trials :func:`simulate_study` writes to each session's ``events.tsv``
    (:func:`design_session_events`), for the behavioural analyses of a design without its
    ephys (e.g. the trial-2 cost of inactivation on a behaviour-only design).

    Parameters
    ----------
    design : StudyDesign
        The planned design.
    seed : int
        The project seed.
    size : mapping
        The size preset.

    Returns
    -------
    dict
        (subject, session) -> trial table, in the design's session order.
    """
    return {
        (p.subject, p.session): design_session_events(p, design, seed=seed, size=size)
        for p in design.sessions
    }


def _design_session_job(
    plan: DesignSession,
    design: StudyDesign,
    rows: pd.DataFrame,
    seed: int,
    size: Mapping[str, Any],
    sim: Mapping[str, Any],
    raw_tmp: Path,
    gt_tmp: Path,
    age: str,
    sex: str,
) -> str:
    """Simulate one design session (behaviour, recordings, truth); return its log line."""
    started = time.perf_counter()
    events = design_session_events(plan, design, seed=seed, size=size)
    _simulate_design_session(
        plan,
        design,
        rows,
        events,
        size=size,
        sim=sim,
        seed=seed,
        raw_tmp=raw_tmp,
        gt_tmp=gt_tmp,
        age=age,
        sex=sex,
    )
    return (
        f"simulated sub-{plan.subject} ses-{plan.session} ({plan.kind}, {plan.stage}, "
        f"{plan.condition}{', sleep' if plan.sleep else ''}): {len(rows)} files in "
        f"{time.perf_counter() - started:.1f} s"
    )


def _run_session_jobs(jobs: Sequence[tuple[Any, bool, tuple]], n_jobs: int) -> None:
    """Run the sessions' simulations, ``n_jobs`` processes at a time; log each one's line.

    Every session draws from its own named seeds and writes its own files, so the result is
    byte-identical whatever ``n_jobs`` is (tested). Sessions marked ``inline`` run in this
    process, one after the other while the workers run the rest: mne-bids also rewrites the
    dataset's participants files when it writes an ECoG session, which two processes must not do
    at once (the workers' sessions write no dataset-level file). Processes are spawned
    (not forked) so no thread pool of this process is copied half-held into a worker.
    """
    import concurrent.futures
    import multiprocessing

    log = logging.getLogger(__name__)
    pooled = [(func, args) for func, is_inline, args in jobs if not is_inline]
    inline = [(func, args) for func, is_inline, args in jobs if is_inline]
    if n_jobs > 1 and len(pooled) > 1:
        context = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(
            min(n_jobs, len(pooled)), mp_context=context
        ) as pool:
            futures = [pool.submit(func, *args) for func, args in pooled]
            for func, args in inline:  # while the workers run
                log.info(func(*args))
            for future in futures:  # in submission order; the first error is raised
                log.info(future.result())
        return
    for func, args in [*pooled, *inline]:
        log.info(func(*args))


def _session_day(day: int) -> dt.datetime:
    """Start (shifted, as written) of the day-th session of a subject's history."""
    return shift_date(SESSION_START + dt.timedelta(days=int(day)))


def _design_summary(design: StudyDesign) -> dict[str, Any]:
    """Return the design as planned (``<gt>/design.json``)."""
    return {
        "sessions": [
            {
                "subject": p.subject,
                "session": p.session,
                "species": p.species,
                "kind": p.kind,
                "stage": p.stage,
                "condition": p.condition,
                "sleep": p.sleep,
                "first_problem": int(p.problems[0]),
                "last_problem": int(p.problems[-1]),
            }
            for p in design.sessions
        ],
        "agents": {s: a.as_dict() for s, a in sorted(design.agents.items())},
        "arrays": design.arrays,
        "inactivation": {
            "region": design.inactivation.region,
            "prior_odds_factor": design.inactivation.prior_odds_factor,
            "coding_factor": design.inactivation.coding_factor,
            "rate_factor": design.inactivation.rate_factor,
        },
        "sleep": design.sleep.as_dict(),
        "stay_code": "gain x stay_factor: the learning-set prior the session's agent expresses, "
        "pi_p = k p / (k p + tau), k = prior_odds_factor under inactivation, else 1 "
        "(per trial in <session>_acq-<probe>_coding.tsv)",
    }


def _simulate_design_session(
    plan: DesignSession,
    design: StudyDesign,
    rows: pd.DataFrame,
    events: pd.DataFrame,
    *,
    size: Mapping[str, Any],
    sim: Mapping[str, Any],
    seed: int,
    raw_tmp: Path,
    gt_tmp: Path,
    age: str,
    sex: str,
) -> None:
    """Write one design session's behaviour, recordings, scans.tsv and ground truth."""
    from panneuro.simulate.bids import SLEEP_TASK_METADATA, write_scans_file
    from panneuro.simulate.ephys import write_probe_ground_truth
    from panneuro.simulate.inactivation import behaviour_truth, probe_coding
    from panneuro.simulate.sleep import EPOCH_RUNS, simulate_sleep_probe, write_sleep_truth

    fs = float(sim["sampling_frequency_ephys"])
    day_start = _session_day(plan.day)
    task_duration = float(events["onset"].iloc[-1] + events["duration"].iloc[-1] + 1.0)
    sleep_span = design.sleep.duration_s + design.sleep.gap_s
    task_start = day_start + dt.timedelta(seconds=sleep_span if plan.sleep else 0.0)
    epoch_start = {
        "pre": day_start,
        "post": task_start + dt.timedelta(seconds=task_duration + design.sleep.gap_s),
    }
    run_epoch = {str(run): epoch for epoch, run in EPOCH_RUNS.items()}
    prefix = ground_truth_prefix(gt_tmp, plan.subject, plan.session)
    Path(prefix).parent.mkdir(parents=True, exist_ok=True)
    scans: list[tuple[str, dt.datetime]] = []
    truth: dict[str, Any] = {
        "subject": plan.subject,
        "session": plan.session,
        "kind": plan.kind,
        "stage": plan.stage,
        "condition": plan.condition,
        "inactivated_region": (
            design.inactivation.region if plan.condition == "inactivation" else None
        ),
        "first_problem": int(plan.problems[0]),
        "last_problem": int(plan.problems[-1]),
        "behaviour": behaviour_truth(
            design.agents[plan.subject], plan.condition, design.inactivation, plan.problems
        ),
        "probes": {},
        "sleep_runs": {},
    }
    codings: dict[str, pd.DataFrame] = {}
    for row in rows.itertuples(index=False):
        target = raw_tmp / row.path
        if row.datatype == "beh":
            write_tsv(events, target)
            continue
        coding = probe_coding(
            events,
            agent=design.agents[plan.subject],
            condition=plan.condition,
            region=row.region,
            inactivation=design.inactivation,
        )
        if row.datatype == "ecog":
            stay_code = ecog_stay_code(events, coding, sim)
            _simulate_ecog(row, events, size, sim, seed, raw_tmp, gt_tmp, stay_code=stay_code)
        elif row.task == "harlow":
            codings[row.probe] = coding
            probe = _simulate_design_probe(row, events, coding, size=size, fs=fs, seed=seed)
            _write_design_recording(
                probe.recording,
                row,
                target,
                sim=sim,
                age=age,
                sex=sex,
                start=task_start,
                task_metadata=None,
            )
            write_tsv(events, Path(str(target)[: -len("_ieeg.nwb")] + "_events.tsv"))
            write_probe_ground_truth(probe, Path(f"{prefix}_acq-{row.probe}"))
            write_tsv(coding, Path(f"{prefix}_acq-{row.probe}_coding.tsv"))
            truth["probes"][row.probe] = {
                "region": row.region,
                "mean_stay_factor": round(float(coding["stay_factor"].mean()), 9),
                "coding_factor": float(coding["coding_factor"].iloc[0]),
                "rate_factor": float(coding["rate_factor"].iloc[0]),
            }
            scans.append((f"ieeg/{Path(row.path).name}", task_start))
    for row in rows.itertuples(index=False):
        if row.datatype == "beh" or row.task == "harlow":
            continue
        epoch = run_epoch[row.run]
        kind = "array" if row.datatype == "array" else "microwire"
        coding = codings.get(row.probe)
        if coding is None:  # a sheet naming the sleep runs of a probe without its task run
            coding = probe_coding(
                events,
                agent=design.agents[plan.subject],
                condition=plan.condition,
                region=row.region,
                inactivation=design.inactivation,
            )
        sleep = simulate_sleep_probe(
            events,
            coding=coding,
            n_channels=int(size[f"n_channels_{kind}"]),
            n_units=int(size[f"n_units_{kind}"]),
            sampling_frequency=fs,
            region=row.region,
            seed=derived_seed(seed, "ephys", row.subject, row.session, row.probe),
            sleep_seed=derived_seed(seed, "sleep", row.subject, row.session, row.probe, row.run),
            epoch=epoch,
            design=design.sleep,
        )
        target = raw_tmp / row.path
        _write_design_recording(
            sleep.recording,
            row,
            target,
            sim=sim,
            age=age,
            sex=sex,
            start=epoch_start[epoch],
            task_metadata=SLEEP_TASK_METADATA,
        )
        write_tsv(
            pd.DataFrame(
                {"onset": [0.0], "duration": [design.sleep.duration_s], "trial_type": ["sleep"]}
            ),
            Path(str(target)[: -len("_ieeg.nwb")] + "_events.tsv"),
        )
        run_prefix = f"{prefix}_task-{row.task}_acq-{row.probe}_run-{row.run}"
        write_sleep_truth(sleep, run_prefix)
        if row.run == "1":
            _write_cofiring(
                events, coding, sleep.units, fs, Path(f"{prefix}_acq-{row.probe}_cofiring.npz")
            )
        truth["sleep_runs"][f"{row.probe}_run-{row.run}"] = {
            "epoch": epoch,
            "probe": row.probe,
            "region": row.region,
            "n_ripples": len(sleep.ripples),
            "n_replay": int(sleep.ripples["replay"].sum()),
            "replay_fraction": design.sleep.replay_fraction[epoch],
            "ripple_peak_channel": int(np.argmax(sleep.profile)),
            "start_after_session_start_s": (epoch_start[epoch] - day_start).total_seconds(),
        }
        scans.append((f"ieeg/{Path(row.path).name}", epoch_start[epoch]))
    if scans:
        write_scans_file(
            raw_tmp / f"sub-{plan.subject}/ses-{plan.session}/"
            f"sub-{plan.subject}_ses-{plan.session}_scans.tsv",
            sorted(scans, key=lambda item: (item[1], item[0])),
        )
    write_json(truth, Path(f"{prefix}_design.json"))


def _simulate_design_probe(
    row: Any,
    events: pd.DataFrame,
    coding: pd.DataFrame,
    *,
    size: Mapping[str, Any],
    fs: float,
    seed: int,
) -> Any:
    from panneuro.simulate.ephys import simulate_probe

    kind = "array" if row.datatype == "array" else "microwire"
    return simulate_probe(
        events,
        n_channels=int(size[f"n_channels_{kind}"]),
        n_units=int(size[f"n_units_{kind}"]),
        sampling_frequency=fs,
        duration=float(events["onset"].iloc[-1] + events["duration"].iloc[-1] + 1.0),
        region=row.region,
        seed=derived_seed(seed, "ephys", row.subject, row.session, row.probe),
        coding=coding,
    )


def _write_design_recording(
    recording: Any,
    row: Any,
    target: Path,
    *,
    sim: Mapping[str, Any],
    age: str,
    sex: str,
    start: dt.datetime,
    task_metadata: dict[str, object] | None,
) -> None:
    """Write a design recording (task or sleep run) as NWB with its iEEG sidecars."""
    from panneuro.ingest.nwb_conversion import write_recording_nwb

    kind = "array" if row.datatype == "array" else "microwire"
    geometry = "linear" if recording.get_num_channels() >= 16 else "bundle"
    epoch = "sleep" if task_metadata is not None else "task"
    target.parent.mkdir(parents=True, exist_ok=True)
    gain = float(np.unique(recording.get_channel_gains())[0])
    write_recording_nwb(
        recording,
        target,
        subject=row.subject,
        session=row.session,
        group=f"probe-{row.region}",
        region=row.region,
        species=row.species,
        session_start=start,
        age=age,
        sex=sex,
        device_description=f"simulated {geometry} probe, {recording.get_num_channels()} contacts",
        group_description=f"{geometry} probe in {row.region}",
        series_description=f"Broadband voltage, int16 counts ({gain} µV per count).",
        session_description=f"Simulated broadband {geometry} recording in {row.region}, "
        f"{epoch} epoch (panneuro).",
    )
    write_nwb_ieeg_sidecars(
        target,
        channel_ids=recording.channel_ids,
        locations_um=recording.get_channel_locations(),
        sampling_frequency=recording.sampling_frequency,
        duration=recording.get_total_duration(),
        region=row.region,
        probe_description=f"simulated {kind} ({recording.get_num_channels()} channels)",
        line_frequency=float(sim["line_frequency"]),
        task_metadata=task_metadata,
    )


def _write_cofiring(
    events: pd.DataFrame, coding: pd.DataFrame | None, units: pd.DataFrame, fs: float, path: Path
) -> None:
    """Write the task's planted co-firing pattern of a probe (the reactivation's template)."""
    from panneuro.io.arrays import write_npz
    from panneuro.simulate.ephys import tuned_rates
    from panneuro.simulate.sleep import RATE_DT, task_cofiring

    duration = float(events["onset"].iloc[-1] + events["duration"].iloc[-1] + 1.0)
    rates = tuned_rates(
        events, units, duration=int(round(duration * fs)) / fs, dt=RATE_DT, coding=coding
    )
    write_npz(
        {
            "unit_ids": units["unit_id"].to_numpy(),
            "bin_s": np.array([0.05]),
            "task_rate_correlation": np.round(task_cofiring(rates, bin_s=0.05), 9),
        },
        path,
    )


def _simulate_probe(
    row: Any,
    events: pd.DataFrame,
    size: Mapping[str, Any],
    sim: Mapping[str, Any],
    seed: int,
    target: Path,
    gt_tmp: Path,
    *,
    age: str,
    sex: str,
) -> None:
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
    write_probe_nwb(
        probe,
        target,
        subject=row.subject,
        session=row.session,
        species=row.species,
        region=row.region,
        session_start=shift_date(SESSION_START),
        age=age,
        sex=sex,
    )
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


def _simulate_ecog(
    row: Any,
    events: pd.DataFrame,
    size: Mapping[str, Any],
    sim: Mapping[str, Any],
    seed: int,
    raw_tmp: Path,
    gt_tmp: Path,
    *,
    stay_code: Any = None,
) -> None:
    from panneuro.simulate.ecog import simulate_ecog, write_ecog_bids, write_ecog_truth

    ecog = simulate_ecog(
        events,
        n_electrodes=int(size["n_electrodes_ecog"]),
        sfreq=float(sim["sampling_frequency_ecog"]),
        n_planted=int(sim["ecog_planted_electrodes"]),
        gain=float(sim["ecog_high_gamma_gain"]),
        line_frequency=float(sim["line_frequency"]),
        seed=derived_seed(seed, "ecog", row.subject, row.session),
        stay_code=stay_code,
    )
    write_ecog_bids(
        ecog,
        raw_tmp,
        subject=row.subject,
        session=row.session,
        line_frequency=float(sim["line_frequency"]),
    )
    if not (raw_tmp / row.path).exists():
        raise RuntimeError(
            f"ECoG writer did not produce {row.path}; the sample sheet path "
            "must follow mne-bids naming (sub-X_ses-Y_task-harlow_ieeg.vhdr)."
        )
    write_ecog_truth(
        ecog, Path(f"{ground_truth_prefix(gt_tmp, row.subject, row.session)}_ecog-truth.json")
    )


def ecog_stay_code(events: pd.DataFrame, coding: pd.DataFrame, sim: Mapping[str, Any]) -> Any:
    """Return the planted stay code of a design ECoG session (a ``StayCode``).

    Parameters
    ----------
    events : pandas.DataFrame
        The session's trial table.
    coding : pandas.DataFrame
        Its per-trial coding (:func:`panneuro.simulate.inactivation.probe_coding`:
        ``stay_factor``, the learning-set prior the patient expresses).
    sim : mapping
        ``config["simulation"]`` (``ecog_stay_gain``, ``ecog_stay_electrodes``).

    Returns
    -------
    StayCode
        The code, or None when ``ecog_stay_gain`` or ``ecog_stay_electrodes`` is 0.
    """
    from panneuro.simulate.ecog import StayCode

    gain, n = float(sim.get("ecog_stay_gain", 0.0)), int(sim.get("ecog_stay_electrodes", 0))
    if gain == 0 or n == 0:
        return None
    return StayCode(
        stay=task_variables(events)["stay"].to_numpy(float),
        stay_factor=coding["stay_factor"].to_numpy(float),
        gain=gain,
        n_electrodes=n,
    )


def _subject_sessions(samples: pd.DataFrame) -> dict[str, list[str]]:
    return {
        str(subject): sorted(set(group["session"]))
        for subject, group in samples.groupby("subject", sort=True)
    }


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
        records.append(
            {
                "participant_id": f"sub-{subject}",
                "species": SPECIES_LATIN[species],
                "sex": str(rng.choice(["M", "F"])),
                "age": age,
            }
        )
    return pd.DataFrame(records)


def save_datalad_dataset(
    root: Path, message: str, *, subdatasets: Sequence[str] = (), annex: bool = True
) -> None:
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
    for key, value in (
        ("GIT_AUTHOR_NAME", "panneuro"),
        ("GIT_AUTHOR_EMAIL", "panneuro@localhost"),
        ("GIT_COMMITTER_NAME", "panneuro"),
        ("GIT_COMMITTER_EMAIL", "panneuro@localhost"),
    ):
        os.environ.setdefault(key, value)
    if annex:
        dl.create(
            path=str(root),
            force=True,
            cfg_proc="text2git",
            fake_dates=True,
            result_renderer="disabled",
        )
    else:
        dl.create(
            path=str(root), force=True, annex=False, fake_dates=True, result_renderer="disabled"
        )
    for name in subdatasets:
        dl.create(
            path=str(root / name),
            dataset=str(root),
            force=True,
            cfg_proc="text2git",
            fake_dates=True,
            result_renderer="disabled",
        )
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
