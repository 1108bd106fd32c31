"""The same figures on a Dask cluster: records or households read by the
workers part by part, each part made a partial (the C library's
tally/partial.h), the partials merged in a tree on the workers, and the
merged partial finished on the client into the ordinary
:class:`tally.Result` or :class:`tally.Poverty`.

    from distributed import Client
    import tally, tally.dask
    client = Client("scheduler:8786")
    h = tally.Hierarchy.from_csv("regions.csv")
    d = tally.Definitions.from_yaml("indicators.yaml")
    r = tally.dask.rollup(client, h, d, ["records-43.csv", "records-44.csv"])
    r.write("rollup.csv")            # what `tally rollup` prints on both files
    f = tally.dask.check(client, h, d, ["records-43.csv", "records-44.csv"])
    f.to_csv("check.csv")            # what `tally check` prints on both files

``parts`` is a list of files (records CSV, or snapshots from ``tally
snapshot``; households CSV for :func:`poverty`) or a ``dask.dataframe``
(records: columns region_code, indicator, period, value; households:
household_id, region_code, size, income_per_capita[, weight][, year]).
Part i is the i-th file or partition: one process reading the parts in that
order gives the same figures, whatever the parts are (a region's months or
a ratio's numerator and denominator may be in different parts). A cell
given in two parts is a duplicate as one process finds it: the earlier
part's value is kept; with ``on_error="stop"`` (the default) it raises
:class:`tally.DuplicateError`, with ``"collect"`` the result's
``duplicates`` lists them. See docs/partials.md.

``hierarchy`` and ``definitions`` are the objects (pickled once and sent
to every worker) or the paths of their files, which every worker then reads
once itself (cheaper for the national table: pickling its 665,271 regions
takes seconds). Every worker needs the library and this package (and
``TALLY_LIBRARY`` in its environment when the library is not installed),
and the files it is given at the same paths.
"""

from __future__ import annotations

import ctypes
import os
from ctypes import c_char_p, c_size_t, c_void_p
from typing import Any, Dict, List, Optional, Tuple

from . import _errors
from ._common import Names, PREFER, choice, enc, fspath
from ._handle import Handle
from ._lib import (DS, PT, PV, R, RJ, PovertyOptions, RollupOptions, lib)
from .check import Findings
from .dataset import _COMPARE, Dataset
from .definitions import Definitions
from .hierarchy import Hierarchy
from .period import Period
from .poverty import Households, Poverty
from .rejects import Rejected, RejectedRows, _str
from .result import Result

__all__ = ["rollup", "check", "dataset", "poverty", "partial_bytes", "merge_bytes"]

RECORDS, HOUSEHOLDS = 1, 2


# ---- on the workers ----

def _save(p) -> bytes:
    buf, size = c_void_p(), c_size_t()
    try:
        lib.tally_partial_save_buffer(p, ctypes.byref(buf), ctypes.byref(size))
        return ctypes.string_at(buf.value or 0, size.value) if size.value else b""
    finally:
        lib.tally_free(buf)
        lib.tally_partial_free(p)


def _load(data: bytes, hierarchy: Hierarchy, definitions: Optional[Definitions]):
    out = PT()
    lib.tally_partial_load_buffer(ctypes.byref(out), data, len(data), hierarchy._ptr,
                                  definitions._ptr if definitions is not None else None)
    return out


def partial_bytes(kind: int, part: Any, source: int, hierarchy: Hierarchy,
                  definitions: Optional[Definitions], on_error: str = "stop") -> bytes:
    """The partial of one part (a path or a pandas DataFrame) as bytes.
    ``kind`` 1: records, 2: households. Bad rows raise (``on_error="stop"``)
    or are left out (``"collect"``), as in :meth:`tally.Dataset.read_records`."""
    out = PT()
    if kind == RECORDS:
        if definitions is None:
            raise TypeError("a records partial needs the definitions")
        with Dataset(hierarchy, definitions) as ds:
            if isinstance(part, (str, os.PathLike)) and _is_snapshot(part):
                ds.load(part)
            elif isinstance(part, (str, os.PathLike)):
                ds.read_records(part, on_error=on_error)
            else:
                _add_frame(ds, part, on_error)
            lib.tally_partial_from_dataset(ctypes.byref(out), ds._ptr, source)
    else:
        with Households(hierarchy) as hh:
            if isinstance(part, (str, os.PathLike)):
                hh.read_csv(part, on_error=on_error)
            else:
                hh.read_bytes(part.to_csv(index=False), name=f"<partition {source}>",
                              on_error=on_error)
            lib.tally_partial_from_households(ctypes.byref(out), hh._ptr, source)
    return _save(out)


