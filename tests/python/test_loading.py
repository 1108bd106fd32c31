"""Finding the library, refusing a wrong one, and the installed layout."""
import json
import os
import pathlib
import pickle
import shutil
import subprocess
import sys
import threading

import pytest

import tally
from conftest import ROOT

PACKAGE = ROOT / "bindings" / "python"


def run_python(code, env_update, cwd=None, pythonpath=PACKAGE):
    """Runs code in a fresh interpreter. TALLY_LIBRARY, and the
    LD_LIBRARY_PATH meson test sets to the build's lib directory, are
    unset unless env_update gives them."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("TALLY_LIBRARY", "PYTHONPATH", "LD_LIBRARY_PATH")}
    env["PYTHONPATH"] = str(pythonpath)
    env.update(env_update)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, cwd=cwd)


def fake_library(path, version):
    """Builds a stand-in library at path whose tally_version() says version."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.fail("no C compiler (cc) to build a stand-in library")
    src = path.parent / (path.name + ".c")
    src.write_text(f'const char *tally_version(void) {{ return "{version}"; }}\n')
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    subprocess.run([cc, "-shared", "-fPIC", str(src), "-o", str(path)], check=True, env=env)
    return path


NOT_FOUND = (f"ImportError: tally: found no usable tally library (these bindings need version "
             f"{tally._lib.MAJOR}.x); tried, in order:")
EXPLICIT_ONLY = "TALLY_LIBRARY is set, so nothing else was tried"


def test_version_and_library_path():
    assert tally.library_path == os.environ["TALLY_LIBRARY"]
    assert tally._library.how == "$TALLY_LIBRARY"
    # The project version in meson.build is the library's; the bindings check its major.
    line = next(x for x in (ROOT / "meson.build").read_text().splitlines()
                if x.strip().startswith("version:"))
    version = line.split("'")[1]
    assert tally.version() == tally.__version__ == version
    assert int(version.split(".")[0]) == tally._lib.MAJOR


def test_tally_library_that_does_not_exist():
    out = run_python("import tally", {"TALLY_LIBRARY": "/nonexistent/libtally.so"})
    assert out.returncode != 0
    assert NOT_FOUND + "\n  $TALLY_LIBRARY: /nonexistent/libtally.so: no such file\n" + \
        EXPLICIT_ONLY in out.stderr


def test_a_library_that_is_not_tally():
    libm = "libm.so.6"
    out = run_python("import tally", {"TALLY_LIBRARY": libm})
    assert out.returncode != 0
    assert NOT_FOUND + f"\n  $TALLY_LIBRARY: {libm}: not the tally library (it has no " \
        "tally_version())\n" + EXPLICIT_ONLY in out.stderr


def test_a_library_of_another_major_version(tmp_path):
    lib = fake_library(tmp_path / "libtally.so", "9.2.1")
    out = run_python("import tally", {"TALLY_LIBRARY": str(lib), "LD_PRELOAD": ""})
    assert out.returncode != 0
    assert NOT_FOUND + f"\n  $TALLY_LIBRARY: {lib}: version 9.2.1; these bindings need " \
        f"version {tally._lib.MAJOR}.x\n" + EXPLICIT_ONLY in out.stderr


SHOW = ("import tally\n"
        "print(tally._library.how)\n"
        "print(tally.library_path)\n"
        "print(sorted({l.split()[-1] for l in open('/proc/self/maps') if 'libtally' in l}))\n")


