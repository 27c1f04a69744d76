"""Benchmarks (ratios measured in one run); not part of the test suite."""
