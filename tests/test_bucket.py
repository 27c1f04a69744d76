"""Tests of panneuro.results.bucket: a run read in place from an S3 bucket, bytes counted."""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from panneuro.results import open_run, read_session_trials, read_session_units


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
            (tiny_run / "results").rglob("*")
        ):  # the layout of a run on S3 storage
            if path.is_file() and "preprocessed" not in path.parts:
                client.upload_file(str(path), "panneuro-read", f"tiny/{path.relative_to(tiny_run)}")
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
        print(
            f"unit {unit}: {received} of {size} bytes ({received / size:.1%}), {spikes.size} spikes"
        )
        assert received < 0.2 * size, (received, size)
        remote_units, remote_spikes = read_session_units(run, "M1", "01")
        pd.testing.assert_frame_equal(remote_units, units)
        assert all(np.array_equal(a, b) for a, b in zip(remote_spikes, spike_times, strict=True))
        pd.testing.assert_frame_equal(
            read_session_trials(run, "M1", "01"), read_session_trials(local.units_nwb("M1", "01"))
        )
        plt.close(plot_session_unit(run, "M1", "01", unit))  # the notebook's raster
        copied = [p.name for p in Path(run.store._cache.name).rglob("*") if p.is_file()]
        assert copied and not [n for n in copied if n.endswith(".nwb")], copied
        with pytest.raises(FileNotFoundError, match="not in the bucket"):
            run.result("results/none.tsv")
