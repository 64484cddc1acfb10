"""tests/data/hide-packages/matplotlib.py — stands in for a missing package (tests/harness_checks.py puts this folder on PYTHONPATH)."""
raise ImportError("No module named 'matplotlib' (hidden by the test)")
