"""Annual targets, and completion against the share of the year passed."""

from __future__ import annotations

import ctypes
import math
import os
from ctypes import c_double, c_int, c_size_t
from typing import Any, Dict, List, Optional, Tuple, Union

from ._common import (Names, PREFER, PathArg, choice, enc, fspath, opt, select_levels, to_bytes,
                     write_options)
from ._errors import ParseError
from ._handle import Handle, Owner
from ._lib import NONE, PR, T, TF, ProgressOptions, ProgressSvgOptions, lib
from ._rows import Rows
from .definitions import Definitions, find_indicator, indicator_tables
from .hierarchy import Hierarchy, find_node, node_tables
from .period import Period
from .rejects import RejectedRows, read_with

try:
    import numpy as _np
except ImportError:
    _np = None  # type: ignore[assignment]

PROGRESS_COLUMNS = ("region_code", "region_name", "level", "indicator", "year", "as_of",
                    "actual", "target", "completion", "time_progress", "status", "gap",
                    "monthly_pace", "rank")
DECOMPOSITION_COLUMNS = ("region_code", "region_name", "level", "indicator", "year", "target",
                         "children_sum", "children_with_target", "children")


def _year(year):
    if isinstance(year, bool) or not isinstance(year, int):
        raise TypeError(f"year: expected an int, got {type(year).__name__}")
    return year


class Targets(Owner):
    """Annual targets per region, indicator and year.

    A new target set holds the definitions' inline ``targets:``; read
    CSV files (``region_code,indicator,year,target``) into it or add
    targets one by one. It keeps its hierarchy and definitions alive."""

    def __init__(self, hierarchy: Hierarchy, definitions: Definitions) -> None:
        if not isinstance(hierarchy, Hierarchy) or not isinstance(definitions, Definitions):
            raise TypeError("Targets(hierarchy, definitions): expected a tally.Hierarchy and "
                            "a tally.Definitions")
        out = T()
        lib.tally_targets_new(ctypes.byref(out), hierarchy._ptr, definitions._ptr)
        self.hierarchy, self.definitions = hierarchy, definitions
        self._handle = Handle(out, lib.tally_targets_free, "Targets",
                              (hierarchy._handle, definitions._handle))

    def read_csv(self, path: PathArg, on_error: str = "stop",
                 encoding: Optional[str] = None) -> RejectedRows:
        """Reads a targets CSV. Bad rows behave as in
        :meth:`tally.Dataset.read_records`: ``"stop"`` raises at the first,
        ``"collect"`` returns them all."""
        p, t = fspath(path), self._ptr
        return read_with(lambda o, rj, st: lib.tally_targets_read_file(
            t, p, ctypes.byref(o), rj, ctypes.byref(st)), on_error, encoding)

    def read_bytes(self, data: Union[bytes, str], name: str = "<bytes>", on_error: str = "stop",
                   encoding: Optional[str] = None) -> RejectedRows:
        """Same as :meth:`read_csv`, from memory."""
        data, t = to_bytes(data), self._ptr
        return read_with(lambda o, rj, st: lib.tally_targets_read_buffer(
            t, data, len(data), name.encode("utf-8"), ctypes.byref(o), rj, ctypes.byref(st)),
            on_error, encoding)

    def add(self, region_code: str, indicator: str, year: int, target: float) -> None:
        """Adds one target; ``None`` records "no target given"."""
        value = math.nan if target is None else float(target)
        lib.tally_targets_add(self._ptr, enc(region_code, "region_code"),
                              enc(indicator, "indicator"), _year(year), value)

    def __len__(self) -> int:
        """Targets given (inline, read or added; empty ones included)."""
        return lib.tally_targets_count(self._ptr)

    def given(self, region_code: str, indicator: str, year: int) -> Optional[float]:
        """The target given for a region (None when none was)."""
        t = self._ptr
        node = find_node(self.hierarchy._handle.ptr, region_code)
        ind = find_indicator(self.definitions._handle.ptr, indicator)
        value, present = c_double(), c_int()
        lib.tally_targets_given(t, node, ind, _year(year), ctypes.byref(value),
                                ctypes.byref(present))
        return value.value if present.value else None

    def effective(self, indicator: str, year: int) -> Any:
        """Effective targets of every region in pre-order (given, else the
        sum of the children's when every child has one; NaN where none): a
        numpy array when numpy is installed, else a list."""
        t = self._ptr
        ind = find_indicator(self.definitions._handle.ptr, indicator)
        n = lib.tally_hierarchy_size(self.hierarchy._handle.ptr)
        buf = (c_double * max(n, 1))()
        lib.tally_targets_effective(t, ind, _year(year), buf, n)
        return _np.array(buf[:n]) if _np is not None else buf[:n]

    def decomposition(self) -> List[Dict[str, Any]]:
        """Regions whose own target the children's targets do not cover
        (their sum is below it; above it for a lower-is-better ceiling):
        :class:`tally.Rows` with region_code, region_name, level,
        indicator, year, target, children_sum, children_with_target and
        children."""
        t = self._ptr
        f = TF()
        lib.tally_targets_decomposition(ctypes.byref(f), t)
        try:
            codes, names, levels, level_names = node_tables(self.hierarchy._handle)
            ids = indicator_tables(self.definitions._handle)[0]
            rows = Rows(columns=DECOMPOSITION_COLUMNS,
                        integer_columns=("year", "children_with_target", "children"))
            for i in range(lib.tally_target_findings_count(f)):
                node = lib.tally_target_findings_node(f, i)
                rows.append({
                    "region_code": codes[node], "region_name": names[node],
                    "level": level_names[levels[node]],
                    "indicator": ids[lib.tally_target_findings_indicator(f, i)],
                    "year": lib.tally_target_findings_year(f, i),
                    "target": lib.tally_target_findings_target(f, i),
                    "children_sum": lib.tally_target_findings_children_sum(f, i),
                    "children_with_target": lib.tally_target_findings_children_with_target(f, i),
                    "children": lib.tally_target_findings_children(f, i)})
            return rows
        finally:
            lib.tally_target_findings_free(f)

    def __repr__(self):
        if self.closed:
            return "<tally.Targets (closed)>"
        return f"<tally.Targets: {len(self)} targets>"


