"""The scripts in examples/python run and print what they should."""
import csv
import os
import subprocess
import sys

from conftest import ROOT

EXAMPLES = ROOT / "examples" / "python"


def run(script, *args, cwd):
    env = dict(os.environ, PYTHONPATH=str(ROOT / "bindings" / "python"))
    out = subprocess.run([sys.executable, str(EXAMPLES / script), *args], capture_output=True,
                         text=True, encoding="utf-8", cwd=cwd, env=env)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_rollup_to_dataframe(tmp_path):
    out = run("rollup_to_dataframe.py", cwd=tmp_path).splitlines()
    assert out[0].split() == ["indicator", "rural_population", "poor_population",
                              "exited_population", "incidence"]
    # 岳阳市 2019 (examples/data/README.md: the rollup of the file).
    assert out[2].split() == ["430600000000", "岳阳市", "3338697", "22648", "93424", "0.68"]
    assert len(out) == 2 + 11


def test_checks_to_csv(tmp_path):
    out = run("checks_to_csv.py", str(tmp_path / "f.csv"), cwd=tmp_path)
    with open(tmp_path / "f.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    errors = sum(r["severity"] == "error" for r in rows)
    assert f"{len(rows)} findings ({errors} errors) written to {tmp_path / 'f.csv'}" in out
    assert rows and rows[0]["check"] == "counts_add_up"


def test_completion_chart(tmp_path):
    import importlib.util
    # A PNG with matplotlib, else the library's SVG chart.
    target = tmp_path / ("c.png" if importlib.util.find_spec("matplotlib") else "c.svg")
    out = run("completion_chart.py", str(target), cwd=tmp_path)
    assert target.stat().st_size > 1000
    assert str(target) in out
