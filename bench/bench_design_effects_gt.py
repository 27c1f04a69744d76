r"""Per-session inputs of the group stage from the ground-truth spike trains of a design run.

The group rules (``workflow/rules/group.smk``) read each session's decoding and CCGP tables,
its decoding oracle and its probes' ``metrics.tsv``. Sorting a design run takes hours on a
loaded 2-core machine; this writes the same tables from the simulation's own spike trains of
all ground-truth units (same functions and settings as ``decode_session`` and
``planted_effects``; every unit kept, firing rate = spikes / recording length), so the group
stage can be run and checked without sorting (sorting losses are then absent):

    .venv/bin/python bench/bench_design_effects_gt.py <run folder> <oracle replicates>
    snakemake <group targets> --configfile <design yaml> --allowed-rules stage_effects \
        inactivation_effects ccgp_oracle figure_learning_stages figure_inactivation \
        figure_group_summary

The run folder needs ``resources/raw`` and ``resources/groundtruth`` of a design run.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd
import yaml

from panneuro.decoding.cross_condition import session_cross_condition
from panneuro.decoding.oracle import oracle_decoding
from panneuro.decoding.time_resolved import decode_session
from panneuro.io.tables import read_events, write_tsv
from panneuro.simulate.ephys import read_probe_coding, read_probe_ground_truth


def session_tables(
    root: Path,
    subject: str,
    session: str,
    probes: list[str],
    n_replicates: int,
    settings: dict,
    seed: int,
) -> None:
    """Write one session's decoding, CCGP, oracle and metrics tables from its ground truth."""
    events = read_events(
        root / f"resources/raw/sub-{subject}/ses-{session}/beh/"
        f"sub-{subject}_ses-{session}_task-harlow_events.tsv"
    )
    duration = float(events["onset"].iloc[-1] + events["duration"].iloc[-1] + 1.0)
    units, trains, codings = [], [], {}
    for probe in probes:
        prefix = (
            root / f"resources/groundtruth/sub-{subject}/ses-{session}/"
            f"sub-{subject}_ses-{session}_acq-{probe}"
        )
        sorting, probe_units = read_probe_ground_truth(str(prefix))
        fs = sorting.get_sampling_frequency()
        probe_trains = [sorting.get_unit_spike_train(u) / fs for u in probe_units["unit_id"]]
        units.append(probe_units.assign(probe=probe))
        codings[probe] = read_probe_coding(str(prefix))
        trains += probe_trains
        metrics = pd.DataFrame(
            {
                "unit_id": probe_units["unit_id"],
                "firing_rate": [len(t) / duration for t in probe_trains],
                "keep": True,
            }
        )
        folder = root / f"results/ephys/sub-{subject}/ses-{session}/acq-{probe}"
        folder.mkdir(parents=True, exist_ok=True)
        write_tsv(metrics, folder / "metrics.tsv")
    units = pd.concat(units, ignore_index=True)
    keys = (subject, session)
    base = root / f"results/decoding/sub-{subject}_ses-{session}"
    write_tsv(
        decode_session(units, trains, events, settings, seed=seed, keys=keys, n_jobs=1),
        f"{base}_decoding.tsv",
    )
    write_tsv(
        session_cross_condition(units, trains, events, settings, seed=seed, keys=keys),
        f"{base}_ccgp.tsv",
    )
    write_tsv(
        oracle_decoding(
            events,
            units,
            settings,
            seed=seed,
            keys=keys,
            n_replicates=n_replicates,
            sampling_frequency=fs,
            codings=codings,
        ),
        f"{base}_oracle.tsv",
    )


def main(root: Path, n_replicates: int) -> None:
    """Write the tables of every task session with probes in the run's sheet."""
    config = yaml.safe_load((Path(__file__).parents[1] / "config/config.yaml").read_text())
    for subject_dir in sorted((root / "resources/groundtruth").glob("sub-*")):
        for session_dir in sorted(subject_dir.glob("ses-*")):
            probes = sorted(
                {
                    p.name.split("_acq-")[1].removesuffix("_units.tsv")
                    for p in session_dir.glob("*_acq-*_units.tsv")
                }
            )
            if not probes:
                continue
            start = time.perf_counter()
            subject, session = subject_dir.name[4:], session_dir.name[4:]
            session_tables(
                root, subject, session, probes, n_replicates, config["decoding"], config["seed"]
            )
            print(
                f"sub-{subject} ses-{session} {probes}: {time.perf_counter() - start:.1f} s",
                flush=True,
            )


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]))
