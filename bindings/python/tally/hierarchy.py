"""Regions in pre-order, looked up by code."""

from __future__ import annotations

import csv
import ctypes
import io
from ctypes import c_char_p, c_size_t
from typing import Any, Iterator, List, Optional, Sequence, Tuple, Union

from . import _errors
from ._common import PathArg, encoding_arg, fspath
from ._handle import Handle, Owner
from ._lib import NONE, H, HierarchyOptions, lib
from .definitions import Definitions


def _options(levels, encoding, definitions):
    opts = HierarchyOptions(HierarchyOptions.VERSION, None, 0, encoding_arg(encoding), 0, 0,
                            None)
    if definitions is not None:
        if not isinstance(definitions, Definitions):
            raise TypeError(f"definitions: expected a tally.Definitions, got "
                            f"{type(definitions).__name__}")
        opts.definitions = definitions._ptr  # its levels are copied during the call
    if levels is None:
        return opts
    if isinstance(levels, str):
        raise TypeError("levels: expected a list of level names, top first, not a string")
    names = [str(n).encode("utf-8") for n in levels]
    if names:  # Definitions.levels is [] when the file names none: the defaults
        arr = (c_char_p * len(names))(*names)
        opts.level_names, opts.level_count = arr, len(names)
        opts._keep = arr  # the array must live as long as the struct
    return opts


class Region:
    """One region: code, name, level (its name), parent_code (None for a
    root) and index (its pre-order position in the hierarchy)."""

    __slots__ = ("code", "name", "level", "parent_code", "index")

    def __init__(self, code: str, name: str, level: str, parent_code: Optional[str],
                 index: int) -> None:
        self.code = code
        self.name = name
        self.level = level
        self.parent_code = parent_code
        self.index = index

    def __repr__(self):
        return (f"Region(code={self.code!r}, name={self.name!r}, level={self.level!r}, "
                f"parent_code={self.parent_code!r})")

    def __eq__(self, other):
        if not isinstance(other, Region):
            return NotImplemented
        return (self.code, self.name, self.level, self.parent_code, self.index) == \
            (other.code, other.name, other.level, other.parent_code, other.index)

    def __hash__(self):
        return hash((self.code, self.index))


def _str(b):
    return None if b is None else b.decode("utf-8")


def node_tables(handle):
    """Per-node codes, names and level indices of a hierarchy handle, and
    its level names, read once and kept on the handle (they never change)."""
    tables = handle.cache.get("nodes")
    if tables is None:
        p = handle.ptr
        n = lib.tally_hierarchy_size(p)
        code, name, level = lib.tally_hierarchy_code, lib.tally_hierarchy_name, \
            lib.tally_hierarchy_level
        codes = [_str(code(p, i)) for i in range(n)]
        names = [_str(name(p, i)) for i in range(n)]
        levels = [level(p, i) for i in range(n)]
        level_names = [_str(lib.tally_hierarchy_level_name(p, k))
                       for k in range(lib.tally_hierarchy_level_count(p))]
        tables = handle.cache["nodes"] = (codes, names, levels, level_names)
    return tables


def find_node(hptr, code):
    """Pre-order index of a region code; NotFoundError when unknown."""
    if not isinstance(code, str):
        raise TypeError(f"region code: expected str, got {type(code).__name__}")
    b = code.encode("utf-8")
    index = c_size_t()
    lib.tally_hierarchy_find(hptr, b, len(b), ctypes.byref(index))
    return index.value