def _is_snapshot(path: Any) -> bool:
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError:
        return False  # the reader says why
    return bool(lib.tally_snapshot_is(head, len(head)))


def _add_frame(ds: Dataset, frame: Any, on_error: str) -> None:
    if on_error == "stop" or len(frame) == 0:
        if len(frame):
            ds.add(frame)
        return
    # collect: through the records reader, which collects bad rows.
    cols = ["region_code", "indicator", "period", "value"]
    ds.read_bytes(frame[cols].to_csv(index=False), name="<partition>", on_error=on_error)


def merge_bytes(hierarchy: Hierarchy, definitions: Optional[Definitions],
                *parts: bytes) -> bytes:
    """The merge of partials given as bytes, as bytes."""
    into = _load(parts[0], hierarchy, definitions)
    try:
        for data in parts[1:]:
            other = _load(data, hierarchy, definitions)
            try:
                lib.tally_partial_merge(into, other)
            finally:
                lib.tally_partial_free(other)
    except BaseException:
        lib.tally_partial_free(into)
        raise
    return _save(into)


# ---- on the client ----

def _parts(client: Any, parts: Any) -> List[Any]:
    """The parts as paths or futures of pandas frames, in order."""
    if hasattr(parts, "to_delayed"):  # a dask.dataframe
        return list(client.compute(parts.to_delayed()))
    if isinstance(parts, (str, os.PathLike)):
        parts = [parts]
    out = [fspath(p) if isinstance(p, os.PathLike) else p for p in parts]
    if not out:
        raise ValueError("no parts: expected a list of files or a dask.dataframe")
    return out


# Hierarchies and definitions a worker process read from files, by
# (paths, modification times): each worker reads the files once.
_MODELS: Dict[Tuple[Any, ...], Tuple[Hierarchy, Optional[Definitions]]] = {}


def _model(spec: Tuple[Any, ...]) -> Tuple[Hierarchy, Optional[Definitions]]:
    """The hierarchy and definitions of a spec: ("objects", h, d) as sent,
    or ("files", hierarchy path, definitions path or None)."""
    if spec[0] == "objects":
        return spec[1], spec[2]
    key = tuple(spec) + tuple(os.stat(p).st_mtime_ns for p in spec[1:] if p)
    if key not in _MODELS:
        d = Definitions.from_yaml(spec[2]) if spec[2] else None
        _MODELS[key] = (Hierarchy.from_csv(spec[1], definitions=d), d)
    return _MODELS[key]


def _partial_task(kind: int, part: Any, source: int, spec: Tuple[Any, ...],
                  on_error: str) -> bytes:
    h, d = _model(spec)
    return partial_bytes(kind, part, source, h, d, on_error)


def _merge_task(spec: Tuple[Any, ...], *parts: bytes) -> bytes:
    h, d = _model(spec)
    return merge_bytes(h, d, *parts)


def _client_model(hierarchy: Any,
                  definitions: Any) -> Tuple[Hierarchy, Optional[Definitions], Any]:
    """The objects the client finishes with, and what the workers get: the
    files' paths when the model was given as paths (each worker reads them
    once), else the objects, pickled once and sent to every worker."""
    files = isinstance(hierarchy, (str, os.PathLike))
    if files != (definitions is None or isinstance(definitions, (str, os.PathLike))):
        raise TypeError("hierarchy and definitions: give both as paths or both as objects")
    if files:
        hp = fspath(hierarchy)
        dp = fspath(definitions) if definitions is not None else None
        d = Definitions.from_yaml(dp) if dp else None
        h = Hierarchy.from_csv(hp, definitions=d)
        return h, d, ("files", os.path.abspath(hp), os.path.abspath(dp) if dp else None)
    return hierarchy, definitions, None


