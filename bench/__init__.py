"""Benchmarks, run by `make bench` (python -m bench). Each prints its figure beside a baseline
measured in the same run, and all results land in bench/results.json."""
