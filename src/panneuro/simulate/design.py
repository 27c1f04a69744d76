"""The study design of a size preset: subjects, sessions across learning, inactivation, sleep.

A size preset with a ``design`` block (``config/config.yaml``, ``sizes.paper``) describes the
consortium's study instead of today's one recorded session per subject:

* macaques, each with its own agent (``agents``), recorded with the ``arrays`` (prefrontal and
  hippocampal) in task sessions at stages of learning-set formation (``early``, ``middle``,
  ``late`` problems of their history), with behaviour-only sessions (``beh``) between them;
* sessions ``<stage>/inactivation`` with one region inactivated
  (:mod:`panneuro.simulate.inactivation`), interleaved between control sessions, and
  behaviour-only inactivation sessions ``beh/inactivation`` (the same agent under the
  inactivation's ``prior_odds_factor``, ``problems_per_session`` problems, no recording)
  between behaviour-only controls: recorded sessions are expensive to sort, behaviour-only
  ones are cheap, so the behavioural cost is measured on many problems;
* sleep epochs before and after the task sessions (:mod:`panneuro.simulate.sleep`), recorded
  by the probes of the sleep regions (BIDS ``task-sleep_run-1``/``run-2``);
* human ECoG patients and human microwire patients, one task session each (humans form a
  learning set within tens of problems).

:func:`plan_design` turns the block into :class:`DesignSession` plans (problem numbers run on
across a subject's sessions) and :func:`design_samples` into the sample sheet that names every
raw file (``config/samples_paper.tsv`` is that sheet: ``tests/test_design.py`` checks it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from panneuro.behaviour.model import LearningSetParams
from panneuro.simulate.inactivation import Inactivation
from panneuro.simulate.sleep import EPOCH_RUNS, SLEEP_TASK, SleepDesign

#: Learning stages of the recorded macaque sessions, in the order they come.
STAGES: tuple[str, ...] = ("early", "middle", "late")
#: Columns of a design sheet: the sheet's own plus the BIDS ``task`` and ``run`` of each file.
SHEET_COLUMNS: tuple[str, ...] = (
    "subject",
    "session",
    "species",
    "datatype",
    "probe",
    "region",
    "path",
    "format",
    "task",
    "run",
)
#: The task label of the Harlow sessions.
TASK = "harlow"
#: The human ECoG grid and microwire bundle of the design.
ECOG_REGION = "temporal"
MICROWIRE = {"probe": "MW", "region": "hippocampus"}


@dataclass(frozen=True)
class DesignSession:
    """One session of the design.

    Attributes
    ----------
    subject, session, species : str
        Labels (``session`` two digits) and ``macaque``/``human``.
    kind : {"beh", "arrays", "ecog", "microwire"}
        What is recorded besides behaviour.
    problems : numpy.ndarray
        The session's problems (numbered over the subject's history).
    stage : str
        ``early``/``middle``/``late`` for recorded macaque sessions, else ``n/a``.
    condition : {"control", "inactivation"}
        Whether a region is inactivated (in a recorded or a behaviour-only session).
    sleep : bool
        Whether the session has sleep epochs before and after the task.
    day : int
        Day of the session in the subject's history (0 = first), for acquisition times.
    """

    subject: str
    session: str
    species: str
    kind: str
    problems: np.ndarray
    stage: str
    condition: str
    sleep: bool
    day: int

    @property
    def recorded(self) -> bool:
        """Whether the session has recordings."""
        return self.kind != "beh"


@dataclass(frozen=True)
class StudyDesign:
    """The parsed ``design`` block of a size preset.

    Attributes
    ----------
    sessions : list of DesignSession
        Every session, subject by subject in order.
    agents : dict
        Subject -> its own :class:`~panneuro.behaviour.model.LearningSetParams`.
    arrays : list of dict
        The macaque arrays: ``probe`` and ``region``.
    inactivation : Inactivation
        What an inactivation does.
    sleep : SleepDesign
        The sleep epochs.
    samples : str
        The design's sample sheet (config ``samples`` to run it with).
    """

    sessions: list[DesignSession]
    agents: dict[str, LearningSetParams]
    arrays: list[dict[str, str]]
    inactivation: Inactivation
    sleep: SleepDesign
    samples: str

    def session(self, subject: str, session: str) -> DesignSession:
        """Return the plan of one session."""
        for plan in self.sessions:
            if plan.subject == subject and plan.session == session:
                return plan
        raise KeyError(f"sub-{subject} ses-{session} is not a session of the study design")


def parse_session_entry(entry: object, recorded_n: int, beh_n: int) -> tuple[str, int, str, str]:
    """Parse one ``macaque_sessions`` entry of a design.

    Parameters
    ----------
    entry : object
        ``beh`` or a stage of :data:`STAGES`, optionally followed by ``/inactivation``
        (``middle/inactivation``, ``beh/inactivation``).
    recorded_n, beh_n : int
        Problems of a recorded task session and of a behaviour-only session.

    Returns
    -------
    kind : {"arrays", "beh"}
        A recorded task session (the design's arrays) or behaviour only.
    n_problems : int
        ``recorded_n`` or ``beh_n``.
    stage : str
        The learning stage of a recorded session, ``n/a`` for a behaviour-only one.
    condition : {"control", "inactivation"}
        ``inactivation`` with the ``/inactivation`` suffix: the agent's prior odds are
        multiplied by the inactivation's ``prior_odds_factor`` (recorded or behaviour-only
        alike), and in a recorded session the inactivated region's units are silenced too.

    Raises
    ------
    ValueError
        Naming the entry and the entries allowed.
    """
    text = str(entry)
    stage, slash, condition = text.partition("/")
    allowed = (
        f"use beh or a stage of {STAGES}, each optionally followed by '/inactivation' "
        "(e.g. 'middle/inactivation', 'beh/inactivation')"
    )
    if stage not in ("beh", *STAGES):
        raise ValueError(f"design macaque_sessions: {text!r} unknown; {allowed}.")
    if slash and condition != "inactivation":
        raise ValueError(
            f"design macaque_sessions: {text!r}: condition {condition!r} unknown; {allowed}."
        )
    condition = condition or "control"
    if stage == "beh":
        return "beh", int(beh_n), "n/a", condition
    return "arrays", int(recorded_n), stage, condition


def plan_design(size: Mapping[str, Any], agents: Mapping[str, Mapping[str, float]]) -> StudyDesign:
    """Plan every session of a size preset's design.

    Parameters
    ----------
    size : mapping
        A size preset with a ``design`` block (``config["sizes"]["paper"]``).
    agents : mapping
        The species' agents (``config["simulation"]["agent"]``), used for subjects the design
        gives no agent of their own.

    Returns
    -------
    StudyDesign
        The sessions (recorded task sessions hold ``recorded_problems`` problems,
        behaviour-only ones ``problems_per_session``) and the design's parts.
    """
    design = size["design"]
    inactivation = Inactivation.from_config(design["inactivation"])
    sleep = SleepDesign.from_config(design["sleep"])
    sleep_sessions = str(design["sleep"].get("sessions", "control"))
    own = {str(k): LearningSetParams(**v) for k, v in (design.get("agents") or {}).items()}
    subject_agents: dict[str, LearningSetParams] = {}
    sessions: list[DesignSession] = []
    recorded_n = int(size["recorded_problems"])
    beh_n = int(size["problems_per_session"])

    def has_sleep(condition: str, regions: list[str]) -> bool:
        wanted = sleep_sessions == "all" or (sleep_sessions == "control" and condition == "control")
        return wanted and any(r in sleep.regions for r in regions)

    array_regions = [str(a["region"]) for a in design["arrays"]]
    for subject in design["macaques"]:
        subject_agents[subject] = own.get(subject, LearningSetParams(**agents["macaque"]))
        next_problem = 1
        for day, entry in enumerate(design["macaque_sessions"]):
            kind, n, stage_label, condition = parse_session_entry(entry, recorded_n, beh_n)
            sleeps = kind == "arrays" and has_sleep(condition, array_regions)
            sessions.append(
                DesignSession(
                    subject=str(subject),
                    session=f"{day + 1:02d}",
                    species="macaque",
                    kind=kind,
                    problems=np.arange(next_problem, next_problem + n),
                    stage=stage_label,
                    condition=condition,
                    sleep=sleeps,
                    day=day,
                )
            )
            next_problem += n
    for kind, subjects in (
        ("ecog", design["ecog_patients"]),
        ("microwire", design["microwire_patients"]),
    ):
        regions = [ECOG_REGION] if kind == "ecog" else [MICROWIRE["region"]]
        for subject in subjects:
            subject_agents[subject] = own.get(subject, LearningSetParams(**agents["human"]))
            sessions.append(
                DesignSession(
                    subject=str(subject),
                    session="01",
                    species="human",
                    kind=kind,
                    problems=np.arange(1, recorded_n + 1),
                    stage="n/a",
                    condition="control",
                    sleep=kind == "microwire" and has_sleep("control", regions),
                    day=0,
                )
            )
    labels = [p.subject for p in sessions]
    if len(set(labels)) != len(
        set(design["macaques"]) | set(design["ecog_patients"]) | set(design["microwire_patients"])
    ):
        raise ValueError(
            "design: a subject is listed twice (macaques, ecog_patients, "
            "microwire_patients must not overlap)."
        )
    return StudyDesign(
        sessions=sessions,
        agents=subject_agents,
        arrays=[{"probe": str(a["probe"]), "region": str(a["region"])} for a in design["arrays"]],
        inactivation=inactivation,
        sleep=sleep,
        samples=str(design.get("samples", "")),
    )


def recording_path(
    subject: str, session: str, probe: str, *, task: str = TASK, run: int | None = None
) -> str:
    """Return a probe recording's path in the raw dataset (iEEG-datatype NWB).

    Parameters
    ----------
    subject, session, probe : str
        Labels.
    task : str
        ``harlow`` or ``sleep``.
    run : int, optional
        The sleep run (1 = before the task, 2 = after).

    Returns
    -------
    str
        ``sub-X/ses-Y/ieeg/sub-X_ses-Y_task-T_acq-P[_run-N]_ieeg.nwb``.
    """
    run_entity = "" if run is None else f"_run-{run}"
    return (
        f"sub-{subject}/ses-{session}/ieeg/sub-{subject}_ses-{session}_task-{task}"
        f"_acq-{probe}{run_entity}_ieeg.nwb"
    )


def design_samples(design: StudyDesign) -> pd.DataFrame:
    """Return the sample sheet of a design: one row per raw file, with its task and run.

    Parameters
    ----------
    design : StudyDesign
        The planned design.

    Returns
    -------
    pandas.DataFrame
        :data:`SHEET_COLUMNS` (strings; ``task`` harlow/sleep, ``run`` ``n/a`` or the sleep
        run), subject by subject, session by session: behaviour, the task recordings, then the
        sleep runs.
    """
    rows: list[dict[str, str]] = []
    for plan in design.sessions:
        s, e = plan.subject, plan.session
        base = {"subject": s, "session": e, "species": plan.species}
        rows.append(
            {
                **base,
                "datatype": "beh",
                "probe": "n/a",
                "region": "n/a",
                "path": f"sub-{s}/ses-{e}/beh/sub-{s}_ses-{e}_task-{TASK}_events.tsv",
                "format": "tsv",
                "task": TASK,
                "run": "n/a",
            }
        )
        if plan.kind == "ecog":
            rows.append(
                {
                    **base,
                    "datatype": "ecog",
                    "probe": "n/a",
                    "region": ECOG_REGION,
                    "path": f"sub-{s}/ses-{e}/ieeg/sub-{s}_ses-{e}_task-{TASK}_ieeg.vhdr",
                    "format": "brainvision",
                    "task": TASK,
                    "run": "n/a",
                }
            )
            continue
        probes = (
            design.arrays
            if plan.kind == "arrays"
            else [MICROWIRE]
            if plan.kind == "microwire"
            else []
        )
        datatype = "array" if plan.kind == "arrays" else "microwire"
        for probe in probes:
            rows.append(
                {
                    **base,
                    "datatype": datatype,
                    "probe": probe["probe"],
                    "region": probe["region"],
                    "path": recording_path(s, e, probe["probe"]),
                    "format": "nwb",
                    "task": TASK,
                    "run": "n/a",
                }
            )
        if plan.sleep:
            for run in sorted(EPOCH_RUNS.values()):
                for probe in probes:
                    if probe["region"] in design.sleep.regions:
                        rows.append(
                            {
                                **base,
                                "datatype": datatype,
                                "probe": probe["probe"],
                                "region": probe["region"],
                                "path": recording_path(
                                    s, e, probe["probe"], task=SLEEP_TASK, run=run
                                ),
                                "format": "nwb",
                                "task": SLEEP_TASK,
                                "run": str(run),
                            }
                        )
    return pd.DataFrame(rows, columns=list(SHEET_COLUMNS))


def check_design_samples(samples: pd.DataFrame, design: StudyDesign) -> None:
    """Check a sample sheet holds only rows of the design (a subset of its files is fine).

    Parameters
    ----------
    samples : pandas.DataFrame
        The sheet.
    design : StudyDesign
        The planned design.

    Raises
    ------
    ValueError
        Naming the first row the design does not hold, and the sheet to use.
    """
    expected = design_samples(design)
    missing = [c for c in SHEET_COLUMNS if c not in samples.columns]
    if missing:
        raise ValueError(
            f"sample sheet lacks column(s) {missing} of the study design; run the "
            f"design preset with its sheet: --config samples={design.samples}"
        )
    known = set(map(tuple, expected[list(SHEET_COLUMNS)].to_numpy().tolist()))
    for index, row in enumerate(samples[list(SHEET_COLUMNS)].to_numpy().tolist()):
        if tuple(row) not in known:
            raise ValueError(
                f"sample sheet row {index + 2} ({row[6]}) is not a file of the "
                f"study design; run the design preset with its sheet: --config "
                f"samples={design.samples}"
            )


def sessions_table(design: StudyDesign, subject: str) -> pd.DataFrame:
    """Return the design columns of a subject's ``sessions.tsv`` (without ``acq_time``).

    Parameters
    ----------
    design : StudyDesign
        The planned design.
    subject : str
        The subject.

    Returns
    -------
    pandas.DataFrame
        ``session_id``, ``condition``, ``inactivated_region``, ``learning_stage``,
        ``first_problem``, ``last_problem``.
    """
    plans = [p for p in design.sessions if p.subject == subject]
    return pd.DataFrame(
        {
            "session_id": [f"ses-{p.session}" for p in plans],
            "condition": [p.condition for p in plans],
            "inactivated_region": [
                design.inactivation.region if p.condition == "inactivation" else "n/a"
                for p in plans
            ],
            "learning_stage": [p.stage for p in plans],
            "first_problem": [int(p.problems[0]) for p in plans],
            "last_problem": [int(p.problems[-1]) for p in plans],
        }
    )
