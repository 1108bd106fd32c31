"""Guards at the boundary with the C library.

Text arguments: a C function takes a string up to its first NUL byte, so a
Python string with an embedded NUL ("V1\\0junk", a path + "\\0x") would be
cut silently and name something else. :class:`Text` stands for
``c_char_p`` in every declared argument list (``_lib.py`` applies
:func:`text_args`), and refuses such a string with ValueError, whatever
public method passed it. A ``c_char_p`` followed by a ``c_size_t`` is a
buffer with its length (the bytes of a CSV read from memory), where a NUL
is data: it is left as it is.

One thread at a time: a C handle (a dataset) is not safe to use from two
threads at once; done anyway, values were lost without a word. Methods
marked :func:`exclusive` hold a lock of their object while they run; a
second thread that calls one meanwhile gets RuntimeError at once (the lock
is never waited for, so the guard costs one uncontended acquire). The same
thread may call marked methods from inside one another.
"""

import functools
import threading
from ctypes import ArgumentError, c_char_p, c_size_t


class Text(c_char_p):
    """c_char_p that refuses bytes with a NUL inside."""

    @classmethod
    def from_param(cls, value):
        if isinstance(value, (bytes, bytearray)) and b"\0" in value:
            shown = bytes(value).split(b"\0", 1)[0].decode("utf-8", "replace")
            raise ValueError(f"a string argument holds a NUL character after {shown!r}; "
                             "the library would see only the text before it")
        return c_char_p.from_param(value)


def text_args(argtypes):
    """argtypes with every c_char_p that is not a (buffer, length) pair's
    buffer replaced by :class:`Text`."""
    out = list(argtypes)
    for i, t in enumerate(out):
        if t is c_char_p and not (i + 1 < len(out) and out[i + 1] is c_size_t):
            out[i] = Text
    return out


def refusing_nul(fn, argtypes):
    """fn itself when none of argtypes is Text; else fn wrapped so that a
    string refused for its NUL raises ValueError (ctypes reports what
    from_param raises as ctypes.ArgumentError, which is no ValueError)."""
    if Text not in argtypes:
        return fn

    @functools.wraps(fn)
    def call(*args):
        try:
            return fn(*args)
        except ArgumentError as e:
            if "NUL character" in str(e):
                raise ValueError(str(e)) from None
            raise

    return call


def check_text(s, what):
    """Raises ValueError naming the argument when str s holds a NUL."""
    if "\0" in s:
        raise ValueError(f"{what}: holds a NUL character after {s.split(chr(0), 1)[0]!r}; "
                         "the library would see only the text before it")
    return s


_locks_lock = threading.Lock()


def _lock_of(obj):
    lock = obj.__dict__.get("_exclusive_lock")
    if lock is None:
        with _locks_lock:
            lock = obj.__dict__.setdefault("_exclusive_lock", threading.RLock())
    return lock


def exclusive(method):
    """Marks a method that uses its object's C handle: RuntimeError when
    another thread is inside a marked method of the same object."""

    @functools.wraps(method)
    def guarded(self, *args, **kwargs):
        lock = _lock_of(self)
        if not lock.acquire(blocking=False):
            raise RuntimeError(f"{type(self).__name__} used from two threads at once; "
                               "use one per thread, or a lock around it")
        try:
            return method(self, *args, **kwargs)
        finally:
            lock.release()

    return guarded
