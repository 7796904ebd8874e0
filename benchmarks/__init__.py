"""Benchmarks of the platform against raw baselines: ``python -m benchmarks --help``. Not part of the tests."""
