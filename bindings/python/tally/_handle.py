"""Ownership of C handles.

Every C object is owned by exactly one :class:`Handle`, which frees it
exactly once. Some objects borrow others (a dataset borrows its hierarchy and
definitions; a result borrows them too), so a handle keeps its parents'
handles, and a parent is freed only once it is closed *and* no open child
still uses it. That makes ``close()`` and ``with`` blocks safe in any order:

    with tally.Hierarchy.from_csv(p) as h, tally.Definitions.from_yaml(y) as d:
        ds = tally.Dataset(h, d)
    ds.rollup()   # h and d are closed, but freed only when ds is

When a Python object is garbage collected without ``close()``, a
``weakref.finalize`` frees its handle (children before the parents they
keep alive), and at interpreter exit the remaining ones are freed in reverse
order of creation.
"""

import weakref
from typing import Any


def _release(ptr, free, parents):
    free(ptr)
    for p in parents:
        p._child_gone()


class Handle:
    __slots__ = ("ptr", "_kind", "_parents", "_children", "_closed", "_finalizer", "cache",
                 "__weakref__")

    def __init__(self, ptr, free, kind, parents=()):
        self.ptr = ptr
        self._kind = kind
        self._parents = tuple(parents)
        self._children = 0
        self._closed = False
        self.cache = {}
        for p in self._parents:
            p._children += 1
        # The finalizer holds the parents (not self), so they outlive this
        # handle even when their own Python objects are gone.
        self._finalizer = weakref.finalize(self, _release, ptr, free, self._parents)

    @property
    def closed(self):
        return self._closed

    def get(self):
        """The pointer, or ValueError when the owner was closed."""
        if self._closed:
            raise ValueError(f"operation on a closed {self._kind}")
        return self.ptr

    def close(self):
        """Marks the handle closed; frees it now unless a child still uses it."""
        if not self._closed:
            self._closed = True
            self._maybe_free()

    def _maybe_free(self):
        if self._closed and self._children == 0:
            self._finalizer()  # runs _release at most once

    def _child_gone(self):
        self._children -= 1
        self._maybe_free()

    @property
    def freed(self):
        return not self._finalizer.alive


class Owner:
    """Base of the Python classes that own a handle."""

    _handle: Any = None  # a Handle once constructed

    @property
    def closed(self):
        return self._handle is None or self._handle.closed

    def close(self):
        """Frees the C object (deferred while objects made from it use it).

        Calling close() twice is harmless; any other use afterwards raises
        ValueError."""
        if self._handle is not None:
            self._handle.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    @property
    def _ptr(self):
        if self._handle is None:
            raise ValueError(f"operation on a closed {type(self).__name__}")
        return self._handle.get()
