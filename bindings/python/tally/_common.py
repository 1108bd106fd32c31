"""Argument conversions and option building shared by the modules.

Everything here sits just above ``_lib`` and below every public module, so
that the modules share these helpers without importing each other.
"""

import math
import os
from ctypes import c_int
from typing import Sequence, Union

from . import _errors
from ._guard import check_text
from ._lib import FORMAT_CSV, FORMAT_JSON, PREFER_COMPUTED, PREFER_REPORTED, WriteOptions, lib

#: A path argument: str, bytes or os.PathLike.
PathArg = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]
#: A name, a sequence of names, or None (all of them).
Names = Union[str, Sequence[str], None]

PREFER = {"computed": PREFER_COMPUTED, "reported": PREFER_REPORTED}


def choice(what, value, table):
    try:
        return table[value]
    except (KeyError, TypeError):
        names = ", ".join(repr(k) for k in table if k is not None and k != "none")
        raise ValueError(f"{what}={value!r}: expected one of {names}") from None


def enc(s, what):
    if not isinstance(s, str):
        raise TypeError(f"{what}: expected str, got {type(s).__name__}")
    return check_text(s, what).encode("utf-8")


def opt(x):
    """A double from the library: NaN (missing) as None."""
    return None if math.isnan(x) else x


def fspath(path):
    """A path (str, bytes or os.PathLike) as bytes for the C side; a NUL
    inside is ValueError (the C side would open the path before it)."""
    b = os.fsencode(path)
    if b"\0" in b:
        before = os.fsdecode(b.split(b"\0", 1)[0])
        raise ValueError(f"path: holds a NUL character after {before!r}; "
                         "the library would open the path before it")
    return b


def encoding_arg(encoding):
    """The encoding option: None (UTF-8) or an iconv name such as "gb18030"."""
    if encoding is None:
        return None
    if not isinstance(encoding, str):
        raise TypeError(f"encoding: expected str, got {type(encoding).__name__}")
    return check_text(encoding, "encoding").encode("ascii")


def to_bytes(data):
    """bytes for a reader from memory (a str is encoded as UTF-8)."""
    return data.encode("utf-8") if isinstance(data, str) else bytes(data)


def as_list(x):
    """None, one name, or a list of names as None or a list."""
    return None if x is None else [x] if isinstance(x, str) else list(x)


def select_levels(hptr, level):
    """Level indices for a level name or list of names (None: every level)."""
    names = as_list(level)
    if names is None:
        return None
    out = set()
    for name in names:
        k = lib.tally_hierarchy_level_find(hptr, str(name).encode("utf-8"))
        if k < 0:
            known = ", ".join(lib.tally_hierarchy_level_name(hptr, i).decode()
                              for i in range(lib.tally_hierarchy_level_count(hptr)))
            raise _errors.NotFoundError(_errors.ENOTFOUND,
                                        f"level '{name}' is not a level; expected one of {known}")
        out.add(k)
    return out


def _format(format):
    fmt = {"csv": FORMAT_CSV, "json": FORMAT_JSON}.get(format)
    if fmt is None:
        raise ValueError(f"format={format!r}: expected 'csv' or 'json'")
    return fmt


def write_options(hptr, format, level, all_regions=False):
    """WriteOptions for format and level (the level array kept on it);
    all_regions: every region, else only those with data (docs/output.md)."""
    opts = WriteOptions(WriteOptions.VERSION, _format(format), None, 0)
    opts.all_regions = 1 if all_regions else 0
    want = select_levels(hptr, level)
    if want is not None:
        arr = (c_int * len(want))(*sorted(want))
        opts.levels, opts.level_count = arr, len(want)
        opts._keep = arr
    return opts
