"""Flowport benchmarks: `python -m bench` (or `make bench`); numbers are written up in docs/benchmarks.md."""
