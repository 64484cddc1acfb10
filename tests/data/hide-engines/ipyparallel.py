"""tests/data/hide-engines/ipyparallel.py — stands in for a missing package (tests/test_python_engines.py puts this folder on PYTHONPATH)."""
raise ImportError("No module named 'ipyparallel' (hidden by the test)")
