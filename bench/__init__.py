"""Benchmarks (`make bench`): each bench_*.py module has a ``main() -> None`` that prints its
figures. Ratios are measured within one run because machines here are noisy."""