def _reduce(client: Any, kind: int, parts: Any, spec: Any, on_error: str,
            split_every: int) -> bytes:
    if split_every < 2:
        raise ValueError(f"split_every={split_every}: expected 2 or more")
    items = _parts(client, parts)
    if spec is None:
        raise ValueError("no model")
    if spec[0] == "objects":
        # The model goes to every worker once, not with every task.
        spec = ("objects", *client.scatter(list(spec[1:]), broadcast=True))
    futures = [client.submit(_partial_task, kind, p, i, spec, on_error, pure=False)
               for i, p in enumerate(items)]
    while len(futures) > 1:  # a tree of merges, split_every partials a node
        futures = [client.submit(_merge_task, spec, *futures[j:j + split_every], pure=False)
                   for j in range(0, len(futures), split_every)]
    return futures[0].result()


def _duplicates(rj) -> RejectedRows:
    out = RejectedRows()
    for i in range(lib.tally_rejects_count(rj)):
        out.append(Rejected(_str(lib.tally_rejects_path(rj, i)), lib.tally_rejects_line(rj, i),
                            lib.tally_rejects_column(rj, i), lib.tally_rejects_code(rj, i),
                            _str(lib.tally_rejects_reason(rj, i)), _str(lib.tally_rejects_row(rj, i))))
    return out


def _finish(data: bytes, hierarchy: Hierarchy, definitions: Optional[Definitions], call,
            on_error: str) -> Tuple[Any, RejectedRows]:
    p = _load(data, hierarchy, definitions)
    rj = RJ()
    lib.tally_rejects_new(ctypes.byref(rj))
    try:
        out = call(p, rj)
        dups = _duplicates(rj)
    finally:
        lib.tally_rejects_free(rj)
        lib.tally_partial_free(p)
    if dups and on_error == "stop":
        first = dups[0]
        raise _errors.make_error(first.code, f"{first.path}: {first.reason} (with "
                                 "on_error='collect' the earlier part's value is kept)")
    return out, dups


def rollup(client: Any, hierarchy: Any, definitions: Any, records: Any,
           prefer: str = "computed", periods: Names = None, compare: Optional[str] = None,
           coverage: bool = False, on_error: str = "stop", split_every: int = 8) -> Result:
    """:meth:`tally.Dataset.rollup` of the records in ``records`` (a list of
    files or a ``dask.dataframe``), computed on ``client``'s workers part by
    part and merged there; the :class:`tally.Result` is the one one process
    gives for all the parts read in order. Options as for
    :meth:`tally.Dataset.rollup`; ``split_every``: partials merged by one
    task. With ``on_error="collect"``, bad rows of a part are left out as
    the reader leaves them out, and ``result.duplicates`` lists the cells
    given in two parts."""
    choice("on_error", on_error, {"stop": 0, "collect": 1})
    opts = RollupOptions(RollupOptions.VERSION, choice("prefer", prefer, PREFER),
                         choice("compare", compare, _COMPARE), None, 0, int(bool(coverage)))
    if periods is not None:
        if isinstance(periods, (str, Period)):
            periods = [periods]
        ps = [str(p) if isinstance(p, Period) else p for p in periods]
        arr = (c_char_p * len(ps))(*[enc(p, "period") for p in ps])
        opts.periods, opts.period_count = arr, len(ps)
    hierarchy, definitions, spec = _client_model(hierarchy, definitions)
    if spec is None:
        spec = ("objects", hierarchy, definitions)
    data = _reduce(client, RECORDS, records, spec, on_error, split_every)
    assert definitions is not None

    def call(p, rj):
        out = R()
        lib.tally_partial_rollup(ctypes.byref(out), p, ctypes.byref(opts), rj)
        return Result(out, (hierarchy._handle, definitions._handle))

    result, dups = _finish(data, hierarchy, definitions, call, on_error)
    result.duplicates = dups
    return result


