"""Benchmarks of citycheck, apart from the tests: ``python -m bench <area>`` (see docs/performance.md)."""
