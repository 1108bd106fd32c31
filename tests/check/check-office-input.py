#!/usr/bin/env python3
"""The files an office really has (docs/input-files.md), on the demo data:

- encodings per file: a GB18030 records file beside the UTF-8 hierarchy
  reads without any option (one note on stderr) and with --encoding
  gb18030 (no note); a GB18030 hierarchy reads too, with its own note;
- Chinese headers (区划代码,指标,时期,数值) and Chinese periods (2019年8月);
- a wide file headed by the indicators' names;
- Excel's artefacts: "1,989", full-width digits, codes in scientific
  notation (refused with the hint), rows of empty cells (skipped, counted).

Expected values are the demo records' own figures (examples/data), read
here with the csv module, never from tally.

Usage: check-office-input.py TALLY SOURCE_ROOT
"""
import csv
import io
import os
import subprocess
import sys
import tempfile

tally, root = sys.argv[1], sys.argv[2]
data = os.path.join(root, "examples", "data")
H = os.path.join(data, "yueyang-hierarchy.csv")
D = os.path.join(data, "yueyang.yaml")
R = os.path.join(data, "yueyang-2019.csv")
failures = []
work = tempfile.mkdtemp()
NOTE = "not valid UTF-8 but is valid GB18030"


def run(*args):
    p = subprocess.run([tally, *args], capture_output=True)
    return p.returncode, p.stdout.decode("utf-8"), p.stderr.decode("utf-8")


def expect(cond, what):
    if not cond:
        failures.append(what)


def write(name, text, encoding="utf-8"):
    path = os.path.join(work, name)
    with open(path, "w", encoding=encoding, newline="") as f:
        f.write(text)
    return path


def values(out):
    """(region_code, indicator, period) -> value of a long rollup CSV."""
    return {(r["region_code"], r["indicator"], r["period"]): r["value"]
            for r in csv.DictReader(io.StringIO(out))}


names = {r["code"]: r["name"] for r in csv.DictReader(open(H, encoding="utf-8"))}
records = list(csv.DictReader(open(R, encoding="utf-8")))[:40]
# The village values the first 40 demo records give, by (code, indicator, period).
want = {(r["region_code"], r["indicator"], r["period"]): r["value"] for r in records}


def village_values(*args):
    rc, out, err = run("rollup", "-H", H, "-d", D, "--level", "village", *args)
    return rc, {k: v for k, v in values(out).items() if k in want} if rc == 0 else {}, err


# ---- 1. encodings, per file ------------------------------------------------
gb = write("gb.csv", "region_code,region_name,indicator,period,value\n" + "".join(
    f"{r['region_code']},{names[r['region_code']]},{r['indicator']},{r['period']},{r['value']}\n"
    for r in records), encoding="gb18030")
rc, got, err = village_values("-r", gb)
expect(rc == 0 and got == want, f"GB18030 records, no option: exit {rc}, {len(got)} values: {err}")
expect(err.count(NOTE) == 1 and f"{gb}:1:1: warning:" in err,
       f"GB18030 records, no option: the note once at line 1, got: {err}")
expect("hierarchy" not in err, f"the UTF-8 hierarchy gets no note: {err}")
rc, got, err = village_values("-r", gb, "--encoding", "gb18030")
expect(rc == 0 and got == want, f"GB18030 records, --encoding gb18030: exit {rc}: {err}")
expect(NOTE not in err, f"--encoding gb18030: no note: {err}")
# A GB18030 hierarchy beside UTF-8 records; --encoding does not touch it.
hgb = write("h-gb.csv", open(H, encoding="utf-8").read(), encoding="gb18030")
rc, out, err = run("rollup", "-H", hgb, "-d", D, "-r", R, "--level", "city", "--period",
                   "2019-12", "--encoding", "utf-8")
expect(rc == 0 and "岳阳市" in out, f"GB18030 hierarchy: exit {rc}: {err}")
expect(err.count("h-gb.csv: not valid UTF-8 but valid GB18030, read as GB18030") == 1,
       f"GB18030 hierarchy: one note: {err}")
rc, out, err = run("rollup", "-H", hgb, "-d", D, "-r", R, "--hierarchy-encoding", "utf-8")
expect(rc == 2 and "not valid UTF-8" in err, f"--hierarchy-encoding utf-8 forces: exit {rc}: {err}")
rc, out, err = run("rollup", "--help")
expect("--hierarchy-encoding" in out and "records, targets, households" in out,
       "--help names what --encoding applies to")

# ---- 2. Chinese headers and periods; a wide file headed by names ----------
MONTHS = {"2019-01": "2019年1月", "2019-02": "2019年02月"}
cn_rows = [r for r in records if r["period"] in MONTHS]
cn = write("cn.csv", "区划代码,指标,时期,数值\n" + "".join(
    f"{r['region_code']},{r['indicator']},{MONTHS[r['period']]},{r['value']}\n" for r in cn_rows))
