"""Reported values: records files read in, values added one by one or in bulk."""

import ctypes
import os
import math
from ctypes import c_char_p, c_double, c_int

from . import _errors
from ._common import PREFER, choice, enc, fspath, to_bytes
from ._guard import exclusive
from ._handle import Handle, Owner
from ._lib import DS, COMPARE_NONE, COMPARE_POP, COMPARE_YOY, R, RollupOptions, lib
from .check import run_checks
from .definitions import Definitions, find_indicator
from .hierarchy import Hierarchy, find_node
from .progress import progress
from .rejects import read_with
from .result import Result

try:
    import numpy as _np
except ImportError:  # numpy is used when present, never required
    _np = None

_COMPARE = {None: COMPARE_NONE, "none": COMPARE_NONE, "yoy": COMPARE_YOY, "pop": COMPARE_POP}


def _csv_field_column(values):
    """Quotes the fields of a column only when one needs it (rare for codes,
    ids and periods; scanning the joined text is one pass in C)."""
    joined = "\x00".join(values)
    if any(c in joined for c in ',"\r\n'):
        return ['"' + v.replace('"', '""') + '"' if any(c in v for c in ',"\r\n') else v
                for v in values]
    return values


class Dataset(Owner):
    """Reported values over a hierarchy and definitions.

    A dataset keeps its hierarchy and definitions alive (closing them
    while the dataset is open is safe). Use it from one thread at a time.
    """

    def __init__(self, hierarchy, definitions):
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

    # ---- reading ----

    @exclusive
    def read_records(self, path, on_error="stop", encoding=None):
        """Reads a records CSV (long ``region_code,indicator,period,value`` or
        wide ``region_code,period,<indicator>...``).

        ``on_error="stop"`` raises at the first bad row (a
        :class:`tally.Error` subclass with ``path``, ``line``, ``column``;
        rows before it stay in the dataset) and otherwise returns an empty
        list. ``on_error="collect"`` reads on and returns every rejected row
        (:class:`Rejected`), with the counts ``rows_read``,
        ``rows_accepted`` and ``rows_rejected`` on the list. ``encoding``:
        the file's encoding when it is not UTF-8 (``"gb18030"``)."""
        p = fspath(path)
        ds = self._ptr
        return read_with(lambda o, rj, st: lib.tally_dataset_read_file(
            ds, p, ctypes.byref(o), rj, ctypes.byref(st)), on_error, encoding)

    @exclusive
    def read_bytes(self, data, name="<bytes>", on_error="stop", encoding=None):
        """Same as :meth:`read_records`, from memory; ``name`` stands for the
        path in errors and rejected rows."""
        data = to_bytes(data)
        ds = self._ptr
        return read_with(lambda o, rj, st: lib.tally_dataset_read_buffer(
            ds, data, len(data), name.encode("utf-8"), ctypes.byref(o), rj, ctypes.byref(st)),
            on_error, encoding)

    # ---- adding values ----

    @exclusive
    def add(self, region_code, indicator, period, value):
        """Adds reported values.

        One value: ``add("430602001001", "poor_population", "2019-08", 12)``;
        ``None`` or NaN records a missing value (filed empty).

        Many at once: ``region_code`` a sequence (list, numpy array, pandas
        Series) and ``value`` a sequence of the same length; ``indicator``
        and ``period`` either one string for all or sequences too. The
        values are handed to the library in one call, without a Python
        loop per value. An error names the element (``e.index``); the
        elements before it stay added, as with single calls.

        Errors: :class:`tally.NotFoundError` (unknown region or indicator),
        :class:`tally.ParseError` (period), :class:`tally.DuplicateError`
        (a value already given), :class:`tally.RangeError` (infinite)."""
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
        vals = _value_strings(values, n)
        if n == 0:
            return
        body = "\n".join(map(",".join, zip(_csv_field_column(codes), _csv_field_column(inds),
                                           _csv_field_column(pers), vals)))
        data = ("region_code,indicator,period,value\n" + body + "\n").encode("utf-8")
        name = "<add>"
        try:
            self.read_bytes(data, name=name)
        except _errors.Error as e:
            if e.path != name or not e.line:
                raise
            index = e.line - 2  # line 1 is the header
            reason = e.message.split(": ", 1)[1] if ": " in e.message else e.message
            err = type(e)(e.code, f"add: element {index} (region {codes[index]}, "
                          f"indicator {inds[index]}, period {pers[index]}): {reason}",
                          None, None, None, e.text)
            err.index = index
            raise err from None

    # ---- reading values back ----

    @exclusive
    def reported(self, region_code, indicator, period):
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

    @property
    @exclusive
    def value_count(self):
        """Number of values (cells) accepted so far, missing ones included."""
        return lib.tally_dataset_value_count(self._ptr)

    @exclusive
    def save(self, path):
        """Writes the dataset's values to a snapshot file (``tally snapshot``),
        which :meth:`load` (and the command line's ``-r``) reads back far
        faster than the CSV."""
        lib.tally_snapshot_save(self._ptr, os.fsencode(path))

    @exclusive
    def load(self, path):
        """Adds the values of a snapshot made over the same hierarchy and
        definitions; a cell given in both is a duplicate (``DuplicateError``)."""
        lib.tally_snapshot_load(self._ptr, os.fsencode(path))

    # ---- computing ----

    @exclusive
    def rollup(self, prefer="computed", periods=None, compare=None, take=False):
        """Rolls the values up the hierarchy; returns a :class:`tally.Result`.

        ``prefer``: ``"computed"`` (a region's value comes from below when
        anything below reported) or ``"reported"`` (its own first).
        ``periods``: a period or list of periods (``"2019-08"``,
        ``"2019-Q3"``, ``"2019"``); default every period in the data.
        ``compare``: None, ``"yoy"`` (same period a year earlier) or
        ``"pop"`` (previous period); rows then carry previous, change and
        change_pct.
        ``take``: True when the dataset is not needed afterwards: its value
        arrays may move into the result instead of being copied (half the
        memory for a national dataset), and the dataset is left empty
        (``value_count`` 0), ready to be read into again. Same values."""
        opts = RollupOptions(RollupOptions.VERSION, choice("prefer", prefer, PREFER),
                             choice("compare", compare, _COMPARE), None, 0)
        if periods is not None:
            if isinstance(periods, str):
                periods = [periods]
            arr = (c_char_p * len(periods))(*[enc(p, "period") for p in periods])
            opts.periods, opts.period_count = arr, len(periods)
        out = R()
        fn = lib.tally_rollup_take if take else lib.tally_rollup
        fn(ctypes.byref(out), self._ptr, ctypes.byref(opts))
        return Result(out, (self.hierarchy._handle, self.definitions._handle))

    @exclusive
    def check(self, periods=None, prefer="computed", targets=None):
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
    def progress(self, targets, as_of, level=None, prefer="computed", schedule=None):
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
    def progress_result(self, targets, as_of, prefer="computed", schedule=None):
        """The same as :meth:`progress` as a :class:`tally.Progress` object
        (rows, DataFrame, CSV/JSON and an SVG chart)."""
        return progress(self, targets, as_of, prefer=prefer, schedule=schedule)

    def __repr__(self):
        if self.closed:
            return "<tally.Dataset (closed)>"
        return f"<tally.Dataset: {self.value_count} values>"


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


