"""Poverty measures from household records."""

from __future__ import annotations

import ctypes
from ctypes import c_double, c_int
from typing import Any, Optional, Union

from ._common import Names, PathArg, enc, fspath, opt, select_levels, to_bytes, write_options
from ._handle import Handle, Owner
from ._lib import HH, PV, PovertyOptions, lib
from ._rows import Rows
from .definitions import Definitions
from .hierarchy import Hierarchy, find_node, node_tables
from .rejects import RejectedRows, read_with

try:
    import numpy as _np
except ImportError:
    _np = None  # type: ignore[assignment]

MEASURES = ("households", "persons", "p0", "p1", "p2", "watts", "gini", "median_income",
            "below_monitoring_line")
POVERTY_COLUMNS = ("region_code", "region_name", "level", "year") + MEASURES[:2] + \
    ("poverty_line",) + MEASURES[2:]


def _measure(name):
    try:
        return MEASURES.index(name)
    except ValueError:
        raise ValueError(f"measure {name!r}: expected one of {', '.join(MEASURES)}") from None


class Households(Owner):
    """Household records (``household_id,region_code,size,income_per_capita
    [,weight][,year]``) over a hierarchy, which it keeps alive."""

    def __init__(self, hierarchy: Hierarchy) -> None:
        if not isinstance(hierarchy, Hierarchy):
            raise TypeError("Households(hierarchy): expected a tally.Hierarchy")
        out = HH()
        lib.tally_households_new(ctypes.byref(out), hierarchy._ptr)
        self.hierarchy = hierarchy
        self._handle = Handle(out, lib.tally_households_free, "Households", (hierarchy._handle,))

    def read_csv(self, path: PathArg, on_error: str = "stop",
                 encoding: Optional[str] = None) -> RejectedRows:
        """Reads a households CSV; bad rows as in :meth:`tally.Dataset.read_records`."""
        p, hh = fspath(path), self._ptr
        return read_with(lambda o, rj, st: lib.tally_households_read_file(
            hh, p, ctypes.byref(o), rj, ctypes.byref(st)), on_error, encoding)

    def read_bytes(self, data: Union[bytes, str], name: str = "<bytes>", on_error: str = "stop",
                   encoding: Optional[str] = None) -> RejectedRows:
        """Same as :meth:`read_csv`, from memory."""
        data, hh = to_bytes(data), self._ptr
        return read_with(lambda o, rj, st: lib.tally_households_read_buffer(
            hh, data, len(data), name.encode("utf-8"), ctypes.byref(o), rj, ctypes.byref(st)),
            on_error, encoding)

    def add(self, household_id: str, region_code: str, size: float, income_per_capita: float,
            weight: float = 1.0, year: Optional[int] = None) -> None:
        """Adds one household, checked as a CSV row is."""
        lib.tally_households_add(self._ptr, enc(household_id, "household_id"),
                                 enc(region_code, "region_code"), float(size),
                                 float(income_per_capita), float(weight),
                                 0 if year is None else int(year))

    def __len__(self) -> int:
        return lib.tally_households_count(self._ptr)

    def poverty(self, definitions: Optional[Definitions] = None, year: Optional[int] = None,
                line: Optional[float] = None,
                monitoring_line: Optional[float] = None) -> Poverty:
        """The measures at every region (:class:`Poverty`).

        ``year``: the survey year (default: the one year the households
        have); ``line``: the poverty line, income per person per year
        (default: the definitions' ``poverty: lines:`` for the year);
        ``monitoring_line``: default the definitions'."""
        hh = self._ptr
        dptr = None
        if definitions is not None:
            if not isinstance(definitions, Definitions):
                raise TypeError("definitions: expected a tally.Definitions")
            dptr = definitions._ptr
        opts = PovertyOptions(PovertyOptions.VERSION, 0 if year is None else int(year),
                              0.0 if line is None else float(line),
                              0.0 if monitoring_line is None else float(monitoring_line))
        out = PV()
        lib.tally_poverty_households(ctypes.byref(out), hh, dptr, ctypes.byref(opts))
        return Poverty(out, self.hierarchy._handle)

    def __repr__(self):
        if self.closed:
            return "<tally.Households (closed)>"
        return f"<tally.Households: {len(self)}>"


