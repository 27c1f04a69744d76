"""The study as the workflow sees it: config and sample sheet, answering every rule's question.

``workflow/rules/common.smk`` builds one :class:`Study` and the rules ask it what they need:
the sessions and probes, a probe's row, region and species, the raw file a job reads (a
DataLad key record, a file under remote storage, or the NWB file a recording was converted
to), the BIDS metadata files of a session, which figures the sheet's data can make (and why
the others are left out), and the size of each heavy job. Everything here is plain Python on
the sheet, so it is unit-tested (``tests/test_study_plan.py``) rather than buried in rules.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

import numpy as np
import pandas as pd

from panneuro.compendium.resources import estimate, recording_channel_seconds
from panneuro.ingest.ecog_conversion import converted_ecog_files, needs_ecog_conversion
from panneuro.ingest.nwb_conversion import needs_conversion
from panneuro.ingest.session_metadata import metadata_files

PROBE_DATATYPES = ("array", "microwire")
#: The paper's figures, in order.
FIGURES = (
    "fig1_behaviour",
    "fig2_sorting",
    "fig3_monkey_decoding",
    "fig4_ecog",
    "fig5_human_units",
    "fig6_model",
)
#: The study design's figures: group effects across learning stages and inactivation (made
#: when the design's group analyses are planned) and sleep (made when the sheet has sleep runs).
DESIGN_FIGURES = ("fig7_learning_stages", "fig8_inactivation", "fig9_sleep", "fig10_group_summary")
#: Group effects across the design's sessions (``results/group/``): analysis -> its tables.
GROUP_ANALYSES = {
    "stage_effects": ("results/group/stage_effects.tsv", "results/group/stage_scores.tsv"),
    "inactivation_effects": (
        "results/group/inactivation_effects.tsv",
        "results/group/inactivation_scores.tsv",
    ),
}
#: Why the group analyses are left out when the raw dataset states no design.
NO_DESIGN = (
    "no study design (the raw dataset's sub-X_sessions.tsv lack the columns "
    "condition, inactivated_region, learning_stage, first_problem, last_problem)"
)
#: The sleep stage's group effects (reactivation after vs before the task, ripple scores).
SLEEP_EFFECTS = "results/group/sleep_effects.tsv"
#: An ECoG session's stay code (:mod:`panneuro.ecog.stay_code`) and its truth (simulated).
ECOG_CCGP = "results/ecog/sub-{subject}_ses-{session}_ccgp.tsv"
ECOG_CCGP_ORACLE = "results/ecog/sub-{subject}_ses-{session}_ccgp_oracle.tsv"
#: Per-probe results of the ephys stage.
EPHYS = "results/ephys/sub-{subject}/ses-{session}/acq-{probe}"
#: Recordings converted to iEEG-datatype NWB (the converted BIDS dataset's recordings).
CONVERTED = (
    "results/bids/sub-{subject}/ses-{session}/ieeg/"
    "sub-{subject}_ses-{session}_task-{task}_acq-{probe}_ieeg.nwb"
)
#: A lab's sleep run converted to NWB (its probe's electrodes are the task recording's).
CONVERTED_SLEEP = (
    "results/bids/sub-{subject}/ses-{session}/ieeg/"
    "sub-{subject}_ses-{session}_task-sleep_acq-{probe}_run-{run}_ieeg.nwb"
)
#: ECoG recordings converted to BrainVision (FIF is not a BIDS iEEG format).
CONVERTED_ECOG = (
    "results/bids/sub-{subject}/ses-{session}/ieeg/"
    "sub-{subject}_ses-{session}_task-{task}_ieeg.vhdr"
)
#: Per-run and per-session results of the sleep stage.
SLEEP = "results/sleep/sub-{subject}_ses-{session}_acq-{probe}"
#: A sleep run's detected ripples scored against the planted ones (simulated study).
SLEEP_RIPPLE_SCORES = f"{SLEEP}_run-{{run}}_ripple_scores.tsv"
#: A sleep probe's reactivation of the task's co-firing, after vs before the task.
SLEEP_PROBE_REACTIVATION = f"{SLEEP}_reactivation.tsv"
#: Sleep-run results of the ephys stage (the run's preprocessed recording and matched units).
SLEEP_EPHYS = "results/ephys/sub-{subject}/ses-{session}/acq-{probe}/sleep/run-{run}"
#: Ground truth of a probe (written by the simulation beside the raw dataset).
GT_PROBE = "sub-{subject}/ses-{session}/sub-{subject}_ses-{session}_acq-{probe}"
#: Rule name -> the stage whose cost sizes its memory and runtime (compendium.resources).
HEAVY_STAGES = {
    "convert_recording": "export",
    "convert_sleep_recording": "export",
    "convert_ecog": "high_gamma",
    "preprocess_probe": "preprocess",
    "sort_probe": "sort",
    "curate_units": "curate",
    "export_session_nwb": "export",
    "high_gamma_epochs": "high_gamma",
    "preprocess_sleep": "preprocess",
    "detect_ripples": "preprocess",
    "match_sleep_units": "curate",
}

#: The config of an ECoG session's high-gamma envelope (every rule that computes it).
HIGH_GAMMA_CONFIG: dict[str, str] = {
    "line_frequency": "ecog.line_frequency",
    "reference": "ecog.reference",
    "bad_channel_detection": "ecog.bad_channel_detection",
    "band": "ecog.high_gamma_band",
    "n_subbands": "ecog.n_subbands",
    "envelope_sfreq": "ecog.envelope_sfreq",
}
#: The config each rule's params read (:meth:`Study.config_params`), in the rule's param order:
#: rule -> {param name: config key}. A key is a dotted path from the config's root (``seed``,
#: ``ecog.alpha``); ``size`` is the size preset in use (``size.x`` its key ``x``); a tuple
#: names keys tried in order, the first present wins (a size preset's override before the
#: general value). A rule's params thus change exactly when one of the keys it lists changes
#: (Snakemake's params rerun trigger), never when another rule's config does.
RULE_CONFIG: dict[str, dict[str, str | tuple[str, ...]]] = {
    "simulate_dataset": {"seed": "seed", "size": "size", "simulation": "simulation"},
    "learning_set_curves": {
        "block_size": "behaviour.block_size",
        "n_bootstrap": "behaviour.n_bootstrap",
        "seed": "seed",
    },
    "fit_model": {"n_starts": "behaviour.fit_n_starts", "seed": "seed"},
    "fit_harlow": {
        "trial_weights": "behaviour.harlow_trial_weights",
        "n_starts": "behaviour.harlow_n_starts",
        "seed": "seed",
    },
    "figure_behaviour": {"n_blocks": "behaviour.figure_blocks"},
    "preprocess_probe": {
        "preprocessing": "ephys.preprocessing",
        "chunk_duration": "ephys.chunk_duration",
    },
    "curate_units": {
        "thresholds": "ephys.curation",
        "chunk_duration": ("ephys.analyzer_chunk_duration", "ephys.chunk_duration"),
    },
    "compare_ground_truth": {"ground_truth": "ephys.ground_truth"},
    "figure_sorting": {"well_detected_accuracy": "ephys.ground_truth.well_detected_accuracy"},
    "convert_ecog": {"line_frequency": "ecog.line_frequency"},
    "high_gamma_epochs": {
        **HIGH_GAMMA_CONFIG,
        "window": "ecog.epoch_window",
        "baseline": "ecog.baseline",
    },
    "ecog_statistics": {
        "seed": "seed",
        "window": "ecog.test_window",
        "alpha": "ecog.alpha",
        "n_permutations": "ecog.n_permutations",
        "decoding_bin": "ecog.decoding_bin",
        "decoding_n_folds": "ecog.decoding_n_folds",
        "decoding_n_permutations": "ecog.decoding_n_permutations",
    },
    "decode_session": {"settings": "decoding", "seed": "seed"},
    "decoding_oracle": {
        "settings": "decoding",
        "n_replicates": ("size.oracle_replicates", "decoding.oracle.n_replicates"),
        "seed": "seed",
    },
    "planted_effects": {"bin_size": "decoding.bin_size"},
    "group_decoding": {"alpha": "decoding.alpha", "seed": "seed"},
    "regress_latents": {"settings": "decoding", "seed": "seed"},
    "figure_monkey_decoding": {"variables": "decoding.variables", "alpha": "decoding.alpha"},
    "figure_human_units": {"variables": "decoding.variables", "alpha": "decoding.alpha"},
    "figure_model": {"latents": "decoding.latents.variables"},
    "preprocess_sleep": {
        "preprocessing": "ephys.preprocessing",
        "chunk_duration": "ephys.chunk_duration",
    },
    "match_sleep_units": {"method": "sleep.matching_method"},
    "detect_ripples": {"settings": "sleep"},
    "sleep_reactivation": {"settings": "sleep"},
    "sleep_group": {"settings": "sleep"},
    "ccgp_oracle": {
        "settings": "decoding",
        "n_replicates": ("size.oracle_replicates", "decoding.oracle.n_replicates"),
        "seed": "seed",
    },
    "ecog_stay_code": {
        **HIGH_GAMMA_CONFIG,
        "settings": "decoding",
        "seed": "seed",
    },
    "ecog_stay_oracle": {
        **HIGH_GAMMA_CONFIG,
        "settings": "decoding",
        "n_replicates": "ecog.stay_oracle_replicates",
        "sfreq": "simulation.sampling_frequency_ecog",
        "seed": "seed",
    },
    "stage_effects": {"seed": "seed"},
    "inactivation_effects": {"bin_size": "decoding.bin_size", "seed": "seed"},
}

Key = tuple[str, str]
ProbeKey = tuple[str, str, str]
SleepRun = tuple[str, str, str, str]
#: BIDS task of the sleep epochs and the runs before (1) and after (2) the task session.
SLEEP_TASK = "sleep"
SLEEP_RUNS = ("1", "2")


def task_rows(samples: pd.DataFrame, task: str = "harlow") -> pd.DataFrame:
    """Return the sheet's rows of the Harlow task (all rows of a sheet without a ``task`` column).

    The study design's sheet (``config/samples_paper.tsv``) also names sleep runs
    (``task: sleep``); the sleep stage reads them (:func:`sleep_rows`, ``Study.sleep_runs``).

    Parameters
    ----------
    samples : pandas.DataFrame
        The sheet.
    task : str
        The task analysed.

    Returns
    -------
    pandas.DataFrame
        ``samples`` itself without a ``task`` column, else its rows of ``task``.
    """
    if "task" not in samples.columns:
        return samples
    return samples[samples["task"] == task].reset_index(drop=True)


def sleep_rows(samples: pd.DataFrame) -> pd.DataFrame:
    """Return the sheet's array/microwire rows of sleep runs (none without ``task``/``run``).

    Parameters
    ----------
    samples : pandas.DataFrame
        The sheet.

    Returns
    -------
    pandas.DataFrame
        Rows with ``task == "sleep"`` and a probe datatype, in sheet order (empty, with the
        sheet's columns, when the sheet has no ``task`` and ``run`` columns).
    """
    if not {"task", "run"} <= set(samples.columns):
        return samples.iloc[0:0]
    keep = (samples["task"] == SLEEP_TASK) & samples["datatype"].isin(list(PROBE_DATATYPES))
    return samples[keep].reset_index(drop=True)


@dataclass(repr=False)
class Study:
    """The sample sheet and the config keys the DAG depends on.

    Attributes
    ----------
    samples : pandas.DataFrame
        The validated sheet (strings).
    raw_dir, groundtruth_dir : str
        The raw BIDS dataset and the simulated study's ground truth.
    simulated : bool
        ``config["simulate"]``: the raw data is the simulated study (ground truth beside it).
    raw_simulated : bool
        The raw dataset is made by this workflow (simulated, no ``raw_source``): its files
        do not exist yet at planning.
    remote_storage : bool
        Snakemake runs with a default storage provider (S3): raw files are inputs as files.
    key_dir : str
        Where DataLad key records of raw files are written
        (``panneuro.compendium.datalad_io.KEY_DIR``).
    size : mapping
        The size preset (sizes jobs before a simulated recording exists).
    sampling_frequency : float
        The simulated probes' sampling rate (Hz), for the same.
    task : str
        BIDS task label of converted recordings.
    sheet : str
        The sheet's path (named in errors).
    sorting : mapping
        ``config.ephys.sorting``: the sorter and its params per probe datatype.
    line_frequency : float
        The simulated recordings' line frequency (Hz), for converted recordings.
    config : mapping
        The whole config, read by :meth:`config_params` (the keys of :data:`RULE_CONFIG`).
    design : pandas.DataFrame, optional
        The study design of the sheet's sessions
        (:func:`panneuro.stats.session_scores.read_session_design`: condition, learning stage,
        inactivated region), None when the raw dataset states none (:func:`planned_design`).
    """

    samples: pd.DataFrame
    raw_dir: str
    groundtruth_dir: str
    simulated: bool
    raw_simulated: bool = False
    remote_storage: bool = False
    key_dir: str = "resources/raw-keys"
    size: Mapping[str, Any] = field(default_factory=dict)
    sampling_frequency: float = 30000.0
    task: str = "harlow"
    sheet: str = "config/samples.tsv"
    sorting: Mapping[str, Any] = field(default_factory=dict)
    line_frequency: float = 60.0
    config: Mapping[str, Any] = field(default_factory=dict)
    sleep_samples: pd.DataFrame | None = None
    design: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        self._sleep: dict[SleepRun, dict] = {}
        self._raw_listing: list[str] | None = None
        if self.sleep_samples is not None:
            for row in self.sleep_samples.to_dict("records"):
                key = (row["subject"], row["session"], row["probe"], str(row["run"]))
                if key in self._sleep:
                    raise ValueError(
                        f"{self.sheet}: two sleep rows for sub-{key[0]} "
                        f"ses-{key[1]} probe {key[2]} run {key[3]}; keep one."
                    )
                self._sleep[key] = row
        self._by_key: dict[tuple[str, str, str], list[dict]] = {}
        self._by_probe: dict[ProbeKey, list[dict]] = {}
        self._session_probes: dict[Key, list[str]] = {}
        for row in self.samples.to_dict("records"):
            key = (row["subject"], row["session"])
            self._by_key.setdefault((*key, row["datatype"]), []).append(row)
            if row["datatype"] in PROBE_DATATYPES:
                self._by_probe.setdefault((*key, row["probe"]), []).append(row)
                self._session_probes.setdefault(key, []).append(row["probe"])

    def __repr__(self) -> str:
        """Name the study by its sheet (one line: Snakemake prints input functions' owner)."""
        return f"Study({self.sheet}: {len(self.samples)} rows)"

    @classmethod
    def from_config(
        cls,
        config: Mapping[str, Any],
        samples: pd.DataFrame,
        *,
        remote_storage: bool = False,
        key_dir: str = "resources/raw-keys",
    ) -> Study:
        """Build the study from the workflow's (validated) config and sheet.

        Parameters
        ----------
        config : mapping
            The workflow config.
        samples : pandas.DataFrame
            The sheet (:func:`panneuro.io.validation.read_samples`).
        remote_storage : bool
            Whether Snakemake runs with a default storage provider.
        key_dir : str
            The DataLad key records' folder.

        Returns
        -------
        Study
            Of the sheet's task files (:func:`task_rows`), with the sleep runs
            (:func:`sleep_rows`) apart: ``samples`` holds the task rows only, so every task
            rule plans what it planned before sleep runs existed.
        """
        return cls(
            samples=task_rows(samples),
            sleep_samples=sleep_rows(samples),
            raw_dir=config["raw_dir"],
            groundtruth_dir=config["groundtruth_dir"],
            simulated=bool(config["simulate"]),
            raw_simulated=bool(config["simulate"]) and not config.get("raw_source"),
            remote_storage=remote_storage,
            key_dir=key_dir,
            size=config["sizes"][config["size"]],
            sampling_frequency=float(config["simulation"]["sampling_frequency_ephys"]),
            sheet=str(config["samples"]),
            sorting=config["ephys"]["sorting"],
            line_frequency=float(config["simulation"]["line_frequency"]),
            config=config,
            design=planned_design(config, task_rows(samples)),
        )

    # --- config ----------------------------------------------------------------------------
    def config_value(self, key: str | tuple[str, ...]) -> Any:
        """Return a config value by its dotted key (a tuple: the first of its keys present).

        ``size`` is the size preset in use, ``size.x`` its key ``x``.

        Raises
        ------
        KeyError
            One line naming the key and the config file to fix, when no key is present.
        """
        for dotted in (key,) if isinstance(key, str) else key:
            parts = dotted.split(".")
            value: Any = self.size if parts[0] == "size" else self.config
            parts = parts[1:] if parts[0] == "size" else parts
            for part in parts:
                if not isinstance(value, Mapping) or part not in value:
                    break
                value = value[part]
            else:
                return value
        names = " or ".join((key,) if isinstance(key, str) else key)
        raise KeyError(f"config/config.yaml: no key {names}; add it (see config/README.md)")

    def config_params(self, rule: str) -> dict[str, Any]:
        """Return a rule's params read from the config (``params: **STUDY.config_params(rule)``).

        Exactly the keys the rule lists in :data:`RULE_CONFIG`, under its param names.

        Parameters
        ----------
        rule : str
            The rule's name.

        Returns
        -------
        dict
            Param name -> config value, in the rule's param order.
        """
        return {name: self.config_value(key) for name, key in RULE_CONFIG[rule].items()}

    # --- rows ----------------------------------------------------------------------------
    def rows(self, datatype: str) -> pd.DataFrame:
        """Sheet rows of one datatype (beh, array, microwire, ecog), in sheet order."""
        return self.samples[self.samples["datatype"] == datatype]

    def row(self, subject: str, session: str, datatype: str) -> dict:
        """Return the one row of a datatype of a session (error naming the sheet otherwise)."""
        sel = self._by_key.get((subject, session, datatype), [])
        if len(sel) != 1:
            raise ValueError(
                f"{self.sheet}: expected one '{datatype}' row for sub-{subject} "
                f"ses-{session}, found {len(sel)}; add or fix that row."
            )
        return sel[0]

    def probe_row(self, subject: str, session: str, probe: str) -> dict:
        """Return the one array/microwire row of a probe of a session."""
        sel = self._by_probe.get((subject, session, probe), [])
        if len(sel) != 1:
            raise ValueError(
                f"{self.sheet}: expected one array/microwire row for sub-{subject} "
                f"ses-{session} probe {probe}, found {len(sel)}."
            )
        return sel[0]

    def raw_path(self, row: Mapping[str, Any]) -> str:
        """Return a row's raw file (or folder) under the raw dataset."""
        return f"{self.raw_dir}/{row['path']}"

    # --- sessions and probes ---------------------------------------------------------------
    def probes(
        self, datatypes: Sequence[str] = PROBE_DATATYPES, species: str | None = None
    ) -> list[ProbeKey]:
        """(subject, session, probe) of every probe of the datatypes, in sheet order."""
        sel = self.samples[self.samples["datatype"].isin(list(datatypes))]
        if species is not None:
            sel = sel[sel["species"] == species]
        return list(sel[["subject", "session", "probe"]].itertuples(index=False, name=None))

    def probe_sessions(
        self, datatypes: Sequence[str] = PROBE_DATATYPES, species: str | None = None
    ) -> list[Key]:
        """Sessions with at least one probe of the datatypes (sorted)."""
        return sorted({(s, ses) for s, ses, _ in self.probes(datatypes, species)})

    def session_probes(self, subject: str, session: str) -> list[str]:
        """Probe labels of a session, in sheet order."""
        return list(self._session_probes.get((subject, session), []))

    def has_behaviour(self, subject: str, session: str) -> bool:
        """Whether the session has a behaviour (events) row."""
        return bool(self._by_key.get((subject, session, "beh")))

    def unit_sessions(
        self, datatypes: Sequence[str] = PROBE_DATATYPES, species: str | None = None
    ) -> list[Key]:
        """Probe sessions that also have behaviour: those the decoding stage analyses."""
        return [k for k in self.probe_sessions(datatypes, species) if self.has_behaviour(*k)]

    def ecog_sessions(self) -> list[Key]:
        """ECoG sessions with behaviour (in sheet order): those the ECoG stage analyses."""
        rows = self.rows("ecog")
        return [
            k for k in zip(rows["subject"], rows["session"], strict=True) if self.has_behaviour(*k)
        ]

    def species(self, subject: str, session: str) -> str:
        """Return the species of a session (sheet column)."""
        rows = self.samples[
            (self.samples["subject"] == subject) & (self.samples["session"] == session)
        ]
        return str(rows["species"].iloc[0])

    def session_species(self, sessions: Sequence[Key]) -> list[str]:
        """Return the species of each session."""
        return [self.species(*k) for k in sessions]

    def region(self, subject: str, session: str, probe: str) -> str:
        """Return the brain region of a probe."""
        return str(self.probe_row(subject, session, probe)["region"])

    def behaviour_subjects(self) -> list[str]:
        """Subjects with behaviour, sorted."""
        return sorted(set(self.rows("beh")["subject"]))

    def latent_sessions(self) -> list[Key]:
        """Sessions whose per-trial model latents are made: unit and ECoG sessions."""
        return sorted(set(self.unit_sessions()) | set(self.ecog_sessions()))

    # --- what the sheet's data can make ----------------------------------------------------
    def figure_plan(self) -> dict[str, str | None]:
        """Each figure -> None if the sheet's data make it, else why it is left out.

        Returns
        -------
        dict
            In figure order: the paper's six (:data:`FIGURES`), then the study design's
            (:data:`DESIGN_FIGURES`, planned with the group analyses, :meth:`group_plan`).
        """
        has = {
            "behaviour": not self.rows("beh").empty,
            "probes": bool(self.probes()),
            "macaque units": bool(self.unit_sessions(species="macaque")),
            "human units": bool(self.unit_sessions(("microwire",), species="human")),
            "ecog": bool(self.ecog_sessions()),
            "units": bool(self.unit_sessions()),
        }
        has["human and macaque units"] = has["human units"] and has["macaque units"]
        has["sleep"] = bool(self.sleep_probes())
        needs = {
            "fig1_behaviour": ("behaviour", "no behaviour (beh) row"),
            "fig2_sorting": ("probes", "no array or microwire row"),
            "fig3_monkey_decoding": ("macaque units", "no macaque array session with behaviour"),
            "fig4_ecog": ("ecog", "no ECoG session with behaviour"),
            "fig5_human_units": (
                "human and macaque units",
                "needs human microwire and macaque array sessions with "
                "behaviour, drawn side by side",
            ),
            "fig6_model": ("units", "no probe session with behaviour"),
            "fig9_sleep": (
                "sleep",
                "no probe with sleep runs 1 and 2 (sheet columns task, "
                "run) around its task recording",
            ),
        }
        plan: dict[str, str | None] = {
            figure: None if has[need] else reason for figure, (need, reason) in needs.items()
        }
        group = self.group_plan()
        plan["fig7_learning_stages"] = group["stage_effects"]
        plan["fig8_inactivation"] = group["inactivation_effects"]
        plan["fig10_group_summary"] = (
            None if self.group_effect_tables() else "no group effect of the study design is planned"
        )
        return {figure: plan[figure] for figure in (*FIGURES, *DESIGN_FIGURES)}

    def figures(self) -> list[str]:
        """Return the figures the sheet's data can make, in order."""
        return [f for f, reason in self.figure_plan().items() if reason is None]

    def left_out_message(self) -> str | None:
        """One line naming the figures left out and why (None when every figure is made)."""
        plan = self.figure_plan()
        if self.design is None:  # no design stated: the paper's six figures (and any made)
            plan = {f: r for f, r in plan.items() if f in FIGURES or r is None}
        left = {f: r for f, r in plan.items() if r is not None}
        if not left:
            return None
        parts = "; ".join(f"{f} ({r})" for f, r in left.items())
        return (
            f"panneuro: {self.sheet} supports {len(plan) - len(left)} of "
            f"{len(plan)} figures; left out: {parts}."
        )

    # --- raw inputs ------------------------------------------------------------------------
    def raw_input(self, path: str) -> str:
        """Return a raw file as a job input: its key record (DataLad), or the file (S3)."""
        if self.remote_storage:
            return path
        from panneuro.compendium.datalad_io import key_record_path

        return str(key_record_path(path, self.raw_dir))

    def raw_inputs(self) -> list[str]:
        """Return every raw file of the sheet as inputs: trial tables as is, recordings' keys.

        Under remote default storage: every file of the raw dataset (the BIDS validator and
        the de-identification check read the sidecars too; :mod:`panneuro.compendium.storage`).
        """
        if self.remote_storage:
            if self.simulated:
                return self.raw_listing()
            from panneuro.compendium.storage import declared_raw_dataset

            return declared_raw_dataset(self.samples, self.raw_dir, self.raw_listing())
        return [
            *(
                self.raw_path(r) if r["datatype"] == "beh" else self.raw_input(self.raw_path(r))
                for r in self.samples.to_dict("records")
            ),
            *(self.raw_sleep_recording(*key) for key in self.sleep_runs()),
        ]

    def raw_listing(self) -> list[str]:
        """Return every file of the raw dataset as the workflow names it (read once).

        The simulated study's are known before it is written
        (:func:`panneuro.simulate.study.raw_dataset_files`); a lab's are those its copy on the
        planning machine lists (:func:`panneuro.compendium.storage.dataset_listing`: under
        remote storage the bucket holds them).
        """
        if self._raw_listing is None:
            if self.simulated:
                from panneuro.simulate.study import raw_dataset_files

                self._raw_listing = raw_dataset_files(self.samples, self.raw_dir)
            else:
                from panneuro.compendium.storage import dataset_listing

                self._raw_listing = dataset_listing(self.raw_dir)
        return list(self._raw_listing)

    def raw_key_record(self, wildcards: Any) -> str:
        """Return the key record of ``{rawpath}`` (annex keys unless still to be simulated)."""
        from panneuro.compendium.datalad_io import key_record

        return key_record(f"{self.raw_dir}/{wildcards.rawpath}", identify=not self.raw_simulated)

    def events_file(self, subject: str, session: str) -> str:
        """Return the behavioural events of a session (in git: the file itself)."""
        return self.raw_path(self.row(subject, session, "beh"))

    def events_files(self, subject: str, session: str) -> list[str]:
        """Return the session's events file, or nothing for a session without behaviour."""
        return [self.events_file(subject, session)] if self.has_behaviour(subject, session) else []

    def needs_conversion(self, subject: str, session: str, probe: str) -> bool:
        """Whether a probe's raw recording is converted to NWB before the ephys stage."""
        return needs_conversion(self.probe_row(subject, session, probe)["format"])

    def converted_recording(self, subject: str, session: str, probe: str) -> str:
        """Return the NWB file a probe's recording is converted to (results/bids/…)."""
        return CONVERTED.format(subject=subject, session=session, probe=probe, task=self.task)

    def converted_files(self, subject: str, session: str, probe: str) -> list[str]:
        """Return the converted NWB recording and the iEEG sidecars and events beside it."""
        from panneuro.simulate.bids import nwb_ieeg_sidecar_paths

        nwb = self.converted_recording(subject, session, probe)
        return [nwb, *nwb_ieeg_sidecar_paths(nwb), f"{nwb[: -len('_ieeg.nwb')]}_events.tsv"]

    def all_converted_files(self) -> list[str]:
        """Return the files of every converted recording (probes, sleep runs and ECoG)."""
        return [
            *(f for key in self.conversions() for f in self.converted_files(*key)),
            *(f for key in self.sleep_conversions() for f in self.converted_sleep_files(*key)),
            *(f for key in self.ecog_conversions() for f in self.converted_ecog(*key)),
        ]

    def sleep_conversions(self) -> list[SleepRun]:
        """Sleep runs whose recordings are converted to NWB (an acquisition format)."""
        return [k for k in self.sleep_runs() if needs_conversion(self._sleep[k]["format"])]

    def converted_sleep_files(self, subject: str, session: str, probe: str, run: str) -> list[str]:
        """Return a converted sleep run's NWB file, its run's sidecars and events.

        The probe's ``_electrodes.tsv`` and ``_coordsystem.json`` (named without task and run)
        are its task recording's; the run's events are one epoch, its whole length
        (:func:`panneuro.ingest.nwb_conversion.write_epoch_events`).
        """
        from panneuro.simulate.bids import nwb_ieeg_sidecar_paths

        nwb = CONVERTED_SLEEP.format(subject=subject, session=session, probe=probe, run=run)
        events = f"{nwb[: -len('_ieeg.nwb')]}_events.tsv"
        return [nwb, *nwb_ieeg_sidecar_paths(nwb, probe_sidecars=False), events]

    def bids_conversions(self) -> list[dict[str, Any]]:
        """Return, per converted recording, its raw path and format and the files made of it.

        The BIDS validation job lays the converted dataset out from these
        (:func:`panneuro.ingest.bids_view.assemble_bids_view`). A sleep or rest run in an
        acquisition format is converted like a task recording (:meth:`sleep_conversions`); one
        the sleep stage does not use (its probe has no task recording in the session) is listed
        with no converted files, so the view keeps it under ``sourcedata/`` as it keeps a
        converted recording's original (the BIDS validator's ``NOT_INCLUDED`` otherwise).
        """
        converted_sleep = set(self.sleep_conversions())
        out = [
            {
                "path": row["path"],
                "format": row["format"],
                "converted": self.converted_sleep_files(*key) if key in converted_sleep else [],
            }
            for key, row in self._sleep.items()
            if needs_conversion(row["format"])
        ]
        for key in self.conversions():
            row = self.probe_row(*key)
            out.append(
                {
                    "path": row["path"],
                    "format": row["format"],
                    "converted": self.converted_files(*key),
                }
            )
        for key in self.ecog_conversions():
            row = self.row(*key, "ecog")
            out.append(
                {
                    "path": row["path"],
                    "format": row["format"],
                    "converted": self.converted_ecog(*key),
                }
            )
        return out

    def bids_scope(self) -> dict[str, list[str]] | None:
        """Return the part of a lab's dataset the sheet uses (None: the simulated study, whole).

        The BIDS validation of a lab's data covers the sheet's subjects and sessions and the
        folders of its files (:func:`panneuro.ingest.bids_view.in_scope`): recordings the sheet
        does not analyse (another project's, acquisition files of other sessions) are not
        the analysis' dataset.
        """
        if self.simulated:
            return None
        rows = self.samples
        sessions = sorted(
            {f"sub-{s}/ses-{ses}" for s, ses in zip(rows["subject"], rows["session"], strict=True)}
        )
        folders = sorted(
            {str(PurePosixPath(p).parent) for p in rows["path"] if not p.startswith("sourcedata/")}
        )
        # sleep data in the view: a converted sleep run, or one in a BIDS format already
        converted = set(self.sleep_conversions())
        sleep = any(
            k in converted or not needs_conversion(r["format"]) for k, r in self._sleep.items()
        )
        return {
            "subjects": sorted({f"sub-{s}" for s in rows["subject"]}),
            "sessions": sessions,
            "folders": folders,
            "tasks": sorted({self.task, *([SLEEP_TASK] if sleep else [])}),
        }

    def bids_view_params(self) -> dict[str, Any]:
        """Return the params of ``validate_bids``: the view of the dataset it validates.

        ``conversions`` (:meth:`bids_conversions`) and ``scope`` (:meth:`bids_scope`).
        """
        return {"conversions": self.bids_conversions(), "scope": self.bids_scope()}

    def conversions(self) -> list[ProbeKey]:
        """Probes whose recordings are converted."""
        return [k for k in self.probes() if self.needs_conversion(*k)]

    def raw_recording(self, subject: str, session: str, probe: str) -> str:
        """Return a probe's raw recording as a job input (key record or file)."""
        return self.raw_input(self.raw_path(self.probe_row(subject, session, probe)))

    def recording(self, subject: str, session: str, probe: str) -> str:
        """Return the recording the ephys stage reads: converted NWB, or the raw file's input."""
        if self.needs_conversion(subject, session, probe):
            return self.converted_recording(subject, session, probe)
        return self.raw_recording(subject, session, probe)

    def recording_format(self, subject: str, session: str, probe: str) -> str:
        """Return the format of :meth:`recording` (``nwb`` once converted)."""
        if self.needs_conversion(subject, session, probe):
            return "nwb"
        return str(self.probe_row(subject, session, probe)["format"])

    def recording_companions(
        self, subject: str, session: str, probe: str, raw: bool = False
    ) -> list[str]:
        """Under remote storage, the files a raw recording's reader reads beside it.

        Its format's companions and, for a recording named as BIDS iEEG (``…_ieeg.nwb``), the
        sidecars ``read_recording`` checks it against (``_channels.tsv``, ``_ieeg.json``, and
        ``dataset_description.json``, which marks the dataset as BIDS): undeclared, they were
        missing whenever no earlier job on the machine had left local copies (seen 2026-12-07,
        CI: the S3 + SLURM test's local ``preprocess_probe``, "channels.tsv: missing"), and the
        check was skipped without a word when the description was the one missing.
        """
        if not self.remote_storage or (self.needs_conversion(subject, session, probe) and not raw):
            return []
        row = self.probe_row(subject, session, probe)
        return self._declared_companions(self.raw_path(row), row["format"])

    def _declared_companions(self, path: str, format: str) -> list[str]:  # noqa: A002
        """Return a raw recording's declared companions and BIDS iEEG sidecars (remote storage)."""
        from panneuro.compendium.storage import declared_companions, declared_ieeg_sidecars

        return [*declared_companions(path, format), *declared_ieeg_sidecars(path, self.raw_dir)]

    def ecog_needs_conversion(self, subject: str, session: str) -> bool:
        """Tell whether a session's ECoG recording is converted to BrainVision (FIF)."""
        return needs_ecog_conversion(self.row(subject, session, "ecog")["format"])

    def converted_ecog(self, subject: str, session: str) -> list[str]:
        """Return the BrainVision files an ECoG recording is converted to (header first)."""
        vhdr = CONVERTED_ECOG.format(subject=subject, session=session, task=self.task)
        return converted_ecog_files(vhdr)

    def ecog_conversions(self) -> list[Key]:
        """Return the ECoG sessions whose recordings are converted."""
        rows = self.rows("ecog")
        return [
            k
            for k in zip(rows["subject"], rows["session"], strict=True)
            if self.ecog_needs_conversion(*k)
        ]

    def raw_ecog(self, subject: str, session: str) -> str:
        """Return a session's raw ECoG recording as a job input (key record or file)."""
        return self.raw_input(self.raw_path(self.row(subject, session, "ecog")))

    def ecog_file(self, subject: str, session: str) -> str:
        """Return the ECoG header the ECoG stage reads: converted, or the raw file's input."""
        if self.ecog_needs_conversion(subject, session):
            return self.converted_ecog(subject, session)[0]
        return self.raw_ecog(subject, session)

    def ecog_companions(self, subject: str, session: str) -> list[str]:
        """Under remote storage, the files the ECoG header names and its BIDS sidecars."""
        if not self.remote_storage or self.ecog_needs_conversion(subject, session):
            return []
        from panneuro.compendium.storage import declared_companions, declared_ieeg_sidecars

        row = self.row(subject, session, "ecog")
        path = self.raw_path(row)
        return [
            *declared_companions(path, row["format"]),
            *declared_ieeg_sidecars(path, self.raw_dir, self.raw_listing()),
        ]

    def high_gamma_inputs(self, wildcards: Any) -> dict[str, Any]:
        """Return the inputs of ``high_gamma_epochs``: ECoG header, events, companions (S3)."""
        subject, session = wildcards.subject, wildcards.session
        return {
            "ecog": self.ecog_file(subject, session),
            "events": self.events_file(subject, session),
            "companions": self.ecog_companions(subject, session),
        }

    def convert_ecog_inputs(self, wildcards: Any) -> dict[str, Any]:
        """Return the inputs of ``convert_ecog``: the raw ECoG recording."""
        return {"recording": self.raw_ecog(wildcards.subject, wildcards.session)}

    def session_metadata_files(
        self, subject: str, session: str, task: str | None = None
    ) -> list[str]:
        """Return the BIDS files giving a session's start and subject (participants, sessions).

        For the simulated study (files not yet written at planning) the two it writes; for a
        lab's dataset those present, with the dataset-level ``task-<task>_ieeg.json`` when a
        ``task`` is given (what the lab states of its recordings: site, device, reference;
        :func:`panneuro.ingest.session_metadata.recording_metadata`).
        """
        if self.raw_simulated:
            return [
                f"{self.raw_dir}/participants.tsv",
                f"{self.raw_dir}/sub-{subject}/sub-{subject}_sessions.tsv",
            ]
        return metadata_files(self.raw_dir, subject, session, task)

    # --- resources -------------------------------------------------------------------------
    def channel_seconds(
        self,
        rulename: str,
        subject: str,
        session: str,
        probe: str | None = None,
        run: str | None = None,
    ) -> float:
        """Channels × seconds of the raw recording(s) a heavy job processes.

        A sleep run (``run`` given) before it is simulated is sized like its probe's task
        recording from the preset (longer than the design's sleep runs: an upper bound).
        """
        if run is not None and probe is not None:
            rows = [self.sleep_row(subject, session, probe, run)]
        elif rulename in ("high_gamma_epochs", "convert_ecog"):
            rows = [self.row(subject, session, "ecog")]
        elif rulename == "export_session_nwb":
            rows = [
                self.probe_row(subject, session, p) for p in self.session_probes(subject, session)
            ]
        else:
            rows = [self.probe_row(subject, session, probe)]
        return sum(
            recording_channel_seconds(
                self.raw_path(r), r["datatype"], self.size, self.sampling_frequency
            )
            for r in rows
        )

    # --- rule inputs and params (functions of a job's wildcards) ----------------------------
    def probe_results(self, name: str, probes: Sequence[ProbeKey] | None = None) -> list[str]:
        """Return ``results/ephys/…/acq-<probe>/<name>`` of every probe (or those given)."""
        return [
            f"{EPHYS.format(subject=s, session=ses, probe=p)}/{name}"
            for s, ses, p in (self.probes() if probes is None else probes)
        ]

    def probe_labels(self, probes: Sequence[ProbeKey] | None = None) -> list[str]:
        """Return ``"<subject> <session> <probe>"`` of every probe, or of those given (figure 2)."""
        return [f"{s} {ses} {p}" for s, ses, p in (self.probes() if probes is None else probes)]

    def drifting_probes(self) -> list[ProbeKey]:
        """Probes whose simulation planted a drift: those with ``<gt>/…_acq-P_motion.tsv``.

        The simulation's own list of its ground truth decides
        (:func:`panneuro.simulate.study.expected_outputs`). The study simulator plants no drift
        today (its arrays and bundles stay still; drifting high-density probes,
        :mod:`panneuro.simulate.drift`, are made by tests and benchmarks), so this is empty
        for the shipped sheets; a lab's data (``simulate: false``) have no ground truth.
        """
        if not self.simulated:
            return []
        from panneuro.simulate.study import expected_outputs

        truth = set(expected_outputs(self.samples, self.raw_dir, self.groundtruth_dir)["truth"])
        return [k for k in self.probes() if self.ground_truth("motion.tsv", [k])[0] in truth]

    def sorting_figure_inputs(self, wildcards: Any = None) -> dict[str, list[str]]:
        """Return the inputs of ``figure_sorting`` (figure 2), each in :meth:`probes` order.

        ``metrics``, ``waveforms`` and ``motion`` (the estimated motion, no rows when not
        corrected) of every probe; ``gt``, their ground-truth comparison (simulated study,
        else empty); ``planted_motion``, the planted drift of :meth:`drifting_probes`.
        """
        return {
            "metrics": self.probe_results("metrics.tsv"),
            "waveforms": self.probe_results("waveforms.npz"),
            "motion": self.probe_results("motion.tsv"),
            "gt": self.probe_results("gt_comparison.tsv") if self.simulated else [],
            "planted_motion": self.ground_truth("motion.tsv", self.drifting_probes()),
        }

    def probe_regions(self) -> list[str]:
        """Return the region of every probe, in :meth:`probes` order."""
        return [self.region(*k) for k in self.probes()]

    def session_files(self, pattern: str, sessions: Sequence[Key]) -> list[str]:
        """Return ``pattern`` (with ``{subject}``, ``{session}``) filled for each session."""
        return [pattern.format(subject=s, session=ses) for s, ses in sessions]

    def session_labels(self, sessions: Sequence[Key]) -> list[str]:
        """Return ``"sub-X ses-Y"`` of each session (figure panels)."""
        return self.session_files("sub-{subject} ses-{session}", sessions)

    def session_results(self, kind: str, sessions: Sequence[Key]) -> list[str]:
        """Return ``results/decoding/sub-X_ses-Y_<kind>.tsv`` of each session."""
        return self.session_files(
            f"results/decoding/sub-{{subject}}_ses-{{session}}_{kind}.tsv", sessions
        )

    def ground_truth(self, suffix: str, probes: Sequence[ProbeKey] | None = None) -> list[str]:
        """Return the probes' ground-truth files (``<gt>/…_acq-<probe>_<suffix>``)."""
        return [
            f"{self.groundtruth_dir}/{GT_PROBE.format(subject=s, session=ses, probe=p)}_{suffix}"
            for s, ses, p in (self.probes() if probes is None else probes)
        ]

    def ecog_truths(self) -> list[str]:
        """Return the planted ECoG effects of every ECoG session (simulated study only)."""
        if not self.simulated:
            return []
        return [self.design_truth(s, ses, "ecog-truth.json") for s, ses in self.ecog_sessions()]

    def agent_truths(self) -> list[str]:
        """Return the simulated agents' true parameters of each subject with behaviour."""
        if not self.simulated:
            return []
        return [
            f"{self.groundtruth_dir}/sub-{s}/sub-{s}_agent.json" for s in self.behaviour_subjects()
        ]

    def behaviour_files(self) -> list[str]:
        """Return every behaviour (events) file, in sheet order."""
        return [self.raw_path(r) for r in self.rows("beh").to_dict("records")]

    def _session_probe_keys(self, wildcards: Any) -> list[ProbeKey]:
        return [
            (wildcards.subject, wildcards.session, p)
            for p in self.session_probes(wildcards.subject, wildcards.session)
        ]

    def preprocess_inputs(self, wildcards: Any) -> dict[str, Any]:
        """Return the inputs of ``preprocess_probe``: the recording (and its companions on S3)."""
        key = (wildcards.subject, wildcards.session, wildcards.probe)
        return {"recording": self.recording(*key), "companions": self.recording_companions(*key)}

    def preprocess_format(self, wildcards: Any) -> str:
        """Return the reader format of ``preprocess_probe``'s recording."""
        return self.recording_format(wildcards.subject, wildcards.session, wildcards.probe)

    def convert_inputs(self, wildcards: Any) -> dict[str, Any]:
        """Return the inputs of ``convert_recording``: raw recording, companions, metadata."""
        key = (wildcards.subject, wildcards.session, wildcards.probe)
        return {
            "recording": self.raw_recording(*key),
            "companions": self.recording_companions(*key, raw=True),
            "metadata": self.session_metadata_files(
                wildcards.subject, wildcards.session, self.task
            ),
            "events": self.events_files(wildcards.subject, wildcards.session),
        }

    def convert_params(self, wildcards: Any) -> dict[str, Any]:
        """Return the params of ``convert_recording``: format, region, line frequency, task."""
        row = self.probe_row(wildcards.subject, wildcards.session, wildcards.probe)
        return self._conversion_params(row, self.task)

    def _conversion_params(
        self, row: Mapping[str, Any], task: str, *, probe_sidecars: bool = True
    ) -> dict[str, Any]:
        """Return what ``convert_recording.py`` needs of a recording's sheet row."""
        return {
            "format": row["format"],
            "region": row["region"],
            "species": row["species"],
            "line_frequency": self.line_frequency,
            "task": task,
            "probe_sidecars": probe_sidecars,
        }

    def sorting_params(self, wildcards: Any) -> Mapping[str, Any]:
        """Return the sorter and its params for a probe's datatype (``config.ephys.sorting``)."""
        row = self.probe_row(wildcards.subject, wildcards.session, wildcards.probe)
        return self.sorting[row["datatype"]]

    def session_nwb_inputs(self, wildcards: Any) -> dict[str, Any]:
        """Return the inputs of ``export_session_nwb``: probe results, events, metadata."""
        probes = self._session_probe_keys(wildcards)
        return {
            "events": self.events_files(wildcards.subject, wildcards.session),
            "metadata": self.session_metadata_files(
                wildcards.subject, wildcards.session, self.task
            ),
            "sortings": self.probe_results("sorting", probes),
            "metrics": self.probe_results("metrics.tsv", probes),
            "waveforms": self.probe_results("waveforms.npz", probes),
        }

    def session_nwb_params(self, wildcards: Any) -> dict[str, Any]:
        """Return the params of ``export_session_nwb``: probes, regions, species, task.

        The task names the dataset-level ``_ieeg.json`` that states the institution.
        """
        probes = self._session_probe_keys(wildcards)
        return {
            "probes": [p for _, _, p in probes],
            "regions": [self.region(*k) for k in probes],
            "species": self.species(wildcards.subject, wildcards.session),
            "task": self.task,
        }

    def oracle_inputs(self, wildcards: Any) -> dict[str, Any]:
        """Return the inputs of ``decoding_oracle``: events and the probes' ground truth."""
        probes = self._session_probe_keys(wildcards)
        return {
            "events": self.events_file(wildcards.subject, wildcards.session),
            "gt_units": self.ground_truth("units.tsv", probes),
            "gt_spikes": self.ground_truth("spikes.npz", probes),
        }

    def planted_inputs(self, wildcards: Any) -> dict[str, Any]:
        """Return the inputs of ``planted_effects``: decoding, oracle, the probes' GT units."""
        key = [(wildcards.subject, wildcards.session)]
        return {
            "decoding": self.session_results("decoding", key)[0],
            "oracle": self.session_results("oracle", key)[0],
            "gt_units": self.ground_truth("units.tsv", self._session_probe_keys(wildcards)),
        }

    def group_sessions(self, species: str) -> list[Key]:
        """Sessions of a species' group decoding (macaque arrays, human microwires)."""
        if species == "macaque":
            return self.unit_sessions(species="macaque")
        return self.unit_sessions(("microwire",), species="human")

    def group_species(self) -> list[str]:
        """Return the species with sessions to decode as a group."""
        return [s for s in ("macaque", "human") if self.group_sessions(s)]

    def group_decoding_inputs(self, wildcards: Any) -> list[str]:
        """Return the inputs of ``group_decoding``: the species' per-session decoding tables."""
        return self.session_results("decoding", self.group_sessions(wildcards.species))

    def group_decoding_sessions(self, wildcards: Any) -> list[Key]:
        """Return the params of ``group_decoding``: its sessions, in input order."""
        return self.group_sessions(wildcards.species)

    def mem_mb(self, wildcards: Any, attempt: int, rulename: str) -> int:
        """Return a heavy job's memory (MB): from its recording's size, times the attempt."""
        size = self.heavy_size(wildcards, rulename)
        return estimate(HEAVY_STAGES[rulename], size, attempt).mem_mb

    def runtime(self, wildcards: Any, attempt: int, rulename: str) -> int:
        """Return a heavy job's runtime (minutes): from its recording's size, times attempt."""
        size = self.heavy_size(wildcards, rulename)
        return estimate(HEAVY_STAGES[rulename], size, attempt).runtime

    def heavy_size(self, wildcards: Any, rulename: str) -> float:
        """Channels × seconds of a heavy job, from its wildcards."""
        return self.channel_seconds(
            rulename,
            wildcards.subject,
            wildcards.session,
            getattr(wildcards, "probe", None),
            getattr(wildcards, "run", None),
        )

    # --- sleep runs (sheet columns task and run: task-sleep_run-1 before, run-2 after) -------
    def sleep_runs(self) -> list[SleepRun]:
        """(subject, session, probe, run) of every sleep run whose probe the task recorded.

        The sleep runs' units are the task session's (matched to its curated templates), so a
        sleep run counts only where the same session has the probe's task recording.
        """
        return [key for key in self._sleep if key[2] in self.session_probes(key[0], key[1])]

    def sleep_probes(self) -> list[ProbeKey]:
        """Probes of a session with both sleep runs (before and after): reactivation is tested."""
        runs = self.sleep_runs()
        return [
            (s, ses, p)
            for s, ses, p, run in runs
            if run == SLEEP_RUNS[0] and (s, ses, p, SLEEP_RUNS[1]) in runs
        ]

    def sleep_row(self, subject: str, session: str, probe: str, run: str) -> dict:
        """Return the sheet row of a sleep run (error naming the sheet when absent)."""
        key = (subject, session, probe, str(run))
        if key not in self._sleep:
            raise ValueError(
                f"{self.sheet}: no sleep row for sub-{subject} ses-{session} "
                f"probe {probe} run {run}; add it (task sleep, run {run})."
            )
        return self._sleep[key]

    def sleep_needs_conversion(self, subject: str, session: str, probe: str, run: str) -> bool:
        """Whether a sleep run's recording is converted to NWB before the sleep stage."""
        return needs_conversion(self.sleep_row(subject, session, probe, run)["format"])

    def raw_sleep_recording(self, subject: str, session: str, probe: str, run: str) -> str:
        """Return a sleep run's raw recording as a job input (DataLad key record, or file)."""
        return self.raw_input(self.raw_path(self.sleep_row(subject, session, probe, run)))

    def sleep_recording(self, subject: str, session: str, probe: str, run: str) -> str:
        """Return the recording the sleep stage reads: converted NWB, or the raw file's input.

        A lab's sleep run in an acquisition format is converted to iEEG-datatype NWB as its
        task recording is (rule ``convert_sleep_recording``), so the validated BIDS dataset
        holds it too; until 2026-12-07 it was read as it was and kept under ``sourcedata/``.
        """
        if self.sleep_needs_conversion(subject, session, probe, run):
            return CONVERTED_SLEEP.format(subject=subject, session=session, probe=probe, run=run)
        return self.raw_sleep_recording(subject, session, probe, run)

    def sleep_format(self, wildcards: Any) -> str:
        """Return the reader format of :meth:`sleep_recording` (``nwb`` once converted)."""
        key = (wildcards.subject, wildcards.session, wildcards.probe, wildcards.run)
        if self.sleep_needs_conversion(*key):
            return "nwb"
        return str(self.sleep_row(*key)["format"])

    def convert_sleep_inputs(self, wildcards: Any) -> dict[str, Any]:
        """Return the inputs of ``convert_sleep_recording``: raw run, companions, metadata."""
        key = (wildcards.subject, wildcards.session, wildcards.probe, wildcards.run)
        return {
            "recording": self.raw_sleep_recording(*key),
            "companions": self.sleep_companions(*key, raw=True),
            "metadata": self.session_metadata_files(
                wildcards.subject, wildcards.session, SLEEP_TASK
            ),
        }

    def convert_sleep_params(self, wildcards: Any) -> dict[str, Any]:
        """Return the params of ``convert_sleep_recording`` (as ``convert_recording``'s)."""
        row = self.sleep_row(wildcards.subject, wildcards.session, wildcards.probe, wildcards.run)
        return self._conversion_params(row, SLEEP_TASK, probe_sidecars=False)

    def sleep_companions(
        self, subject: str, session: str, probe: str, run: str, raw: bool = False
    ) -> list[str]:
        """Under remote storage, the files a sleep run's reader reads beside it."""
        if not self.remote_storage or (
            self.sleep_needs_conversion(subject, session, probe, run) and not raw
        ):
            return []
        row = self.sleep_row(subject, session, probe, run)
        return self._declared_companions(self.raw_path(row), row["format"])

    def sleep_inputs(self, wildcards: Any) -> dict[str, Any]:
        """Return a sleep run's recording and its companions (``preprocess_sleep``, ripples)."""
        key = (wildcards.subject, wildcards.session, wildcards.probe, wildcards.run)
        return {"recording": self.sleep_recording(*key), "companions": self.sleep_companions(*key)}

    def sleep_run_files(self, pattern: str, runs: Sequence[SleepRun] | None = None) -> list[str]:
        """Return ``pattern`` (``{subject} {session} {probe} {run}``) filled for each run."""
        return [
            pattern.format(subject=s, session=ses, probe=p, run=r)
            for s, ses, p, r in (self.sleep_runs() if runs is None else runs)
        ]

    def sleep_probe_files(
        self, pattern: str, probes: Sequence[ProbeKey] | None = None
    ) -> list[str]:
        """Return ``pattern`` (``{subject} {session} {probe}``) filled for each sleep probe."""
        return [
            pattern.format(subject=s, session=ses, probe=p)
            for s, ses, p in (self.sleep_probes() if probes is None else probes)
        ]

    def sleep_truth(self, subject: str, session: str, probe: str, run: str, suffix: str) -> str:
        """Return a sleep run's ground-truth file (``_ripples.tsv`` or ``_spikes.npz``)."""
        return (
            f"{self.groundtruth_dir}/sub-{subject}/ses-{session}/sub-{subject}_ses-"
            f"{session}_task-{SLEEP_TASK}_acq-{probe}_run-{run}_{suffix}"
        )

    def reactivation_inputs(self, wildcards: Any) -> dict[str, Any]:
        """Return the inputs of ``sleep_reactivation``: task units, both runs' units, ripples.

        On the simulated study also the ground truth (task and sleep spike trains, planted
        ripples) the realised truth is computed from.
        """
        s, ses, p = wildcards.subject, wildcards.session, wildcards.probe
        runs = [(s, ses, p, r) for r in SLEEP_RUNS]
        probe = EPHYS.format(subject=s, session=ses, probe=p)
        inputs: dict[str, Any] = {
            "task_recording": f"{probe}/preprocessed",
            "task_sorting": f"{probe}/sorting",
            "task_metrics": f"{probe}/metrics.tsv",
            "units": self.sleep_run_files(f"{SLEEP_EPHYS}/units.npz", runs),
            "ripples": self.sleep_run_files(f"{SLEEP}_run-{{run}}_ripples.tsv", runs),
        }
        if self.simulated:
            inputs["gt_task_spikes"] = self.ground_truth("spikes.npz", [(s, ses, p)])
            inputs["gt_spikes"] = [self.sleep_truth(*k, "spikes.npz") for k in runs]
            inputs["gt_ripples"] = [self.sleep_truth(*k, "ripples.tsv") for k in runs]
        return inputs

    def reactivation_params(self, wildcards: Any) -> dict[str, str]:
        """Return the species and region of a sleep probe (``sleep_reactivation``)."""
        key = (wildcards.subject, wildcards.session, wildcards.probe)
        return {"species": self.species(key[0], key[1]), "region": self.region(*key)}

    def sleep_run_labels(self) -> list[str]:
        """Return ``"sub-X ses-Y P run-N"`` of every sleep run (figure 9's runs)."""
        return self.sleep_run_files("sub-{subject} ses-{session} {probe} run-{run}")

    def sleep_example_run(self) -> int:
        """Index in :meth:`sleep_runs` of figure 9's example: the first run after a task."""
        runs = self.sleep_runs()
        return next((i for i, key in enumerate(runs) if key[3] == SLEEP_RUNS[1]), 0)

    # --- the study design: group effects across sessions (results/group/) -------------------
    def design_rows(self, units: bool = True) -> pd.DataFrame:
        """Return the design rows of the sheet's sessions with units and behaviour.

        Parameters
        ----------
        units : bool
            ``False``: of every session with behaviour (recorded or behaviour-only).
        """
        if self.design is None:
            return pd.DataFrame(
                columns=[
                    "subject",
                    "session",
                    "condition",
                    "learning_stage",
                    "stage_index",
                    "inactivated",
                    "species",
                ]
            )
        sessions = (
            self.unit_sessions()
            if units
            else sorted(
                set(zip(self.rows("beh")["subject"], self.rows("beh")["session"], strict=True))
            )
        )
        keys = pd.DataFrame(sessions, columns=["subject", "session"])
        rows = self.design.merge(keys, on=["subject", "session"], how="inner")
        rows["species"] = self.session_species(
            list(zip(rows["subject"], rows["session"], strict=True))
        )
        return rows.sort_values(["subject", "session"]).reset_index(drop=True)

    def ecog_stage_sessions(self) -> list[Key]:
        """ECoG sessions of the learning-stage effects (sorted): those the design states.

        Their stay code (``results/ecog/sub-X_ses-Y_ccgp.tsv``) enters the effects like a
        session with units: a human patient's one session by its early vs late epochs, a
        subject's control sessions at learning stages by the slope on stage.
        """
        if self.design is None:
            return []
        stated = set(zip(self.design["subject"], self.design["session"], strict=True))
        return sorted(k for k in self.ecog_sessions() if k in stated)

    def _ecog_design_rows(self) -> pd.DataFrame:
        keys = pd.DataFrame(self.ecog_stage_sessions(), columns=["subject", "session"])
        return self.design.merge(keys, on=["subject", "session"], how="inner")

    def stage_sessions(self) -> list[Key]:
        """Sessions of the learning-stage effects (sorted).

        The macaque control sessions with a learning stage, and the human microwire
        sessions (one per patient: their own early vs late epochs).
        """
        rows = self.design_rows()
        microwire = set(self.unit_sessions(("microwire",), species="human"))
        staged = rows[(rows["condition"] == "control") & rows["stage_index"].notna()]
        keys = set(zip(staged["subject"], staged["session"], strict=True))
        keys |= {k for k in zip(rows["subject"], rows["session"], strict=True) if k in microwire}
        return sorted(keys)

    def inactivation_sessions(self) -> list[Key]:
        """Sessions of the behavioural inactivation contrast (sorted).

        Every inactivation session with behaviour, recorded or behaviour-only, and its
        neighbouring controls: the nearest control of the same subject and kind before and
        after it (:func:`panneuro.stats.session_scores.comparison_sessions` of the sessions
        with behaviour). Their trial tables and truth feed the trial-2 effects.
        """
        from panneuro.stats.session_scores import comparison_sessions

        rows = comparison_sessions(self.design_rows(units=False))
        return sorted(zip(rows["subject"], rows["session"], strict=True))

    def inactivation_unit_sessions(self) -> list[Key]:
        """Sessions of the neural inactivation contrast (sorted): recorded ones only.

        Each inactivation session with units and its neighbouring controls with units
        (:func:`panneuro.stats.session_scores.comparison_sessions` of the unit sessions);
        empty for a design whose inactivation sessions are all behaviour-only.
        """
        from panneuro.stats.session_scores import comparison_sessions

        rows = comparison_sessions(self.design_rows())
        return sorted(zip(rows["subject"], rows["session"], strict=True))

    def group_plan(self) -> dict[str, str | None]:
        """Each group analysis -> None if planned, else why it is left out.

        The learning-stage effects need two subjects with control sessions at two learning
        stages (or two human microwire patients), with units and behaviour; the inactivation
        effects two subjects with an inactivation session (recorded or behaviour-only) and a
        neighbouring control of its kind, with behaviour (:meth:`inactivation_sessions`).
        Without recorded inactivation sessions the effects are behavioural only (the neural
        rows are absent, :meth:`inactivation_unit_sessions`).
        """
        if self.design is None:
            return dict.fromkeys(GROUP_ANALYSES, NO_DESIGN)
        rows = self.design_rows()
        stage = set(self.stage_sessions())
        staged = rows.loc[
            np.array(
                [k in stage for k in zip(rows["subject"], rows["session"], strict=True)], dtype=bool
            )
        ]
        ecog = self._ecog_design_rows()
        staged = pd.concat(
            [staged, ecog[ecog["condition"] == "control"]],
            ignore_index=True,
        )
        macaques = staged[staged["stage_index"].notna()].groupby("subject")["stage_index"]
        humans = staged[staged["stage_index"].isna()]["subject"].nunique()
        beh_rows = self.design_rows(units=False)
        inactivation = set(self.inactivation_sessions())
        compare = beh_rows.loc[
            np.array(
                [
                    k in inactivation
                    for k in zip(beh_rows["subject"], beh_rows["session"], strict=True)
                ],
                dtype=bool,
            )
        ]
        both = compare.groupby("subject")["inactivated"].nunique()
        return {
            "stage_effects": None
            if (int((macaques.nunique() >= 2).sum()) >= 2 or humans >= 2)
            else "needs two subjects with control sessions at two learning stages, or two "
            "human patients (microwire or ECoG), with units or ECoG and behaviour",
            "inactivation_effects": None
            if int((both == 2).sum()) >= 2
            else "needs two subjects with an inactivation session and a neighbouring control "
            "session of its kind (recorded at its learning stage, or behaviour-only), "
            "with behaviour",
        }

    def group_analyses(self) -> list[str]:
        """Return the planned group analyses (keys of :data:`GROUP_ANALYSES`)."""
        return [name for name, reason in self.group_plan().items() if reason is None]

    def group_tables(self) -> list[str]:
        """Return the tables of the planned group analyses (``results/group/``)."""
        return [
            t
            for name, reason in self.group_plan().items()
            if reason is None
            for t in GROUP_ANALYSES[name]
        ]

    def group_effect_tables(self) -> list[str]:
        """Return the planned ``results/group/*_effects.tsv`` (figure 10's inputs).

        Those of the group analyses and, with sleep runs, the sleep stage's.
        """
        sleep = [SLEEP_EFFECTS] if self.sleep_probes() else []
        return [t for t in self.group_tables() if t.endswith("_effects.tsv")] + sleep

    def sessions_files(self, sessions: Sequence[Key]) -> list[str]:
        """Return the raw dataset's ``sub-X_sessions.tsv`` of the sessions' subjects."""
        return [
            f"{self.raw_dir}/sub-{s}/sub-{s}_sessions.tsv" for s in sorted({s for s, _ in sessions})
        ]

    def ccgp_oracle_sessions(self) -> list[Key]:
        """Sessions whose stay-code truth is computed (simulated study, planned analyses)."""
        if not self.simulated:
            return []
        plan = self.group_plan()
        keys = set(self.stage_sessions()) if plan["stage_effects"] is None else set()
        if plan["inactivation_effects"] is None:
            keys |= set(self.inactivation_unit_sessions())
        return sorted(keys)

    def ecog_oracle_sessions(self) -> list[Key]:
        """ECoG sessions whose stay-code truth is computed (simulated study, stage effects)."""
        if not self.simulated or self.group_plan()["stage_effects"] is not None:
            return []
        return self.ecog_stage_sessions()

    def ecog_stay_oracle_inputs(self, wildcards: Any) -> dict[str, str]:
        """Return the inputs of ``ecog_stay_oracle``: the trial table and the ECoG truth."""
        s, ses = wildcards.subject, wildcards.session
        return {
            "events": self.events_file(s, ses),
            "truth": self.design_truth(s, ses, "ecog-truth.json"),
        }

    def ecog_region(self, wildcards: Any) -> str:
        """Return the region of a session's ECoG grid (sheet column)."""
        rows = self.rows("ecog")
        rows = rows[(rows["subject"] == wildcards.subject) & (rows["session"] == wildcards.session)]
        return str(rows["region"].iloc[0])

    def design_truth(self, subject: str, session: str, suffix: str) -> str:
        """Return a session's ground-truth file ``<gt>/sub-X/ses-Y/sub-X_ses-Y_<suffix>``."""
        return (
            f"{self.groundtruth_dir}/sub-{subject}/ses-{session}/"
            f"sub-{subject}_ses-{session}_{suffix}"
        )

    def ccgp_oracle_inputs(self, wildcards: Any) -> dict[str, Any]:
        """Return the inputs of ``ccgp_oracle``: events, each probe's truth units and coding."""
        probes = self._session_probe_keys(wildcards)
        return {
            "events": self.events_file(wildcards.subject, wildcards.session),
            "gt_units": self.ground_truth("units.tsv", probes),
            "coding": self.ground_truth("coding.tsv", probes),
        }

    def _ccgp_inputs(self, sessions: Sequence[Key]) -> dict[str, list[str]]:
        return {
            "ccgp": self.session_results("ccgp", sessions),
            "oracle": (self.session_results("ccgp_oracle", sessions) if self.simulated else []),
            "design": self.sessions_files(sessions),
        }

    def stage_effects_inputs(self, wildcards: Any) -> dict[str, list[str]]:
        """Return the inputs of ``stage_effects``: CCGP tables, their truth, the design.

        The sessions with units' (``ccgp``, ``oracle``) and the ECoG sessions'
        (``ecog_ccgp``, ``ecog_oracle``), and the ``sessions.tsv`` of both.
        """
        ecog = self.ecog_stage_sessions()
        inputs = self._ccgp_inputs(self.stage_sessions())
        inputs["design"] = self.sessions_files([*self.stage_sessions(), *ecog])
        inputs["ecog_ccgp"] = self.session_files(ECOG_CCGP, ecog)
        inputs["ecog_oracle"] = self.session_files(ECOG_CCGP_ORACLE, ecog) if self.simulated else []
        return inputs

    def _group_params(self, sessions: Sequence[Key], others: Sequence[Key] = ()) -> dict[str, Any]:
        return {
            "sessions": [list(k) for k in sessions],
            "species": {s: self.species(s, ses) for s, ses in [*sessions, *others]},
        }

    def stage_effects_params(self, wildcards: Any) -> dict[str, Any]:
        """Return the params of ``stage_effects``: its sessions (input order), species.

        ``sessions`` are the sessions with units (the order of ``ccgp``), ``ecog_sessions``
        the ECoG ones (the order of ``ecog_ccgp``).
        """
        ecog = self.ecog_stage_sessions()
        return {
            **self._group_params(self.stage_sessions(), ecog),
            "ecog_sessions": [list(k) for k in ecog],
        }

    def inactivation_probes(self) -> list[ProbeKey]:
        """Return the probes of the neural inactivation contrast's sessions."""
        return [
            (s, ses, p)
            for s, ses in self.inactivation_unit_sessions()
            for p in self.session_probes(s, ses)
        ]

    def inactivation_effects_inputs(self, wildcards: Any) -> dict[str, list[str]]:
        """Return the inputs of ``inactivation_effects``: CCGP, decoding, metrics, events, truths.

        CCGP, decoding, metrics and their truths of the neural contrast's sessions
        (:meth:`inactivation_unit_sessions`, none for a behaviour-only design); the trial
        tables and ``_design.json`` (expected trial-2 accuracy, simulated study) of the
        behavioural contrast's (:meth:`inactivation_sessions`); the ``sessions.tsv`` of both.
        Truths (simulated study): the CCGP oracle, the decoding oracle (``planted_effects``).
        """
        units = self.inactivation_unit_sessions()
        behaviour = self.inactivation_sessions()
        return {
            **self._ccgp_inputs(units),
            "design": self.sessions_files([*units, *behaviour]),
            "decoding": self.session_results("decoding", units),
            "decoding_oracle": (self.session_results("oracle", units) if self.simulated else []),
            "metrics": self.probe_results("metrics.tsv", self.inactivation_probes()),
            "events": [self.events_file(*k) for k in behaviour],
            "truth": (
                [self.design_truth(*k, "design.json") for k in behaviour] if self.simulated else []
            ),
        }

    def inactivation_effects_params(self, wildcards: Any) -> dict[str, Any]:
        """Return the params of ``inactivation_effects``.

        ``sessions`` (the neural contrast's, the order of the CCGP and decoding inputs),
        ``behaviour_sessions`` (the behavioural contrast's, the order of the trial tables and
        truths), ``probes`` (with their regions, the order of the metrics) and ``species``.
        """
        probes = self.inactivation_probes()
        behaviour = self.inactivation_sessions()
        return {
            **self._group_params(self.inactivation_unit_sessions(), behaviour),
            "behaviour_sessions": [list(k) for k in behaviour],
            "probes": [[s, ses, self.region(s, ses, p)] for s, ses, p in probes],
        }


def planned_design(config: Mapping[str, Any], samples: pd.DataFrame) -> pd.DataFrame | None:
    """Return the study design of the sheet's subjects, as the raw dataset states it.

    A simulated raw dataset not written yet states the design its size preset plans
    (:func:`panneuro.simulate.design.plan_design`, the same columns the simulation writes to
    ``sub-X_sessions.tsv``); otherwise each subject's ``sub-X_sessions.tsv`` is read, and the
    design is None unless every subject's file has the design columns.

    Parameters
    ----------
    config : mapping
        The workflow config.
    samples : pandas.DataFrame
        The sheet.

    Returns
    -------
    pandas.DataFrame or None
        :func:`panneuro.stats.session_scores.read_session_design`.
    """
    from panneuro.stats.session_scores import (
        design_table,
        read_session_design,
        sessions_file_has_design,
    )

    subjects = sorted(set(samples["subject"]))
    size = config["sizes"][config["size"]]
    if config["simulate"] and not config.get("raw_source"):
        if "design" not in size:
            return None
        from panneuro.simulate.design import plan_design, sessions_table

        design = plan_design(size, config["simulation"]["agent"])
        planned = {p.subject for p in design.sessions}
        parts = [design_table(sessions_table(design, s), s) for s in subjects if s in planned]
        return pd.concat(parts, ignore_index=True) if parts else None
    files = [f"{config['raw_dir']}/sub-{s}/sub-{s}_sessions.tsv" for s in subjects]
    if not files or not all(sessions_file_has_design(f) for f in files):
        return None
    return read_session_design(files)
