"""Files the bindings write themselves (to_csv) follow docs/output.md: a
regular file replaced whole, a device written through, a link followed and
kept, a failure half way keeping the previous file and no temporary one."""
import os
import stat

import pytest

from tally.rejects import Rejected, RejectedRows

EXPECTED = ("file,line,column,reason,row\n"
            "r.csv,3,2,not a number,\"a,b\"\n")


def rows():
    out = RejectedRows()
    out.append(Rejected("r.csv", 3, 2, -5, "not a number", "a,b"))
    return out


def test_output__replaces_regular_file_keeping_mode(tmp_path):
    path = tmp_path / "rejects.csv"
    path.write_text("previous\n")
    os.chmod(path, 0o640)
    ino = path.stat().st_ino
    rows().to_csv(path)
    assert path.read_text() == EXPECTED
    assert path.stat().st_ino != ino
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rejects.csv"]


def test_output__new_file_gets_umask_mode(tmp_path):
    old = os.umask(0o027)
    try:
        rows().to_csv(tmp_path / "new.csv")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.csv").stat().st_mode) == 0o640


def test_output__failure_keeps_previous_file(tmp_path):
    class Unprintable:
        def __str__(self):
            raise RuntimeError("cannot be written")

    path = tmp_path / "rejects.csv"
    path.write_text("previous\n")
    bad = rows()
    bad.append(Rejected("r.csv", 4, 1, -5, "bad", Unprintable()))
    with pytest.raises(RuntimeError):
        bad.to_csv(path)
    assert path.read_text() == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rejects.csv"]


def test_output__link_followed_and_kept(tmp_path):
    (tmp_path / "real.csv").write_text("previous\n")
    os.symlink("real.csv", tmp_path / "link.csv")
    rows().to_csv(tmp_path / "link.csv")
    assert os.readlink(tmp_path / "link.csv") == "real.csv"
    assert (tmp_path / "real.csv").read_text() == EXPECTED
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.csv", "real.csv"]


def test_output__device_written_through():
    rows().to_csv("/dev/null")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
