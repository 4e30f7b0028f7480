"""Benchmarks: each prints a table and writes JSON under bench/results/. Run all with `python -m bench`."""
