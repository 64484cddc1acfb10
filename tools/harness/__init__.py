"""tools/harness — the benchmark harness behind `make bench` (entry point: tools/bench.py)."""
