"""Reported values: records files read in, values added one by one or in bulk."""

from __future__ import annotations

import ctypes
import os
import math
import weakref
from array import array
from ctypes import c_char_p, c_double, c_int
from itertools import accumulate
from typing import Any, List, Optional, Tuple, Union

from . import _errors
from ._common import Names, PREFER, PathArg, choice, enc, fspath, to_bytes
from ._guard import exclusive
from ._handle import Handle, Owner
from ._lib import (DS, COMPARE_NONE, COMPARE_POP, COMPARE_YOY, ON_ERROR_STOP, R, ReadStats,
                   RollupOptions, lib)
from .check import Findings, run_checks
from .crosswalk import Crosswalk
from .definitions import Definitions, find_indicator
from .hierarchy import Hierarchy, find_node
from .period import Period
from .progress import Progress, progress
from .rejects import RejectedRows, read_with
from ._rows import Rows
from .result import Result

try:
    import numpy as _np
except ImportError:  # numpy is used when present, never required
    _np = None  # type: ignore[assignment]

_COMPARE = {None: COMPARE_NONE, "none": COMPARE_NONE, "yoy": COMPARE_YOY, "pop": COMPARE_POP}


class Dataset(Owner):
    """Reported values over a hierarchy and definitions.

    A dataset keeps its hierarchy and definitions alive (closing them
    while the dataset is open is safe). Use it from one thread at a time.
    """

    def __init__(self, hierarchy: Hierarchy, definitions: Definitions) -> None:
        if not isinstance(hierarchy, Hierarchy):
            raise TypeError("Dataset(hierarchy, definitions): expected a tally.Hierarchy")
        if not isinstance(definitions, Definitions):
            raise TypeError("Dataset(hierarchy, definitions): expected a tally.Definitions")
        out = DS()
        lib.tally_dataset_new(ctypes.byref(out), hierarchy._ptr, definitions._ptr)
        self.hierarchy = hierarchy
        self.definitions = definitions
        self._handle = Handle(out, lib.tally_dataset_free, "Dataset",
                              (hierarchy._handle, definitions._handle))
        # Counts the calls that change the values: a result can be pickled
        # (by rolling up a snapshot again) only while its dataset is unchanged.
        self._changes = 0

    # ---- reading ----

    def _carry(self, crosswalk: Optional[Crosswalk]) -> None:
        # Records under old codes are carried through it (docs/crosswalk.md);
        # the dataset keeps it alive for its later reads.
        if crosswalk is not None:
            lib.tally_dataset_set_crosswalk(self._ptr, crosswalk._ptr)
            self._crosswalk = crosswalk

    @exclusive
    def read_records(self, path: PathArg, on_error: str = "stop",
                     encoding: Optional[str] = None,
                     crosswalk: Optional[Crosswalk] = None) -> RejectedRows:
        """Reads a records CSV (long ``region_code,indicator,period,value`` or
        wide ``region_code,period,<indicator>...``).

        ``on_error="stop"`` raises at the first bad row (a
        :class:`tally.Error` subclass with ``path``, ``line``, ``column``;
        rows before it stay in the dataset) and otherwise returns an empty
        list. ``on_error="collect"`` reads on and returns every rejected row
        (:class:`Rejected`), with the counts ``rows_read``,
        ``rows_accepted`` and ``rows_rejected`` on the list. ``encoding``:
        the file's encoding when it is not UTF-8 (``"gb18030"``).
        ``crosswalk``: a :class:`tally.Crosswalk` onto this dataset's
        hierarchy; rows under its old codes are carried (docs/crosswalk.md)."""
        self._carry(crosswalk)
        p = fspath(path)
        ds = self._ptr
        self._changes += 1
        return read_with(lambda o, rj, st: lib.tally_dataset_read_file(
            ds, p, ctypes.byref(o), rj, ctypes.byref(st)), on_error, encoding)

    @exclusive
    def read_bytes(self, data: Union[bytes, str], name: str = "<bytes>", on_error: str = "stop",
                   encoding: Optional[str] = None,
                   crosswalk: Optional[Crosswalk] = None) -> RejectedRows:
        """Same as :meth:`read_records`, from memory; ``name`` stands for the
        path in errors and rejected rows."""
        self._carry(crosswalk)
        data = to_bytes(data)
        ds = self._ptr
        self._changes += 1
        return read_with(lambda o, rj, st: lib.tally_dataset_read_buffer(
            ds, data, len(data), name.encode("utf-8"), ctypes.byref(o), rj, ctypes.byref(st)),
            on_error, encoding)

    # ---- adding values ----

    @exclusive
    def add(self, region_code: Any, indicator: Any = None, period: Any = None,
            value: Any = None) -> None:
        """Adds reported values.

        One value: ``add("430602001001", "poor_population", "2019-08", 12)``;
        ``None`` or NaN records a missing value (filed empty).

        Many at once: ``region_code`` a sequence (list, numpy array, pandas
        Series) and ``value`` a sequence of the same length; ``indicator``
        and ``period`` either one string for all or sequences too. The
        values are handed to the library in one call, without a Python
        loop per value. An error names the element (``e.index``); the
        elements before it stay added, as with single calls.

        From a DataFrame: ``add(df)`` with columns region_code, indicator,
        period and value (other columns are ignored), as
        :meth:`tally.Result.to_pandas` gives them in its long layout.

        Errors: :class:`tally.NotFoundError` (unknown region or indicator),
        :class:`tally.ParseError` (period), :class:`tally.DuplicateError`
        (a value already given), :class:`tally.RangeError` (infinite)."""
        if hasattr(region_code, "columns") and indicator is None and period is None \
                and value is None:
            frame = region_code
            need = ("region_code", "indicator", "period", "value")
            absent = [c for c in need if c not in frame.columns]
            if absent:
                raise ValueError(f"add(DataFrame): no column {', '.join(absent)}; expected "
                                 f"the columns {', '.join(need)}")
            region_code, indicator, period, value = (frame[c] for c in need)
        self._changes += 1
        if isinstance(region_code, str):
            v = math.nan if value is None else float(value)
            lib.tally_dataset_add(self._ptr, region_code.encode("utf-8"),
                                  enc(indicator, "indicator"), enc(period, "period"), v)
            return
        self._add_many(region_code, indicator, period, value)

    def _add_many(self, codes, indicator, period, values):
        codes = _strings(codes, "region_code")
        n = len(codes)
        inds = _broadcast(indicator, n, "indicator")
        pers = _broadcast(period, n, "period")
        vals = _values(values, n)
        if n == 0:
            return
        (c_codes, b1), (c_inds, b2), (c_pers, b3) = (_c_strings(x, what) for x, what in (
            (codes, "region_code"), (inds, "indicator"), (pers, "period")))
        stats = ReadStats()
        try:
            lib.tally_dataset_add_values(self._ptr, n, c_codes, c_inds, c_pers, vals,
                                         ON_ERROR_STOP, None, ctypes.byref(stats))
            del b1, b2, b3  # the strings' bytes lived until here
        except _errors.Error as e:
            if stats.rows_rejected != 1:  # not an element's fault (out of memory)
                raise
            # The message names the element; the elements before it stay.
            err = type(e)(e.code, f"add: {e.message}", None, None, None, e.text)
            err.index = stats.rows_accepted  # type: ignore[attr-defined]
            raise err from None

    # ---- reading values back ----

    @exclusive
    def reported(self, region_code: str, indicator: str, period: str) -> Optional[float]:
        """The value a region filed itself for an indicator and period
        string exactly as given (no time rule); None when it filed nothing
        or an empty cell."""
        ds = self._ptr  # first: once the dataset is closed h and d may be freed
        h, d = self.hierarchy._handle.ptr, self.definitions._handle.ptr
        node, ind = find_node(h, region_code), find_indicator(d, indicator)
        value, present = c_double(), c_int()
        lib.tally_dataset_reported(ds, node, ind, enc(period, "period"),
                                   ctypes.byref(value), ctypes.byref(present))
        return value.value if present.value else None

    @exclusive
    def periods(self) -> List[str]:
        """The periods the dataset has values for (empty cells do not
        count), as strings in time order: ``["2019-01", "2019-02", "2019"]``."""
        out = ctypes.c_void_p()
        lib.tally_dataset_periods(self._ptr, ctypes.byref(out))
        try:
            text = ctypes.string_at(out.value).decode("utf-8") if out.value else ""
        finally:
            lib.tally_free(out)
        return text.split(",") if text else []

    @exclusive
    def has_values(self, period: Union[str, Period]) -> bool:
        """True when some value lies inside ``period`` (a month,
        quarter or year), so that a rollup of it would not be empty."""
        return lib.tally_dataset_period_has_values(self._ptr, enc(period, "period")) == 1

    @property
    @exclusive
    def value_count(self) -> int:
        """Number of values (cells) accepted so far, missing ones included."""
        return lib.tally_dataset_value_count(self._ptr)

    @exclusive
    def save(self, path: PathArg) -> None:
        """Writes the dataset's values to a snapshot file (``tally snapshot``),
        which :meth:`load` (and the command line's ``-r``) reads back far
        faster than the CSV."""
        lib.tally_snapshot_save(self._ptr, os.fsencode(path))

    @exclusive
    def load(self, path: PathArg) -> None:
        """Adds the values of a snapshot made over the same hierarchy and
        definitions; a cell given in both is a duplicate (``DuplicateError``)."""
        ds = self._ptr
        self._changes += 1
        lib.tally_snapshot_load(ds, os.fsencode(path))

    @exclusive
    def snapshot(self) -> bytes:
        """The dataset's values as a snapshot in memory (the bytes
        :meth:`save` writes), which :meth:`load_bytes` adds back."""
        out, size = ctypes.c_void_p(), ctypes.c_size_t()
        lib.tally_snapshot_save_buffer(self._ptr, ctypes.byref(out), ctypes.byref(size))
        try:
            return ctypes.string_at(out, size.value)
        finally:
            lib.tally_free(out)

    @exclusive
    def load_bytes(self, data: bytes, name: str = "<snapshot>") -> None:
        """Same as :meth:`load`, from a snapshot in memory (:meth:`snapshot`)."""
        data = bytes(data)
        ds = self._ptr
        self._changes += 1
        lib.tally_snapshot_load_buffer(ds, data, len(data), name.encode("utf-8"))

    def __reduce__(self) -> Tuple[Any, ...]:
        # By value: hierarchy and definitions (pickled by value themselves)
        # and a snapshot of the values.
        return (_dataset_from_pickle, (self.hierarchy, self.definitions, self.snapshot()))

    # ---- computing ----

    @exclusive
    def rollup(self, prefer: str = "computed", periods: Names = None, compare: Optional[str] = None,
               take: bool = False, coverage: bool = False) -> Result:
        """Rolls the values up the hierarchy; returns a :class:`tally.Result`.

        ``prefer``: ``"computed"`` (a region's value comes from below when
        anything below reported) or ``"reported"`` (its own first).
        ``periods``: a period or list of periods (``"2019-08"``,
        ``"2019-Q3"``, ``"2019"``, ``"2019-H1"``, ``"2019-01..2019-08"``,
        or :class:`tally.Period`); default every period in the data.
        ``compare``: None, ``"yoy"`` (same period a year earlier) or
        ``"pop"`` (previous period); rows then carry previous, change and
        change_pct.
        ``take``: True when the dataset is not needed afterwards: its value
        arrays may move into the result instead of being copied (half the
        memory for a national dataset), and the dataset is left empty
        (``value_count`` 0), ready to be read into again. Same values.
        ``coverage``: True to keep how old each stock and cumulative value
        is (:meth:`tally.Result.as_of`; the ``as_of`` column of
        ``rows(coverage=True)``), as ``tally rollup --coverage`` does."""
        opts = RollupOptions(RollupOptions.VERSION, choice("prefer", prefer, PREFER),
                             choice("compare", compare, _COMPARE), None, 0, int(bool(coverage)))
        if periods is not None:
            if isinstance(periods, (str, Period)):
                periods = [periods]
            periods = [str(p) if isinstance(p, Period) else p for p in periods]
            arr = (c_char_p * len(periods))(*[enc(p, "period") for p in periods])
            opts.periods, opts.period_count = arr, len(periods)
        out = R()
        fn = lib.tally_rollup_take if take else lib.tally_rollup
        ds = self._ptr
        if take:
            self._changes += 1
        fn(ctypes.byref(out), ds, ctypes.byref(opts))
        r = Result(out, (self.hierarchy._handle, self.definitions._handle))
        if not take:  # what a pickle of the result needs to roll it up again
            r._source = (weakref.ref(self), self._changes, prefer, compare)
        return r

    @exclusive
    def check(self, periods: Names = None, prefer: str = "computed",
              targets: Any = None) -> Findings:
        """Runs every consistency check of the definitions (and the
        built-in bounds, recomputed and monotonic checks) and returns the
        findings: a list of :class:`tally.Finding`, with ``error_count``
        and a per-check ``summary``. Findings are data: a run that finds
        inconsistencies does not raise.

        ``periods``: a period or list (default: every period filed).
        ``targets``: a :class:`tally.Targets`, a targets CSV path or list of
        paths, whose decomposition is checked too."""
        return run_checks(self, periods=periods, prefer=prefer, targets=targets)

    @exclusive
    def progress(self, targets: Any, as_of: str, level: Names = None, prefer: str = "computed",
                 schedule: Any = None) -> Rows:
        """Completion of annual targets as of a month, as rows
        (:class:`tally.Rows`) with the columns of ``tally progress``.

        ``targets``: a targets CSV path, a list of paths, a
        :class:`tally.Targets`, or None for the definitions' inline targets
        only (inline targets are always included). ``as_of``: ``"YYYY-MM"``.
        ``schedule``: a ``month,share`` CSV path or 12 cumulative shares in
        percent, instead of month / 12 * 100."""
        with self.progress_result(targets, as_of, prefer=prefer, schedule=schedule) as p:
            return p.rows(level)

    @exclusive
    def progress_result(self, targets: Any, as_of: str, prefer: str = "computed",
                        schedule: Any = None) -> Progress:
        """The same as :meth:`progress` as a :class:`tally.Progress` object
        (rows, DataFrame, CSV/JSON and an SVG chart)."""
        return progress(self, targets, as_of, prefer=prefer, schedule=schedule)

    def __repr__(self):
        if self.closed:
            return "<tally.Dataset (closed)>"
        return f"<tally.Dataset: {self.value_count} values>"


