"""tests/data/hide-packages/gmpy2.py — stands in for a missing package (tests/test_python.py puts this folder on PYTHONPATH)."""
raise ImportError("No module named 'gmpy2' (hidden by the test)")
