"""Periods as the library reads and writes them: "2019-08", "2019-Q3", "2019",
and the spans asked for: "2019-H1", "2019-01..2019-08", "2019-Q1..2019-Q2"."""

from __future__ import annotations

import ctypes
import functools
from ctypes import c_int
from typing import Any, Tuple, Union

from ._lib import (PERIOD_HALF, PERIOD_MONTH, PERIOD_MONTHS, PERIOD_QUARTER, PERIOD_QUARTERS,
                   PERIOD_YEAR, lib)
from ._lib import Period as _CPeriod

_KINDS = {PERIOD_YEAR: "year", PERIOD_QUARTER: "quarter", PERIOD_MONTH: "month",
          PERIOD_HALF: "half", PERIOD_MONTHS: "months", PERIOD_QUARTERS: "quarters"}
_TEXT_MAX = 17  # TALLY_PERIOD_TEXT_MAX


@functools.total_ordering
class Period:
    """A month, quarter or year, or a span asked for, parsed by the library,
    so that it accepts exactly the texts its ``periods`` options accept:
    ``Period("2019-08")``, ``Period("2019-Q3")`` (or ``"2019-q3"``),
    ``Period("2019")``, ``Period("2019-H1")``, ``Period("2019-01..2019-08")``,
    ``Period("2019-Q1..2019-Q2")``; years 1000 to 9999, a range within one
    year. Other text raises :class:`tally.ParseError` naming the text and
    the forms accepted. (Records are dated by months, quarters and years
    only.)

    ``year``; ``kind`` (``"month"``, ``"quarter"``, ``"year"``, ``"half"``,
    ``"months"`` or ``"quarters"``, the last two for ranges);
    ``index`` (the month 1..12, the quarter 1..4, the half 1..2, 0 for a
    year, the first month or quarter of a range); ``end`` (the last month or
    quarter of a range, else 0);
    ``first_month`` and ``last_month`` (1..12) of its span; ``str(p)``
    the library's text ("2019-Q3"). Periods compare in time order as
    results list them: a year's months, then its quarters, then
    its halves and ranges, then the year.
    """

    __slots__ = ("_c",)
    _c: _CPeriod

    def __init__(self, text: Union[str, Period]) -> None:
        if isinstance(text, Period):
            self._c = text._c
            return
        if not isinstance(text, str):
            raise TypeError(f"period: expected str, got {type(text).__name__}")
        data = text.encode("utf-8")
        c = _CPeriod()
        lib.tally_period_parse(ctypes.byref(c), data, len(data))
        self._c = c

    @property
    def year(self) -> int:
        return self._c.year

    @property
    def kind(self) -> str:
        return _KINDS[self._c.kind]

    @property
    def index(self) -> int:
        return self._c.index

    @property
    def end(self) -> int:
        return self._c.end

    def _months(self) -> Tuple[int, int]:
        first, last = c_int(), c_int()
        lib.tally_period_months(ctypes.byref(self._c), ctypes.byref(first), ctypes.byref(last))
        return first.value, last.value

    @property
    def first_month(self) -> int:
        """The first month (1..12) of the period in its year."""
        return self._months()[0]

    @property
    def last_month(self) -> int:
        """The last month (1..12) of the period in its year."""
        return self._months()[1]

    def __reduce__(self) -> Tuple[Any, ...]:
        return (Period, (str(self),))

    def __str__(self):
        buf = ctypes.create_string_buffer(_TEXT_MAX)
        n = lib.tally_period_format(buf, _TEXT_MAX, ctypes.byref(self._c))
        return buf.raw[:n].decode("ascii")

    def __repr__(self):
        return f"Period({str(self)!r})"

    def _key(self):
        return (self._c.year, self._c.kind, self._c.index, self._c.end)

    def __eq__(self, other):
        if not isinstance(other, Period):
            return NotImplemented
        return self._key() == other._key()

    def __lt__(self, other):
        if not isinstance(other, Period):
            return NotImplemented
        return lib.tally_period_compare(ctypes.byref(self._c), ctypes.byref(other._c)) < 0

    def __hash__(self):
        return hash(self._key())