def _infinite(i):
    return _errors.RangeError(_errors.ERANGE, f"add: element {i}: value is infinite; "
                              "expected a finite number")


def _value_strings(values, n):
    """Values as decimal text that reads back to the same double: the
    integer digits for whole numbers, else the shortest form (repr);
    missing values (None, NaN) as empty cells."""
    if _np is not None:
        if hasattr(values, "to_numpy"):  # pandas: None/NA become NaN
            values = values.to_numpy(dtype=float, na_value=math.nan)
        arr = _np.asarray(values, dtype=float)  # None becomes NaN
        if arr.ndim != 1 or len(arr) != n:
            raise ValueError(f"value: {arr.size} elements; expected {n}, as many as region codes")
        bad = _np.flatnonzero(_np.isinf(arr))
        if bad.size:
            raise _infinite(int(bad[0]))
        missing = _np.isnan(arr)
        filled = _np.where(missing, 0.0, arr)
        if _np.all((filled == _np.trunc(filled)) & (_np.abs(filled) < 2.0 ** 53)):
            # Counts are the common case: int -> str is twice as fast as repr.
            out = list(map(str, filled.astype(_np.int64).tolist()))
            for i in _np.flatnonzero((filled == 0) & _np.signbit(filled)).tolist():
                out[i] = "-0"
        else:
            out = list(map(repr, filled.tolist()))
        for i in _np.flatnonzero(missing).tolist():
            out[i] = ""
        return out
    out = []
    for i, v in enumerate(values):
        if v is None or v != v:
            out.append("")
            continue
        v = float(v)
        if math.isinf(v):
            raise _infinite(i)
        out.append(repr(v))
    if len(out) != n:
        raise ValueError(f"value: {len(out)} elements; expected {n}, as many as region codes")
    return out
