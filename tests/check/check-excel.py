#!/usr/bin/env python3
"""Output for Excel and the scope options (docs/excel.md), on the demo data:

- --format xlsx opens with openpyxl; codes are text; the headers carry the
  indicator's name, unit and period; each number's format has the
  indicator's declared decimals; every value equals the long CSV's, which
  the other tests check against hand sums;
- --bom: EF BB BF, then the very bytes of the CSV;
- --layout wide and --names, against the long CSV;
- --under CODE: exactly the subtree, worked out here from the hierarchy's
  parent column; --indicator: only those; -o - and -r -;
- a closed pipe (`tally rollup ... | head -1`): exit 0 and nothing on
  stderr beyond the row counts every run prints;
- progress, poverty and check as xlsx: the table's rows, codes as text.

Usage: check-excel.py TALLY SOURCE_ROOT
"""
import csv
import io
import os
import subprocess
import sys
import tempfile

import openpyxl

tally, root = sys.argv[1], sys.argv[2]
data = os.path.join(root, "examples", "data")
H = os.path.join(data, "yueyang-hierarchy.csv")
D = os.path.join(data, "yueyang.yaml")
R = os.path.join(data, "yueyang-2019.csv")
T = os.path.join(data, "yueyang-targets-2019.csv")
BASE = ["-H", H, "-d", D, "-r", R]
failures = []

# From examples/data/yueyang.yaml, by hand.
NAMES = {"rural_population": ("农业户籍人口", "人", 0), "poor_population": ("建档立卡贫困人口", "人", 0),
         "exited_population": ("脱贫人口", "人", 0), "incidence": ("贫困发生率", "%", 2)}
ORDER = ["rural_population", "poor_population", "exited_population", "incidence"]


def run(cmd, *args, stdin=None):
    p = subprocess.run([tally, cmd, *args], capture_output=True, input=stdin)
    return p.returncode, p.stdout, p.stderr.decode("utf-8")


def expect(cond, what):
    if not cond:
        failures.append(what)


def rows(out):
    return list(csv.DictReader(io.StringIO(out.decode("utf-8"))))


work = tempfile.mkdtemp()

# The long CSV every other form is compared with.
rc, long_out, _ = run("rollup", *BASE, "--period", "2019-12")
expect(rc == 0, f"rollup: exit {rc}")
long_rows = rows(long_out)
value = {(r["region_code"], r["indicator"]): r["value"] for r in long_rows}
codes = []
for r in long_rows:
    if not codes or codes[-1] != r["region_code"]:
        codes.append(r["region_code"])
expect(value[("430600000000", "poor_population")] == "22615", "岳阳市 poor_population 2019-12")

# ---- xlsx ----------------------------------------------------------------
xlsx = os.path.join(work, "r.xlsx")
rc, out, err = run("rollup", *BASE, "--period", "2019-12", "--format", "xlsx", "-o", xlsx)
expect(rc == 0 and out == b"", f"xlsx: exit {rc}: {err}")
wb = openpyxl.load_workbook(xlsx)
ws = wb.active
expect(ws.title == "rollup", f"sheet {ws.title}")
expect(ws.freeze_panes == "C2", f"frozen at {ws.freeze_panes}, expected C2")
head = [c.value for c in ws[1]]
want_head = ["region_code", "region_name", "level"] + [
    f"{NAMES[i][0]} ({NAMES[i][1]}) 2019-12" for i in ORDER]
expect(head == want_head, f"xlsx header {head}")
expect(ws.max_row == len(codes) + 1, f"xlsx rows {ws.max_row}, expected {len(codes) + 1}")
seen = 0
for row in ws.iter_rows(min_row=2):
    code = row[0].value
    expect(isinstance(code, str) and len(code) == 12, f"code {code!r} is not 12-digit text")
    expect(code == codes[seen], f"row {seen + 2}: {code}, expected {codes[seen]} (hierarchy order)")
    seen += 1
    for k, ind in enumerate(ORDER):
        cell = row[3 + k]
        text = value.get((code, ind), "")  # a row with no value is not printed long
        dec = NAMES[ind][2]
        if text == "":
            expect(cell.value is None, f"{code} {ind}: {cell.value!r}, expected an empty cell")
            continue
        expect(isinstance(cell.value, (int, float)), f"{code} {ind}: {cell.value!r} not a number")
        expect(cell.value == float(text), f"{code} {ind}: {cell.value} != CSV {text}")
        want_fmt = "0" if dec == 0 else "0." + "0" * dec
        expect(cell.number_format == want_fmt, f"{code} {ind}: format {cell.number_format}")

# ---- --bom ----------------------------------------------------------------
rc, bom_out, _ = run("rollup", *BASE, "--period", "2019-12", "--bom")
expect(bom_out[:3] == b"\xef\xbb\xbf", f"--bom starts {bom_out[:3]!r}")
expect(bom_out[3:] == long_out, "--bom: the rest differs from the CSV")
rc, bom_json, _ = run("rollup", *BASE, "--period", "2019-12", "--bom", "--format", "json")
expect(bom_json[:1] == b"[", "--bom --format json: JSON has no byte order mark")

# ---- --names, --layout wide ------------------------------------------------
rc, out, _ = run("rollup", *BASE, "--period", "2019-12", "--names")
named = rows(out)
expect(list(named[0].keys()) == ["region_code", "region_name", "level", "indicator",
                                 "indicator_name", "unit", "period", "value"],
       f"--names columns {list(named[0].keys())}")