rc, got, err = village_values("-r", cn)
expect(rc == 0 and got == {(r["region_code"], r["indicator"], r["period"]): r["value"]
                           for r in cn_rows}, f"区划代码,指标,时期,数值: exit {rc}: {err}")
# Wide, headed by the names of examples/data/yueyang.yaml (by hand).
wide = write("wide.csv", "村代码,月份,农业户籍人口,建档立卡贫困人口\n430602001001,2019年1月,989,2\n")
rc, got, err = village_values("-r", wide)
expect(rc == 0 and got.get(("430602001001", "rural_population", "2019-01")) == "989"
       and got.get(("430602001001", "poor_population", "2019-01")) == "2",
       f"wide file headed by names: exit {rc}: {got} {err}")
bad = write("bad.csv", "村代码,月份,建档立卡贫困人囗\n430602001001,2019年1月,2\n")
rc, out, err = run("rollup", "-H", H, "-d", D, "-r", bad)
expect(rc == 2 and "did you mean '建档立卡贫困人口'?" in err, f"near name suggested: {err}")
# Asked-for periods in the Chinese forms: the same rows as the ISO forms.
for cn_p, iso in [("2019年1-8月", "2019-01..2019-08"), ("2019年上半年", "2019-H1"),
                  ("2019年第三季度", "2019-Q3"), ("2019年3季度", "2019-Q3"), ("2019年", "2019")]:
    a = run("rollup", "-H", H, "-d", D, "-r", R, "--level", "city", "--period", cn_p)
    b = run("rollup", "-H", H, "-d", D, "-r", R, "--level", "city", "--period", iso)
    expect(a[0] == 0 and a[1] == b[1] and a[1].count("\n") > 1, f"--period {cn_p} = {iso}: {a[2]}")
half = write("half.csv", "区划代码,指标,时期,数值\n430602001001,poor_population,2019年上半年,2\n")
rc, out, err = run("rollup", "-H", H, "-d", D, "-r", half)
expect(rc == 2 and "half.csv:2:" in err, f"a records row with 上半年 is refused: {err}")
# A hierarchy headed 代码,名称,级别,上级代码 reads as code,name,level,parent_code.
hcn = write("h-cn.csv", "代码,名称,级别,上级代码\n" + open(H, encoding="utf-8").read().split("\n", 1)[1])
a = run("rollup", "-H", hcn, "-d", D, "-r", R, "--level", "city", "--period", "2019-12")
b = run("rollup", "-H", H, "-d", D, "-r", R, "--level", "city", "--period", "2019-12")
expect(a[0] == 0 and a[1] == b[1], f"Chinese hierarchy header: {a[2]}")

# ---- 3. Excel's artefacts --------------------------------------------------
V = "430602001001"  # a village of the demo hierarchy
xl = write("xl.csv", "region_code,indicator,period,value\n"
           f'{V},rural_population,2019-01,"1,989"\n'
           f"{V},poor_population,2019-01,１２\n"
           f'{V},rural_population,2019-02,"12,345"\n'
           f"{V},poor_population,2019-02,－３\n")
rc, got, err = village_values("-r", xl)
expect(rc == 0 and got.get((V, "rural_population", "2019-01")) == "1989"
       and got.get((V, "poor_population", "2019-01")) == "12"
       and got.get((V, "rural_population", "2019-02")) == "12345"
       and got.get((V, "poor_population", "2019-02")) == "-3",
       f'"1,989", １２, －３ read as numbers: exit {rc}: {got} {err}')
# The demo definitions with poor_population counted in whole people.
DX = write("exact.yaml", open(D, encoding="utf-8").read().replace(
    "direction: lower_is_better\n    decimals: 0\n", "direction: lower_is_better\n    decimals: 0\n    exact: true\n", 1))
for cell, what in [('"1,98"', "a group of two"), ('"19,89"', "a group of two"),
                   ('"1989,"', "a trailing comma"), ('"1,9,89"', "a group of one"),
                   ("１２．５", "a fraction of a whole indicator")]:
    f = write("xl-bad.csv", f"region_code,indicator,period,value\n{V},poor_population,2019-01,{cell}\n")
    rc, out, err = run("rollup", "-H", H, "-d", DX, "-r", f)
    expect(rc == 2 and "xl-bad.csv:2:" in err, f"{cell} ({what}) refused: exit {rc}: {err}")
sci = write("sci.csv", "region_code,indicator,period,value\n4.30602E+11,poor_population,2019-01,2\n"
            "430602999999,poor_population,2019-01,2\n")
rc, out, err = run("rollup", "-H", H, "-d", D, "-r", sci, "--on-error", "collect")
expect("sci.csv:2:1: region code '4.30602E+11' looks like a number Excel wrote in scientific "
       "notation; format the column as text in Excel" in err, f"scientific code hinted: {err}")
expect("sci.csv:3:1: unknown region code '430602999999'" in err, f"a plain unknown code: {err}")

if failures:
    for f in failures:
        print("FAIL:", f)
    sys.exit(1)
print("office input: all checks passed")