def dataset(client: Any, hierarchy: Any, definitions: Any, records: Any,
            on_error: str = "stop", split_every: int = 8) -> Dataset:
    """The :class:`tally.Dataset` one process would have read from all the
    parts in order: the records in ``records`` (a list of files or a
    ``dask.dataframe``) made partials and merged on ``client``'s workers as
    :func:`rollup` does, and the merged partial finished on the client into
    a dataset holding every cell (``tally_partial_dataset``). Anything run
    on a dataset runs on it as on one process's; it holds the values of the
    whole input, so it must fit in the client's memory (a column of 8 bytes
    a region for each indicator and period filed). ``on_error`` and the
    duplicates (``dataset.duplicates``) as for :func:`rollup`."""
    choice("on_error", on_error, {"stop": 0, "collect": 1})
    hierarchy, definitions, spec = _client_model(hierarchy, definitions)
    if spec is None:
        spec = ("objects", hierarchy, definitions)
    data = _reduce(client, RECORDS, records, spec, on_error, split_every)
    assert definitions is not None

    def call(p, rj):
        out = DS()
        lib.tally_partial_dataset(ctypes.byref(out), p, rj)
        ds = Dataset.__new__(Dataset)
        ds.hierarchy, ds.definitions, ds._changes = hierarchy, definitions, 0
        ds._handle = Handle(out, lib.tally_dataset_free, "Dataset",
                            (hierarchy._handle, definitions._handle))
        return ds

    ds, dups = _finish(data, hierarchy, definitions, call, on_error)
    ds.duplicates = dups
    return ds


def check(client: Any, hierarchy: Any, definitions: Any, records: Any,
          periods: Names = None, prefer: str = "computed", targets: Any = None,
          on_error: str = "stop", split_every: int = 8) -> Findings:
    """:meth:`tally.Dataset.check` of the records in ``records`` (a list of
    files or a ``dask.dataframe``): the parts made partials and merged on
    ``client``'s workers, then every check run on the client on the merged
    data (:func:`dataset`), so the findings are the ones one process gives
    for all the parts read in order (``findings.to_csv`` writes what
    ``tally check`` prints). A check compares a region's reported figure
    with what its children give, which needs the reports of every level at
    once: the reading and the merging are spread over the workers, the
    checking is not. ``periods``, ``prefer`` and ``targets`` as for
    :meth:`tally.Dataset.check`; ``on_error`` and ``findings.duplicates``
    as for :func:`rollup`."""
    with dataset(client, hierarchy, definitions, records, on_error=on_error,
                 split_every=split_every) as ds:
        findings = ds.check(periods=periods, prefer=prefer, targets=targets)
        findings.duplicates = ds.duplicates
    return findings


def poverty(client: Any, hierarchy: Any, definitions: Any,
            households: Any, year: Optional[int] = None, line: Optional[float] = None,
            monitoring_line: Optional[float] = None, on_error: str = "stop",
            split_every: int = 8) -> Poverty:
    """:meth:`tally.Households.poverty` of the households in ``households``
    (a list of households CSV files or a ``dask.dataframe``), read on the
    workers part by part; the :class:`tally.Poverty` is the one one process
    gives reading the parts in order (``tally poverty --households`` with
    the files in that order), to the last bit. A household whose id and
    year an earlier part gave is dropped as one process drops it (raises
    with ``on_error="stop"``; listed in ``result.duplicates`` with
    ``"collect"``)."""
    choice("on_error", on_error, {"stop": 0, "collect": 1})
    opts = PovertyOptions(PovertyOptions.VERSION, int(year or 0), float(line or 0.0),
                          float(monitoring_line or 0.0))
    hierarchy, definitions, spec = _client_model(hierarchy, definitions)
    if spec is None:
        spec = ("objects", hierarchy, None)
    data = _reduce(client, HOUSEHOLDS, households, spec, on_error, split_every)

    def call(p, rj):
        out = PV()
        lib.tally_partial_poverty(ctypes.byref(out), p,
                                  definitions._ptr if definitions is not None else None,
                                  ctypes.byref(opts), rj)
        return Poverty(out, hierarchy._handle)

    result, dups = _finish(data, hierarchy, None, call, on_error)
    result.duplicates = dups
    return result
