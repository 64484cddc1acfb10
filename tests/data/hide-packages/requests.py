"""tests/data/hide-packages/requests.py — stands in for a missing package (tests/test_python.py puts this folder on PYTHONPATH)."""
raise ImportError("No module named 'requests' (hidden by the test)")
