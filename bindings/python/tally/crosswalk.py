"""Crosswalks between two vintages of a hierarchy (tally/crosswalk.h)."""

from __future__ import annotations

import ctypes
import math
from ctypes import c_size_t
from typing import Any, Dict, Iterator, List, Optional

from ._common import PathArg, fspath
from ._handle import Handle, Owner
from ._lib import CW, CrosswalkOptions, lib
from .hierarchy import Hierarchy

_COLUMNS = ("from_code", "from_name", "to_code", "to_name", "share", "how")


def _str(b):
    return None if b is None else b.decode("utf-8")


class Crosswalk(Owner):
    """Which region of an old hierarchy became which of a new one.

    ``len(cw)`` rows; iterating gives one dict a row with ``from_code``,
    ``from_name``, ``to_code``, ``to_name``, ``share`` (None where not
    given: a split left open, an unmatched region) and ``how`` (same,
    renamed, recoded, merged, split, unmatched, given). ``cw[code]`` is the
    list of an old code's rows (KeyError when it has none).
    docs/crosswalk.md has the rules."""

    def __init__(self, ptr: Any) -> None:
        self._handle = Handle(ptr, lib.tally_crosswalk_free, "Crosswalk")

    @classmethod
    def infer(cls, from_h: Hierarchy, to_h: Hierarchy) -> Crosswalk:
        """Infers the crosswalk from hierarchy ``from_h`` (old) to ``to_h``
        (new); both are only read during the call."""
        out = CW()
        opts = CrosswalkOptions(CrosswalkOptions.VERSION)
        lib.tally_crosswalk_infer(ctypes.byref(out), from_h._ptr, to_h._ptr, ctypes.byref(opts))
        return cls(out)

    @classmethod
    def from_csv(cls, path: PathArg, to: Optional[Hierarchy] = None) -> Crosswalk:
        """Reads a crosswalk CSV (``from_code,to_code,share``; how and names
        may be there too). With ``to``, the new hierarchy, every to_code is
        checked against it. Raises :class:`tally.Error` subclasses with the
        path, line and column of the problem (shares not summing to 1,
        chains, unknown codes)."""
        out = CW()
        lib.tally_crosswalk_from_file(ctypes.byref(out), fspath(path),
                                      to._ptr if to is not None else None)
        return cls(out)

    def __len__(self) -> int:
        return lib.tally_crosswalk_size(self._ptr)

    def _row(self, i):
        p = self._ptr
        share = lib.tally_crosswalk_share(p, i)
        return {
            "from_code": _str(lib.tally_crosswalk_from_code(p, i)),
            "from_name": _str(lib.tally_crosswalk_from_name(p, i)),
            "to_code": _str(lib.tally_crosswalk_to_code(p, i)),
            "to_name": _str(lib.tally_crosswalk_to_name(p, i)),
            "share": None if math.isnan(share) else share,
            "how": _str(lib.tally_crosswalk_kind_name(lib.tally_crosswalk_how(p, i))),
        }

    def __iter__(self) -> Iterator[Dict[str, Any]]:
        for i in range(len(self)):
            yield self._row(i)

    def __getitem__(self, code: str) -> List[Dict[str, Any]]:
        b = code.encode("utf-8")
        first, count = c_size_t(), c_size_t()
        if lib.tally_crosswalk_find(self._ptr, b, len(b), ctypes.byref(first),
                                    ctypes.byref(count)) != 0:
            raise KeyError(code)
        return [self._row(first.value + k) for k in range(count.value)]

    def counts(self) -> Dict[str, Dict[str, int]]:
        """{level name: {how: number of old regions}}."""
        p = self._ptr
        out = {}
        for lv in range(lib.tally_crosswalk_level_count(p)):
            out[_str(lib.tally_crosswalk_level_name(p, lv))] = {
                _str(lib.tally_crosswalk_kind_name(k)): lib.tally_crosswalk_count(p, lv, k)
                for k in range(6)}
        return out

    def to_csv(self, path: PathArg) -> None:
        """Writes the crosswalk as CSV (from_code,from_name,to_code,to_name,share,how)."""
        lib.tally_crosswalk_write(self._ptr, fspath(path))

    def to_pandas(self) -> Any:
        """The rows as a pandas DataFrame (pandas must be installed)."""
        import pandas as pd
        return pd.DataFrame(list(self), columns=list(_COLUMNS))

    def __repr__(self):
        if self.closed:
            return "<tally.Crosswalk (closed)>"
        return f"<tally.Crosswalk: {len(self)} rows>"