def read_schedule(schedule):
    """12 cumulative shares (percent) from a path or a sequence; validated
    by the library either way, by the same rules."""
    if isinstance(schedule, (str, bytes, os.PathLike)):
        shares = (c_double * 12)()
        lib.tally_schedule_from_file(shares, fspath(schedule))
        return shares
    values = [float(x) for x in schedule]
    shares = (c_double * max(len(values), 1))(*values)
    lib.tally_schedule_check(shares, len(values))
    return shares


def parse_as_of(as_of):
    """'YYYY-MM' -> (year, month), read by the library's period parser."""
    if isinstance(as_of, str):
        try:
            p = Period(as_of)
        except ParseError:
            p = None
        if p is not None and p.kind == "month":
            return p.year, p.index
    raise ValueError(f"as_of={as_of!r}: expected a month YYYY-MM, like '2019-08'")


def progress(ds, targets, as_of, prefer="computed", schedule=None):
    """A :class:`Progress` for a dataset (see Dataset.progress)."""
    year, month = parse_as_of(as_of)
    own = None
    if not isinstance(targets, Targets):
        own = Targets(ds.hierarchy, ds.definitions)
        paths = [] if targets is None else \
            [targets] if isinstance(targets, (str, bytes, os.PathLike)) else list(targets)
        for p in paths:
            own.read_csv(p)
        targets = own
    try:
        opts = ProgressOptions(ProgressOptions.VERSION, year, month,
                               choice("prefer", prefer, PREFER), None)
        if schedule is not None:
            shares = read_schedule(schedule)
            opts.schedule = ctypes.cast(shares, ctypes.POINTER(c_double))
        out = PR()
        lib.tally_progress_run(ctypes.byref(out), ds._ptr, targets._ptr, ctypes.byref(opts))
        return Progress(out, (ds.hierarchy._handle, ds.definitions._handle))
    finally:
        if own is not None:
            own.close()