class Poverty(Owner):
    """FGT (P0, P1, P2), Watts, Gini, median income and households under the
    monitoring line at every region (:meth:`Households.poverty`). It keeps
    the hierarchy alive, not the households."""

    def __init__(self, ptr: Any, hierarchy_handle: Handle) -> None:
        self._handle = Handle(ptr, lib.tally_poverty_free, "Poverty", (hierarchy_handle,))
        self._hh = hierarchy_handle

    @property
    def year(self) -> Optional[int]:
        """The year measured (None: households without a year)."""
        return lib.tally_poverty_year(self._ptr) or None

    @property
    def line(self) -> float:
        return opt(lib.tally_poverty_line(self._ptr))

    @property
    def monitoring_line(self) -> Optional[float]:
        return opt(lib.tally_poverty_monitoring_line(self._ptr))

    @property
    def households_used(self) -> int:
        return lib.tally_poverty_households_used(self._ptr)

    @property
    def households_skipped(self) -> int:
        """Households left out for being of another year."""
        return lib.tally_poverty_households_skipped(self._ptr)

    def value(self, region_code: str, measure: str) -> Optional[float]:
        """One measure of one region (None when missing); measures:
        households, persons, p0, p1, p2, watts (percent), gini (0..1),
        median_income, below_monitoring_line."""
        p = self._ptr
        node = find_node(self._hh.ptr, region_code)
        value, present = c_double(), c_int()
        lib.tally_poverty_value(p, node, _measure(measure), ctypes.byref(value),
                                ctypes.byref(present))
        return value.value if present.value else None

    def column(self, measure: str) -> Any:
        """A measure at every region in pre-order (NaN where missing): a
        numpy array (a copy) when numpy is installed, else a list."""
        p = self._ptr
        n = lib.tally_hierarchy_size(self._hh.ptr)
        ptr = lib.tally_poverty_column(p, _measure(measure))
        if _np is not None:
            return _np.ctypeslib.as_array(ptr, shape=(n,)).copy() if n else _np.empty(0)
        return ptr[:n]

    def rows(self, level: Names = None) -> Rows:
        """:class:`tally.Rows` with the command line's columns: region_code,
        region_name, level, year, households, persons, poverty_line, p0, p1,
        p2, watts, gini, median_income, below_monitoring_line (None where
        missing), in hierarchy pre-order."""
        p = self._ptr
        codes, names, levels, level_names = node_tables(self._hh)
        want = select_levels(self._hh.ptr, level)
        n = len(codes)
        cols = [lib.tally_poverty_column(p, m)[:n] for m in range(len(MEASURES))]
        year, line = self.year, self.line
        out = Rows(columns=POVERTY_COLUMNS,
                   integer_columns=("year", "households", "below_monitoring_line"))
        for node in range(n):
            if want is not None and levels[node] not in want:
                continue
            row = {"region_code": codes[node], "region_name": names[node],
                   "level": level_names[levels[node]], "year": year}
            for m, name in enumerate(MEASURES):
                v = cols[m][node]
                row[name] = None if v != v else v
                if name == "persons":
                    row["poverty_line"] = line
            for name in ("households", "below_monitoring_line"):
                if row[name] is not None:
                    row[name] = int(row[name])
            out.append(row)
        return out

    def to_pandas(self, level: Names = None) -> Any:
        return self.rows(level).to_pandas()

    def write(self, path: PathArg, format: str = "csv", level: Names = None,
              all_regions: bool = False) -> None:
        """Writes the table as the command line does: only the regions with
        data, unless ``all_regions=True`` (``--all-regions``)."""
        p = self._ptr
        opts = write_options(self._hh.ptr, format, level, all_regions)
        lib.tally_poverty_write(p, fspath(path), ctypes.byref(opts))

    def __repr__(self):
        if self.closed:
            return "<tally.Poverty (closed)>"
        return f"<tally.Poverty {self.year}: line {self.line}, {self.households_used} households>"


def poverty_from_households(hierarchy: Hierarchy, definitions: Optional[Definitions],
                            path: PathArg, year: Optional[int] = None,
                            line: Optional[float] = None, level: Names = None,
                            monitoring_line: Optional[float] = None) -> Rows:
    """Poverty measures from a households CSV, as rows (:class:`tally.Rows`
    with the columns of ``tally poverty --households``). ``year`` and
    ``line`` default to the households' one year and the definitions' line
    for it. The first bad row raises (with path, line and column)."""
    with Households(hierarchy) as hh:
        hh.read_csv(path)
        with hh.poverty(definitions, year=year, line=line,
                        monitoring_line=monitoring_line) as p:
            return p.rows(level)

