"""A rollup: values at every region, indicator and period."""

from __future__ import annotations

import ctypes
import math
import pickle
from ctypes import c_double, c_int, c_size_t
from typing import Any, Dict, List, Optional, Tuple

from ._common import Names, PathArg, as_list, fspath, opt, select_levels, write_options
from ._handle import Handle, Owner
from ._lib import COMPARE_NONE, lib
from ._rows import Rows
from .definitions import find_indicator, indicator_tables
from .hierarchy import find_node, node_tables
from .thresholds import thresholds
from .period import Period

_FORMULA = 5  # TALLY_AGGREGATE_FORMULA

try:
    import numpy as _np
except ImportError:
    _np = None  # type: ignore[assignment]

COLUMNS = ("region_code", "region_name", "level", "indicator", "period", "value")
COMPARE_COLUMNS = ("previous", "change", "change_pct")


class Result(Owner):
    """Output values of a rollup (:meth:`tally.Dataset.rollup`).

    It keeps the hierarchy and definitions alive, not the dataset: the
    dataset may be closed while the result is used."""

    def __init__(self, ptr: Any, parents: Tuple[Handle, Handle]) -> None:
        self._handle = Handle(ptr, lib.tally_result_free, "Result", parents)
        self._hh, self._dh = parents
        # (weakref to the dataset, its change count, prefer, compare), set by
        # Dataset.rollup: a pickle holds the dataset and rolls it up again.
        self._source: Optional[Tuple[Any, int, str, Any]] = None

    # The hierarchy and definitions pointers, only while the result is open
    # (after close() they may have been freed with it).
    @property
    def _h(self):
        self._ptr
        return self._hh.ptr

    @property
    def _d(self):
        self._ptr
        return self._dh.ptr

    # ---- indices ----

    def _period_index(self, period):
        if isinstance(period, Period):
            period = str(period)
        if not isinstance(period, str):
            raise TypeError(f"period: expected str, got {type(period).__name__}")
        index = c_size_t()
        lib.tally_result_period_find(self._ptr, period.encode("utf-8"), ctypes.byref(index))
        return index.value

    def _indices(self, region_code, indicator, period):
        return (find_node(self._h, region_code), find_indicator(self._d, indicator),
                self._period_index(period))

    @property
    def periods(self) -> List[str]:
        """The result's periods, in the order requested (or time order)."""
        p = self._ptr
        return [lib.tally_result_period(p, i).decode("utf-8")
                for i in range(lib.tally_result_period_count(p))]

    @property
    def indicators(self) -> List[str]:
        """Indicator ids, in definition order."""
        self._ptr
        return list(indicator_tables(self._dh)[0])

    # ---- single values ----

    def compared(self, period: str) -> Tuple[Optional[str], bool]:
        """The period ``period`` is compared with, as text, and whether it
        was cut like for like to the months the period's reports cover
        (累计同比: a 2019 whose reports end in August against
        ``"2018-01..2018-08"``): ``(text, matched)``; ``(None, False)``
        without a comparison."""
        p = self._period_index(period)
        matched = c_int()
        text = lib.tally_result_compared(self._ptr, p, ctypes.byref(matched))
        return (text.decode("utf-8") if text else None, bool(matched.value))

    def value(self, region_code: str, indicator: str, period: str) -> Optional[float]:
        """The output value (float), or None when it is missing.
        :class:`tally.NotFoundError` for an unknown region, indicator or a
        period not in the result."""
        n, i, p = self._indices(region_code, indicator, period)
        value, present = c_double(), c_int()
        lib.tally_result_value(self._ptr, n, i, p, ctypes.byref(value), ctypes.byref(present))
        return value.value if present.value else None

    def sides(self, region_code: str, indicator: str,
              period: str) -> Tuple[Optional[float], Optional[float]]:
        """(reported, computed): what the region reported itself for the
        period and what its subtree gives; None where missing."""
        n, i, p = self._indices(region_code, indicator, period)
        rep, comp = c_double(), c_double()
        lib.tally_result_sides(self._ptr, n, i, p, ctypes.byref(rep), ctypes.byref(comp))
        return opt(rep.value), opt(comp.value)

    def previous(self, region_code: str, indicator: str, period: str) -> Optional[float]:
        """The value of the comparison period (None when missing or when
        the rollup was made without ``compare``)."""
        n, i, p = self._indices(region_code, indicator, period)
        value, present = c_double(), c_int()
        lib.tally_result_previous(self._ptr, n, i, p, ctypes.byref(value), ctypes.byref(present))
        return value.value if present.value else None

    def coverage(self, region_code: str, indicator: str, period: str) -> Tuple[int, int]:
        """(regions, regions_complete) of a formula indicator's value: how
        many regions at or below the region reported some operand of the
        formula for the period, and how many reported every operand (the
        value is computed over those). (0, 0) for an indicator that is not a
        formula."""
        n, i, p = self._indices(region_code, indicator, period)
        regions, complete = c_size_t(), c_size_t()
        lib.tally_result_coverage(self._ptr, n, i, p, ctypes.byref(regions),
                                  ctypes.byref(complete))
        return regions.value, complete.value

    def complete(self, region_code: str, indicator: str, period: str) -> bool:
        """False when the value rests on incomplete coverage: some region
        below reported some operands of the formula and not others."""
        n, i, p = self._indices(region_code, indicator, period)
        flag = c_int()
        lib.tally_result_complete(self._ptr, n, i, p, ctypes.byref(flag))
        return bool(flag.value)

    def as_of(self, region_code: str, indicator: str, period: str) -> Optional[str]:
        """How old a stock or cumulative value is: ``"YYYY-MM"``, the month
        of the oldest report it rests on (a region's own latest report in
        the period; for a parent, the earliest of those of the regions that
        count in it). None for a missing value, a flow or formula
        indicator, or a rollup made without ``coverage=True``."""
        n, i, p = self._indices(region_code, indicator, period)
        return self._as_of(n, i, p)

    def _as_of(self, k, i, p):
        year, month = c_int(), c_int()
        lib.tally_result_as_of(self._ptr, k, i, p, ctypes.byref(year), ctypes.byref(month))
        return f"{year.value:04d}-{month.value:02d}" if year.value else None

    def _coverage_of(self, k, i, p):
        regions, complete = c_size_t(), c_size_t()
        lib.tally_result_coverage(self._ptr, k, i, p, ctypes.byref(regions),
                                  ctypes.byref(complete))
        return regions.value, complete.value

    def column(self, indicator: str, period: str) -> Any:
        """Output values of every region in pre-order (NaN where missing):
        a numpy array (a copy) when numpy is installed, else a list."""
        i = find_indicator(self._d, indicator)
        p = self._period_index(period)
        return self._column(i, p, len(node_tables(self._hh)[0]))

    def _column(self, i, p, n):
        ptr = lib.tally_result_column(self._ptr, i, p)
        if _np is not None:
            if n == 0:
                return _np.empty(0)
            return _np.ctypeslib.as_array(ptr, shape=(n,)).copy()
        return ptr[:n]

    # ---- tables ----

    def _selection(self, level, period, indicator):
        self._ptr
        codes, names, levels, level_names = node_tables(self._hh)
        ids, decimals, units = indicator_tables(self._dh)
        want = select_levels(self._h, level)
        nodes = list(range(len(codes))) if want is None else \
            [k for k, lv in enumerate(levels) if lv in want]
        periods = self.periods
        pers = list(range(len(periods))) if period is None else \
            [self._period_index(x) for x in as_list(period)]
        inds = list(range(len(ids))) if indicator is None else \
            [find_indicator(self._d, x) for x in as_list(indicator)]
        if indicator is not None:
            # An indicator broken down by categories comes with its options
            # (its slots follow it), as on the command line.
            inds = [j for i in inds for j in
                    [i] + list(range(i + 1, len(ids)))[:self._slot_count(i, len(ids))]]
        return nodes, inds, pers

    def _slot_count(self, i, n):
        k = 0
        while i + 1 + k < n and lib.tally_definitions_base(self._d, i + 1 + k) == i:
            k += 1
        return k

    def _categories(self):
        """The categories of the definitions: [(id, [option ids])], and per
        indicator its declared indicator's id and its option of each
        category (None: a total)."""
        d = self._d
        cats = []
        for c in range(lib.tally_definitions_category_count(d)):
            cats.append((lib.tally_definitions_category_id(d, c).decode("utf-8"),
                         [lib.tally_definitions_option_id(d, c, o).decode("utf-8")
                          for o in range(lib.tally_definitions_option_count(d, c))]))
        ids = indicator_tables(self._dh)[0]
        base, opts = [], []
        for i in range(len(ids)):
            base.append(ids[lib.tally_definitions_base(d, i)])
            row = []
            for c, (_, options) in enumerate(cats):
                o = lib.tally_definitions_option(d, i, c)
                row.append(options[o] if o >= 0 else None)
            opts.append(row)
        return cats, base, opts

    def rows(self, level: Names = None, period: Names = None, indicator: Names = None,
             coverage: bool = False) -> List[Dict[str, Any]]:
        """The rollup as a list of dicts with the command line's columns:
        region_code, region_name, level, indicator, period, value (a float,
        None when missing), plus previous, change and change_pct when the
        rollup was made with ``compare``, and regions, regions_complete
        (see :meth:`coverage`; None for indicators that are not formulas)
        and as_of (see :meth:`as_of`) with ``coverage=True``. Rows are in hierarchy pre-order,
        then indicators in definition order, then periods. ``level``,
        ``period`` and ``indicator`` (a name or a list) keep only those."""
        nodes, inds, pers = self._selection(level, period, indicator)
        codes, names, levels, level_names = node_tables(self._hh)
        ids, decimals, units = indicator_tables(self._dh)
        # A slot of a category: its indicator's id, its options in the
        # category columns (None on a total).
        cats, base, opts = self._categories()
        periods = self.periods
        n = len(codes)
        r = self._ptr
        cols = {}
        for i in inds:
            for p in pers:
                ptr = lib.tally_result_column(r, i, p)
                cols[i, p] = ptr[:n]
        compare = lib.tally_result_compare(r) != COMPARE_NONE
        out = []
        prev, present = c_double(), c_int()
        for k in nodes:
            code, name, lname = codes[k], names[k], level_names[levels[k]]
            for i in inds:
                for p in pers:
                    v = cols[i, p][k]
                    row = {"region_code": code, "region_name": name, "level": lname,
                           "indicator": base[i]}
                    for c, (cid, _) in enumerate(cats):
                        row[cid] = opts[i][c]
                    row["period"] = periods[p]
                    row["value"] = None if v != v else v
                    if compare:
                        lib.tally_result_previous(r, k, i, p, ctypes.byref(prev),
                                                  ctypes.byref(present))
                        row.update(_changes(v, prev.value, units[i] == "%"))
                    if coverage:
                        rg, cp = self._coverage_of(k, i, p)
                        formula = lib.tally_definitions_aggregate(self._d, i) == _FORMULA
                        row["regions"] = rg if formula else None
                        row["regions_complete"] = cp if formula else None
                        row["as_of"] = None if formula else self._as_of(k, i, p)
                    out.append(row)
        return out

    def to_pandas(self, level: Names = None, period: Names = None, indicator: Names = None,
                  coverage: bool = False, layout: str = "long") -> Any:
        """The table as a pandas DataFrame. ImportError when pandas is absent.

        ``layout="long"``: the table of :meth:`rows`, one row per region,
        indicator and period (value float64, NaN where missing; regions and
        regions_complete float64, NaN for indicators that are not formulas,
        with ``coverage=True``, and as_of: the month of the oldest report a
        stock or cumulative value rests on, a string or None).

        ``layout="wide"``: one row per region in hierarchy pre-order, indexed
        by (region_code, region_name, level); one column per (indicator,
        period), a column MultiIndex in definition order, then the
        result's period order; values only (no compare or coverage columns).

        In both, ``level`` is an ordered categorical whose categories are
        the hierarchy's levels, top first (so sorting by it and
        ``df[df.level <= "county"]`` follow the hierarchy), and periods are
        the library's texts ("2019-08", "2019-Q3", "2019"), which
        ``pandas.Period`` parses as months, quarters and years. When a
        period is a half or a range (``2019-H1``, ``2019-01..2019-08``), the
        long layout adds the columns period_start and period_end, its first
        and last months as "YYYY-MM", which pandas parses."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("Result.to_pandas() needs pandas (apt-get install python3-pandas "
                              "or pip install pandas); Result.rows() gives the same table as "
                              "a list of dicts") from None
        if layout not in ("long", "wide"):
            raise ValueError(f"layout={layout!r}: expected 'long' or 'wide'")
        if layout == "wide" and coverage:
            raise ValueError("coverage=True: only with layout='long'")
        np = _np
        nodes, inds, pers = self._selection(level, period, indicator)
        cats, base, opts = self._categories()
        codes, names, levels, level_names = node_tables(self._hh)
        ids, decimals, units = indicator_tables(self._dh)
        periods = self.periods
        n = len(codes)
        sel = np.asarray(nodes, dtype=np.intp)
        ni, npr = len(inds), len(pers)
        # values[node, indicator, period]: raveled in C order it is the row order.
        values = np.empty((len(sel), ni, npr))
        for a, i in enumerate(inds):
            for b, p in enumerate(pers):
                values[:, a, b] = self._column(i, p, n)[sel]
        level_codes = np.asarray(levels, dtype=np.intp)[sel]
        if layout == "wide":
            index = pd.MultiIndex.from_arrays([
                pd.Index(np.asarray(codes, dtype=object)[sel], name="region_code"),
                pd.Index(np.asarray(names, dtype=object)[sel], name="region_name"),
                pd.CategoricalIndex(pd.Categorical.from_codes(level_codes, level_names,
                                                              ordered=True), name="level")])
            columns = pd.MultiIndex.from_product(
                [[ids[i] for i in inds], [periods[p] for p in pers]],
                names=["indicator", "period"])
            return pd.DataFrame(values.reshape(len(sel), ni * npr), index=index,
                                columns=columns)
        per_node = ni * npr
        frame = {
            "region_code": np.repeat(np.asarray(codes, dtype=object)[sel], per_node),
            "region_name": np.repeat(np.asarray(names, dtype=object)[sel], per_node),
            "level": pd.Categorical.from_codes(np.repeat(level_codes, per_node), level_names,
                                               ordered=True),
            "indicator": np.tile(np.repeat(np.asarray([base[i] for i in inds], dtype=object),
                                           npr), len(sel)),
        }
        # One categorical column per category, options in declared order,
        # NaN on the totals.
        for c, (cid, options) in enumerate(cats):
            codes_c = np.asarray([options.index(opts[i][c]) if opts[i][c] is not None else -1
                                  for i in inds], dtype=np.intp)
            frame[cid] = pd.Categorical.from_codes(np.tile(np.repeat(codes_c, npr), len(sel)),
                                                   options)
        frame |= {
            "period": np.tile(np.asarray([periods[p] for p in pers], dtype=object), len(sel) * ni),
            "value": values.ravel(),
        }
        spans = [Period(periods[p]) for p in pers]
        if any(x.kind in ("half", "months", "quarters") for x in spans):
            # Halves and ranges: their first and last months, as text
            # pandas reads (pd.Period(x, freq="M")).
            starts = [f"{x.year:04d}-{x.first_month:02d}" for x in spans]
            ends = [f"{x.year:04d}-{x.last_month:02d}" for x in spans]
            frame["period_start"] = np.tile(np.asarray(starts, dtype=object), len(sel) * ni)
            frame["period_end"] = np.tile(np.asarray(ends, dtype=object), len(sel) * ni)
        r = self._ptr
        if lib.tally_result_compare(r) != COMPARE_NONE:
            prev = np.empty_like(values)
            v, present = c_double(), c_int()
            for x, k in enumerate(nodes):
                for a, i in enumerate(inds):
                    for b, p in enumerate(pers):
                        lib.tally_result_previous(r, k, i, p, ctypes.byref(v),
                                                  ctypes.byref(present))
                        prev[x, a, b] = v.value
            prev = prev.ravel()
            change = frame["value"] - prev
            pct_unit = np.tile(np.repeat(np.asarray([units[i] == "%" for i in inds]), npr),
                               len(sel))
            with np.errstate(divide="ignore", invalid="ignore"):
                pct = change / np.abs(prev) * 100.0
            pct[pct_unit | (prev == 0) | np.isnan(change)] = np.nan
            frame.update(previous=prev, change=change, change_pct=pct)
        if coverage:
            rg = np.full(values.shape, np.nan)
            cp = np.full(values.shape, np.nan)
            for a, i in enumerate(inds):
                if lib.tally_definitions_aggregate(self._d, i) != _FORMULA:
                    continue
                for x, k in enumerate(nodes):
                    for b, p in enumerate(pers):
                        rg[x, a, b], cp[x, a, b] = self._coverage_of(k, i, p)
            asof = np.full(values.shape, None, dtype=object)
            for a, i in enumerate(inds):
                if lib.tally_definitions_aggregate(self._d, i) == _FORMULA:
                    continue
                for x, k in enumerate(nodes):
                    for b, p in enumerate(pers):
                        asof[x, a, b] = self._as_of(k, i, p)
            frame.update(regions=rg.ravel(), regions_complete=cp.ravel(), as_of=asof.ravel())
        return pd.DataFrame(frame)

    def thresholds(self, indicators: Names = None, level: Names = None) -> Rows:
        """Every region's value of the indicators with ``thresholds:`` in
        the definitions (or those named) against its level's exit
        threshold, for each period of the result: :class:`tally.Rows` with
        the columns of ``tally poverty`` from records (region_code,
        region_name, level, period, indicator, value, threshold,
        meets_threshold (True, False, None when unknown, or "incomplete"
        when the value rests on incomplete coverage), margin)."""
        return thresholds(self, indicators, level)

    def write(self, path: PathArg, format: str = "csv", level: Names = None,
              all_regions: bool = False) -> None:
        """Writes the result as the command line does (numbers with each
        indicator's decimals, missing values empty or null) to ``path``;
        ``format`` is ``"csv"`` or ``"json"``. Only the rows with data, as
        the command line; ``all_regions=True`` writes every row
        (``--all-regions``)."""
        opts = write_options(self._h, format, level, all_regions)
        lib.tally_result_write(self._ptr, fspath(path), ctypes.byref(opts))

    def __reduce__(self) -> Tuple[Any, ...]:
        # By value, as the dataset it was rolled up from (its snapshot) and
        # the options: a worker rolls it up again, to the same figures. That
        # dataset must still be open and unchanged.
        self._ptr
        source = self._source
        ds = source[0]() if source is not None else None
        if source is None or ds is None or ds.closed or ds._changes != source[1]:
            why = ("it was made with take=True" if source is None else
                   "its dataset has been closed or changed since the rollup")
            raise pickle.PicklingError(
                f"cannot pickle this tally.Result: {why}; a result is pickled as the "
                "dataset it was rolled up from. Pickle the Dataset and roll it up on the "
                "other side, or pickle r.to_pandas()")
        _, _, prefer, compare = source
        # ds.rollup pickles as (getattr, (ds, "rollup")): the dataset by value.
        return (ds.rollup, (prefer, self.periods or None, compare, True))

    def __repr__(self):
        if self.closed:
            return "<tally.Result (closed)>"
        return f"<tally.Result: periods {', '.join(self.periods)}>"


def _changes(v, prev, pct_unit):
    """previous, change and change_pct as the command line computes them:
    change_pct relative to |previous|, empty for a % indicator (its change
    is in percentage points) and when previous is 0."""
    change = v - prev
    pct = math.nan
    if not pct_unit and change == change and prev != 0:
        pct = change / abs(prev) * 100.0
    return {"previous": opt(prev), "change": opt(change), "change_pct": opt(pct)}


def format_number(value: Optional[float], decimals: int) -> str:
    """``value`` printed with ``decimals`` digits after the point, as the
    library prints every number (half away from zero on the shortest
    decimal form: 2.675 with 2 decimals is "2.68"). None or NaN give ""."""
    if value is None or value != value:
        return ""
    buf = ctypes.create_string_buffer(64)
    n = lib.tally_number_format(buf, len(buf), float(value), int(decimals))
    return buf.raw[:n].decode("ascii")
