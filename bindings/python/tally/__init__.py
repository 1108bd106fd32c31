"""tally: statistical indicators over administrative hierarchies, from Python.

    import tally
    h = tally.Hierarchy.from_csv("regions.csv")
    d = tally.Definitions.from_yaml("indicators.yaml")
    ds = tally.Dataset(h, d)
    ds.read_records("records.csv")
    df = ds.rollup().to_pandas(level="county", period="2019")

Pure Python over ctypes; the C library is found through $TALLY_LIBRARY, the
install directory, pkg-config, then the system's loader (see tally._lib).
Failures raise tally.Error subclasses that carry the library's message and,
for bad input, the path, line and column.

The modules import one another in one direction, at their tops: _lib (the
C functions) and _common (argument conversions) at the bottom; period,
definitions, hierarchy, rejects; thresholds, result, progress, poverty,
check; and dataset, whose methods start rollups, checks and progress, at the
top (tests/python/test_imports.py keeps it so).
"""

from ._errors import (Error, OutOfMemoryError, FileError, ParseError, NotFoundError,
                      InvalidError, DuplicateError, RangeError, NotSupportedError, CycleError,
                      LimitError)
from ._lib import lib as _library
from .period import Period
from .hierarchy import Hierarchy, Region
from .definitions import Definitions, Indicator
from .dataset import Dataset
from .rejects import ReadWarning, Rejected, RejectedRows
from .result import Result, format_number
from ._rows import Rows
from .progress import Targets, Progress
from .poverty import Households, Poverty, poverty_from_households
from .check import Finding, Findings
from .crosswalk import Crosswalk

# Public classes print as tally.X, wherever they are defined.
for _cls in (Error, OutOfMemoryError, FileError, ParseError, NotFoundError, InvalidError,
             DuplicateError, RangeError, NotSupportedError, CycleError, LimitError, Period,
             Hierarchy, Region, Definitions, Indicator, Dataset, Rejected, RejectedRows, Result,
             ReadWarning, Rows, Targets, Progress, Households, Poverty, Finding, Findings, Crosswalk):
    _cls.__module__ = "tally"
del _cls

#: The version of the loaded C library ("MAJOR.MINOR.PATCH").
__version__ = _library.version
#: Where the C library was loaded from.
library_path = _library.path


def version() -> str:
    """The loaded C library's version, "MAJOR.MINOR.PATCH"."""
    return _library.version


__all__ = [
    "Error", "OutOfMemoryError", "FileError", "ParseError", "NotFoundError", "InvalidError",
    "DuplicateError", "RangeError", "NotSupportedError", "CycleError", "LimitError", "Period",
    "Hierarchy", "Region", "Definitions", "Indicator", "Dataset", "Rejected", "RejectedRows",
    "ReadWarning", "Result", "format_number", "Rows", "Targets", "Progress", "Households", "Poverty",
    "poverty_from_households", "Finding", "Findings", "Crosswalk", "version", "library_path",
]
