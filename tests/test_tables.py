import numpy as np
import pandas as pd
import pytest

from panneuro.io.tables import EVENTS_COLUMNS, read_events, read_tsv, write_json, write_tsv
from panneuro.simulate.task import build_events


def _events():
    rng = np.random.default_rng(0)
    problem = np.repeat([1, 2], 6)
    trial = np.tile(np.arange(1, 7), 2)
    return build_events(problem, trial, rng.integers(0, 2, 12), rng, trial_duration=1.5)


def test_tsv_round_trip_and_bytes_are_stable(tmp_path):
    table = pd.DataFrame({"a": [1, 2], "b": [0.1, np.nan], "c": ["x", "y"]})
    write_tsv(table, tmp_path / "t.tsv")
    first = (tmp_path / "t.tsv").read_bytes()
    write_tsv(table, tmp_path / "t.tsv")
    assert (tmp_path / "t.tsv").read_bytes() == first
    assert b"n/a" in first
    back = read_tsv(tmp_path / "t.tsv")
    assert back["b"].isna().iloc[1] and back["c"].tolist() == ["x", "y"]


def test_read_events_accepts_a_trial_table(tmp_path):
    write_tsv(_events(), tmp_path / "e.tsv")
    events = read_events(tmp_path / "e.tsv")
    assert list(events.columns) == list(EVENTS_COLUMNS) and len(events) == 12


def test_read_events_names_file_and_missing_column(tmp_path):
    write_tsv(_events().drop(columns=["correct"]), tmp_path / "e.tsv")
    with pytest.raises(ValueError, match=r"e\.tsv.*correct"):
        read_events(tmp_path / "e.tsv")


def test_read_events_rejects_empty_and_missing(tmp_path):
    write_tsv(_events().iloc[:0], tmp_path / "empty.tsv")
    with pytest.raises(ValueError, match="no trials"):
        read_events(tmp_path / "empty.tsv")
    with pytest.raises(FileNotFoundError, match="missing.tsv"):
        read_events(tmp_path / "missing.tsv")


def test_write_json_is_sorted(tmp_path):
    write_json({"b": 1, "a": 2}, tmp_path / "x.json")
    text = (tmp_path / "x.json").read_text()
    assert text.index('"a"') < text.index('"b"')
