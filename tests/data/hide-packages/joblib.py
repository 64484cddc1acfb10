"""tests/data/hide-packages/joblib.py — stands in for a missing package (tests/test_python_pools.py puts this folder on PYTHONPATH)."""
raise ImportError("No module named 'joblib' (hidden by the test)")
