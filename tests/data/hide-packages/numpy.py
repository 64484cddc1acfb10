"""tests/data/hide-packages/numpy.py — stands in for a missing package (tests/test_python.py puts this folder on PYTHONPATH)."""
raise ImportError("No module named 'numpy' (hidden by the test)")
