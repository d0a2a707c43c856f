"""Benchmarks of the framework-free engine (one module per scenario)."""