expect(all((r["indicator_name"], r["unit"]) == NAMES[r["indicator"]][:2] for r in named),
       "--names: a name or unit is not the definitions'")
expect([r["value"] for r in named] == [r["value"] for r in long_rows], "--names changed values")

rc, out, _ = run("rollup", *BASE, "--period", "2019-12", "--layout", "wide")
wide = rows(out)
expect(list(wide[0].keys()) == ["region_code", "region_name", "level"] +
       [f"{i} 2019-12" for i in ORDER], f"wide columns {list(wide[0].keys())}")
expect([r["region_code"] for r in wide] == codes, "wide: not every region in hierarchy order")
expect(all(r[f"{i} 2019-12"] == value.get((r["region_code"], i), "") for r in wide for i in ORDER),
       "wide: a value differs from the long CSV")
rc, _, err = run("rollup", *BASE, "--layout", "wide", "--compare", "yoy")
expect(rc == 2 and "--compare" in err, f"wide with --compare: exit {rc}: {err}")

# ---- --under, --indicator, '-' -------------------------------------------------
parent = {}
with open(H, encoding="utf-8") as f:
    for r in csv.DictReader(f):
        parent[r["code"]] = r["parent_code"]


def under(code, top):
    while code:
        if code == top:
            return True
        code = parent.get(code)
    return False


top = "430621000000"
subtree = [c for c in codes if under(c, top)]
rc, out, _ = run("rollup", *BASE, "--period", "2019-12", "--under", top)
got = rows(out)
expect(rc == 0 and [r["region_code"] for r in got][::4] == subtree,
       f"--under {top}: {len(got)} rows, expected the {len(subtree)} regions of its subtree")
expect(len(subtree) > 100 and subtree[0] == top, "the subtree of 岳阳县")
rc, _, err = run("rollup", *BASE, "--under", "430699999999")
expect(rc == 2 and "--under '430699999999' is not a region code" in err, f"bad --under: {err}")

rc, out, _ = run("rollup", *BASE, "--period", "2019-12", "--indicator", "incidence,poor_population")
got = rows(out)
expect({r["indicator"] for r in got} == {"incidence", "poor_population"} and
       len(got) == sum(r["indicator"] in ("incidence", "poor_population") for r in long_rows),
       "--indicator: not only those two")
rc, _, err = run("rollup", *BASE, "--indicator", "povrety")
expect(rc == 2 and "--indicator 'povrety' is not an indicator" in err, f"bad --indicator: {err}")

rc, out, _ = run("rollup", *BASE, "--period", "2019-12", "-o", "-")
expect(out == long_out, "-o - is not standard output")
with open(R, "rb") as f:
    records = f.read()
rc, out, _ = run("rollup", "-H", H, "-d", D, "-r", "-", "--period", "2019-12", stdin=records)
expect(rc == 0 and out == long_out, f"-r -: exit {rc}, output differs")

# ---- a closed pipe -----------------------------------------------------------
p = subprocess.Popen([tally, "rollup", *BASE], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
first = p.stdout.readline()
p.stdout.close()
err = p.stderr.read().decode("utf-8")
rc = p.wait()
expect(first == b"region_code,region_name,level,indicator,period,value\n", f"first line {first!r}")
expect(rc == 0, f"closed pipe: exit {rc}, expected 0")
expect(err == "tally rollup: records: 68355 rows read = 68355 accepted + 0 rejected\n",
       f"closed pipe: stderr {err!r}")

# ---- the other tables ----------------------------------------------------------
for cmd, args, sheet, first_col in [
        ("progress", ["-t", T, "--as-of", "2019-08", "--level", "county"], "progress", "region_code"),
        ("poverty", ["--year", "2019", "--level", "county"], "thresholds", "region_code"),
        ("check", [], "findings", "check")]:
    x = os.path.join(work, cmd + ".xlsx")
    rc, _, err = run(cmd, *BASE, *args, "--format", "xlsx", "-o", x)
    rc_csv, csv_out, _ = run(cmd, *BASE, *args)
    expect(rc == rc_csv, f"{cmd} xlsx: exit {rc}, CSV {rc_csv}: {err}")
    ws = openpyxl.load_workbook(x).active
    table = rows(csv_out)
    expect(ws.title == sheet, f"{cmd}: sheet {ws.title}")
    expect(ws.max_row == len(table) + 1, f"{cmd}: {ws.max_row} rows, CSV {len(table) + 1}")
    expect(ws["A1"].value == first_col, f"{cmd}: A1 {ws['A1'].value}")
    hdr = [c.value for c in ws[1]]
    for n, r in enumerate(table[:50]):
        for k, name in enumerate(hdr):
            cell = ws.cell(row=n + 2, column=k + 1).value
            text = r[name]
            if name.endswith("code"):
                expect(cell == text and isinstance(cell, str), f"{cmd}: {name} {cell!r}")
            elif text == "":
                expect(cell is None, f"{cmd}: {name} {cell!r}, expected empty")
            elif isinstance(cell, (int, float)):
                expect(cell == float(text), f"{cmd}: {name} {cell} != {text}")
            else:
                expect(cell == text, f"{cmd}: {name} {cell!r} != {text!r}")

for f in failures:
    print("FAIL:", f)
print(f"{'FAILED' if failures else 'ok'}: {len(failures)} failures")
sys.exit(1 if failures else 0)
