#!/usr/bin/env python3
"""The CLI says what the data does not support, with exit status 2 and a
message naming the place: a sum past 1e308, a fraction of a count, a
column nobody declared, a --period with no values; a region_name that
is not the hierarchy's name is a warning on stderr, the row kept.

Expected lines and columns are counted by hand in the comments.

Usage: check-honest-input.py TALLY
"""
import os
import subprocess
import sys
import tempfile

tally = sys.argv[1]
failures = []

HIER = ("code,name,level,parent_code\n"
        "430602000000,岳阳楼区,county,\n"
        "430602001001,金鹗山村,village,\n"          # empty cell: parent from the code
        "430602001002,东茅岭村,village,430602000000\n")
DEFS = ("indicators:\n"
        "  - { id: poor_population, name: 建档立卡贫困人口, unit: 人, over_time: stock,"
        " exact: true }\n"
        "  - { id: rural_population, name: 农业户籍人口, unit: 人, over_time: stock }\n")


def write(tmp, name, text):
    path = os.path.join(tmp, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def run(*args):
    p = subprocess.run([tally, *args], capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def expect(case, got, want_code, *texts):
    code, out, err = got
    if code != want_code:
        failures.append(f"{case}: exit {code}, expected {want_code}; stderr {err!r}")
    for t in texts:
        if t not in err:
            failures.append(f"{case}: stderr does not say {t!r}: {err!r}")
    return out


with tempfile.TemporaryDirectory() as tmp:
    H = ["-H", write(tmp, "h.csv", HIER)]
    D = ["-d", write(tmp, "d.yaml", DEFS)]

    # 1e308 + 1e308 at the county (the first village is its child by code).
    r = write(tmp, "over.csv", "region_code,indicator,period,value\n"
              "430602001001,rural_population,2019-12,1e308\n"
              "430602001002,rural_population,2019-12,1e308\n")
    expect("rollup overflow", run("rollup", *H, *D, "-r", r), 2,
           "rural_population (农业户籍人口) of 430602000000 岳阳楼区 in 2019-12")

    # 1.2 people on line 3, column 38 ("430602001002,poor_population,2019-12,"
    # is 12 + 1 + 15 + 1 + 7 + 1 = 37 characters).
    r = write(tmp, "frac.csv", "region_code,indicator,period,value\n"
              "430602001001,poor_population,2019-12,3\n"
              "430602001002,poor_population,2019-12,1.2\n")
    expect("fraction (stop)", run("rollup", *H, *D, "-r", r), 2,
           f"{r}:3:38: 1.2 is not a whole number; 建档立卡贫困人口 counts whole 人")
    out = expect("fraction (collect)", run("rollup", *H, *D, "-r", r, "--on-error", "collect"), 0,
                 "2 rows read = 1 accepted + 1 rejected",
                 f"rejected {r}:3:38: 1.2 is not a whole number")
    if "430602000000,岳阳楼区,county,poor_population,2019-12,3\n" not in out:
        failures.append(f"fraction (collect): the county is not 3: {out!r}")

    # 2^53 + 1 as a target: line 2, after "430602001001,poor_population,2019,"
    # (12 + 1 + 15 + 1 + 4 + 1 = 34 characters).
    t = write(tmp, "t.csv", "region_code,indicator,year,target\n"
              "430602001001,poor_population,2019,9007199254740993\n")
    good = write(tmp, "good.csv", "region_code,indicator,period,value\n"
                 "430602001001,poor_population,2019-12,3\n")
    expect("target past 2^53",
           run("progress", *H, *D, "-r", good, "-t", t, "--as-of", "2019-12"),
           2, f"{t}:2:35: number '9007199254740993' is a whole number past 2^53")

    # An extra long-layout column: "region_code,indicator,period,value," is
    # 35 characters, so 'cause' is at column 36.
    r = write(tmp, "extra.csv", "region_code,indicator,period,value,cause\n"
              "430602001001,poor_population,2019-12,3,illness\n")
    expect("extra column", run("rollup", *H, *D, "-r", r), 2,
           f"{r}:1:36: unknown column 'cause'")
    D2 = ["-d", write(tmp, "d2.yaml", "ignore_columns: [cause]\n" + DEFS)]
    expect("declared column", run("rollup", *H, *D2, "-r", r), 0, "1 rows read = 1 accepted")

    # region_name: 金鹗村 on line 2, after "430602001001," (column 14).
    r = write(tmp, "names.csv", "region_code,region_name,indicator,period,value\n"
              "430602001001,金鹗村,poor_population,2019-12,3\n"
              "430602001002,东茅岭村,poor_population,2019-12,4\n")
    expect("region_name", run("rollup", *H, *D, "-r", r), 0,
           f"{r}:2:14: warning: 430602001001 is 金鹗山村 in the hierarchy, the row says 金鹗村",
           "2 rows read = 2 accepted + 0 rejected")

    # A --period with no values, in each command that takes one.
    r = write(tmp, "ok.csv", "region_code,indicator,period,value\n"
              "430602001001,poor_population,2019-12,3\n"
              "430602001001,rural_population,2019-Q4,300\n")
    for cmd in ("rollup", "poverty", "check"):
        expect(f"{cmd} --period", run(cmd, *H, *D, "-r", r, "--period", "2020"), 2,
               "--period '2020' matches no value in the records; expected one of 2019-12,2019-Q4")
    expect("rollup --period 2019", run("rollup", *H, *D, "-r", r, "--period", "2019"), 0)

for f in failures:
    print("FAIL", f)
sys.exit(1 if failures else 0)
