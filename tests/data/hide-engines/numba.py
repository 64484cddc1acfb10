"""tests/data/hide-engines/numba.py — stands in for a missing package (tests/test_python_engines.py puts this folder on PYTHONPATH)."""
raise ImportError("No module named 'numba' (hidden by the test)")