def _dataset_from_pickle(hierarchy: Hierarchy, definitions: Definitions,
                         snapshot: bytes) -> Dataset:
    ds = Dataset(hierarchy, definitions)
    ds.load_bytes(snapshot, name="<pickled dataset>")
    return ds


def _strings(seq, what):
    """A sequence of codes (str, or integers such as 12-digit codes in a
    numpy int64 array) as a list of str."""
    if _np is not None and (isinstance(seq, _np.ndarray) or hasattr(seq, "to_numpy")):
        arr = _np.asarray(seq)
        if arr.ndim != 1:
            raise ValueError(f"{what}: expected a one-dimensional sequence")
        if arr.dtype.kind in "iu":
            return arr.astype(str).tolist()
        seq = arr.tolist()
    out = list(seq)
    types = set(map(type, out))  # one pass in C
    if types - {str}:
        for i, s in enumerate(out):
            if isinstance(s, int) and not isinstance(s, bool):
                out[i] = str(s)
            elif not isinstance(s, str):
                raise TypeError(f"{what}[{i}]: expected str, got {type(s).__name__}")
    return out


def _broadcast(x, n, what):
    if isinstance(x, str):
        return [x] * n
    out = _strings(x, what)
    if len(out) != n:
        raise ValueError(f"{what}: {len(out)} elements; expected {n}, as many as region codes")
    return out


