"""Files the Python side writes itself, by the library's rules (docs/output.md).

A regular file, or a name with no file yet, is written to a temporary file
of a unique name in the same directory, synced and renamed over it only when
all was written: a failure leaves the previous file and no temporary one.
Anything else that exists (a device, a FIFO, /dev/stdout) is written
through. Symbolic links are followed, and stay links.
"""

import contextlib
import os
import stat
import tempfile


def _umask():
    # Read, not set and set back: os.umask() would change it for every
    # thread in between.
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


@contextlib.contextmanager
def open_text(path, **kw):
    """A text file open for writing at `path` (keywords as for open())."""
    path = os.fspath(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        st = None
    if st is not None and not stat.S_ISREG(st.st_mode):
        with open(path, "w", **kw) as f:
            yield f
        return
    target = os.path.realpath(path)
    directory, name = os.path.split(target)
    fd, tmp = tempfile.mkstemp(prefix=f".{name[:200]}.", suffix=".tmp", dir=directory)
    try:
        # mkstemp makes 0600: the mode of the file replaced, or a new file's.
        if st is not None:
            os.fchmod(fd, stat.S_IMODE(st.st_mode))
        else:
            os.fchmod(fd, 0o666 & ~_umask())
        with open(fd, "w", closefd=True, **kw) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
