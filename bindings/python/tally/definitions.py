"""Indicator definitions, read from YAML."""

from __future__ import annotations

import ctypes
import math
import os
from ctypes import c_size_t
from typing import Any, Iterator, List, Optional, Tuple, Union

from ._common import PathArg, fspath
from ._handle import Handle, Owner
from ._lib import D, lib

AGGREGATES = ("sum", "mean", "min", "max", "count", "formula")
OVER_TIME = ("flow", "cumulative", "stock")
DIRECTIONS = ("higher_is_better", "lower_is_better")


def _str(b):
    return None if b is None else b.decode("utf-8")


class Indicator:
    """One indicator as defined: id, name, unit, decimals, aggregate
    (``sum``/``mean``/``min``/``max``/``count``/``formula``), over_time
    (``flow``/``cumulative``/``stock``; None for a formula), direction,
    exact, formula (None for a reported indicator), min and max (None where
    not given), index (position in the file)."""

    __slots__ = ("id", "name", "unit", "decimals", "aggregate", "over_time", "direction",
                 "exact", "formula", "min", "max", "index")
    id: str
    name: str
    unit: Optional[str]
    decimals: int
    aggregate: Optional[str]
    over_time: Optional[str]
    direction: str
    exact: bool
    formula: Optional[str]
    min: Optional[float]
    max: Optional[float]
    index: int

    def __init__(self, **kw: Any) -> None:
        for k in self.__slots__:
            setattr(self, k, kw[k])

    def __repr__(self):
        return f"Indicator(id={self.id!r}, name={self.name!r}, unit={self.unit!r})"


def _bound(x):
    return None if math.isnan(x) else x


def find_indicator(dptr, indicator):
    """Index of an indicator id; NotFoundError when unknown."""
    if not isinstance(indicator, str):
        raise TypeError(f"indicator: expected str, got {type(indicator).__name__}")
    b = indicator.encode("utf-8")
    index = c_size_t()
    lib.tally_definitions_find(dptr, b, len(b), ctypes.byref(index))
    return index.value


def indicator_info(dptr, i):
    formula = _str(lib.tally_definitions_formula(dptr, i))
    agg = lib.tally_definitions_aggregate(dptr, i)
    return Indicator(
        id=_str(lib.tally_definitions_id(dptr, i)),
        name=_str(lib.tally_definitions_name(dptr, i)),
        unit=_str(lib.tally_definitions_unit(dptr, i)),
        decimals=lib.tally_definitions_decimals(dptr, i),
        aggregate=AGGREGATES[agg] if 0 <= agg < len(AGGREGATES) else None,
        over_time=None if formula is not None else OVER_TIME[lib.tally_definitions_over_time(dptr, i)],
        direction=DIRECTIONS[lib.tally_definitions_direction(dptr, i)],
        exact=bool(lib.tally_definitions_exact(dptr, i)),
        formula=formula,
        min=_bound(lib.tally_definitions_min(dptr, i)),
        max=_bound(lib.tally_definitions_max(dptr, i)),
        index=i)


def indicator_tables(handle):
    """Ids and decimals of every indicator of a definitions handle, read once."""
    tables = handle.cache.get("indicators")
    if tables is None:
        p = handle.ptr
        n = lib.tally_definitions_indicator_count(p)
        tables = handle.cache["indicators"] = (
            [_str(lib.tally_definitions_id(p, i)) for i in range(n)],
            [lib.tally_definitions_decimals(p, i) for i in range(n)],
            [_str(lib.tally_definitions_unit(p, i)) for i in range(n)])
    return tables


class Definitions(Owner):
    """Indicator definitions (read-only once loaded; may be shared by threads).

    ``len(d)`` indicators, ``d[id]`` an :class:`Indicator`, ``id in d``,
    iteration in file order, ``d.ids``, ``d.levels``.
    """

    def __init__(self, ptr: Any, source: Optional[Tuple[bytes, str]] = None) -> None:
        self._handle = Handle(ptr, lib.tally_definitions_free, "Definitions")
        # The YAML text and its name, kept for pickling.
        self._source = source

    @classmethod
    def from_yaml(cls, path: PathArg) -> Definitions:
        """Reads a definitions YAML file. Raises :class:`tally.Error`
        subclasses with the path, line and column of the first problem."""
        try:
            with open(path, "rb") as f:  # kept: a pickle holds the text
                data = f.read()
        except OSError:
            data = None
        out = D()
        if data is None:  # the library says what is wrong with the path
            lib.tally_definitions_from_file(ctypes.byref(out), fspath(path))
            return cls(out)
        name = os.fsdecode(path)
        lib.tally_definitions_from_buffer(ctypes.byref(out), data, len(data),
                                          name.encode("utf-8"))
        return cls(out, (data, name))

    @classmethod
    def from_string(cls, text: Union[str, bytes], name: str = "<string>") -> Definitions:
        """Same as :meth:`from_yaml`, from a string (or UTF-8 bytes);
        ``name`` stands for the path in error messages."""
        data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
        out = D()
        lib.tally_definitions_from_buffer(ctypes.byref(out), data, len(data),
                                          name.encode("utf-8"))
        return cls(out, (data, name))

    def __len__(self) -> int:
        return lib.tally_definitions_indicator_count(self._ptr)

    def __getitem__(self, indicator: str) -> Indicator:
        p = self._ptr
        return indicator_info(p, find_indicator(p, indicator))

    def __contains__(self, indicator: object) -> bool:
        return isinstance(indicator, str) and indicator in self.ids

    def __iter__(self) -> Iterator[Indicator]:
        p = self._ptr
        for i in range(len(self)):
            yield indicator_info(p, i)

    @property
    def ids(self) -> List[str]:
        """Indicator ids, in file order."""
        p = self._ptr
        return [_str(lib.tally_definitions_id(p, i)) for i in range(len(self))]

    @property
    def levels(self) -> List[str]:
        """Level names from ``levels:`` ([] when the file has none)."""
        p = self._ptr
        return [_str(lib.tally_definitions_level_name(p, i))
                for i in range(lib.tally_definitions_level_count(p))]

    @property
    def source(self) -> str:
        """The YAML text the definitions were read from."""
        self._ptr
        assert self._source is not None
        return self._source[0].decode("utf-8", "replace")

    def __reduce__(self) -> Tuple[Any, ...]:
        # By value: the YAML text and its name (a worker reads it again).
        self._ptr
        assert self._source is not None
        return (_definitions_from_pickle, self._source)

    def __repr__(self):
        if self.closed:
            return "<tally.Definitions (closed)>"
        return f"<tally.Definitions: {', '.join(self.ids)}>"


def _definitions_from_pickle(data: bytes, name: str) -> Definitions:
    return Definitions.from_string(data, name=name)
