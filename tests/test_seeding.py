import numpy as np

from panneuro.seeding import derived_seed, rng_for


def test_derived_seed_is_stable_and_distinct():
    assert derived_seed(1, "ephys", "M1") == derived_seed(1, "ephys", "M1")
    seeds = {derived_seed(1, "ephys", s) for s in ["M1", "M2", "H1", "H2"]}
    assert len(seeds) == 4
    assert derived_seed(1, "a") != derived_seed(2, "a")
    assert 0 <= derived_seed(7, "x") < 2**32


def test_rng_for_reproduces_draws():
    a = rng_for(3, "task", "M1", "01").normal(size=5)
    b = rng_for(3, "task", "M1", "01").normal(size=5)
    c = rng_for(3, "task", "M1", "02").normal(size=5)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
