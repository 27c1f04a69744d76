"""Benchmark of the ephys sorting stage (issue 3): throughput, accuracy, streaming floor, memory.

Not a test: run by hand, it takes several minutes at the default sizes::

    .venv/bin/python bench/bench_sorting.py [--duration 300] [--long 600] \
        [--out bench/results/sorting.json]

It simulates a 32-channel probe with ``--units`` ground-truth units (``simulate_probe`` on a
synthetic trial table from ``build_events``), writes it as NWB like the pipeline
(``write_probe_nwb``) plus its ground truth, and measures, in one run:

(a) the whole panneuro sorting stage (read NWB -> ``preprocess`` + ``save_recording`` ->
    ``run_sorter_for_probe`` -> ``compute_unit_metrics`` + ``curate`` -> units NWB -> GT
    comparison), with the settings of ``config/config.yaml`` (``ephys``: preprocessing,
    chunk_duration, the ``array`` sorter and its params, curation, ground_truth), against
    SpykingCircus2 run bare with its defaults on the same raw recording saved as a binary
    folder: throughput (recording seconds per wall second) ratio stage/bare, the same ratio in
    CPU seconds (user + system of the process and its workers: less sensitive to other load on
    a shared machine), and mean accuracy and units well detected (accuracy >= 0.8) of both;
(b) preprocessing throughput against the machine's streaming floor. Floor: a numpy memmap
    copy of the raw int16 binary file (samples x channels) to a new int16 file in 10 s
    chunks, i.e. the same bytes read and the same bytes written as preprocessing (its int16
    output has the raw shape, less any bad channel); also int16->float32 for reference.
    Preprocessing runs from that same raw binary (its modules imported beforehand): the
    bad-channel detection (30 random 0.3 s chunks, a cost per recording), then the streaming
    pass (band-pass, bad channels removed, reference, int16, written: ``save_recording``).
    ``--trials`` rounds alternate a floor copy and a preprocessing, each started after
    ``os.sync()``; each is timed to the page cache and then to the disk (the floor's
    ``flush``, an ``fsync`` of the preprocessed file), and the median ratio over rounds is
    reported: the streaming pass over the floor, both on disk (the issue's measure), both in
    the page cache only, and with the detection included. Preprocessing from the NWB file
    (the stage's first step: imports, HDF5 read, detection, save) over the floor is given too;
(c) peak memory of the stage at ``--duration`` and at ``--long`` seconds and their ratio.

``--drift UM [--channels N]`` runs :func:`drift_benchmark` instead (issue 19): a drifting
high-density probe, the stage against every peer sorter on the same recording, in one run::

    nice -n 10 .venv/bin/python bench/bench_sorting.py --drift 40 --channels 64 --duration 60 \
        --units 24 --peer-timeout 1200 --out bench/results/sorting_drift_64.json
    nice -n 10 .venv/bin/python bench/bench_sorting.py --drift 40 --channels 384 --duration 60 \
        --units 120 --drift-step 2 --skip-uncorrected --out bench/results/sorting_drift_384.json
    nice -n 10 .venv/bin/python bench/bench_sorting.py --drift 40 --channels 384 --duration 300 \
        --long 600 --units 120 --drift-step 2 --memory --out bench/results/memory_drift_384.json
    nice -n 10 .venv/bin/python bench/bench_sorting.py --drift 40 --channels 384 --duration 60 \
        --units 120 --drift-step 2 --skip-uncorrected --peers --floor \
        --out bench/results/floor_drift_384.json

``--floor`` adds (b) on the drifting probe's raw binary: the stage's preprocessing (bad channels,
motion estimate, the streaming pass with its interpolation) against the streaming floor.

The stage (``stage``; first ``stage_no_correction``, the same with motion correction off, which
also compiles the sorter's numba kernels into the stage's on-disk cache) runs in this
interpreter; the peers (``--peers``: SpykingCircus2, Lupin, Tridesclous2, MountainSort5,
Kilosort4, each with its SpikeInterface defaults) in ``--peer-python``, a venv with torch,
mountainsort5 and kilosort over the project's (``bench/requirements-peers.txt``; torch is kept
out of ``.venv`` because SC2's template matching switches to it when importable). A peer that
is not installed, fails or exceeds ``--peer-timeout`` is reported with its reason. The table
gives throughput (x real time), wall and CPU seconds and their ratios to the stage's, mean
accuracy on all and on SNR > 5 units, units well detected, peak memory (total and per channel)
and the motion error of every run that estimated motion (the stage; SC2 and Kilosort4 from
their own output folders).

Each measured step runs in its own child process (``--worker``), so its memory is its own: the
parent samples the resident memory of the child and all its worker processes (psutil, every
0.1 s; the sum over the process tree is the peak reported) and also records
``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` (the largest single process). Both sorters get
the same 2 worker processes (``--jobs``). Results go to a JSON file (``bench/results/`` is
git-ignored) and the ratios are printed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

FS = 30000.0
N_CHANNELS = 32
TRIAL_DURATION = 1.5
SEED = 20240601
CONFIG = Path(__file__).resolve().parents[1] / "config" / "config.yaml"


def _ephys_config() -> dict:
    """Read the pipeline's ``ephys`` settings (config/config.yaml): the bench runs those."""
    import yaml

    return yaml.safe_load(CONFIG.read_text())["ephys"]


EPHYS = _ephys_config()
PREPROCESSING = EPHYS["preprocessing"]
CHUNK = EPHYS["chunk_duration"]
ANALYZER_CHUNK = EPHYS.get("analyzer_chunk_duration", CHUNK)
SORTER = EPHYS["sorting"]["array"]
CURATION = EPHYS["curation"]
MATCH_SCORE = EPHYS["ground_truth"]["match_score"]
WELL_DETECTED = EPHYS["ground_truth"]["well_detected_accuracy"]


