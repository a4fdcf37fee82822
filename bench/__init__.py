"""Benchmarks run by `creditfile bench <name>`; results and how to rerun are in
docs/performance.md."""
