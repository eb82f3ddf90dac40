"""The exam-day load benchmark: run it with ``python -m benchmarks`` (see README.md)."""
