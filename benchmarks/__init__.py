"""Benchmarks for ``make bench``: each prints figures beside a baseline measured in the same run."""
