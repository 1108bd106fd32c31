"""Runs the Python binding tests with pytest, or fails saying what is missing.

Usage: /usr/bin/python3 run.py TESTS_DIR (meson test sets the environment:
TALLY_LIBRARY, TALLY_EXE, PYTHONPATH, ...). Missing pytest is a failure, not
a skip: CI installs python3-pytest, and a silently skipped suite tests nothing.
"""
import sys

try:
    import pytest
except ImportError:
    sys.exit(f"{sys.executable} has no pytest: apt-get install python3-pytest "
             "(and python3-numpy python3-pandas for the numpy and pandas tests)")

missing = []
for module in ("numpy", "pandas"):
    try:
        __import__(module)
    except ImportError:
        missing.append("python3-" + module)
if missing:
    sys.exit(f"{sys.executable} lacks {', '.join(missing)}, which the binding tests use: "
             f"apt-get install {' '.join(missing)}")

sys.exit(pytest.main(["-q", "-p", "no:cacheprovider", "-rs", sys.argv[1]]))
