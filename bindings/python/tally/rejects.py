"""Rejected rows, and the one way every CSV reader is called (stop or collect)."""

from __future__ import annotations

import csv
import ctypes
from typing import Any, List, NamedTuple, Optional

from . import _errors
from ._common import PathArg, choice, encoding_arg
from ._lib import RJ, ON_ERROR_COLLECT, ON_ERROR_STOP, ReadOptions, ReadStats, lib
from ._output import open_text

_ON_ERROR = {"stop": ON_ERROR_STOP, "collect": ON_ERROR_COLLECT}


def _str(b):
    # A rejected row is echoed as it stands in the file, which may not be UTF-8.
    return None if b is None else b.decode("utf-8", "replace")


class Rejected:
    """A rejected row: path, line, column (1-based), code (a TALLY_E*
    status), reason (what is wrong and what would be right) and row (the
    raw text of the row)."""

    __slots__ = ("path", "line", "column", "code", "reason", "row")

    def __init__(self, path: Optional[str], line: int, column: int, code: int, reason: str,
                 row: Optional[str]) -> None:
        self.path, self.line, self.column = path, line, column
        self.code, self.reason, self.row = code, reason, row

    @property
    def error(self) -> _errors.Error:
        """The exception that stop mode would have raised for this row."""
        return _errors.make_error(self.code, str(self), self.path, self.line, self.column)

    def __str__(self):
        return f"{self.path}:{self.line}:{self.column}: {self.reason}"

    def __repr__(self):
        return f"Rejected({str(self)!r})"


class ReadWarning(NamedTuple):
    """A warning about a row that was accepted (a ``region_name`` that is
    not the hierarchy's name for the code): a tuple (path, line, column,
    reason), 1-based."""

    path: str
    line: int
    column: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: warning: {self.reason}"

    def __repr__(self) -> str:
        return f"ReadWarning({str(self)!r})"


class RejectedRows(list):
    """The rejected rows of one read (a list of :class:`Rejected`), with the
    read's counts: rows_read == rows_accepted + rows_rejected, and
    ``warnings``: the read's warnings about rows it accepted (a list of
    (path, line, column, reason) tuples, in file order; they are not
    rejected rows and not counted)."""

    rows_read = rows_accepted = rows_rejected = 0

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.warnings: List[Any] = []

    def to_csv(self, path: PathArg) -> None:
        """Writes the rows as CSV: file,line,column,reason,row."""
        with open_text(path, newline="", encoding="utf-8") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["file", "line", "column", "reason", "row"])
            for r in self:
                w.writerow([r.path, r.line, r.column, r.reason, r.row])


def _take_rejects(rj, stats):
    out = RejectedRows()
    for i in range(lib.tally_rejects_count(rj)):
        out.append(Rejected(_str(lib.tally_rejects_path(rj, i)), lib.tally_rejects_line(rj, i),
                            lib.tally_rejects_column(rj, i), lib.tally_rejects_code(rj, i),
                            _str(lib.tally_rejects_reason(rj, i)), _str(lib.tally_rejects_row(rj, i))))
    for i in range(lib.tally_rejects_warning_count(rj)):
        out.warnings.append(ReadWarning(_str(lib.tally_rejects_warning_path(rj, i)),
                                     lib.tally_rejects_warning_line(rj, i),
                                     lib.tally_rejects_warning_column(rj, i),
                                     _str(lib.tally_rejects_warning_reason(rj, i))))
    out.rows_read = stats.rows_read
    out.rows_accepted = stats.rows_accepted
    out.rows_rejected = stats.rows_rejected
    return out


def read_with(call, on_error, encoding=None):
    """Runs a reader call(opts, rejects, stats) in the mode asked for and
    returns the rejected rows with the read's counts."""
    mode = choice("on_error", on_error, _ON_ERROR)
    opts = ReadOptions(ReadOptions.VERSION, mode, encoding_arg(encoding), 0, 0, 0)
    stats = ReadStats()
    rj = RJ()
    lib.tally_rejects_new(ctypes.byref(rj))
    try:
        call(opts, rj, stats)
        return _take_rejects(rj, stats)
    finally:
        lib.tally_rejects_free(rj)