# array's typecode for a C pointer.
_POINTER_TYPECODE = "Q" if ctypes.sizeof(ctypes.c_void_p) == 8 else "I"


def _c_strings(strs, what):
    """The strings as a C array of pointers, and the bytes they point into
    (keep both until the call returns). Each distinct string is encoded
    once, into one buffer, and equal strings get the same pointer (which the
    library's lookups notice); building the array from addresses is several
    times faster than setting a ctypes array's items one by one."""
    distinct = list(dict.fromkeys(strs))
    if "\x00" in "".join(distinct):  # a C string would end there: refuse, do not cut
        i = next(k for k, s in enumerate(strs) if "\x00" in s)
        raise ValueError(f"{what}[{i}]: contains a NUL character")
    encoded = list(map(str.encode, distinct))
    buf = b"\0".join(encoded) + b"\0"
    base = ctypes.cast(c_char_p(buf), ctypes.c_void_p).value
    where = dict(zip(distinct, accumulate(map((1).__add__, map(len, encoded)), initial=base)))
    addresses = array(_POINTER_TYPECODE, map(where.__getitem__, strs))
    return (c_char_p * len(strs)).from_buffer(addresses), buf


def _infinite(i):
    return _errors.RangeError(_errors.ERANGE, f"add: element {i}: value is infinite; "
                              "expected a finite number")


def _values(values, n):
    """Values as a C array of doubles (a numpy array's own memory when
    numpy is there); missing values (None, NaN, pandas NA) as NaN.
    Infinite values are refused before anything is added."""
    if _np is not None:
        if hasattr(values, "to_numpy"):  # pandas: None/NA become NaN
            values = values.to_numpy(dtype=float, na_value=math.nan)
        arr = _np.ascontiguousarray(values, dtype=float)  # None becomes NaN
        if arr.ndim != 1 or len(arr) != n:
            raise ValueError(f"value: {arr.size} elements; expected {n}, as many as region codes")
        bad = _np.flatnonzero(_np.isinf(arr))
        if bad.size:
            raise _infinite(int(bad[0]))
        return _np.ctypeslib.as_ctypes(arr) if n else None
    out = []
    for i, v in enumerate(values):
        v = math.nan if v is None else float(v)
        if math.isinf(v):
            raise _infinite(i)
        out.append(v)
    if len(out) != n:
        raise ValueError(f"value: {len(out)} elements; expected {n}, as many as region codes")
    return (c_double * n)(*out)
