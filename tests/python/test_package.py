"""The package as pip installs it: into a venv, found without _paths.py,
one clear error for a missing or wrong library, and typed."""
import inspect
import os
import shutil
import subprocess
import sys
import textwrap
import types

import pytest

import tally
from conftest import ROOT

PACKAGE = ROOT / "bindings" / "python"
SYSTEM_PYTHON = "/usr/bin/python3"


def _venv_available():
    """None when /usr/bin/python3 can make venvs with pip, else why not."""
    if not os.path.exists(SYSTEM_PYTHON):
        return f"no {SYSTEM_PYTHON}"
    out = subprocess.run([SYSTEM_PYTHON, "-c", "import venv, ensurepip"], capture_output=True,
                         text=True)
    if out.returncode != 0:
        return f"{SYSTEM_PYTHON} cannot make venvs with pip (apt-get install python3-venv)"
    return None


def _require_venv():
    why = _venv_available()
    if why:
        pytest.skip(why)


def _clean_env(**update):
    """The environment without this build's library or PYTHONPATH: what a
    user's shell has. In a sanitizer build the sanitizer runtime stays
    preloaded, as every program loading that library needs it first."""
    drop = ["TALLY_LIBRARY", "PYTHONPATH", "LD_LIBRARY_PATH", "PKG_CONFIG_PATH"]
    if not os.environ.get("TALLY_SANITIZE"):
        drop.append("LD_PRELOAD")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env["PKG_CONFIG_PATH"] = ""
    env.update(update)
    return env


def _run(args, cwd, env=None, check=True):
    out = subprocess.run([str(a) for a in args], capture_output=True, text=True, cwd=cwd,
                         env=env if env is not None else _clean_env(), timeout=300)
    if check and out.returncode != 0:
        pytest.fail(f"{' '.join(map(str, args))} failed ({out.returncode}):\n"
                    f"{out.stdout}\n{out.stderr}")
    return out


def _source_copy(tmp_path):
    """bindings/python copied, so that a build writes nothing into the source tree."""
    src = tmp_path / "src"
    shutil.copytree(PACKAGE, src, ignore=shutil.ignore_patterns(
        "build", "*.egg-info", "__pycache__", "_paths.py"))
    return src


PROBE = textwrap.dedent("""\
    import sys, tally
    h = tally.Hierarchy.from_bytes("code,name,parent_code\\nT,t,\\nV1,v1,T\\nV2,v2,T\\n")
    d = tally.Definitions.from_string("indicators:\\n  - id: x\\n")
    ds = tally.Dataset(h, d)
    ds.add(["V1", "V2"], "x", "2019-01", [1.5, 2.0])
    assert ds.rollup().value("T", "x", "2019-01") == 3.5
    import importlib.util
    print(tally.__file__)
    print(tally._library.how)
    print(importlib.util.find_spec("tally._paths") is not None)
    print("numpy" in sys.modules)
""")


def test_pip_install_into_a_venv_with_system_site_packages(tmp_path):
    _require_venv()
    src = _source_copy(tmp_path)
    venv = tmp_path / "v"
    _run([SYSTEM_PYTHON, "-m", "venv", "--system-site-packages", venv], tmp_path)
    _run([venv / "bin" / "pip", "install", "--no-build-isolation", "--no-index", src], tmp_path)
    py = venv / "bin" / "python"
    lib = os.environ["TALLY_LIBRARY"]

    # Found through $TALLY_LIBRARY, from the installed copy (not the source
    # tree: no PYTHONPATH, run elsewhere), with no _paths.py.
    out = _run([py, "-c", PROBE], tmp_path, _clean_env(TALLY_LIBRARY=lib)).stdout.split("\n")
    assert out[0].startswith(str(venv / "lib")), out
    assert out[0].endswith(os.path.join("site-packages", "tally", "__init__.py"))
    assert out[1:4] == ["$TALLY_LIBRARY", "False", "True"]  # system numpy is visible

    # Through the system loader (LD_LIBRARY_PATH), with nothing set.
    out = _run([py, "-c", PROBE], tmp_path,
               _clean_env(LD_LIBRARY_PATH=os.path.dirname(lib))).stdout.split("\n")
    assert out[1] == "the system loader", out

    # The type information ships with it.
    assert len(list((venv / "lib").glob("python3*/site-packages/tally/py.typed"))) == 1


