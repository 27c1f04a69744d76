import numpy as np
import pandas as pd
import pytest

from panneuro.behaviour.reference import (
    HARLOW,
    WANG,
    block_problem_range,
    read_reference_curves,
    reference_curves_long,
)

REFERENCE = "resources/reference/learning_set_curves.csv"


def test_harlow_blocks_map_to_problem_numbers():
    assert block_problem_range(HARLOW, "prelim_1-8") == (1.0, 8.0)
    assert block_problem_range(HARLOW, "prelim_25-32") == (25.0, 32.0)
    assert block_problem_range(HARLOW, "disc_1-100") == (33.0, 132.0)
    assert block_problem_range(HARLOW, "disc_257-312") == (289.0, 344.0)
    assert all(np.isnan(block_problem_range(WANG, "final")))
    with pytest.raises(ValueError, match="expected 'prelim_A-B'"):
        block_problem_range(HARLOW, "late")


def test_read_reference_curves_long_table():
    ref = read_reference_curves(REFERENCE)
    harlow = ref[ref["source"] == HARLOW]
    assert len(harlow) == 8 * 6
    assert harlow["problem_last"].max() == 344
    # blocks tile problems 1-344 without gaps
    blocks = harlow.drop_duplicates("block").sort_values("problem_first")
    assert (
        blocks["problem_first"].iloc[1:].to_numpy()
        == blocks["problem_last"].iloc[:-1].to_numpy() + 1
    ).all()
    # NA markers stay missing, values are percentages
    assert harlow["percent_correct"].isna().sum() == 1
    assert ref["percent_correct"].dropna().between(0, 100).all()
    trial2 = harlow[harlow["trial"] == 2]["percent_correct"].to_numpy()
    assert trial2[0] < 55 and trial2[-1] > 95


def test_reference_errors():
    with pytest.raises(ValueError, match="lacks column"):
        reference_curves_long(pd.DataFrame({"source": [HARLOW], "block": ["prelim_1-8"]}))
    with pytest.raises(FileNotFoundError, match="reference curves not found"):
        read_reference_curves("does/not/exist.csv")
