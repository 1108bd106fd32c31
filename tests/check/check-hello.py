#!/usr/bin/env python3
"""examples/hello.c prints 岳阳市's 2019 total of exited_population, given
the demo files and without arguments (from the top of the source tree); the
figure is summed here from examples/data/yueyang-2019.csv (every row is a
village's monthly report, and exited_population is a flow: the year's
total is the sum of the months, empty cells left out).

Usage: check-hello.py HELLO SOURCE_ROOT
"""
import csv
import os
import subprocess
import sys

hello, root = sys.argv[1], sys.argv[2]
data = os.path.join(root, "examples", "data")
with open(os.path.join(data, "yueyang-2019.csv"), encoding="utf-8") as f:
    total = sum(int(r["value"]) for r in csv.DictReader(f)
                if r["indicator"] == "exited_population" and r["period"].startswith("2019-")
                and r["value"] != "")
want = f"岳阳市 exited_population 2019: {total}\n"
failures = []
for args, cwd in (([os.path.join(data, "yueyang-hierarchy.csv"), os.path.join(data, "yueyang.yaml"),
                    os.path.join(data, "yueyang-2019.csv")], None), ([], root)):
    p = subprocess.run([hello, *args], cwd=cwd, capture_output=True, text=True, encoding="utf-8")
    if p.returncode != 0 or p.stdout != want:
        failures.append(f"hello {' '.join(args)}: exit {p.returncode}, stdout {p.stdout!r}, "
                        f"expected {want!r}; stderr {p.stderr!r}")
p = subprocess.run([hello, "a", "b", "c"], capture_output=True, text=True)
if p.returncode != 2 or not p.stderr.startswith("hello: ") or p.stdout:
    failures.append(f"hello on missing files: exit {p.returncode}, stderr {p.stderr!r}")
if failures:
    print("\n".join(failures))
    sys.exit(1)
print(want, end="")