def test_wrong_or_missing_library_is_one_clear_error(tmp_path):
    _require_venv()
    src = _source_copy(tmp_path)
    venv = tmp_path / "v"
    _run([SYSTEM_PYTHON, "-m", "venv", "--system-site-packages", venv], tmp_path)
    _run([venv / "bin" / "pip", "install", "--no-build-isolation", "--no-index", src], tmp_path)
    py = venv / "bin" / "python"

    out = _run([py, "-c", "import tally"], tmp_path,
               _clean_env(TALLY_LIBRARY="/nonexistent/libtally.so"), check=False)
    assert out.returncode == 1
    last = out.stderr.strip().splitlines()
    assert last[-3:] == [
        "ImportError: tally: found no usable tally library (these bindings need version "
        f"{tally._lib.MAJOR}.x); tried, in order:",
        "  $TALLY_LIBRARY: /nonexistent/libtally.so: no such file",
        f"TALLY_LIBRARY is set, so nothing else was tried: point it at a libtally.so of "
        f"version {tally._lib.MAJOR}.x, or unset it."]

    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.fail("no C compiler (cc) to build a stand-in library")
    fake = tmp_path / "libtally.so"
    (tmp_path / "fake.c").write_text('const char *tally_version(void) { return "9.2.1"; }\n')
    _run([cc, "-shared", "-fPIC", tmp_path / "fake.c", "-o", fake], tmp_path)
    out = _run([py, "-c", "import tally"], tmp_path, _clean_env(TALLY_LIBRARY=str(fake)),
               check=False)
    assert out.returncode == 1
    assert f"  $TALLY_LIBRARY: {fake}: version 9.2.1; these bindings need version " \
        f"{tally._lib.MAJOR}.x" in out.stderr.splitlines()
    assert [x for x in out.stderr.splitlines() if x.startswith("ImportError")] == [
        "ImportError: tally: found no usable tally library (these bindings need version "
        f"{tally._lib.MAJOR}.x); tried, in order:"]


def test_wheel_into_a_plain_venv(tmp_path):
    """A plain venv has no setuptools build of its own offline (no wheel
    package): build the wheel once with the system's setuptools and install
    the wheel, which needs nothing; numpy and pandas are not there."""
    _require_venv()
    probe = "import importlib.util as u; assert all(u.find_spec(m) for m in ('pip', " \
        "'setuptools', 'wheel'))"
    if subprocess.run([SYSTEM_PYTHON, "-c", probe], capture_output=True).returncode != 0:
        pytest.fail(f"{SYSTEM_PYTHON} lacks pip, setuptools or wheel: apt-get install "
                    "python3-pip python3-setuptools python3-wheel")
    src = _source_copy(tmp_path)
    dist = tmp_path / "dist"
    _run([SYSTEM_PYTHON, "-m", "pip", "wheel", "--no-build-isolation", "--no-index", "--no-deps",
          "-w", dist, src], tmp_path)
    wheels = sorted(dist.glob("tally-*.whl"))
    assert [w.name for w in wheels] == [f"tally-{tally.__version__}-py3-none-any.whl"]
    venv = tmp_path / "plain"
    _run([SYSTEM_PYTHON, "-m", "venv", venv], tmp_path)
    _run([venv / "bin" / "pip", "install", "--no-index", wheels[0]], tmp_path)
    out = _run([venv / "bin" / "python", "-c", PROBE], tmp_path,
               _clean_env(TALLY_LIBRARY=os.environ["TALLY_LIBRARY"])).stdout.split("\n")
    assert out[0].startswith(str(venv)), out
    assert out[1:4] == ["$TALLY_LIBRARY", "False", "False"]
    assert _run([venv / "bin" / "python", "-c", "import numpy"], tmp_path,
                check=False).returncode != 0


def test_package_version_is_the_library_version():
    text = (PACKAGE / "pyproject.toml").read_text()
    line = next(x for x in text.splitlines() if x.startswith("version = "))
    assert line == f'version = "{tally.__version__}"'


# ---- type hints ----

def _public_callables():
    """(qualified name, function) of every public function and method of
    the names tally exports (properties' getters included)."""
    out = []
    for name in tally.__all__:
        obj = getattr(tally, name)
        if isinstance(obj, types.FunctionType):
            out.append((name, obj))
        elif isinstance(obj, type):
            if issubclass(obj, BaseException):
                continue  # built by the library, not called by users
            for attr, value in vars(obj).items():
                if attr.startswith("_") and attr not in ("__init__", "__len__", "__getitem__",
                                                         "__contains__", "__iter__"):
                    continue
                if isinstance(value, property):
                    value = value.fget
                elif isinstance(value, (classmethod, staticmethod)):
                    value = value.__func__
                if isinstance(value, types.FunctionType):
                    out.append((f"{name}.{attr}", value))
    return out


def test_every_public_function_is_annotated():
    callables = _public_callables()
    assert len(callables) > 100  # the walk finds the API
    missing = []
    for qualname, fn in callables:
        sig = inspect.signature(fn)
        for p in list(sig.parameters.values()):
            if p.name in ("self", "cls"):
                continue
            if p.annotation is inspect.Parameter.empty:
                missing.append(f"{qualname}({p.name})")
        if sig.return_annotation is inspect.Signature.empty:
            missing.append(f"{qualname} -> ?")
    assert missing == []


def test_mypy():
    """The hints agree with the code: mypy (Debian's) over the package."""
    if shutil.which("mypy") is None and subprocess.run(
            [SYSTEM_PYTHON, "-c", "import mypy"], capture_output=True).returncode != 0:
        pytest.fail("mypy is not installed: apt-get install mypy")
    out = subprocess.run([SYSTEM_PYTHON, "-m", "mypy", "--no-incremental",
                          "--cache-dir", os.devnull, "--config-file", "pyproject.toml"],
                         capture_output=True, text=True, cwd=PACKAGE,
                         env=_clean_env(MYPYPATH=""))
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.startswith("Success: no issues found")