def test_where_the_library_is_found(tmp_path):
    """$TALLY_LIBRARY, then the install directory of _paths.py, then
    pkg-config's libdir, then the system's loader; an unusable library
    (here one of another major version) is passed over, and when nothing
    is usable one error lists every place tried. A source tree's
    build/lib is never looked in."""
    real = os.environ["TALLY_LIBRARY"]
    soname = tally._lib.SONAME
    # The package in a source tree that has a built library...
    tree = tmp_path / "src"
    package = tree / "bindings" / "python" / "tally"
    shutil.copytree(PACKAGE / "tally", package,
                    ignore=shutil.ignore_patterns("__pycache__", "*.in"))
    (tree / "build" / "lib").mkdir(parents=True)
    shutil.copy(real, tree / "build" / "lib" / "libtally.so")
    # ... and the places to look, each with its own copy of the library.
    install, pc, system, explicit, bin_dir = (tmp_path / d for d in
                                              ("install", "pc", "system", "explicit", "bin"))
    for d in (install, pc, system, explicit, bin_dir):
        d.mkdir()
    for d in (install, pc, system):
        shutil.copy(real, d / soname)
    shutil.copy(real, explicit / "libtally.so")
    pkg_config = bin_dir / "pkg-config"
    pkg_config.write_text('#!/bin/sh\n'
                          f'[ "$*" = "--variable=libdir tally" ] && echo "{pc}" && exit 0\n'
                          'echo "Package tally was not found" >&2; exit 1\n')
    pkg_config.chmod(0o755)
    env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
           "LD_LIBRARY_PATH": str(system)}

    def where(**extra):
        out = run_python(SHOW, dict(env, **extra), cwd=tmp_path, pythonpath=package.parent)
        assert out.returncode == 0, out.stderr
        how, path, mapped = out.stdout.splitlines()
        return how, path, mapped

    # Not installed: no _paths.py, so pkg-config comes first.
    assert where() == ("pkg-config", str(pc / soname), str([str(pc / soname)]))
    (package / "_paths.py").write_text(f"LIBDIR = {str(install)!r}\n")
    assert where(TALLY_LIBRARY=str(explicit / "libtally.so")) == \
        ("$TALLY_LIBRARY", str(explicit / "libtally.so"), str([str(explicit / "libtally.so")]))
    assert where() == ("the install directory (_paths.py)", str(install / soname),
                       str([str(install / soname)]))
    os.unlink(install / soname)
    fake_library(install / soname, "9.2.1")
    assert where()[:2] == ("pkg-config", str(pc / soname))
    os.unlink(pc / soname)
    # The refused stand-in stays mapped beside the library loaded.
    assert where() == ("the system loader", soname,
                       str([str(install / soname), str(system / soname)]))

    os.unlink(system / soname)
    fake_library(system / soname, "9.2.1")
    out = run_python(SHOW, env, cwd=tmp_path, pythonpath=package.parent)
    assert out.returncode != 0
    need = f"these bindings need version {tally._lib.MAJOR}.x"
    lines = out.stderr.splitlines()
    tried = lines[lines.index(NOT_FOUND) + 1:]
    assert tried[:3] == [
        f"  the install directory (_paths.py): {install / soname}: version 9.2.1; {need}",
        f"  pkg-config: {pc / soname}: no such file",
        f"  the system loader: {soname}: version 9.2.1; {need}",
    ]
    # find_library finds the system's libtally, if any, by the name just tried.
    assert tried[3] in ("  ctypes.util.find_library('tally'): nothing found",
                        "Set TALLY_LIBRARY to the path of libtally.so (in a source tree built "
                        "with make: build/lib/libtally.so), or install the library (make install).")
    assert "build/lib" not in "".join(tried[:3])

    # Without pkg-config.
    os.unlink(package / "_paths.py")
    out = run_python(SHOW, dict(env, PATH=str(tmp_path / "nothing")), cwd=tmp_path,
                     pythonpath=package.parent)
    assert out.returncode != 0
    lines = out.stderr.splitlines()
    assert lines[lines.index(NOT_FOUND) + 1:][:3] == [
        "  the install directory: none recorded (no _paths.py: not installed by meson)",
        "  pkg-config: no pkg-config program",
        f"  the system loader: {soname}: version 9.2.1; {need}",
    ]


def test_installed_layout(tmp_path):
    """meson installs every module of the package into one directory, with
    _paths.py naming the directory the library is installed to; a copy of
    that layout finds its library through _paths.py alone."""
    build = os.environ.get("TALLY_BUILD_ROOT")
    if not build:
        pytest.fail("TALLY_BUILD_ROOT is not set: run the tests through `meson test python`")
    installed = json.loads(subprocess.run(["meson", "introspect", "--installed", build],
                                          capture_output=True, text=True, check=True).stdout)
    modules = sorted(p.name for p in (PACKAGE / "tally").glob("*.py"))
    dests = {pathlib.Path(dst).name: pathlib.Path(dst) for src, dst in installed.items()
             if pathlib.Path(dst).parent.name == "tally" and dst.endswith(".py")}
    assert sorted(dests) == sorted(modules + ["_paths.py"])
    package_dir = dests["__init__.py"].parent
    assert {d.parent for d in dests.values()} == {package_dir}
    lib_dest = next(pathlib.Path(dst) for src, dst in installed.items()
                    if pathlib.Path(dst).name.startswith("libtally.so.")
                    and pathlib.Path(src).name.count(".") == 2)  # libtally.so.MAJOR
    sources = {pathlib.Path(dst).name: src for src, dst in installed.items()}
    paths_src = pathlib.Path(sources["_paths.py"])
    namespace = {}
    exec(paths_src.read_text(), namespace)
    assert namespace["LIBDIR"] == str(lib_dest.parent)

    # Stage the install under tmp_path (as DESTDIR would), pointing LIBDIR there.
    stage = tmp_path / "stage"
    site = stage / package_dir.relative_to("/")
    site.mkdir(parents=True)
    for name in modules:
        shutil.copy(PACKAGE / "tally" / name, site / name)
    libdir = stage / lib_dest.parent.relative_to("/")
    libdir.mkdir(parents=True)
    shutil.copy(os.environ["TALLY_LIBRARY"], libdir / lib_dest.name)
    (site / "_paths.py").write_text(f"LIBDIR = {str(libdir)!r}\n")
    out = run_python("import tally; print(tally.library_path); print(tally.version())", {},
                     cwd=tmp_path, pythonpath=site.parent)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [str(libdir / lib_dest.name), tally.version()]


