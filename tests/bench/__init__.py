"""Benchmarks: one command each (``python -m tests.bench.<name>``), not collected by pytest.
Each starts a stack of its own and prints its figures with the machine and load average."""
