import numpy as np
import pandas as pd
import pytest

from panneuro.decoding.populations import (
    Population,
    population_counts,
    region_populations,
    stack_tables,
)
from panneuro.decoding.spike_counts import align_times, binned_spike_counts


def _session():
    events = pd.DataFrame(
        {
            "onset": [1.0, 3.0, 5.0],
            "response_time": [0.5, 0.4, 0.6],
            "feedback_time": [1.0, 1.0, 1.0],
        }
    )
    units = pd.DataFrame({"region": ["b", "a", "b", "c"]})
    rng = np.random.default_rng(0)
    spike_times = [np.sort(rng.uniform(0, 7, 40)) for _ in range(len(units))]
    return units, spike_times, events


def test_population_counts_order_and_values():
    units, spike_times, events = _session()
    align = {"x": "response", "y": "onset"}
    pops = list(
        population_counts(
            units,
            spike_times,
            events,
            align,
            window=[-0.4, 0.4],
            bin_size=0.2,
            step=0.1,
            min_units=1,
        )
    )
    assert [(p.region, p.target, p.align) for p in pops] == [
        ("a", "x", "response"),
        ("a", "y", "onset"),
        ("b", "x", "response"),
        ("b", "y", "onset"),
        ("c", "x", "response"),
        ("c", "y", "onset"),
    ]
    members = region_populations(units)["b"]
    expected, centers = binned_spike_counts(
        [spike_times[i] for i in members],
        align_times(events, "response"),
        window=[-0.4, 0.4],
        bin_size=0.2,
        step=0.1,
    )
    b_x = pops[2]
    assert b_x.n_units == 2 == b_x.counts.shape[1]
    np.testing.assert_array_equal(b_x.counts, expected)
    np.testing.assert_array_equal(b_x.centers, centers)
    # min_units drops the one-unit regions
    assert [
        p.region
        for p in population_counts(
            units,
            spike_times,
            events,
            {"x": "onset"},
            window=[0, 0.2],
            bin_size=0.2,
            step=0.2,
            min_units=2,
        )
    ] == ["b"]


def test_population_counts_checks_at_the_call():
    units, spike_times, events = _session()
    with pytest.raises(ValueError, match="same order"):
        population_counts(units, spike_times[:2], events, {}, window=[0, 1], bin_size=0.5, step=0.5)


def test_label_and_stack():
    pop = Population("hpc", 7, "belief", "feedback", np.zeros((2, 7, 3)), np.arange(3.0))
    table = pop.label(pd.DataFrame({"time": [0.0, 0.1], "score": [0.2, 0.3]}), "latent")
    assert list(table.columns) == ["region", "n_units", "latent", "time", "score", "align"]
    assert (table["region"] == "hpc").all() and (table["align"] == "feedback").all()
    columns = ["region", "latent", "align", "score"]
    stacked = stack_tables([table, table], columns)
    assert list(stacked.columns) == columns and len(stacked) == 4
    assert list(stacked.index) == [0, 1, 2, 3]
    empty = stack_tables([], columns)
    assert list(empty.columns) == columns and empty.empty