# --------------------------------------------------------------------------------------------
# Simulation (parent process)
# --------------------------------------------------------------------------------------------
def simulate(duration: float, n_units: int, work: Path) -> dict:
    """Simulate the probe, write the raw NWB, the ground truth and the raw binary folder."""
    from panneuro.simulate.ephys import simulate_probe, write_probe_ground_truth, write_probe_nwb
    from panneuro.simulate.task import build_events

    rng = np.random.default_rng(SEED)
    n_trials = int((duration - 2.0) // TRIAL_DURATION)
    n_problems = n_trials // 6
    problem = np.repeat(np.arange(1, n_problems + 1), 6)
    trial = np.tile(np.arange(1, 7), n_problems)
    correct = (rng.random(problem.size) < 0.8).astype(int)
    events = build_events(problem, trial, correct, rng, trial_duration=TRIAL_DURATION)
    sim = simulate_probe(
        events,
        n_channels=N_CHANNELS,
        n_units=n_units,
        sampling_frequency=FS,
        duration=duration,
        region="prefrontal",
        seed=SEED,
    )
    work.mkdir(parents=True, exist_ok=True)
    nwb = work / "raw.nwb"
    start = time.perf_counter()
    write_probe_nwb(
        sim,
        nwb,
        subject="B1",
        session="01",
        species="macaque",
        region="prefrontal",
        session_start=dt.datetime(2000, 1, 1, tzinfo=dt.UTC),
    )
    t_nwb = time.perf_counter() - start
    write_probe_ground_truth(sim, work / "gt")
    events.to_csv(work / "events.tsv", sep="\t", index=False, na_rep="n/a")
    snr = sim.units["snr"].to_numpy(float)
    return {
        "nwb": str(nwb),
        "gt_prefix": str(work / "gt"),
        "write_nwb_s": t_nwb,
        "n_units": n_units,
        "n_units_snr_gt5": int((snr > 5).sum()),
        "raw_mb": duration * FS * N_CHANNELS * 2 / 1e6,
    }


# --------------------------------------------------------------------------------------------
# Workers (child processes)
# --------------------------------------------------------------------------------------------
def _gt_summary(table) -> dict:
    snr = table["snr"].to_numpy(float) if "snr" in table else np.full(len(table), np.nan)
    high = snr > 5
    return {
        "mean_accuracy": float(table["accuracy"].mean()),
        "well_detected": int(table["well_detected"].sum()),
        "n_gt_units": len(table),
        "well_detected_snr_gt5": int(table["well_detected"][high].sum()),
        "n_gt_units_snr_gt5": int(high.sum()),
    }


def worker_stage(args) -> dict:
    """Run the panneuro stage as the pipeline's four rules do, timed step by step."""
    from panneuro.ephys.curation import compute_unit_metrics, curate
    from panneuro.ephys.ground_truth import compare_to_ground_truth
    from panneuro.ephys.nwb_units import ProbeUnits, write_session_units_nwb
    from panneuro.ephys.preprocessing import (
        load_preprocessed,
        preprocess,
        preprocess_kwargs,
        read_recording,
        save_recording,
    )
    from panneuro.ephys.sorting import run_sorter_for_probe
    from panneuro.io.tables import read_events
    from panneuro.simulate.ephys import read_probe_ground_truth

    work = Path(args.work)
    times = {}
    t0 = time.perf_counter()
    recording = read_recording(args.nwb, "nwb")
    out, bad = preprocess(recording, **preprocess_kwargs(PREPROCESSING), n_jobs=args.jobs, seed=1)
    save_recording(
        out, work / "stage_preprocessed", n_jobs=args.jobs, chunk_duration=CHUNK, bad_channels=bad
    )
    times["preprocess_s"] = time.perf_counter() - t0
    t = time.perf_counter()
    sorting = run_sorter_for_probe(
        load_preprocessed(work / "stage_preprocessed"),
        SORTER["sorter"],
        SORTER.get("params") or {},
        work / "stage_sorting",
        n_jobs=args.jobs,
        label="sub-B1 ses-01 acq-bench",
        seed=3,
    )
    times["sort_s"] = time.perf_counter() - t
    t = time.perf_counter()
    metrics, waveforms = compute_unit_metrics(
        load_preprocessed(work / "stage_preprocessed"),
        sorting,
        n_jobs=args.jobs,
        chunk_duration=ANALYZER_CHUNK,
        seed=5,
    )
    curated = curate(metrics, CURATION)
    times["metrics_s"] = time.perf_counter() - t
    t = time.perf_counter()
    kept = curated[curated["keep"].astype(bool)].reset_index(drop=True)
    ids = {str(u): u for u in sorting.unit_ids}
    spike_times = {
        u: sorting.get_unit_spike_train(ids[u], return_times=True) for u in kept["unit_id"]
    }
    write_session_units_nwb(
        work / "stage_units.nwb",
        [
            ProbeUnits(
                probe="bench",
                region="prefrontal",
                spike_times=spike_times,
                metrics=kept,
                waveforms=waveforms,
            )
        ],
        read_events(Path(args.nwb).parent / "events.tsv"),
        subject="B1",
        session="01",
        species="macaque",
        session_start=dt.datetime(2000, 1, 1, tzinfo=dt.UTC),
    )
    times["nwb_s"] = time.perf_counter() - t
    t = time.perf_counter()
    gt_sorting, gt_units = read_probe_ground_truth(args.gt_prefix)
    table = compare_to_ground_truth(
        gt_sorting,
        sorting,
        match_score=MATCH_SCORE,
        well_detected_accuracy=WELL_DETECTED,
        gt_units=gt_units,
        curated=curated,
    )
    times["gt_s"] = time.perf_counter() - t
    times["total_s"] = time.perf_counter() - t0
    return {
        **times,
        **_gt_summary(table),
        "n_sorted_units": len(sorting.unit_ids),
        "n_kept_units": int(curated["keep"].sum()),
        "n_bad_channels": int(bad["bad"].sum()),
        "well_detected_and_kept": int((table["well_detected"] & table["kept"]).sum()),
    }


def worker_save_raw(args) -> dict:
    """Save the raw NWB as a binary folder (the bare sorter's input; not timed against it)."""
    from panneuro.ephys.preprocessing import read_recording

    t0 = time.perf_counter()
    recording = read_recording(args.nwb, "nwb")
    recording.save(
        format="binary",
        folder=Path(args.work) / "raw_binary",
        n_jobs=args.jobs,
        chunk_duration=CHUNK,
        progress_bar=False,
        verbose=False,
        overwrite=True,
    )
    return {"save_raw_binary_s": time.perf_counter() - t0}


def worker_bare(args) -> dict:
    """SpykingCircus2 with its default parameters on the raw binary recording."""
    import spikeinterface.core as si
    import spikeinterface.sorters as ss

    from panneuro.ephys.ground_truth import compare_to_ground_truth
    from panneuro.simulate.ephys import read_probe_ground_truth

    work = Path(args.work)
    recording = si.load(work / "raw_binary")
    # Same worker count as the stage; SC2's own parameters stay at their defaults.
    si.set_global_job_kwargs(n_jobs=args.jobs, progress_bar=False)
    t0 = time.perf_counter()
    sorting = ss.run_sorter(
        "spykingcircus2",
        recording,
        folder=work / "bare_sc2",
        remove_existing_folder=True,
        verbose=False,
        raise_error=True,
    )
    elapsed = time.perf_counter() - t0
    gt_sorting, gt_units = read_probe_ground_truth(args.gt_prefix)
    table = compare_to_ground_truth(
        gt_sorting,
        sorting,
        match_score=MATCH_SCORE,
        well_detected_accuracy=WELL_DETECTED,
        gt_units=gt_units,
    )
    return {"total_s": elapsed, **_gt_summary(table), "n_sorted_units": len(sorting.unit_ids)}


def _fsync(path: Path) -> None:
    """Write a file's dirty pages to disk (as ``numpy.memmap.flush`` does for the floor)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def worker_floor(args) -> dict:
    """Time the streaming floor (memmap copies) and preprocessing from the raw binary.

    ``--trials`` rounds, each a floor copy then a preprocessing, every step starting after
    ``os.sync()`` (no dirty pages left by the step before). Each is timed to the page cache
    and then to the disk (``flush``/``fsync``). The medians over rounds are reported. The raw
    binary folder is ``--raw-name`` (``raw_binary``; the drifting probe's ``raw``); on a probe
    the config corrects for motion, ``bad_channel_detection_s`` includes the motion estimate
    (``motion_corrected``) and the streaming pass its interpolation.
    """
    # the modules the chain uses are imported before the clock starts (a one-time cost of a
    # job, ~0.5 s, not streaming throughput; the stage's preprocess_s includes it)
    import spikeinterface.core as si
    import spikeinterface.preprocessing  # noqa: F401

    import panneuro.ephys.fft_bandpass  # noqa: F401
    import panneuro.ephys.median_reference  # noqa: F401
    from panneuro.ephys.preprocessing import preprocess, preprocess_kwargs, save_recording

    work = Path(args.work)
    raw_folder = work / (args.raw_name or "raw_binary")
    raw = si.load(raw_folder)
    n_samples, n_ch = raw.get_num_samples(), raw.get_num_channels()
    source = np.memmap(
        next(raw_folder.glob("traces_cached_seg0.raw")),
        dtype="int16",
        mode="r",
        shape=(n_samples, n_ch),
    )
    step = int(FS * 10)  # 10 s chunks

    def floor_copy(dtype) -> tuple[float, float]:
        target_path = work / f"floor_{np.dtype(dtype).name}.raw"
        os.sync()
        t0 = time.perf_counter()
        target = np.memmap(target_path, dtype=dtype, mode="w+", shape=(n_samples, n_ch))
        for a in range(0, n_samples, step):
            target[a : a + step] = source[a : a + step]
        t1 = time.perf_counter()
        target.flush()  # msync: the bytes on disk
        t2 = time.perf_counter()
        del target
        target_path.unlink()
        return t1 - t0, t2 - t1

    trials = []
    for _ in range(args.trials):
        trial = {}
        trial["floor_int16_s"], trial["floor_int16_flush_s"] = floor_copy(np.int16)
        folder = work / "floor_preprocessed"
        os.sync()
        t0 = time.perf_counter()
        out, bad = preprocess(raw, **preprocess_kwargs(PREPROCESSING), n_jobs=args.jobs, seed=1)
        t1 = time.perf_counter()
        save_recording(out, folder, n_jobs=args.jobs, chunk_duration=CHUNK, bad_channels=bad)
        t2 = time.perf_counter()
        _fsync(next(folder.glob("traces_cached_seg0.raw")))
        t3 = time.perf_counter()
        trial.update(
            motion_corrected=bad.attrs.get("motion") is not None,
            bad_channel_detection_s=t1 - t0,
            preprocess_save_s=t2 - t1,
            preprocess_fsync_s=t3 - t2,
            preprocess_from_binary_s=t2 - t0,
        )
        trials.append(trial)
        shutil.rmtree(folder, ignore_errors=True)
    result = {
        key: float(np.median([t[key] for t in trials]))
        for key in trials[0]
        if key != "motion_corrected"
    }
    result["motion_corrected"] = trials[0]["motion_corrected"]
    result["trials"] = trials
    result["floor_float32_s"], result["floor_float32_flush_s"] = floor_copy(np.float32)
    return result


def _median_ratio(
    trials: list[dict], numerator: tuple[str, ...], denominator: tuple[str, ...]
) -> float:
    """Median over rounds of sum(numerator times) / sum(denominator times)."""
    return float(
        np.median([sum(t[k] for k in numerator) / sum(t[k] for k in denominator) for t in trials])
    )


def _floor_ratios(floor: dict, mb: float) -> dict[str, float]:
    """Preprocessing against the streaming floor, from :func:`worker_floor`'s result.

    ``mb``: the raw recording's size, MB. With detection: the bad-channel detection (30 random
    0.3 s chunks, a cost per recording) and, on a probe corrected for motion, the motion
    estimate are counted in.
    """
    return {
        "preprocess_stream_mb_s": mb / floor["preprocess_save_s"],
        "floor_int16_mb_s": mb / floor["floor_int16_s"],
        "floor_int16_on_disk_mb_s": mb / (floor["floor_int16_s"] + floor["floor_int16_flush_s"]),
        "floor_float32_mb_s": mb / floor["floor_float32_s"],
        # the measure: the streaming pass (band-pass, bad channels removed, reference,
        # saved) against the memmap copy, both until their bytes are on disk
        "preprocess_over_floor_int16": _median_ratio(
            floor["trials"],
            ("floor_int16_s", "floor_int16_flush_s"),
            ("preprocess_save_s", "preprocess_fsync_s"),
        ),
        # both only to the page cache (no flush, no fsync)
        "preprocess_over_floor_int16_page_cache": _median_ratio(
            floor["trials"], ("floor_int16_s",), ("preprocess_save_s",)
        ),
        # with the bad-channel detection (30 random 0.3 s chunks: a cost per recording)
        "preprocess_with_detection_over_floor_int16": _median_ratio(
            floor["trials"],
            ("floor_int16_s", "floor_int16_flush_s"),
            ("bad_channel_detection_s", "preprocess_save_s", "preprocess_fsync_s"),
        ),
        "preprocess_with_detection_over_floor_int16_page_cache": _median_ratio(
            floor["trials"], ("floor_int16_s",), ("bad_channel_detection_s", "preprocess_save_s")
        ),
        "preprocess_over_floor_float32": (
            (floor["floor_float32_s"] + floor["floor_float32_flush_s"])
            / (floor["preprocess_save_s"] + floor["preprocess_fsync_s"])
        ),
    }


# --------------------------------------------------------------------------------------------
# Parent: run a worker in a child process and watch its memory
# --------------------------------------------------------------------------------------------
def run_worker(
    name: str,
    sim: dict,
    work: Path,
    jobs: int,
    trials: int = 3,
    *,
    python: str | None = None,
    extra: tuple[str, ...] = (),
    timeout: float | None = None,
    check: bool = True,
    tag: str | None = None,
    log_dir: Path | None = None,
) -> dict:
    """Run one worker in a child process; return its result plus peak memory.

    ``python`` runs the child in another interpreter (the peers' environment); ``extra`` adds
    worker arguments; ``tag`` names the result and log files (default ``name``). With
    ``check=False`` a failure or a ``timeout`` (seconds; the child's process group is killed)
    is returned as ``{"status": "failed" | "timed out", "reason": ...}`` instead of raised; the
    child's output then goes to ``<log_dir or work>/<tag>.log``, whose last lines are the
    reason.
    """
    import psutil

    tag = tag or name
    result_file = work / f"{tag}.json"
    result_file.unlink(missing_ok=True)
    cmd = [
        python or sys.executable,
        __file__,
        "--worker",
        name,
        "--nwb",
        sim.get("nwb", ""),
        "--gt-prefix",
        sim["gt_prefix"],
        "--work",
        str(work),
        "--jobs",
        str(jobs),
        "--trials",
        str(trials),
        "--result",
        str(result_file),
        *extra,
    ]
    log_path = (log_dir or work) / f"{tag}.log"
    log = None if check else open(log_path, "w")  # noqa: SIM115
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    before, cpu_before = usage.ru_maxrss, usage.ru_utime + usage.ru_stime
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    child = subprocess.Popen(
        cmd, stdout=log, stderr=subprocess.STDOUT if log else None, start_new_session=not check
    )
    proc = psutil.Process(child.pid)
    peak_tree = 0
    timed_out = False
    while child.poll() is None:
        try:
            procs = [proc, *proc.children(recursive=True)]
            total = 0
            for p in procs:
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    pass
            peak_tree = max(peak_tree, total)
        except psutil.Error:
            pass
        if timeout is not None and time.perf_counter() - start > timeout:
            timed_out = True
            os.killpg(child.pid, 9)  # the child's own session: only what this run started
            child.wait()
            break
        time.sleep(0.1)
    wall = time.perf_counter() - start
    if log is not None:
        log.close()
    if child.returncode != 0 or not result_file.exists():
        if check:
            raise RuntimeError(
                f"bench worker {name!r} failed (exit {child.returncode}); see above."
            )
        lines = log_path.read_text(errors="replace").replace("\r", "\n").splitlines()
        tail = [line.strip() for line in lines if line.strip()][-12:]
        reasons = [line for line in tail if "Error" in line or "error" in line] or tail[-2:]
        result = {
            "status": "timed out" if timed_out else "failed",
            "returncode": child.returncode,
            "process_wall_s": wall,
            "peak_rss_tree_mb": peak_tree / 1e6,
            "reason": (
                f"killed after {timeout:g} s; "
                if timed_out
                else f"killed by signal {-child.returncode}; "
                if child.returncode < 0
                else ""
            )
            + " | ".join(reasons[-3:]),
            "log": str(log_path),
        }
        print(f"  {tag}: {result['status']}: {result['reason']}", flush=True)
        return result
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    after = usage.ru_maxrss
    result = json.loads(result_file.read_text())
    result["status"] = "ok"
    result["process_wall_s"] = wall
    # user + system seconds of the child and its (reaped) worker processes
    result["process_cpu_s"] = usage.ru_utime + usage.ru_stime - cpu_before
    result["load_average_1min"] = [load_before, os.getloadavg()[0]]
    result["peak_rss_tree_mb"] = peak_tree / 1e6
    # ru_maxrss (KiB on Linux) is the largest child so far: only meaningful if it grew.
    result["peak_rss_largest_process_mb"] = after * 1024 / 1e6 if after > before else None
    shown = {
        k: round(v, 3) if isinstance(v, float) else v
        for k, v in result.items()
        if not isinstance(v, dict)
    }
    print(f"  {tag}: {json.dumps(shown)}", flush=True)
    return result


# --------------------------------------------------------------------------------------------
# --drift: a drifting high-density probe, the stage against every peer sorter (issue 19)
# --------------------------------------------------------------------------------------------
#: Peer sorters run bare (SpikeInterface's defaults) on the raw recording, in this order.
PEERS = ("spykingcircus2", "lupin", "tridesclous2", "mountainsort5", "kilosort4")
#: The peers' interpreter: a venv with torch (CPU), mountainsort5 and kilosort over the
#: project's (bench/requirements-peers.txt); the stage always runs in the project's own.
PEER_PYTHON = Path(__file__).resolve().parent / "results" / "venv-peers" / "bin" / "python"


def _cpu_s() -> float:
    """User + system seconds of this process and its reaped children (sorter workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _drift_gt(args, sorting, **kwargs) -> dict:
    """Accuracy of a sorting of the drifting probe on all and on SNR > 5 units."""
    from panneuro.ephys.ground_truth import compare_to_ground_truth
    from panneuro.simulate.ephys import read_probe_ground_truth

    gt_sorting, gt_units = read_probe_ground_truth(args.gt_prefix)
    table = compare_to_ground_truth(
        gt_sorting,
        sorting,
        match_score=MATCH_SCORE,
        well_detected_accuracy=WELL_DETECTED,
        gt_units=gt_units,
        **kwargs,
    )
    high = table["snr"].to_numpy(float) > 5
    summary = {
        **_gt_summary(table),
        "mean_accuracy_snr_gt5": float(table["accuracy"][high].mean()),
        "n_sorted_units": len(sorting.unit_ids),
    }
    if "kept" in table:
        summary["well_detected_and_kept"] = int((table["well_detected"] & table["kept"]).sum())
    return summary


def _motion_error_or_none(estimated, args) -> dict | None:
    from panneuro.ephys.motion import motion_error
    from panneuro.simulate.drift import read_planted_motion

    if estimated is None:
        return None
    return motion_error(estimated, read_planted_motion(args.gt_prefix))


def worker_drift_stage(args) -> dict:
    """Run the stage on the drifting probe's raw binary: preprocess (+ motion), sort, curate."""
    import spikeinterface.core as si

    from panneuro.ephys.curation import compute_unit_metrics, curate
    from panneuro.ephys.preprocessing import preprocess, preprocess_kwargs, save_recording
    from panneuro.ephys.sorting import run_sorter_for_probe

    work = Path(args.work)
    out_dir = work / args.tag
    shutil.rmtree(out_dir, ignore_errors=True)
    raw = si.load(work / "raw")
    settings = preprocess_kwargs(PREPROCESSING)  # motion correction: config's (auto)
    if args.motion == "off":
        settings["motion_correction"] = False
    cpu0, t0 = _cpu_s(), time.perf_counter()
    out, bad = preprocess(raw, **settings, n_jobs=args.jobs, seed=1)
    t_estimate = time.perf_counter() - t0
    saved = save_recording(
        out, out_dir / "preprocessed", n_jobs=args.jobs, chunk_duration=CHUNK, bad_channels=bad
    )
    t_pre = time.perf_counter() - t0
    sorting = run_sorter_for_probe(
        saved,
        SORTER["sorter"],
        SORTER.get("params"),
        out_dir / "sorting",
        n_jobs=args.jobs,
        label=args.tag,
        seed=1,
    )
    t_sort = time.perf_counter() - t0
    cpu_sort = _cpu_s() - cpu0
    metrics, _ = compute_unit_metrics(
        saved, sorting, n_jobs=args.jobs, chunk_duration=ANALYZER_CHUNK, seed=5
    )
    curated = curate(metrics, CURATION)
    t_curate = time.perf_counter() - t0
    cpu_curate = _cpu_s() - cpu0
    motion = bad.attrs.get("motion")
    result = {
        "timed_s": t_sort,
        "cpu_s": cpu_sort,
        "bad_channels_and_motion_estimate_s": t_estimate,
        "preprocess_s": t_pre,
        "sort_only_s": t_sort - t_pre,
        "with_curation_s": t_curate,
        "with_curation_cpu_s": cpu_curate,
        "n_bad_channels": int(bad["bad"].sum()),
        "motion_corrected": motion is not None,
        "n_kept_units": int(curated["keep"].sum()),
        **_drift_gt(args, sorting, curated=curated),
        "motion_error": _motion_error_or_none(motion, args),
        "motion_run_times_s": None if motion is None else motion.attrs.get("run_times"),
    }
    if not args.keep_outputs:
        shutil.rmtree(out_dir, ignore_errors=True)
    return result


def _peer_motion(sorter: str, output: Path):
    """Read the motion a peer estimated itself, as a motion table (None if it saved none)."""
    from panneuro.ephys.motion import motion_table

    try:
        if sorter == "spykingcircus2" and (output / "motion").exists():
            from spikeinterface.preprocessing.motion import load_motion_info

            return motion_table(load_motion_info(output / "motion")["motion"])
        if sorter == "kilosort4" and (output / "ops.npy").exists():
            from spikeinterface.sorters.external.kilosort4 import read_kilosort4_motion

            return motion_table(read_kilosort4_motion(output))
    except Exception as error:  # a peer's own files: reported, never fatal
        print(f"{sorter}: its motion could not be read ({error})", flush=True)
    return None


def worker_drift_peer(args) -> dict:
    """Run a peer sorter bare (its SpikeInterface defaults) on the raw binary recording."""
    import spikeinterface
    import spikeinterface.core as si
    import spikeinterface.sorters as ss

    work = Path(args.work)
    recording = si.load(work / "raw")
    folder = work / f"peer_{args.sorter}"
    # the same worker count as the stage; the sorter's own parameters stay at their defaults
    si.set_global_job_kwargs(n_jobs=args.jobs, progress_bar=False)
    versions = {"spikeinterface": spikeinterface.__version__}
    try:
        import torch

        versions["torch"] = torch.__version__
        versions["torch_cuda_available"] = bool(torch.cuda.is_available())
    except ImportError:
        versions["torch"] = None
    sorter_class = ss.sorter_dict[args.sorter]
    if not sorter_class.is_installed():
        raise RuntimeError(
            f"{args.sorter} is not installed in {sys.executable} "
            f"({sorter_class.installation_mesg.strip()})"
        )
    versions["sorter"] = str(sorter_class.get_sorter_version())
    cpu0, t0 = _cpu_s(), time.perf_counter()
    sorting = ss.run_sorter(
        args.sorter,
        recording,
        folder=folder,
        remove_existing_folder=True,
        verbose=False,
        raise_error=True,
    )
    elapsed = time.perf_counter() - t0
    cpu = _cpu_s() - cpu0
    result = {
        "timed_s": elapsed,
        "cpu_s": cpu,
        "versions": versions,
        **_drift_gt(args, sorting),
        "motion_error": _motion_error_or_none(
            _peer_motion(args.sorter, folder / "sorter_output"), args
        ),
    }
    if not args.keep_outputs:
        shutil.rmtree(folder, ignore_errors=True)
    return result


def drift_benchmark(args) -> dict:
    """Sort a drifting high-density probe by the stage and by every peer, in one run.

    Simulates ``simulate_drifting_probe`` (``--channels``, ``--units``, ``--duration``,
    ``--drift`` µm peak to peak, template bank every ``--drift-step`` µm), saves it raw as a
    binary folder with its ground truth, then runs, each in its own child process (memory
    sampled over the process tree, CPU of the process and its workers), on that same raw
    recording:

    - ``stage_no_correction``: the stage with motion correction off (first: it pays numba's
      compilation of the sorter's kernels, which the stage caches on disk);
    - ``stage``: the stage as the pipeline runs it (config's preprocessing, motion correction
      ``auto``: on for this probe; the config's sorter and params), then curation;
    - each of ``--peers`` run bare with its SpikeInterface defaults (its own filtering,
      whitening and, where its defaults do, motion correction), in ``--peer-python`` (a venv
      with torch for Lupin and Kilosort4); a peer that fails, is not installed or exceeds
      ``--peer-timeout`` is reported with the reason.

    Throughput is recording seconds per wall second of preprocessing + sorting (the stage) or
    of ``run_sorter`` (a peer); the ratios stage/peer are peer time over stage time (wall and
    CPU), measured in this run.
    """
    from panneuro.simulate.drift import simulate_drifting_probe, write_drifting_ground_truth

    work = Path(args.work) / f"drift_{args.channels}ch_{int(args.duration)}s"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    # the stage's on-disk numba cache, empty at the start (inherited through the environment)
    os.environ["NUMBA_CACHE_DIR"] = str((work / "numba_cache").resolve())
    start = time.perf_counter()
    sim = simulate_drifting_probe(
        n_channels=args.channels,
        n_units=args.units,
        duration=args.duration,
        seed=SEED,
        drift_um=args.drift,
        drift_step_um=args.drift_step,
    )
    sim.recording.save(
        format="binary",
        folder=work / "raw",
        n_jobs=args.jobs,
        chunk_duration="1s",
        progress_bar=False,
    )
    write_drifting_ground_truth(sim, work / "gt" / "probe")
    n_strong = int((sim.units["snr"] > 5).sum())
    del sim  # the template bank: the parent's memory is not the workers'
    simulate_s = time.perf_counter() - start
    print(
        f"== {args.channels} ch x {args.duration:g} s, {args.units} units ({n_strong} with "
        f"SNR > 5), {args.drift:g} um drift: simulated and saved in {simulate_s:.0f} s",
        flush=True,
    )
    handle = {"gt_prefix": str(work / "gt" / "probe")}
    logs = Path(args.work) / f"{work.name}_logs"  # kept: the peers' output, their reasons
    logs.mkdir(parents=True, exist_ok=True)
    keep = ("--keep-outputs",) if args.keep else ()
    runs: dict[str, dict] = {}
    stages = (("stage_no_correction", "off"), ("stage", "auto"))
    for tag, motion in stages if not args.skip_uncorrected else stages[1:]:
        runs[tag] = run_worker(
            "drift_stage",
            handle,
            work,
            args.jobs,
            tag=tag,
            extra=("--motion", motion, "--tag", tag, *keep),
        )
        # the first stage run compiles the sorter's numba kernels into the (empty) cache
        runs[tag]["numba_cache_cold"] = len(runs) == 1
    floor = None
    if args.floor:  # after the stages: the motion estimate's numba kernels are compiled
        floor = run_worker(
            "floor", handle, work, args.jobs, args.trials, extra=("--raw-name", "raw")
        )
    peer_python = args.peer_python or (str(PEER_PYTHON) if PEER_PYTHON.exists() else sys.executable)
    timeouts = _peer_timeouts(args.peer_timeout)
    for sorter in args.peers:
        runs[sorter] = run_worker(
            "drift_peer",
            handle,
            work,
            args.jobs,
            python=peer_python,
            tag=f"peer_{sorter}",
            timeout=timeouts.get(sorter, timeouts.get("")),
            check=False,
            log_dir=logs,
            extra=("--sorter", sorter, "--tag", sorter, *keep),
        )
    report = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "peer_python": peer_python,
        },
        "settings": {
            "n_channels": args.channels,
            "n_units": args.units,
            "duration_s": args.duration,
            "drift_um": args.drift,
            "drift_step_um": args.drift_step,
            "jobs": args.jobs,
            "seed": SEED,
            "preprocessing": PREPROCESSING,
            "sorter": SORTER,
            "curation": CURATION,
            "peer_timeout_s": timeouts,
            "raw_mb": args.duration * FS * args.channels * 2 / 1e6,
        },
        "simulate_and_save_raw_s": simulate_s,
        "n_units_snr_gt5": n_strong,
        "runs": runs,
        "ratios": _drift_ratios(runs, args),
    }
    if floor is not None:
        report["floor"] = floor
        report["floor_ratios"] = _floor_ratios(floor, report["settings"]["raw_mb"])
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return report


def drift_memory_benchmark(args) -> dict:
    """Peak memory of the stage on the drifting probe at ``--duration`` and ``--long`` seconds.

    Runs :func:`drift_benchmark` (the stage only, motion correction on, no peers) on two
    recordings of the same probe, units and drift (the same seed) lasting ``--duration`` and
    ``--long`` seconds, one after the other, and reports the stage's peak memory (sum over its
    process tree) of each, per channel, and their ratio, measured in this run: the stage
    streams in chunks, so its memory should not grow with the recording's length.
    """
    reports = {}
    for duration in (args.duration, args.long):
        one = argparse.Namespace(
            **{**vars(args), "duration": duration, "peers": [], "skip_uncorrected": True}
        )
        reports[f"{duration:g}"] = drift_benchmark(one)
        _print_drift_table(reports[f"{duration:g}"])
    short, long = (reports[f"{d:g}"]["runs"]["stage"] for d in (args.duration, args.long))
    return {
        "durations_s": [args.duration, args.long],
        "peak_rss_tree_mb": [short["peak_rss_tree_mb"], long["peak_rss_tree_mb"]],
        "peak_mb_per_channel": [
            short["peak_rss_tree_mb"] / args.channels,
            long["peak_rss_tree_mb"] / args.channels,
        ],
        "peak_ratio_long_over_short": long["peak_rss_tree_mb"] / short["peak_rss_tree_mb"],
        "reports": reports,
    }


def _print_memory_summary(report: dict, channels: int) -> None:
    """Print :func:`drift_memory_benchmark`'s peak memory at both lengths and their ratio."""
    (short, long), (mb_short, mb_long) = report["durations_s"], report["peak_rss_tree_mb"]
    print(
        f"stage peak memory, {channels} channels: {mb_short:.0f} MB at {short:g} s "
        f"({mb_short / channels:.1f} MB/ch), {mb_long:.0f} MB at {long:g} s "
        f"({mb_long / channels:.1f} MB/ch); ratio {report['peak_ratio_long_over_short']:.3f}"
    )


def _peer_timeouts(values: list[str] | None) -> dict[str, float]:
    """``--peer-timeout`` as {sorter: seconds}; the key ``""`` is every other peer's."""
    timeouts: dict[str, float] = {}
    for value in values or ():
        name, _, seconds = value.rpartition("=")
        timeouts[name] = float(seconds)
    return timeouts


def _drift_ratios(runs: dict[str, dict], args) -> dict:
    """Stage over each peer (and over the fastest peer that ran): throughput and CPU."""
    stage = runs["stage"]
    ok = {name: run for name, run in runs.items() if name in PEERS and run["status"] == "ok"}
    ratios: dict = {
        "stage_x_realtime": args.duration / stage["timed_s"],
        "stage_with_curation_x_realtime": args.duration / stage["with_curation_s"],
        "stage_peak_rss_mb_per_channel": stage["peak_rss_tree_mb"] / args.channels,
    }
    for name, run in ok.items():
        ratios[f"throughput_stage_over_{name}"] = run["timed_s"] / stage["timed_s"]
        ratios[f"cpu_stage_over_{name}"] = run["cpu_s"] / stage["cpu_s"]
    if ok:
        fastest = min(ok, key=lambda name: ok[name]["timed_s"])
        ratios["fastest_peer"] = fastest
        ratios["throughput_stage_over_fastest_peer"] = ok[fastest]["timed_s"] / stage["timed_s"]
        ratios["throughput_stage_with_curation_over_fastest_peer"] = (
            ok[fastest]["timed_s"] / stage["with_curation_s"]
        )
        best = max(ok, key=lambda name: ok[name]["mean_accuracy_snr_gt5"])
        ratios["most_accurate_peer_snr_gt5"] = best
    ratios["stage_well_detected_snr_gt5_fraction"] = stage["well_detected_snr_gt5"] / max(
        stage["n_gt_units_snr_gt5"], 1
    )
    ratios["failed_peers"] = {
        name: f"{run['status']}: {run['reason']}"
        for name, run in runs.items()
        if name in PEERS and run["status"] != "ok"
    }
    return ratios


def _print_drift_table(report: dict) -> None:
    """Print the runs side by side, the ratios measured in this run, and the failures."""
    duration = report["settings"]["duration_s"]
    channels = report["settings"]["n_channels"]
    stage = report["runs"]["stage"]
    header = (
        "run",
        "x_rt",
        "wall_s",
        "thr_ratio",
        "cpu_s",
        "cpu_ratio",
        "acc_all",
        "acc_snr>5",
        "well_all",
        "well_snr>5",
        "units",
        "peak_MB",
        "MB/ch",
        "motion_rms",
    )
    widths = (20, 7, 8, 10, 8, 10, 8, 10, 9, 11, 6, 8, 6, 11)
    print(
        "".join(
            f"{h:>{w}}" if i else f"{h:<{w}}"
            for i, (h, w) in enumerate(zip(header, widths, strict=True))
        )
    )
    for name, run in report["runs"].items():
        if run["status"] != "ok":
            print(f"{name:<20}  {run['status']}: {run['reason']}")
            continue
        error = run.get("motion_error")
        cells = (
            name,
            f"{duration / run['timed_s']:.2f}",
            f"{run['timed_s']:.1f}",
            f"{run['timed_s'] / stage['timed_s']:.3f}",
            f"{run['cpu_s']:.1f}",
            f"{run['cpu_s'] / stage['cpu_s']:.3f}",
            f"{run['mean_accuracy']:.3f}",
            f"{run['mean_accuracy_snr_gt5']:.3f}",
            f"{run['well_detected']}/{run['n_gt_units']}",
            f"{run['well_detected_snr_gt5']}/{run['n_gt_units_snr_gt5']}",
            str(run["n_sorted_units"]),
            f"{run['peak_rss_tree_mb']:.0f}",
            f"{run['peak_rss_tree_mb'] / channels:.1f}",
            f"{error['rms_um']:.2f}" if error else "-",
        )
        print(
            "".join(
                f"{c:>{w}}" if i else f"{c:<{w}}"
                for i, (c, w) in enumerate(zip(cells, widths, strict=True))
            )
        )
    print(
        "thr_ratio, cpu_ratio: the run's wall / CPU seconds over the stage's (> 1: the stage "
        "is faster); stage times are preprocessing (with motion) + sorting, "
        f"{stage['with_curation_s']:.1f} s with curation"
    )
    for key, value in report["ratios"].items():
        print(f"  {key}: {value:.3f}" if isinstance(value, float) else f"  {key}: {value}")
    if "floor_ratios" in report:
        floor = report["floor"]
        print(
            f"preprocessing against the streaming floor ({len(floor['trials'])} rounds, medians; "
            f"motion corrected: {floor['motion_corrected']}; detection and motion estimate "
            f"{floor['bad_channel_detection_s']:.1f} s, streaming pass "
            f"{floor['preprocess_save_s']:.1f} s, floor copy {floor['floor_int16_s']:.1f} s):"
        )
        for key, value in report["floor_ratios"].items():
            print(f"  {key}: {value:.3f}")


WORKERS = {
    "stage": worker_stage,
    "save_raw": worker_save_raw,
    "bare": worker_bare,
    "floor": worker_floor,
    "drift_stage": worker_drift_stage,
    "drift_peer": worker_drift_peer,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=300.0)
    parser.add_argument("--long", type=float, default=600.0)
    parser.add_argument("--units", type=int, default=25)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", default="bench/results/sorting.json")
    parser.add_argument("--work", default="bench/results/work")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument(
        "--channels", type=int, default=64, help="with --drift: channels of the high-density probe"
    )
    parser.add_argument(
        "--drift",
        type=float,
        default=None,
        help="drifting high-density mode: planted drift, µm peak to peak",
    )
    parser.add_argument(
        "--trials",
        type=int,
        default=3,
        help="alternating floor / preprocessing rounds (medians reported)",
    )
    parser.add_argument(
        "--drift-step",
        type=float,
        default=1.0,
        help="with --drift: spatial step of the template bank, µm",
    )
    parser.add_argument(
        "--peers",
        nargs="*",
        default=list(PEERS),
        choices=PEERS,
        help="with --drift: peer sorters run bare (default: all)",
    )
    parser.add_argument(
        "--peer-python",
        default=None,
        help="with --drift: the peers' interpreter (default: "
        "bench/results/venv-peers/bin/python if it exists)",
    )
    parser.add_argument(
        "--peer-timeout",
        nargs="+",
        default=None,
        metavar="[SORTER=]SECONDS",
        help="with --drift: seconds after which a peer is stopped and "
        "reported as timed out (SORTER=SECONDS for one peer)",
    )
    parser.add_argument(
        "--skip-uncorrected",
        action="store_true",
        help="with --drift: do not run the stage without motion correction",
    )
    parser.add_argument(
        "--floor",
        action="store_true",
        help="with --drift: also the preprocessing (bad channels, motion estimate and "
        "correction, the streaming pass) against the streaming floor, --trials rounds",
    )
    parser.add_argument(
        "--memory",
        action="store_true",
        help="with --drift: the stage's peak memory at --duration and at --long seconds (no peers)",
    )
    # internal: run one measured step in a child process
    parser.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    parser.add_argument("--nwb", help=argparse.SUPPRESS)
    parser.add_argument("--gt-prefix", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    parser.add_argument("--motion", choices=("auto", "off"), help=argparse.SUPPRESS)
    parser.add_argument("--raw-name", help=argparse.SUPPRESS)
    parser.add_argument("--tag", help=argparse.SUPPRESS)
    parser.add_argument("--sorter", help=argparse.SUPPRESS)
    parser.add_argument("--keep-outputs", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        result = WORKERS[args.worker](args)
        Path(args.result).write_text(json.dumps(result))
        return

    out = Path(args.out)
    if args.memory and args.drift is None:
        parser.error("--memory needs --drift (the drifting probe's stage at two lengths)")
    if args.drift is not None:
        report = drift_memory_benchmark(args) if args.memory else drift_benchmark(args)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2) + "\n")
        print(f"\nwrote {out}")
        if args.memory:
            _print_memory_summary(report, args.channels)
        else:
            _print_drift_table(report)
        return
    root = Path(args.work)
    # the workers' numba cache (inherited through the environment), emptied before the first
    # stage run so that run is cold; bare SC2 caches nothing (its kernels have no cache=True)
    numba_cache = root / "numba_cache"
    os.environ["NUMBA_CACHE_DIR"] = str(numba_cache.resolve())
    report: dict = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "settings": {
            "n_channels": N_CHANNELS,
            "n_units": args.units,
            "sampling_frequency": FS,
            "jobs": args.jobs,
            "chunk_duration": CHUNK,
            "analyzer_chunk_duration": ANALYZER_CHUNK,
            "preprocessing": PREPROCESSING,
            "sorter": SORTER,
            "curation": CURATION,
            "floor": "numpy memmap copy of the raw int16 binary to an "
            "int16 file in the same chunks (same bytes read "
            "and written as preprocessing)",
        },
    }
    import spikeinterface

    report["machine"]["spikeinterface"] = spikeinterface.__version__
    runs = {}
    for duration in (args.duration, args.long):
        print(f"== {duration:g} s: simulating", flush=True)
        work = root / f"{int(duration)}s"
        shutil.rmtree(work, ignore_errors=True)
        sim = simulate(duration, args.units, work)
        run = {"duration_s": duration, "simulation": sim}
        if duration == args.duration:
            # first job on a machine: SpikeInterface's numba kernels not yet compiled on disk
            shutil.rmtree(numba_cache, ignore_errors=True)
            run["stage_cold"] = run_worker("stage", sim, work, args.jobs)
        # steady state: kernels compiled by an earlier job (panneuro.ephys.numba_cache)
        run["stage"] = run_worker("stage", sim, work, args.jobs)
        if duration == args.duration:
            run["save_raw"] = run_worker("save_raw", sim, work, args.jobs)
            run["bare"] = run_worker("bare", sim, work, args.jobs)
            run["floor"] = run_worker("floor", sim, work, args.jobs, args.trials)
        runs[f"{duration:g}"] = run
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    main_run = runs[f"{args.duration:g}"]
    d, mb = args.duration, main_run["simulation"]["raw_mb"]
    stage, bare, floor = main_run["stage"], main_run["bare"], main_run["floor"]
    cold = main_run["stage_cold"]
    long_stage = runs[f"{args.long:g}"]["stage"]
    ratios = {
        "throughput_stage_x_realtime": d / stage["total_s"],
        "throughput_bare_sc2_x_realtime": d / bare["total_s"],
        "throughput_ratio_stage_over_bare": bare["total_s"] / stage["total_s"],
        "cpu_ratio_stage_over_bare": bare["process_cpu_s"] / stage["process_cpu_s"],
        "throughput_ratio_cold_stage_over_bare": bare["total_s"] / cold["total_s"],
        "cpu_ratio_cold_stage_over_bare": bare["process_cpu_s"] / cold["process_cpu_s"],
        "accuracy_cold_stage_mean": cold["mean_accuracy"],
        "accuracy_stage_mean": stage["mean_accuracy"],
        "accuracy_bare_mean": bare["mean_accuracy"],
        "well_detected_stage": f"{stage['well_detected']}/{stage['n_gt_units']}",
        "well_detected_bare": f"{bare['well_detected']}/{bare['n_gt_units']}",
        "well_detected_snr_gt5_stage": (
            f"{stage['well_detected_snr_gt5']}/{stage['n_gt_units_snr_gt5']}"
        ),
        "well_detected_snr_gt5_bare": (
            f"{bare['well_detected_snr_gt5']}/{bare['n_gt_units_snr_gt5']}"
        ),
        "preprocess_mb_s": mb / stage["preprocess_s"],
        **_floor_ratios(floor, mb),
        # the stage's whole first step from NWB (imports, HDF5 read, detection; no fsync)
        "preprocess_nwb_over_floor_int16_page_cache": floor["floor_int16_s"]
        / stage["preprocess_s"],
        "peak_rss_stage_mb": stage["peak_rss_tree_mb"],
        "peak_rss_stage_long_mb": long_stage["peak_rss_tree_mb"],
        "peak_rss_ratio_long_over_short": long_stage["peak_rss_tree_mb"]
        / stage["peak_rss_tree_mb"],
        "peak_rss_bare_mb": bare["peak_rss_tree_mb"],
    }
    report["runs"] = runs
    report["ratios"] = ratios
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {out}")
    width = max(map(len, ratios))
    for key, value in ratios.items():
        print(
            f"{key:<{width}}  {value:.3f}"
            if isinstance(value, float)
            else f"{key:<{width}}  {value}"
        )


if __name__ == "__main__":
    main()
