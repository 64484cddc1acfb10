"""tests/data/hide-engines/aiohttp.py — stands in for a missing package (tests/test_python_engines.py puts this folder on PYTHONPATH)."""
raise ImportError("No module named 'aiohttp' (hidden by the test)")