def test_errors__thread_local():
    """Errors are read on the thread that failed, right after the call."""
    h = tally.Hierarchy.from_bytes("code,name,parent_code\nA,a,\n")
    failures = []

    def worker(k):
        for i in range(300):
            code = f"missing-{k}-{i}"
            try:
                h[code]
            except tally.NotFoundError as e:
                if code not in e.message:
                    failures.append((code, e.message))
            else:
                failures.append((code, "no error"))

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


def test_errors__classes_and_pickling():
    expected = {-1: (tally.OutOfMemoryError, MemoryError), -2: (tally.FileError, OSError),
                -3: (tally.ParseError, ValueError), -4: (tally.NotFoundError, KeyError),
                -5: (tally.InvalidError, ValueError), -6: (tally.DuplicateError, ValueError),
                -7: (tally.RangeError, ValueError), -8: (tally.NotSupportedError, tally.Error),
                -9: (tally.CycleError, ValueError), -10: (tally.LimitError, ValueError)}
    for code, (cls, base) in expected.items():
        assert cls.code == code and issubclass(cls, tally.Error) and issubclass(cls, base)
    e = tally.ParseError(-3, "f.csv:3:17: bad number 'x'", "f.csv", 3, 17)
    assert str(e) == "f.csv:3:17: bad number 'x'"
    back = pickle.loads(pickle.dumps(e))
    assert type(back) is tally.ParseError
    assert (back.code, back.message, back.path, back.line, back.column) == \
        (-3, "f.csv:3:17: bad number 'x'", "f.csv", 3, 17)
    k = tally.NotFoundError(-4, "unknown region code 'X'")
    assert str(k) == "unknown region code 'X'"  # not KeyError's quoted repr
    f = pickle.loads(pickle.dumps(tally.FileError(-2, "cannot open", "/x")))
    assert (f.filename, f.errno, f.line) == ("/x", None, None)


def test_without_numpy_and_pandas():
    """numpy and pandas are used when importable, never required."""
    code = r'''
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("numpy", "pandas"):
            raise ImportError("blocked: " + name)
sys.meta_path.insert(0, Block())
import tally
h = tally.Hierarchy.from_bytes("code,name,parent_code\nT,t,\nV1,v1,T\nV2,v2,T\n")
d = tally.Definitions.from_string("indicators:\n  - id: x\n")
ds = tally.Dataset(h, d)
ds.add(["V1", "V2"], "x", ["2019-01", "2019-01"], [1.5, None])
ds.add(("V1", "V2"), "x", "2019-02", (2, 3))
r = ds.rollup()
assert r.value("T", "x", "2019-01") == 1.5
assert r.value("T", "x", "2019-02") == 5
col = r.column("x", "2019-02")
assert type(col) is list and col == [5.0, 2.0, 3.0], col
assert [x["value"] for x in r.rows(period="2019-01")] == [1.5, 1.5, None]
try:
    ds.add(["V1"], "x", "2019-03", [float("inf")])
except tally.RangeError:
    pass
else:
    raise AssertionError("inf accepted")
try:
    r.to_pandas()
except ImportError as e:
    print(e)
assert "numpy" not in sys.modules and "pandas" not in sys.modules
'''
    out = run_python(code, {"TALLY_LIBRARY": os.environ["TALLY_LIBRARY"]})
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("Result.to_pandas() needs pandas")


def test_every_exported_function_is_declared():
    """The bindings declare the whole C API: every function the library
    exports, and nothing it does not."""
    nm = shutil.which("nm")
    if nm is None:
        pytest.fail("nm (binutils) is needed to list the library's symbols")
    out = subprocess.run([nm, "-D", "--defined-only", os.environ["TALLY_LIBRARY"]],
                         capture_output=True, text=True, check=True).stdout
    exported = {line.split()[2].split("@")[0] for line in out.splitlines()
                if len(line.split()) == 3 and line.split()[1] == "T"}
    declared = set(tally._lib._FUNCTIONS)
    assert sorted(exported - declared) == [], "exported by libtally, not declared in _lib.py"
    assert sorted(declared - exported) == [], "declared in _lib.py, not exported by libtally"