class Progress(Owner):
    """Completion of annual targets as of a month, for every region and
    every indicator with a target that year (:meth:`tally.Dataset.progress_result`).
    It keeps the hierarchy and definitions alive, not the dataset or targets."""

    def __init__(self, ptr: Any, parents: Tuple[Handle, Handle]) -> None:
        self._handle = Handle(ptr, lib.tally_progress_free, "Progress", parents)
        self._hh, self._dh = parents

    @property
    def year(self) -> int:
        return lib.tally_progress_year(self._ptr)

    @property
    def month(self) -> int:
        return lib.tally_progress_month(self._ptr)

    @property
    def as_of(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def indicators(self) -> List[str]:
        """Ids of the indicators with rows (a target that year), in definition order."""
        p = self._ptr
        ids = indicator_tables(self._dh)[0]
        return [ids[lib.tally_progress_indicator(p, k)]
                for k in range(lib.tally_progress_indicator_count(p))]

    def _row(self, p, row, codes, names, levels, level_names, ids, as_of, year):
        node = lib.tally_progress_node(p, row)
        rank = lib.tally_progress_rank(p, row)
        return {
            "region_code": codes[node], "region_name": names[node],
            "level": level_names[levels[node]],
            "indicator": ids[lib.tally_progress_row_indicator(p, row)],
            "year": year, "as_of": as_of,
            "actual": opt(lib.tally_progress_actual(p, row)),
            "target": opt(lib.tally_progress_target(p, row)),
            "completion": opt(lib.tally_progress_completion(p, row)),
            "time_progress": opt(lib.tally_progress_time_progress(p, row)),
            "status": lib.tally_target_status_name(lib.tally_progress_status(p, row)).decode(),
            "gap": opt(lib.tally_progress_gap(p, row)),
            "monthly_pace": opt(lib.tally_progress_monthly_pace(p, row)),
            "rank": rank or None,
        }

    def rows(self, level: Names = None, indicator: Names = None) -> Rows:
        """:class:`tally.Rows` with the command line's columns (region_code,
        region_name, level, indicator, year, as_of, actual, target,
        completion, time_progress, status, gap, monthly_pace, rank; None
        where missing), in hierarchy pre-order, then indicators."""
        p = self._ptr
        codes, names, levels, level_names = node_tables(self._hh)
        ids = indicator_tables(self._dh)[0]
        want = select_levels(self._hh.ptr, level)
        inds = None if indicator is None else \
            {find_indicator(self._dh.ptr, x)
             for x in ([indicator] if isinstance(indicator, str) else indicator)}
        year, as_of = self.year, self.as_of
        nk = lib.tally_progress_indicator_count(p)
        out = Rows(columns=PROGRESS_COLUMNS, integer_columns=("year", "rank"))
        for node in range(len(codes)):
            if want is not None and levels[node] not in want:
                continue
            for k in range(nk):
                if inds is not None and lib.tally_progress_indicator(p, k) not in inds:
                    continue
                out.append(self._row(p, node * nk + k, codes, names, levels, level_names, ids,
                                     as_of, year))
        return out

    def to_pandas(self, level: Names = None, indicator: Names = None) -> Any:
        """The same table as :meth:`rows` as a DataFrame."""
        return self.rows(level, indicator).to_pandas()

    def get(self, region_code: str, indicator: str) -> Optional[Dict[str, Any]]:
        """The row (a dict) of one region and indicator."""
        p = self._ptr
        node = find_node(self._hh.ptr, region_code)
        ind = find_indicator(self._dh.ptr, indicator)
        row = c_size_t()
        lib.tally_progress_find(p, node, ind, ctypes.byref(row))
        codes, names, levels, level_names = node_tables(self._hh)
        return self._row(p, row.value, codes, names, levels, level_names,
                         indicator_tables(self._dh)[0], self.as_of, self.year)

    def complete(self, region_code: str, indicator: str) -> bool:
        """False when the region's actual rests on incomplete coverage: a
        formula whose operands some region below filed only in part (its
        status is then ``"incomplete"``, with no completion, gap, pace or
        rank). Always True for an indicator that is not a formula."""
        p = self._ptr
        node = find_node(self._hh.ptr, region_code)
        ind = find_indicator(self._dh.ptr, indicator)
        row = c_size_t()
        lib.tally_progress_find(p, node, ind, ctypes.byref(row))
        return lib.tally_progress_complete(p, row.value) == 1

    def write(self, path: PathArg, format: str = "csv", level: Names = None,
              all_regions: bool = False) -> None:
        """Writes the table as the command line does: only the regions with
        data, unless ``all_regions=True`` (``--all-regions``)."""
        p = self._ptr
        opts = write_options(self._hh.ptr, format, level, all_regions)
        lib.tally_progress_write(p, fspath(path), ctypes.byref(opts))

    def write_svg(self, path: PathArg, level: Optional[str] = None, indicator: Optional[str] = None,
                  title: Optional[str] = None) -> None:
        """Writes a bar chart of completion by region as SVG. ``level``: the
        level to chart (default: the one below the top); ``indicator``: an
        indicator with rows (default the first); ``title``: default from the
        indicator's name, the year and the month."""
        p = self._ptr
        opts = ProgressSvgOptions(ProgressSvgOptions.VERSION, -1, NONE, None)
        if level is not None:
            opts.level = next(iter(select_levels(self._hh.ptr, level)))
        if indicator is not None:
            opts.indicator = find_indicator(self._dh.ptr, indicator)
        if title is not None:
            opts.title = title.encode("utf-8")
        lib.tally_progress_write_svg(p, fspath(path), ctypes.byref(opts))

    def __repr__(self):
        if self.closed:
            return "<tally.Progress (closed)>"
        return f"<tally.Progress as of {self.as_of}: {', '.join(self.indicators)}>"
