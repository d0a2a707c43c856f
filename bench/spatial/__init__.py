"""Benchmarks of the walking-accessibility engine (issue 14): ``python -m bench spatial``."""