class Hierarchy(Owner):
    """A hierarchy of regions (read-only once loaded; may be shared by threads).

    ``len(h)`` regions, ``h[code]`` a :class:`Region` (``KeyError``, in fact
    :class:`tally.NotFoundError`, for an unknown code), ``code in h``,
    iteration in pre-order, ``h.children(code)``, ``h.levels``.
    """

    def __init__(self, ptr: Any) -> None:
        self._handle = Handle(ptr, lib.tally_hierarchy_free, "Hierarchy")

    @classmethod
    def from_csv(cls, path: PathArg, levels: Optional[Sequence[str]] = None,
                 encoding: Optional[str] = None,
                 definitions: Optional[Definitions] = None) -> Hierarchy:
        """Reads a hierarchy CSV (``code,name[,level][,parent_code]``).

        ``levels``: level names, top first (None or []: province, city,
        county, town, village). ``definitions``: a :class:`tally.Definitions`
        whose ``levels:`` are the level names (the defaults when it has
        none); give it or ``levels``, not both (:class:`tally.InvalidError`).
        ``encoding``: the file's encoding when it is not UTF-8, an iconv
        name such as ``"gb18030"``. Raises :class:`tally.Error` subclasses
        with the path, line and column of the first problem."""
        out = H()
        lib.tally_hierarchy_from_file(ctypes.byref(out), fspath(path),
                                      _options(levels, encoding, definitions))
        return cls(out)

    @classmethod
    def from_bytes(cls, data: Union[bytes, str], name: str = "<bytes>",
                   levels: Optional[Sequence[str]] = None, encoding: Optional[str] = None,
                   definitions: Optional[Definitions] = None) -> Hierarchy:
        """Same as :meth:`from_csv`, from memory; ``name`` stands for the
        path in error messages."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        data = bytes(data)
        out = H()
        lib.tally_hierarchy_from_buffer(ctypes.byref(out), data, len(data),
                                        name.encode("utf-8"),
                                        _options(levels, encoding, definitions))
        return cls(out)

    def __len__(self) -> int:
        return lib.tally_hierarchy_size(self._ptr)

    def _region(self, i):
        p = self._ptr
        parent = lib.tally_hierarchy_parent(p, i)
        level = lib.tally_hierarchy_level(p, i)
        return Region(_str(lib.tally_hierarchy_code(p, i)), _str(lib.tally_hierarchy_name(p, i)),
                      _str(lib.tally_hierarchy_level_name(p, level)),
                      None if parent == NONE else _str(lib.tally_hierarchy_code(p, parent)), i)

    def __getitem__(self, code: str) -> Region:
        return self._region(find_node(self._ptr, code))

    def __contains__(self, code: object) -> bool:
        try:
            find_node(self._ptr, code)
        except (_errors.NotFoundError, TypeError):
            return False
        return True

    def __iter__(self) -> Iterator[Region]:
        for i in range(len(self)):
            yield self._region(i)

    def region(self, index: int) -> Region:
        """The region at a pre-order index."""
        if not 0 <= index < len(self):
            raise IndexError(f"region index {index} out of range 0..{len(self) - 1}")
        return self._region(index)

    def children(self, code: str) -> List[Region]:
        """The regions directly below ``code``, in pre-order."""
        p = self._ptr
        i = find_node(p, code)
        end = lib.tally_hierarchy_subtree_end(p, i)
        out = []
        j = i + 1
        while j < end:  # a child's subtree is contiguous: skip over it
            out.append(self._region(j))
            j = lib.tally_hierarchy_subtree_end(p, j)
        return out

    def descendants(self, code: str) -> List[Region]:
        """Every region below ``code`` (not itself), in pre-order."""
        p = self._ptr
        i = find_node(p, code)
        return [self._region(j) for j in range(i + 1, lib.tally_hierarchy_subtree_end(p, i))]

    @property
    def levels(self) -> List[str]:
        """Level names, top first."""
        p = self._ptr
        return [_str(lib.tally_hierarchy_level_name(p, k))
                for k in range(lib.tally_hierarchy_level_count(p))]

    def to_csv_text(self) -> str:
        """The hierarchy as CSV text (``code,name,level,parent_code``, in
        pre-order), which :meth:`from_bytes` with ``levels=h.levels`` reads
        back into the same hierarchy. It is what a pickle holds."""
        codes, names, levels, level_names = node_tables(self._handle)
        p = self._ptr
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        w.writerow(("code", "name", "level", "parent_code"))
        for i in range(len(codes)):
            parent = lib.tally_hierarchy_parent(p, i)
            w.writerow((codes[i], names[i], level_names[levels[i]],
                        "" if parent == NONE else codes[parent]))
        return out.getvalue()

    def __reduce__(self) -> Tuple[Any, ...]:
        # By value: the CSV text and the level names (a worker rebuilds it).
        return (_hierarchy_from_pickle, (self.to_csv_text(), self.levels))

    def __repr__(self):
        if self.closed:
            return "<tally.Hierarchy (closed)>"
        return f"<tally.Hierarchy: {len(self)} regions>"


def _hierarchy_from_pickle(text: str, levels: List[str]) -> Hierarchy:
    return Hierarchy.from_bytes(text.encode("utf-8"), name="<pickled hierarchy>", levels=levels)
