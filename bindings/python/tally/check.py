"""Consistency checks: every reported number that does not add up."""

from __future__ import annotations

import csv
import ctypes
import os
from ctypes import c_char_p
from typing import Any, Dict, Optional

from ._common import PREFER, PathArg, choice, enc, opt
from ._lib import F, NONE, CheckOptions, CheckSummary, lib
from ._output import open_text
from ._rows import Rows
from .definitions import indicator_tables
from .hierarchy import node_tables
from .progress import Targets
from .result import format_number

KINDS = ("hierarchy", "rule", "completeness", "outlier", "jump", "bounds", "recomputed",
         "monotonic", "targets", "coverage", "conflict", "stale",
         "partial")
SEVERITIES = ("error", "warning")
COLUMNS = ("check", "severity", "region_code", "region_name", "period", "indicator", "expected",
           "actual", "difference", "message")
SUMMARY_COLUMNS = ("check", "kind", "severity", "items", "passes", "warnings", "fails", "missing")


class Finding:
    """One failed check: check (its id), kind, severity ("error" or
    "warning"), region_code, region_name, period, indicator (None for a
    rule, which reads several), expected, actual, difference (actual -
    expected; None where they do not apply), decimals (what the three
    numbers are printed with) and message (one sentence)."""

    __slots__ = COLUMNS + ("kind", "decimals")
    check: str
    severity: str
    region_code: Optional[str]
    region_name: Optional[str]
    period: Optional[str]
    indicator: Optional[str]
    expected: Optional[float]
    actual: Optional[float]
    difference: Optional[float]
    message: str
    kind: str
    decimals: int

    def __init__(self, **kw: Any) -> None:
        for k in self.__slots__:
            setattr(self, k, kw[k])

    def as_dict(self) -> Dict[str, Any]:
        """The command line's columns, as a dict."""
        return {k: getattr(self, k) for k in COLUMNS}

    def __repr__(self):
        return f"Finding({self.check!r}, {self.severity!r}, {self.message!r})"


class Findings(list):
    """The findings of a check run (a list of :class:`Finding`, in the
    library's order: by check, region in pre-order, indicator, period), with
    ``error_count`` and ``summary`` (one dict per check: check, kind,
    severity, items, passes, warnings, fails, missing)."""

    error_count = 0
    summary: Any = ()

    def to_pandas(self) -> Any:
        """The findings as a DataFrame with the command line's columns."""
        rows = Rows((f.as_dict() for f in self), columns=COLUMNS)
        return rows.to_pandas()

    def to_csv(self, path: PathArg) -> None:
        """Writes the findings as ``tally check`` does: the command line's
        columns, numbers with each finding's decimals, missing ones empty."""
        with open_text(path, newline="", encoding="utf-8") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(COLUMNS)
            for x in self:
                w.writerow([x.check, x.severity, x.region_code, x.region_name, x.period,
                            x.indicator or "", format_number(x.expected, x.decimals),
                            format_number(x.actual, x.decimals),
                            format_number(x.difference, x.decimals), x.message])


def run_checks(ds, periods=None, prefer="computed", targets=None):
    """Dataset.check: runs every check and copies the findings out."""
    dsp = ds._ptr
    own = None
    if targets is not None and not isinstance(targets, Targets):
        own = Targets(ds.hierarchy, ds.definitions)
        for p in [targets] if isinstance(targets, (str, bytes, os.PathLike)) else targets:
            own.read_csv(p)
        targets = own
    try:
        opts = CheckOptions(CheckOptions.VERSION, choice("prefer", prefer, PREFER), None, 0,
                            None)
        if periods is not None:
            periods = [periods] if isinstance(periods, str) else list(periods)
            arr = (c_char_p * len(periods))(*[enc(p, "period") for p in periods])
            opts.periods, opts.period_count = arr, len(periods)
        if targets is not None:
            opts.targets = targets._ptr
        f = F()
        lib.tally_check_run(ctypes.byref(f), dsp, ctypes.byref(opts))
    finally:
        if own is not None:
            own.close()
    try:
        return _copy(f, ds)
    finally:
        lib.tally_findings_free(f)


def _copy(f, ds):
    codes, names, levels, level_names = node_tables(ds.hierarchy._handle)
    ids = indicator_tables(ds.definitions._handle)[0]
    out = Findings()
    for i in range(lib.tally_findings_count(f)):
        node = lib.tally_findings_node(f, i)
        ind = lib.tally_findings_indicator(f, i)
        kind = lib.tally_findings_kind(f, i)
        out.append(Finding(
            check=lib.tally_findings_check(f, i).decode("utf-8"),
            kind=KINDS[kind] if 0 <= kind < len(KINDS) else None,
            severity=SEVERITIES[lib.tally_findings_severity(f, i)],
            region_code=codes[node] if node != NONE else None,
            region_name=names[node] if node != NONE else None,
            period=(lib.tally_findings_period(f, i) or b"").decode("utf-8"),
            indicator=ids[ind] if ind != NONE else None,
            expected=opt(lib.tally_findings_expected(f, i)),
            actual=opt(lib.tally_findings_actual(f, i)),
            difference=opt(lib.tally_findings_difference(f, i)),
            decimals=lib.tally_findings_decimals(f, i),
            message=lib.tally_findings_message(f, i).decode("utf-8")))
    out.error_count = lib.tally_findings_error_count(f)
    summary = Rows(columns=SUMMARY_COLUMNS,
                   integer_columns=("items", "passes", "warnings", "fails", "missing"))
    s = CheckSummary()
    for k in range(lib.tally_findings_check_count(f)):
        lib.tally_findings_summary(f, k, ctypes.byref(s))
        summary.append({"check": s.check.decode("utf-8"),
                        "kind": KINDS[s.kind] if 0 <= s.kind < len(KINDS) else None,
                        "severity": SEVERITIES[s.severity], "items": s.items,
                        "passes": s.passes, "warnings": s.warnings, "fails": s.fails,
                        "missing": s.missing})
    out.summary = summary
    return out
