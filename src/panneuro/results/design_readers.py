"""Read a run's study-design results: group effects, their session scores, the sleep tables.

The run makes these only where its plan has them (:class:`panneuro.study.Study`, built from the
run's config and sample sheet as the workflow builds it): the learning-stage and inactivation
analyses when the raw dataset states a design (:meth:`~panneuro.study.Study.group_plan`), the
sleep tables when the sheet has sleep runs around a task session
(:meth:`~panneuro.study.Study.sleep_probes`; ripple scores on the simulated study only). Each
reader reads the files the plan lists, and returns an empty table with the same columns when
the plan has none; a planned file not made yet raises :class:`FileNotFoundError` naming the
rule that makes it and the ``snakemake`` command; a table without its columns raises
:class:`ValueError` naming the file and the columns.

A lab's raw dataset states its design in ``sub-X/sub-X_sessions.tsv``: read in the run's
folder, or copied from the run's bucket (the simulated study's design is its size preset's).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

import pandas as pd

from panneuro.results.run import Run

if TYPE_CHECKING:  # imported where used: a notebook opening a run does not pay for the plan
    from panneuro.study import Study

#: Columns read as strings (``session`` ``"01"``, not 1).
_KEY_COLUMNS: tuple[str, ...] = ("subject", "session", "probe", "run")


def _study(run: Run) -> Study:
    """Return the run's plan, its raw dataset's design read from the run (not the cwd)."""
    from panneuro.study import Study

    return Study.from_config({**run.config, "raw_dir": _raw_dir(run)}, run.samples)


def _raw_dir(run: Run) -> str:
    """Return a local folder holding the run's raw ``sub-X/sub-X_sessions.tsv`` (the design).

    A run in a bucket: local copies of the files (a folder without them when one is absent:
    no design), unless the design comes from the config (a simulated study made here).
    """
    raw = str(run.config["raw_dir"])
    if run.store is None:
        return str(run.path(raw))
    if run.simulated and not run.config.get("raw_source"):
        return raw  # the simulated study: its design is the size preset's
    copies = []
    for subject in sorted(set(run.samples["subject"])):
        try:
            copies.append(run.result(raw, f"sub-{subject}", f"sub-{subject}_sessions.tsv"))
        except FileNotFoundError:
            return str(run.path(raw))  # the bucket's path: no local file, no design
    return str(copies[0].parents[1]) if copies else raw


def _read_table(run: Run, path: str, columns: Sequence[str], rule: str) -> pd.DataFrame:
    """Read one result table of ``rule``; check it has ``columns``."""
    try:
        local = run.result(path)
    except FileNotFoundError as error:
        raise FileNotFoundError(f"{error} The {rule} rule makes it.") from error
    table = pd.read_csv(
        local,
        sep="\t",
        na_values=["n/a"],
        keep_default_na=False,
        dtype=dict.fromkeys(_KEY_COLUMNS, str),
    )
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(
            f"{path}: lacks the column(s) {missing} of the {rule} rule's table; remake it "
            f"(snakemake --forcerun {rule} {path})."
        )
    return table


def _stack(run: Run, paths: Sequence[str], columns: Sequence[str], rule: str) -> pd.DataFrame:
    parts = [_read_table(run, path, columns, rule) for path in paths]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(columns))


def read_group_effects(run: Run) -> pd.DataFrame:
    """Every group-effect table of the run (``results/group/*_effects.tsv``), stacked.

    The tables figure 10 draws: the learning-stage and inactivation effects (when the design
    plans them) and the sleep stage's (with sleep runs).

    Returns
    -------
    pandas.DataFrame
        ``table`` (the file's name without ``.tsv``: ``stage_effects``,
        ``inactivation_effects``, ``sleep_effects``), then the
        :data:`~panneuro.stats.design_effects.EFFECT_COLUMNS` (and any other column of the
        files); no rows when the run plans no group effect.

    Raises
    ------
    FileNotFoundError
        A planned table is not made yet (the message names its rule and the command).
    ValueError
        A table lacks effect columns (the message names the file and the columns).
    """
    from panneuro.stats.design_effects import EFFECT_COLUMNS
    from panneuro.study import GROUP_ANALYSES, SLEEP_EFFECTS

    rules = {tables[0]: rule for rule, tables in GROUP_ANALYSES.items()}
    rules[SLEEP_EFFECTS] = "sleep_group"
    parts = []
    for path in _study(run).group_effect_tables():
        table = _read_table(run, path, EFFECT_COLUMNS, rules[path])
        table.insert(0, "table", PurePosixPath(path).stem)
        parts.append(table)
    if not parts:
        return pd.DataFrame(columns=["table", *EFFECT_COLUMNS])
    return pd.concat(parts, ignore_index=True)


def _group_scores(run: Run, analysis: str, columns: Sequence[str]) -> pd.DataFrame:
    from panneuro.study import GROUP_ANALYSES

    if analysis not in _study(run).group_analyses():
        return pd.DataFrame(columns=list(columns))
    return _read_table(run, GROUP_ANALYSES[analysis][1], columns, analysis)


def read_stage_scores(run: Run) -> pd.DataFrame:
    """Per session, region and epoch, the stay code the learning-stage effects combine.

    ``results/group/stage_scores.tsv`` (rule ``stage_effects``), what figure 7 draws.

    Returns
    -------
    pandas.DataFrame
        :func:`panneuro.stats.session_scores.annotate` of the sessions' stay scores:
        ``subject``, ``session``, ``species``, ``region``, ``epoch``, ``ccgp``, ``cv``,
        ``n_units``, their ``_truth``, the design columns; no rows when the run plans no
        learning-stage effects.
    """
    from panneuro.stats.session_scores import annotate, read_session_design, session_stay_scores

    columns = annotate(session_stay_scores({}), read_session_design([]), {}).columns
    return _group_scores(run, "stage_effects", columns)


def read_inactivation_scores(run: Run) -> pd.DataFrame:
    """Per session and region, what the inactivation effects contrast.

    ``results/group/inactivation_scores.tsv`` (rule ``inactivation_effects``), what figure 8
    draws.

    Returns
    -------
    pandas.DataFrame
        :func:`panneuro.stats.session_scores.inactivation_scores`: stay code, kept units and
        log rate per region, trial-2 accuracy in ``region = "behaviour"`` rows, their
        ``_truth`` and the design columns; no rows when the run plans no inactivation effects.
    """
    from panneuro.stats.session_scores import (
        inactivation_scores,
        read_session_design,
        session_rates,
        session_stay_scores,
        trial2_table,
    )

    design = read_session_design([])
    empty = inactivation_scores(
        session_stay_scores({}), session_rates({}), trial2_table({}, design), design, {}
    )
    return _group_scores(run, "inactivation_effects", empty.columns)


def read_ripple_scores(run: Run) -> pd.DataFrame:
    """Each sleep run's detected ripples scored against the planted ones, stacked.

    ``results/sleep/sub-X_ses-Y_acq-P_run-N_ripple_scores.tsv`` (rule ``score_ripples``),
    made on the simulated study only.

    Returns
    -------
    pandas.DataFrame
        :data:`panneuro.sleep.sleep_runs.RIPPLE_SCORE_COLUMNS`, one row per sleep run in
        sheet order; no rows without sleep runs or ground truth.
    """
    from panneuro.sleep.sleep_runs import RIPPLE_SCORE_COLUMNS
    from panneuro.study import SLEEP_RIPPLE_SCORES

    study = _study(run)
    paths = study.sleep_run_files(SLEEP_RIPPLE_SCORES) if study.simulated else []
    return _stack(run, paths, RIPPLE_SCORE_COLUMNS, "score_ripples")


def read_reactivation(run: Run) -> pd.DataFrame:
    """Each sleep probe's reactivation after vs before the task, stacked.

    ``results/sleep/sub-X_ses-Y_acq-P_reactivation.tsv`` (rule ``sleep_reactivation``).

    Returns
    -------
    pandas.DataFrame
        :data:`panneuro.sleep.sleep_runs.REACTIVATION_COLUMNS`, one row per probe and
        method; no rows without a probe with both sleep runs.
    """
    from panneuro.sleep.sleep_runs import REACTIVATION_COLUMNS
    from panneuro.study import SLEEP_PROBE_REACTIVATION

    paths = _study(run).sleep_probe_files(SLEEP_PROBE_REACTIVATION)
    return _stack(run, paths, REACTIVATION_COLUMNS, "sleep_reactivation")
