#!/usr/bin/python3
"""xlsx in (docs/excel.md): a workbook read as the CSV it stands for.

Usage: check-xlsx-in.py TALLY DATA_DIR

Workbooks are made here with openpyxl from the demo's CSV files, and the
expected outputs are tally's on those CSV files:
1. records as a sheet named 数据 (codes stored as numbers in every other
   row, as text in the rest; strings inline, as openpyxl writes them
   (shared strings are in tests/test-xlsx_read.c); an empty row): the same
   rollup as the CSV, the same rows counted; also as FILE.xlsx:数据 behind
   a notes sheet.
2. a bad value at D5: the message names book.xlsx:数据!D5 (exit 2); with
   --on-error collect the rejects file says row 5, column 4.
3. -H hierarchy.xlsx (codes as numbers): the same rollup.
4. a truncated and a damaged workbook, a missing sheet, a sheet over
   --max-input: a clear message and exit 2, not a crash.
5. the hierarchy, targets and households as sheets with a bad cell each
   (a level at C5, a target at D5, an income at D5): each message names
   its own sheet's cell.
"""
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

import openpyxl

TALLY, DATA = sys.argv[1], sys.argv[2]
tmp = tempfile.mkdtemp(prefix="xlsx-in-")
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def tally(*args):
    p = subprocess.run([TALLY, *args], capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


HIER = os.path.join(DATA, "yueyang-hierarchy.csv")
DEFS = os.path.join(DATA, "yueyang.yaml")
ROLLUP = ["-d", DEFS, "--level", "city,county", "--period", "2019-12"]

with open(os.path.join(DATA, "yueyang-2019.csv"), encoding="utf-8") as f:
    rows = list(csv.reader(f))
header, body = rows[0], [r for r in rows[1:] if r[2] in ("2019-11", "2019-12")]


def number(text):
    if text == "":
        return None
    return float(text) if "." in text else int(text)


def records_book(path, notes_first=False, bad_at=None):
    """body as a sheet 数据; an empty row after the tenth data row."""
    wb = openpyxl.Workbook()
    ws = wb.active
    if notes_first:
        ws.title = "说明"
        ws.append(["这一页不是数据"])
        ws = wb.create_sheet("数据")
    else:
        ws.title = "数据"
    ws.append(header)
    r = 2
    for i, row in enumerate(body):
        if i == 10:
            r += 1  # an empty row
        code = int(row[0]) if i % 2 else row[0]
        for c, v in enumerate([code, row[1], row[2], number(row[3])], 1):
            ws.cell(row=r, column=c, value=v)
        r += 1
    if bad_at:
        ws[bad_at] = "12x"
    wb.save(path)


csv_path = os.path.join(tmp, "records.csv")
with open(csv_path, "w", encoding="utf-8", newline="") as f:
    csv.writer(f, lineterminator="\n").writerows([header] + body)
want = tally("rollup", "-H", HIER, "-r", csv_path, *ROLLUP)
check(want[0] == 0 and want[1].count("\n") > 10, f"the CSV reference rollup runs: {want[2]}")
want_rows = [l for l in want[2].splitlines() if "rows read" in l]

# 1. the same rollup, the same rows counted
book = os.path.join(tmp, "book.xlsx")
records_book(book)
got = tally("rollup", "-H", HIER, "-r", book, *ROLLUP)
check(got[0] == 0, f"rollup -r book.xlsx exits 0: {got[2]}")
check(got[1] == want[1], "rollup -r book.xlsx prints what the CSV gives")
check([l for l in got[2].splitlines() if "rows read" in l] == want_rows,
      f"the same rows counted: {got[2]}")
check(f"{len(body)} rows read" in got[2], f"{len(body)} rows read: {got[2]}")

book2 = os.path.join(tmp, "notes-first.xlsx")
records_book(book2, notes_first=True)
got = tally("rollup", "-H", HIER, "-r", book2 + ":数据", *ROLLUP)
check(got[0] == 0 and got[1] == want[1], f"FILE.xlsx:数据 behind a notes sheet: {got[2]}")
got = tally("rollup", "-H", HIER, "-r", book2 + ":数据表", *ROLLUP)
check(got[0] == 2 and "no sheet named '数据表'; the workbook has: 说明, 数据" in got[2],
      f"a missing sheet is named with the sheets there are: {got[2]}")

# 2. a bad value at D5 (row 5 of the sheet: header, then data rows 2..)
bad = os.path.join(tmp, "bad.xlsx")
records_book(bad, bad_at="D5")
got = tally("rollup", "-H", HIER, "-r", bad, *ROLLUP)
check(got[0] == 2 and f"{bad}:数据!D5: bad number '12x'" in got[2],
      f"the bad cell is named as {bad}:数据!D5: {got[2]}")
rj = os.path.join(tmp, "rejects.csv")
got = tally("rollup", "-H", HIER, "-r", bad, *ROLLUP, "--on-error", "collect", "--rejects", rj)
with open(rj, encoding="utf-8") as f:
    rejects = list(csv.DictReader(f))
check(len(rejects) == 1 and rejects[0]["file"] == bad + ":数据" and rejects[0]["line"] == "5"
      and rejects[0]["column"] == "4", f"the rejects file places the cell at row 5, column 4: {rejects}")
got = tally("rollup", "-H", HIER, "-r", bad, *ROLLUP, "--on-error", "collect")
check(f"rejected {bad}:数据!D5: bad number" in got[2], f"rejected rows on stderr by cell: {got[2]}")

# 3. the hierarchy as a workbook, codes stored as numbers
with open(HIER, encoding="utf-8") as f:
    hrows = list(csv.reader(f))
hbook = os.path.join(tmp, "hierarchy.xlsx")
wb = openpyxl.Workbook()
ws = wb.active
ws.title = "区划"
ws.append(hrows[0])
for code, name, level, parent in hrows[1:]:
    ws.append([int(code), name, level, int(parent) if parent else None])
wb.save(hbook)
got = tally("rollup", "-H", hbook, "-r", csv_path, *ROLLUP)
check(got[0] == 0 and got[1] == want[1], f"-H hierarchy.xlsx gives the same rollup: {got[2]}")

# 4. broken workbooks: a clear message, exit 2
data = open(book, "rb").read()
with zipfile.ZipFile(book) as z:
    part = z.getinfo("xl/worksheets/sheet1.xml")
# The sheet's compressed bytes, past its local header (30 bytes and names).
at = part.header_offset + 30 + len(part.filename) + 200
damaged = data[:at] + bytes(b ^ 0x5A for b in data[at:at + 400]) + data[at + 400:]
for what, blob in [("truncated", data[: len(data) // 2]), ("damaged", damaged),
                   ("empty", b""), ("not a zip", b"region_code,indicator\n")]:
    p = os.path.join(tmp, what.replace(" ", "-") + ".xlsx")
    open(p, "wb").write(blob)
    got = tally("rollup", "-H", HIER, "-r", p, *ROLLUP)
    check(got[0] == 2 and got[2].startswith(f"tally rollup: {p}") and
          ("xlsx" in got[2] or "workbook" in got[2]),
          f"a {what} workbook: exit 2 and a message naming it: {got[0]} {got[2]!r}")

# A sheet that unpacks past --max-input (a small zip bomb): TALLY_ELIMIT.
bomb = os.path.join(tmp, "bomb.xlsx")
wb = openpyxl.Workbook()
ws = wb.active
ws.append(header)
for i in range(20000):
    ws.append(["430602001001", "poor_population", "2019-12", 1])
wb.save(bomb)
with zipfile.ZipFile(bomb) as z:
    unpacked = z.getinfo("xl/worksheets/sheet1.xml").file_size
check(os.path.getsize(bomb) < 1 << 20 < unpacked, "the bomb is under 1 MiB packed, over unpacked")
got = tally("rollup", "-H", HIER, "-r", bomb, *ROLLUP, "--max-input-bytes", "1M")
check(got[0] == 2 and "over 1048576 bytes uncompressed" in got[2],
      f"a sheet past --max-input stops with the limit named: {got[2]}")

# 5. every kind of input places its errors at its sheet's cells
def csv_book(src, path, title, cell, value):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    with open(os.path.join(DATA, src), encoding="utf-8") as f:
        for row in csv.reader(f):
            ws.append(row)
    ws[cell] = value
    wb.save(path)


RECORDS = os.path.join(DATA, "yueyang-2019.csv")
p = os.path.join(tmp, "levels.xlsx")
csv_book("yueyang-hierarchy.csv", p, "区划", "C5", "村庄")
got = tally("rollup", "-H", p, "-d", DEFS, "-r", RECORDS)
check(got[0] == 2 and f"{p}:区划!C5: unknown level '村庄'" in got[2],
      f"the hierarchy's bad cell is named as {p}:区划!C5: {got[2]}")
p = os.path.join(tmp, "targets.xlsx")
csv_book("yueyang-targets-2019.csv", p, "目标", "D5", "12x")
got = tally("progress", "-H", HIER, "-d", DEFS, "-r", RECORDS, "-t", p, "--as-of", "2019-08")
check(got[0] == 2 and f"{p}:目标!D5: bad number '12x'" in got[2],
      f"the targets' bad cell is named as {p}:目标!D5: {got[2]}")
p = os.path.join(tmp, "households.xlsx")
csv_book("yueyang-households-2019.csv", p, "住户", "D5", "12x")
got = tally("poverty", "-H", HIER, "-d", DEFS, "--households", p)
check(got[0] == 2 and f"{p}:住户!D5: bad income_per_capita '12x'" in got[2],
      f"the households' bad cell is named as {p}:住户!D5: {got[2]}")

shutil.rmtree(tmp)
if failures:
    print(f"{len(failures)} failed")
    sys.exit(1)
print("xlsx in: all checks passed")
