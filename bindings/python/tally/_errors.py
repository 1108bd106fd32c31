"""Exceptions raised by the tally bindings.

Every failing library call raises a subclass of :class:`Error` chosen by the
status code, built from the calling thread's last error right after the call
(see ``_lib.py``). Each subclass also derives from the built-in exception a
Python programmer would catch for that kind of failure, so
``except KeyError`` catches an unknown region code and ``except OSError`` a
file that cannot be read.
"""

# Status codes, as in include/tally/error.h. They are never renumbered.
OK = 0
ENOMEM = -1
EIO = -2
EPARSE = -3
ENOTFOUND = -4
EINVAL = -5
EEXIST = -6
ERANGE = -7
ENOTSUP = -8
ECYCLE = -9
ELIMIT = -10


class Error(Exception):
    """A failure reported by the tally library.

    Attributes: ``code`` (a negative ``TALLY_E*`` status), ``message``
    (``path:line:col: what is wrong; what was expected`` for input errors),
    ``path``, ``line`` and ``column`` (1-based, in characters; ``None`` where
    they do not apply) and ``text`` (the offending text, or ``None``).
    """

    code = None  # the status code of the subclass; instances carry their own

    def __init__(self, code, message, path=None, line=None, column=None, text=None):
        # args carries every constructor argument so that copying and
        # pickling rebuild the same exception.
        Exception.__init__(self, code, message, path, line, column, text)
        self.code = code
        self.message = message
        self.path = path
        self.line = line
        self.column = column
        self.text = text

    def __str__(self):
        return self.message

    def __repr__(self):
        return (f"{type(self).__name__}(code={self.code}, message={self.message!r}, "
                f"path={self.path!r}, line={self.line!r}, column={self.column!r})")

    def __reduce__(self):
        return (type(self), self.args)


class OutOfMemoryError(Error, MemoryError):
    """TALLY_ENOMEM: the library ran out of memory."""
    code = ENOMEM


class FileError(Error, OSError):
    """TALLY_EIO: a file could not be opened, mapped or written."""
    code = EIO

    def __init__(self, code, message, path=None, line=None, column=None, text=None):
        Error.__init__(self, code, message, path, line, column, text)
        # OSError.__new__ has spread the arguments over its own fields
        # (errno, strerror, filename, filename2); set them to what they mean.
        self.errno = None  # type: ignore[assignment]
        self.strerror = message
        self.filename = path
        self.filename2 = None


class ParseError(Error, ValueError):
    """TALLY_EPARSE: input is malformed (CSV, YAML, number, period, formula)."""
    code = EPARSE


class NotFoundError(Error, KeyError):
    """TALLY_ENOTFOUND: a region code, indicator or period is not known."""
    code = ENOTFOUND


class InvalidError(Error, ValueError):
    """TALLY_EINVAL: an argument or a value is not acceptable."""
    code = EINVAL


class DuplicateError(Error, ValueError):
    """TALLY_EEXIST: something given twice (code, indicator id, record)."""
    code = EEXIST


class RangeError(Error, ValueError):
    """TALLY_ERANGE: a number is out of range (overflow, nan, inf)."""
    code = ERANGE


class NotSupportedError(Error):
    """TALLY_ENOTSUP: valid input this version does not support."""
    code = ENOTSUP


class CycleError(Error, ValueError):
    """TALLY_ECYCLE: a cycle (hierarchy parents, formula dependencies)."""
    code = ECYCLE


class LimitError(Error, ValueError):
    """TALLY_ELIMIT: a documented limit was exceeded."""
    code = ELIMIT


_BY_CODE = {cls.code: cls for cls in (
    OutOfMemoryError, FileError, ParseError, NotFoundError, InvalidError, DuplicateError,
    RangeError, NotSupportedError, CycleError, LimitError)}


def error_class(code):
    """The exception class for a status code (:class:`Error` when unknown)."""
    return _BY_CODE.get(code, Error)


def make_error(code, message, path=None, line=None, column=None, text=None):
    """An exception of the class for ``code``."""
    return error_class(code)(code, message, path, line, column, text)
